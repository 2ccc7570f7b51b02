/// `transpose`: permutes the dimensions of a chunk (`order` is a permutation; legacy "C"/"F" read).
public struct TransposeCodec: ArrayToArrayCodec, RegisteredCodec {
  /// `transpose`.
  public static let names = ["transpose"]
  /// The permutation: dimension `j` of the encoded chunk is dimension `order[j]` of the decoded one.
  public let order: [Int]

  /// A transpose codec with permutation `order`.
  public init(order: [Int]) { self.order = order }

  /// Builds the codec from `order`, a permutation of the chunk's dimensions (legacy `"C"`/`"F"` accepted).
  public static func make(configuration: JSONObject, spec: ChunkSpec) throws(ZarrError) -> AnyCodec {
    try checkKeys(configuration, allowed: ["order"], codec: "transpose")
    let n = spec.shape.count
    guard let order = Codecs.transposeOrder(configuration, ndim: n) else {
      throw ZarrError(.invalidMetadata, "transpose needs \"order\": a list of dimension indices", pointer: "/configuration/order")
    }
    guard order.count == n, Set(order) == Set(0..<n) else {
      throw ZarrError(.invalidMetadata, "transpose order \(order) is not a permutation of 0..<\(n)", pointer: "/configuration/order")
    }
    return .arrayToArray(TransposeCodec(order: order))
  }

  /// `transpose` with its order.
  public var configuration: NamedConfiguration { Codecs.transpose(order: order) }

  /// The same spec with the shape permuted by ``order``.
  public func encodedSpec(for spec: ChunkSpec) throws(ZarrError) -> ChunkSpec {
    var s = spec
    s.shape = order.map { spec.shape[$0] }
    return s
  }

  /// The elements permuted into the encoded dimension order.
  public func encode(_ data: [UInt8], spec: ChunkSpec) throws(ZarrError) -> [UInt8] {
    if order == Array(0..<order.count) { return data }
    return ElementOps.permute(data, shape: spec.shape, order: order, elementSize: spec.dataType.size)
  }

  /// The elements permuted back into the decoded dimension order.
  public func decode(_ data: [UInt8], spec: ChunkSpec) throws(ZarrError) -> [UInt8] {
    if order == Array(0..<order.count) { return data }
    guard data.count == spec.byteCount else {
      throw ZarrError(.corruptData, "transposed chunk has \(data.count) bytes, expected \(spec.byteCount)")
    }
    let encodedShape = order.map { spec.shape[$0] }
    return ElementOps.permute(data, shape: encodedShape, order: inversePermutation(order), elementSize: spec.dataType.size)
  }
}
