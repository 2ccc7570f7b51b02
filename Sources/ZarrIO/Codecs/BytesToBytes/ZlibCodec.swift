import CZarrZlib

/// `zlib` (Zarr v2 / numcodecs): DEFLATE in an RFC 1950 zlib container.
public struct ZlibCodec: BytesToBytesCodec, RegisteredCodec {
  /// `zlib`, and its numcodecs alias.
  public static let names = ["zlib", "numcodecs.zlib"]
  /// The compression level, `-1` (zlib's default) to `9`.
  public let level: Int

  /// A zlib codec of compression `level` (`-1` to `9`).
  public init(level: Int) { self.level = level }

  /// Builds the codec from `level` (default 1, range `-1...9`).
  public static func make(configuration: JSONObject, spec: ChunkSpec) throws(ZarrError) -> AnyCodec {
    try checkKeys(configuration, allowed: ["level"], codec: "zlib")
    return .bytesToBytes(ZlibCodec(level: try intField(configuration, "level", codec: "zlib", default: 1, range: -1...9)))
  }

  /// `zlib` with its level.
  public var configuration: NamedConfiguration {
    NamedConfiguration(name: "zlib", configuration: ["level": .int(Int64(level))])
  }

  /// Compresses into a zlib stream at this codec's level.
  public func encode(_ bytes: [UInt8]) throws(ZarrError) -> [UInt8] {
    try Deflate.compress(bytes, level: level, windowBits: 15, codec: "zlib")
  }

  /// Decompresses a zlib or gzip stream.
  public func decode(_ bytes: [UInt8], expectedSize: Int?) throws(ZarrError) -> [UInt8] {
    try Deflate.decompress(bytes, windowBits: 15 + 32, expectedSize: expectedSize, codec: "zlib")
  }

  /// Decompresses a zlib or gzip stream straight into `output`.
  public func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(ZarrError) {
    try Deflate.decompress(input, into: output, windowBits: 15 + 32, codec: "zlib")
  }

  /// zlib's `compressBound` of the input size.
  public func maxEncodedSize(forDecodedSize decodedSize: Int) -> Int? { Int(compressBound(uLong(decodedSize))) }
}
