import CZarrZlib

/// `zlib` (Zarr v2 / numcodecs): DEFLATE in an RFC 1950 zlib container.
public struct ZlibCodec: BytesToBytesCodec, RegisteredCodec {
  public static let names = ["zlib", "numcodecs.zlib"]
  public let level: Int

  public init(level: Int) { self.level = level }

  public static func make(configuration: JSONObject, spec: ChunkSpec) throws(ZarrError) -> AnyCodec {
    try checkKeys(configuration, allowed: ["level"], codec: "zlib")
    return .bytesToBytes(ZlibCodec(level: try intField(configuration, "level", codec: "zlib", default: 1, range: -1...9)))
  }

  public var configuration: NamedConfiguration {
    NamedConfiguration(name: "zlib", configuration: ["level": .int(Int64(level))])
  }

  public func encode(_ bytes: [UInt8]) throws(ZarrError) -> [UInt8] {
    try Deflate.compress(bytes, level: level, windowBits: 15, codec: "zlib")
  }

  public func decode(_ bytes: [UInt8], expectedSize: Int?) throws(ZarrError) -> [UInt8] {
    try Deflate.decompress(bytes, windowBits: 15 + 32, expectedSize: expectedSize, codec: "zlib")
  }

  public func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(ZarrError) {
    try Deflate.decompress(input, into: output, windowBits: 15 + 32, codec: "zlib")
  }

  public func maxEncodedSize(forDecodedSize decodedSize: Int) -> Int? { Int(compressBound(uLong(decodedSize))) }
}
