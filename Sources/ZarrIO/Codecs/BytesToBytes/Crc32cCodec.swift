/// `crc32c`: appends the CRC-32C of the bytes (4 bytes, little-endian) and checks it on read.
public struct Crc32cCodec: BytesToBytesCodec, RegisteredCodec {
  /// `crc32c`.
  public static let names = ["crc32c"]
  /// The crc32c codec; it has no configuration.
  public init() {}

  /// Builds the codec; the configuration must be empty.
  public static func make(configuration: JSONObject, spec: ChunkSpec) throws(ZarrError) -> AnyCodec {
    try checkKeys(configuration, allowed: [], codec: "crc32c")
    return .bytesToBytes(Crc32cCodec())
  }

  /// `crc32c`, without configuration.
  public var configuration: NamedConfiguration { Codecs.crc32c() }

  /// The bytes followed by their CRC-32C, little-endian.
  public func encode(_ bytes: [UInt8]) throws(ZarrError) -> [UInt8] {
    let c = CRC32C.checksum(bytes)
    var out = bytes
    out.reserveCapacity(bytes.count + 4)
    for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: c >> (8 * UInt32(i)))) }
    return out
  }

  /// The bytes before the checksum, once the checksum matches.
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

  /// The input size plus the 4 checksum bytes.
  public func encodedSize(forDecodedSize decodedSize: Int) -> Int? { decodedSize + 4 }
}
