import CZarrBlosc

/// `blosc`: the c-blosc (v1) chunk format, through the thread-safe `_ctx` API.
///
/// Decoding reads everything (compressor, shuffle, typesize) from the frame header, as the format is
/// self-describing; the configuration matters only for encoding.
public struct BloscCodec: BytesToBytesCodec, RegisteredCodec {
  public static let names = ["blosc", "numcodecs.blosc"]

  public enum Shuffle: String, Sendable, Hashable {
    case noshuffle, shuffle, bitshuffle
    var cValue: Int32 {
      switch self {
      case .noshuffle: return 0
      case .shuffle: return 1
      case .bitshuffle: return 2
      }
    }
  }

  /// Largest input c-blosc 1 accepts (`BLOSC_MAX_BUFFERSIZE`, a macro Swift cannot import).
  static let maxBufferSize = Int(Int32.max) - Int(BLOSC_MAX_OVERHEAD)

  public static let compressors: Set<String> = ["lz4", "lz4hc", "blosclz", "zstd", "snappy", "zlib"]

  public let cname: String
  public let clevel: Int
  public let shuffle: Shuffle
  public let typesize: Int
  public let blocksize: Int

  public init(cname: String, clevel: Int, shuffle: Shuffle, typesize: Int, blocksize: Int = 0) {
    self.cname = cname
    self.clevel = clevel
    self.shuffle = shuffle
    self.typesize = typesize
    self.blocksize = blocksize
  }

  public static func make(configuration c: JSONObject, spec: ChunkSpec) throws(ZarrError) -> AnyCodec {
    try checkKeys(c, allowed: ["cname", "clevel", "shuffle", "typesize", "blocksize"], codec: "blosc")
    let cname = c["cname"]?.stringValue ?? "lz4"
    guard compressors.contains(cname) else {
      throw ZarrError(.invalidMetadata, "blosc cname '\(cname)' is not one of \(compressors.sorted())", pointer: "/configuration/cname")
    }
    let clevel = try intField(c, "clevel", codec: "blosc", default: 5, range: 0...9)
    var shuffle = Shuffle.noshuffle
    switch c["shuffle"] {
    case nil: shuffle = .noshuffle
    case .string(let s)?:
      guard let v = Shuffle(rawValue: s) else {
        throw ZarrError(.invalidMetadata, "blosc shuffle must be noshuffle, shuffle or bitshuffle", pointer: "/configuration/shuffle")
      }
      shuffle = v
    case .int(0)?: shuffle = .noshuffle
    case .int(1)?: shuffle = .shuffle
    case .int(2)?: shuffle = .bitshuffle
    default: throw ZarrError(.invalidMetadata, "blosc shuffle must be noshuffle, shuffle or bitshuffle", pointer: "/configuration/shuffle")
    }
    let typesize = try intField(c, "typesize", codec: "blosc", default: spec.dataType.size, range: 1...Int(Int32.max))
    let blocksize = try intField(c, "blocksize", codec: "blosc", default: 0, range: 0...Int(Int32.max))
    return .bytesToBytes(BloscCodec(cname: cname, clevel: clevel, shuffle: shuffle, typesize: typesize, blocksize: blocksize))
  }

  public var configuration: NamedConfiguration {
    Codecs.blosc(cname: cname, clevel: clevel, shuffle: shuffle, typesize: typesize, blocksize: blocksize)
  }

  public func encode(_ bytes: [UInt8]) throws(ZarrError) -> [UInt8] {
    let r: Result<[UInt8], ZarrError> = bytes.withUnsafeBytes { b in Result { () throws(ZarrError) in try encode(b) } }
    return try r.get()
  }

  public func maxEncodedSize(forDecodedSize decodedSize: Int) -> Int? { decodedSize + Int(BLOSC_MAX_OVERHEAD) }

  public func encode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(ZarrError) -> Int {
    guard input.count <= BloscCodec.maxBufferSize else {
      throw ZarrError(.codecFailure, "blosc: chunks over \(BloscCodec.maxBufferSize) bytes cannot be compressed")
    }
    let result = blosc_compress_ctx(Int32(clevel), shuffle.cValue, typesize <= 255 ? typesize : 1, input.count,
      input.baseAddress, output.baseAddress, output.count, cname, blocksize, 1)
    guard result > 0 else { throw ZarrError(.codecFailure, "blosc: compression failed (\(result))") }
    return Int(result)
  }

  public func encode(_ bytes: UnsafeRawBufferPointer) throws(ZarrError) -> [UInt8] {
    guard bytes.count <= BloscCodec.maxBufferSize else {
      throw ZarrError(.codecFailure, "blosc: chunks over \(BloscCodec.maxBufferSize) bytes cannot be compressed")
    }
    let capacity = bytes.count + Int(BLOSC_MAX_OVERHEAD)
    var result: Int32 = 0
    let out = [UInt8](unsafeUninitializedCapacity: capacity) { buf, initialized in
      result = blosc_compress_ctx(Int32(clevel), shuffle.cValue, typesize <= 255 ? typesize : 1, bytes.count, bytes.baseAddress,
        buf.baseAddress, capacity, cname, blocksize, 1)
      initialized = max(Int(result), 0)
    }
    guard result > 0 else { throw ZarrError(.codecFailure, "blosc: compression failed (\(result))") }
    return out
  }

  public func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(ZarrError) {
    var nbytes = 0
    guard input.count >= Int(BLOSC_MIN_HEADER_LENGTH), blosc_cbuffer_validate(input.baseAddress, input.count, &nbytes) == 0 else {
      throw ZarrError(.corruptData, "blosc: not a valid blosc frame (\(input.count) bytes)")
    }
    guard nbytes == output.count else {
      throw ZarrError(.corruptData, "blosc: frame holds \(nbytes) bytes, expected \(output.count)")
    }
    let result = blosc_decompress_ctx(input.baseAddress, output.baseAddress, output.count, 1)
    guard result >= 0, Int(result) == nbytes else {
      throw ZarrError(.corruptData, "blosc: invalid compressed data (\(result))")
    }
  }

  public func decode(_ bytes: [UInt8], expectedSize: Int?) throws(ZarrError) -> [UInt8] {
    var nbytes = 0
    let valid = bytes.withUnsafeBytes { src in
      src.count >= Int(BLOSC_MIN_HEADER_LENGTH) && blosc_cbuffer_validate(src.baseAddress, src.count, &nbytes) == 0
    }
    guard valid else { throw ZarrError(.corruptData, "blosc: not a valid blosc frame (\(bytes.count) bytes)") }
    if let expectedSize, nbytes != expectedSize {
      throw ZarrError(.corruptData, "blosc: frame holds \(nbytes) bytes, expected \(expectedSize)")
    }
    var result: Int32 = 0
    let out = [UInt8](unsafeUninitializedCapacity: nbytes) { buf, initialized in
      result = bytes.withUnsafeBytes { src in
        blosc_decompress_ctx(src.baseAddress, buf.baseAddress, nbytes, 1)
      }
      initialized = result >= 0 ? Int(result) : 0
    }
    guard result >= 0, Int(result) == nbytes else {
      throw ZarrError(.corruptData, "blosc: invalid compressed data (\(result))")
    }
    return out
  }
}
