/// `bytes`: elements in C order, in the configured byte order.
public struct BytesCodec: ArrayToBytesCodec, RegisteredCodec {
  /// `bytes`, and `endian`, its name in early Zarr v3 drafts.
  public static let names = ["bytes", "endian"]
  /// `nil` only for single-byte types.
  /// The byte order of stored elements; `nil` only for single-byte types.
  public let endian: Endian?

  /// A bytes codec storing elements in `endian` byte order (`nil` for single-byte types).
  public init(endian: Endian?) { self.endian = endian }

  /// Builds the codec; a missing `endian` on a multi-byte type reads as little-endian.
  public static func make(configuration: JSONObject, spec: ChunkSpec) throws(ZarrError) -> AnyCodec {
    try checkKeys(configuration, allowed: ["endian"], codec: "bytes")
    var endian: Endian? = nil
    if let e = configuration["endian"] {
      guard let s = e.stringValue, let v = Endian(rawValue: s) else {
        throw ZarrError(.invalidMetadata, "endian must be \"little\" or \"big\"", pointer: "/configuration/endian")
      }
      endian = v
    }
    // Lenient: a missing endian on a multi-byte type (written by some zarrs versions) reads as little.
    return .arrayToBytes(BytesCodec(endian: endian ?? (spec.dataType.hasEndianness ? .little : nil)))
  }

  /// `bytes` with its byte order.
  public var configuration: NamedConfiguration { Codecs.bytes(endian: endian) }

  var needsSwap: Bool { (endian ?? .native) != .native }

  /// The elements in the stored byte order (swapped only when it differs from the host's).
  public func encode(_ data: [UInt8], spec: ChunkSpec) throws(ZarrError) -> [UInt8] {
    guard needsSwap, spec.dataType.swapUnit > 1 else { return data }
    var out = data
    ElementOps.byteSwap(&out, unit: spec.dataType.swapUnit)
    return out
  }

  /// The elements in host byte order; throws unless the size matches the spec.
  public func decode(_ bytes: [UInt8], spec: ChunkSpec) throws(ZarrError) -> [UInt8] {
    guard bytes.count == spec.byteCount else {
      throw ZarrError(.corruptData, "chunk has \(bytes.count) bytes after decompression, expected \(spec.byteCount) for shape \(spec.shape) of \(spec.dataType)")
    }
    return try encode(bytes, spec: spec)
  }

  /// The decoded size of the chunk: this codec never changes the size.
  public func encodedSize(for spec: ChunkSpec) -> Int? { spec.byteCount }
}
