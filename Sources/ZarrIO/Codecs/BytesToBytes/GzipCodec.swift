import CZarrZlib

/// `gzip`: DEFLATE in an RFC 1952 gzip container (reads zlib-wrapped data too).
public struct GzipCodec: BytesToBytesCodec, RegisteredCodec {
  /// `gzip`.
  public static let names = ["gzip"]
  /// The compression level, `0` to `9`.
  public let level: Int

  /// A gzip codec of compression `level` (`0` to `9`).
  public init(level: Int) { self.level = level }

  /// Builds the codec from its required `level` (`0...9`).
  public static func make(configuration: JSONObject, spec: ChunkSpec) throws(ZarrError) -> AnyCodec {
    try checkKeys(configuration, allowed: ["level"], codec: "gzip")
    return .bytesToBytes(GzipCodec(level: try intField(configuration, "level", codec: "gzip", range: 0...9)))
  }

  /// `gzip` with its level.
  public var configuration: NamedConfiguration { Codecs.gzip(level: level) }

  /// Compresses into a gzip stream at this codec's level.
  public func encode(_ bytes: [UInt8]) throws(ZarrError) -> [UInt8] {
    try Deflate.compress(bytes, level: level, windowBits: 15 + 16, codec: "gzip")
  }

  /// Decompresses a gzip or zlib stream.
  public func decode(_ bytes: [UInt8], expectedSize: Int?) throws(ZarrError) -> [UInt8] {
    try Deflate.decompress(bytes, windowBits: 15 + 32, expectedSize: expectedSize, codec: "gzip")
  }

  /// Decompresses a gzip or zlib stream straight into `output`.
  public func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(ZarrError) {
    try Deflate.decompress(input, into: output, windowBits: 15 + 32, codec: "gzip")
  }

  /// zlib's bound plus the larger gzip header and trailer.
  public func maxEncodedSize(forDecodedSize decodedSize: Int) -> Int? { Int(compressBound(uLong(decodedSize))) + 18 }
}
