import CZarrBlosc

/// `blosc`: the c-blosc (v1) chunk format, through the thread-safe `_ctx` API.
///
/// Decoding reads everything (compressor, shuffle, typesize) from the frame header, as the format is
/// self-describing; the configuration matters only for encoding.
public struct BloscCodec: BytesToBytesCodec, RegisteredCodec {
  /// `blosc`, and its numcodecs alias.
  public static let names = ["blosc", "numcodecs.blosc"]

  /// How blosc reorders bytes (or bits) of the elements before compressing.
  public enum Shuffle: String, Sendable, Hashable {
    /// No reordering, byte reordering by `typesize`, or bit reordering by `typesize`.
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

  /// The inner compressors `cname` may name.
  public static let compressors: Set<String> = ["lz4", "lz4hc", "blosclz", "zstd", "snappy", "zlib"]

  /// The inner compressor, one of ``compressors``.
  public let cname: String
  /// The compression level, `0` (none) to `9`.
  public let clevel: Int
  /// The reordering applied before compressing.
  public let shuffle: Shuffle
  /// The element size in bytes that shuffling works with (sizes over 255 shuffle as 1).
  public let typesize: Int
  /// The block size in bytes; `0` lets blosc choose.
  public let blocksize: Int

  /// A blosc codec with the given compressor, level, shuffle, element size and block size.
  public init(cname: String, clevel: Int, shuffle: Shuffle, typesize: Int, blocksize: Int = 0) {
    self.cname = cname
    self.clevel = clevel
    self.shuffle = shuffle
    self.typesize = typesize
    self.blocksize = blocksize
  }

  /// Builds the codec; `typesize` defaults to the data type's size, `cname` to `lz4`, `clevel` to 5.
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

  /// `blosc` with all five settings.
  public var configuration: NamedConfiguration {
    Codecs.blosc(cname: cname, clevel: clevel, shuffle: shuffle, typesize: typesize, blocksize: blocksize)
  }

  /// Compresses into one blosc frame with this codec's settings.
  public func encode(_ bytes: [UInt8]) throws(ZarrError) -> [UInt8] {
    let r: Result<[UInt8], ZarrError> = bytes.withUnsafeBytes { b in Result { () throws(ZarrError) in try encode(b) } }
    return try r.get()
  }

  /// The input size plus blosc's maximum overhead.
  public func maxEncodedSize(forDecodedSize decodedSize: Int) -> Int? { decodedSize + Int(BLOSC_MAX_OVERHEAD) }

  /// Compresses into `output`; returns the frame length.
  public func encode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(ZarrError) -> Int {
    guard input.count <= BloscCodec.maxBufferSize else {
      throw ZarrError(.codecFailure, "blosc: chunks over \(BloscCodec.maxBufferSize) bytes cannot be compressed")
    }
    let result = blosc_compress_ctx(Int32(clevel), shuffle.cValue, typesize <= 255 ? typesize : 1, input.count,
      input.baseAddress, output.baseAddress, output.count, cname, blocksize, 1)
    guard result > 0 else { throw ZarrError(.codecFailure, "blosc: compression failed (\(result))") }
    return Int(result)
  }

  /// Compresses into one blosc frame with this codec's settings.
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

  /// Decompresses a frame straight into `output`, whose size the frame must record.
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

  /// Decompresses a frame, using the compressor, shuffle and size its header records.
  public func decode(_ bytes: [UInt8], expectedSize: Int?) throws(ZarrError) -> [UInt8] {
    var nbytes = 0
    let valid = bytes.withUnsafeBytes { src in
      src.count >= Int(BLOSC_MIN_HEADER_LENGTH) && blosc_cbuffer_validate(src.baseAddress, src.count, &nbytes) == 0
    }
    guard valid else { throw ZarrError(.corruptData, "blosc: not a valid blosc frame (\(bytes.count) bytes)") }
    if let expectedSize, nbytes != expectedSize {
      throw ZarrError(.corruptData, "blosc: frame holds \(nbytes) bytes, expected \(expectedSize)")
    }
    let limit = ReadLimits.current.maxChunkBytes
    guard nbytes >= 0, nbytes <= limit else {
      throw ZarrError(.corruptData, "blosc: frame claims \(nbytes) bytes, more than the limit of \(limit)")
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
