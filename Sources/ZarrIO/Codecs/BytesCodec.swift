/// `bytes`: elements in C order, in the configured byte order.
public struct BytesCodec: ArrayToBytesCodec, RegisteredCodec {
  public static let names = ["bytes", "endian"]
  /// `nil` only for single-byte types.
  public let endian: Endian?

  public init(endian: Endian?) { self.endian = endian }

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

  public var configuration: NamedConfiguration { Codecs.bytes(endian: endian) }

  var needsSwap: Bool { (endian ?? .native) != .native }

  public func encode(_ data: [UInt8], spec: ChunkSpec) throws(ZarrError) -> [UInt8] {
    guard needsSwap, spec.dataType.swapUnit > 1 else { return data }
    var out = data
    ElementOps.byteSwap(&out, unit: spec.dataType.swapUnit)
    return out
  }

  public func decode(_ bytes: [UInt8], spec: ChunkSpec) throws(ZarrError) -> [UInt8] {
    guard bytes.count == spec.byteCount else {
      throw ZarrError(.corruptData, "chunk has \(bytes.count) bytes after decompression, expected \(spec.byteCount) for shape \(spec.shape) of \(spec.dataType)")
    }
    return try encode(bytes, spec: spec)
  }

  public func encodedSize(for spec: ChunkSpec) -> Int? { spec.byteCount }
}

/// `transpose`: permutes the dimensions of a chunk (`order` is a permutation; legacy "C"/"F" read).
public struct TransposeCodec: ArrayToArrayCodec, RegisteredCodec {
  public static let names = ["transpose"]
  public let order: [Int]

  public init(order: [Int]) { self.order = order }

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

  public var configuration: NamedConfiguration { Codecs.transpose(order: order) }

  public func encodedSpec(for spec: ChunkSpec) throws(ZarrError) -> ChunkSpec {
    var s = spec
    s.shape = order.map { spec.shape[$0] }
    return s
  }

  public func encode(_ data: [UInt8], spec: ChunkSpec) throws(ZarrError) -> [UInt8] {
    if order == Array(0..<order.count) { return data }
    return ElementOps.permute(data, shape: spec.shape, order: order, elementSize: spec.dataType.size)
  }

  public func decode(_ data: [UInt8], spec: ChunkSpec) throws(ZarrError) -> [UInt8] {
    if order == Array(0..<order.count) { return data }
    guard data.count == spec.byteCount else {
      throw ZarrError(.corruptData, "transposed chunk has \(data.count) bytes, expected \(spec.byteCount)")
    }
    var inverse = [Int](repeating: 0, count: order.count)
    for (i, o) in order.enumerated() { inverse[o] = i }
    let encodedShape = order.map { spec.shape[$0] }
    return ElementOps.permute(data, shape: encodedShape, order: inverse, elementSize: spec.dataType.size)
  }
}

/// `crc32c`: appends the CRC-32C of the bytes (4 bytes, little-endian) and checks it on read.
public struct Crc32cCodec: BytesToBytesCodec, RegisteredCodec {
  public static let names = ["crc32c"]
  public init() {}

  public static func make(configuration: JSONObject, spec: ChunkSpec) throws(ZarrError) -> AnyCodec {
    try checkKeys(configuration, allowed: [], codec: "crc32c")
    return .bytesToBytes(Crc32cCodec())
  }

  public var configuration: NamedConfiguration { Codecs.crc32c() }

  public func encode(_ bytes: [UInt8]) throws(ZarrError) -> [UInt8] {
    let c = CRC32C.checksum(bytes)
    var out = bytes
    out.reserveCapacity(bytes.count + 4)
    for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: c >> (8 * UInt32(i)))) }
    return out
  }

  public func decode(_ bytes: [UInt8], expectedSize: Int?) throws(ZarrError) -> [UInt8] {
    let n: Result<Int, ZarrError> = bytes.withUnsafeBytes { b in Result { () throws(ZarrError) -> Int in try verify(b).count } }
    return Array(bytes[0..<(try n.get())])
  }

  /// Checks the trailing checksum of `bytes`; returns the bytes before it.
  public func verify(_ bytes: UnsafeRawBufferPointer) throws(ZarrError) -> UnsafeRawBufferPointer {
    guard bytes.count >= 4 else { throw ZarrError(.corruptData, "data too short for a crc32c checksum (\(bytes.count) bytes)") }
    let n = bytes.count - 4
    let stored = UInt32(bytes[n]) | UInt32(bytes[n + 1]) << 8 | UInt32(bytes[n + 2]) << 16 | UInt32(bytes[n + 3]) << 24
    let payload = UnsafeRawBufferPointer(rebasing: bytes[0..<n])
    let actual = CRC32C.checksum(payload)
    guard stored == actual else {
      throw ZarrError(.corruptData, "crc32c checksum mismatch (stored 0x\(String(stored, radix: 16)), computed 0x\(String(actual, radix: 16)))")
    }
    return payload
  }

  public func encodedSize(forDecodedSize decodedSize: Int) -> Int? { decodedSize + 4 }
}

/// CRC-32C (Castagnoli), slicing-by-8.
public enum CRC32C {
  static let tables: [[UInt32]] = {
    var t = [[UInt32]](repeating: [UInt32](repeating: 0, count: 256), count: 8)
    for i in 0..<256 {
      var c = UInt32(i)
      for _ in 0..<8 { c = (c & 1) != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
      t[0][i] = c
    }
    for i in 0..<256 {
      for k in 1..<8 { t[k][i] = (t[k - 1][i] >> 8) ^ t[0][Int(t[k - 1][i] & 0xFF)] }
    }
    return t
  }()
  static let flat: [UInt32] = tables.flatMap { $0 }

  /// The CRC-32C of `bytes`.
  public static func checksum(_ bytes: [UInt8]) -> UInt32 {
    bytes.withUnsafeBytes { checksum($0) }
  }

  /// The CRC-32C of a raw buffer, continuing from `crc` (0 to start).
  public static func checksum(_ buffer: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
    var c = ~crc
    let n = buffer.count
    guard let base = buffer.baseAddress else { return crc }
    flat.withUnsafeBufferPointer { t in
      var i = 0
      while i + 8 <= n {
        let lo = base.loadUnaligned(fromByteOffset: i, as: UInt32.self).littleEndian ^ c
        let hi = base.loadUnaligned(fromByteOffset: i + 4, as: UInt32.self).littleEndian
        c = t[7 * 256 + Int(lo & 0xFF)] ^ t[6 * 256 + Int((lo >> 8) & 0xFF)]
          ^ t[5 * 256 + Int((lo >> 16) & 0xFF)] ^ t[4 * 256 + Int(lo >> 24)]
          ^ t[3 * 256 + Int(hi & 0xFF)] ^ t[2 * 256 + Int((hi >> 8) & 0xFF)]
          ^ t[1 * 256 + Int((hi >> 16) & 0xFF)] ^ t[Int(hi >> 24)]
        i += 8
      }
      while i < n {
        c = t[Int((c ^ UInt32(base.load(fromByteOffset: i, as: UInt8.self))) & 0xFF)] ^ (c >> 8)
        i += 1
      }
    }
    return ~c
  }
}
