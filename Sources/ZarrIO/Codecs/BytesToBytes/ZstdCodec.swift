import CZarrZstd
import Synchronization

/// `zstd` (registered extension, zarr-python 3's default compressor): RFC 8878 frames.
///
/// Decoding accepts frames without a content size (streaming-encoded, as TensorStore writes them)
/// and concatenated frames.
public struct ZstdCodec: BytesToBytesCodec, RegisteredCodec {
  /// `zstd`, and its numcodecs alias.
  public static let names = ["zstd", "numcodecs.zstd"]
  /// The compression level, `-131072` (fastest) to `22`; `0` means zstd's default (3).
  public let level: Int
  /// Whether frames carry zstd's own content checksum.
  public let checksum: Bool

  /// A zstd codec of compression `level`, with or without frame checksums.
  public init(level: Int, checksum: Bool = false) {
    self.level = level
    self.checksum = checksum
  }

  /// Builds the codec from `level` (default 0) and `checksum` (default `false`).
  public static func make(configuration: JSONObject, spec: ChunkSpec) throws(ZarrError) -> AnyCodec {
    try checkKeys(configuration, allowed: ["level", "checksum"], codec: "zstd")
    let level = try intField(configuration, "level", codec: "zstd", default: 0, range: -131072...22)
    var checksum = false
    if let c = configuration["checksum"] {
      guard let b = c.boolValue else {
        throw ZarrError(.invalidMetadata, "\"checksum\" of codec 'zstd' must be a boolean", pointer: "/configuration/checksum")
      }
      checksum = b
    }
    return .bytesToBytes(ZstdCodec(level: level, checksum: checksum))
  }

  /// `zstd` with its level and checksum setting.
  public var configuration: NamedConfiguration { Codecs.zstd(level: level, checksum: checksum) }

  /// Reusable compression and decompression contexts (a context is used by one thread at a time).
  static let compressors = Mutex<[SendablePointer<OpaquePointer>]>([])
  static let decompressors = Mutex<[SendablePointer<OpaquePointer>]>([])

  /// Compresses into one zstd frame with this codec's level and checksum setting.
  public func encode(_ bytes: [UInt8]) throws(ZarrError) -> [UInt8] {
    let r: Result<[UInt8], ZarrError> = bytes.withUnsafeBytes { b in Result { () throws(ZarrError) in try encode(b) } }
    return try r.get()
  }

  /// `ZSTD_compressBound` of the input size.
  public func maxEncodedSize(forDecodedSize decodedSize: Int) -> Int? { ZSTD_compressBound(decodedSize) }

  /// Compresses into `output` with a pooled context; returns the frame length.
  public func encode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(ZarrError) -> Int {
    try withCompressor { cctx throws(ZarrError) in
      let result = ZSTD_compress2(cctx, output.baseAddress, output.count, input.baseAddress, input.count)
      if ZSTD_isError(result) != 0 {
        throw ZarrError(.codecFailure, "zstd: \(String(cString: ZSTD_getErrorName(result)))")
      }
      return result
    }
  }

  /// Runs `body` with a pooled compression context set to this codec's parameters.
  func withCompressor<R>(_ body: (OpaquePointer) throws(ZarrError) -> R) throws(ZarrError) -> R {
    let cctx = ZstdCodec.compressors.withLock { $0.popLast() }?.pointer ?? ZSTD_createCCtx()
    guard let cctx else { throw ZarrError(.codecFailure, "zstd: out of memory") }
    defer {
      ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters)
      ZstdCodec.compressors.withLock { $0.append(SendablePointer(cctx)) }
    }
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, Int32(level))
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, checksum ? 1 : 0)
    return try body(cctx)
  }

  /// Compresses into one zstd frame with this codec's level and checksum setting.
  public func encode(_ bytes: UnsafeRawBufferPointer) throws(ZarrError) -> [UInt8] {
    let bound = ZSTD_compressBound(bytes.count)
    var failure: ZarrError? = nil
    let out = [UInt8](unsafeUninitializedCapacity: bound) { buf, initialized in
      do throws(ZarrError) {
        initialized = try encode(bytes, into: UnsafeMutableRawBufferPointer(buf))
      } catch {
        failure = error
        initialized = 0
      }
    }
    if let failure { throw failure }
    return out
  }

  /// Decompresses one or more frames, with or without a recorded content size.
  public func decode(_ bytes: [UInt8], expectedSize: Int?) throws(ZarrError) -> [UInt8] {
    try decode(bytes, expectedSize: expectedSize, limit: ReadLimits.current.maxChunkBytes)
  }

  /// Decompresses one or more frames into `expectedSize` bytes, or (when that is unknown) at most `limit`.
  func decode(_ bytes: [UInt8], expectedSize: Int?, limit maxBytes: Int) throws(ZarrError) -> [UInt8] {
    let dctx = ZstdCodec.decompressors.withLock { $0.popLast() }?.pointer ?? ZSTD_createDCtx()
    guard let dctx else { throw ZarrError(.codecFailure, "zstd: out of memory") }
    defer { ZstdCodec.decompressors.withLock { $0.append(SendablePointer(dctx)) } }

    // The content size of a single frame (a frame may omit it; several frames are decoded by streaming).
    let unknown = UInt64.max, error = UInt64.max - 1
    let contentSize: UInt64 = bytes.withUnsafeBytes { src in
      let size = ZSTD_getFrameContentSize(src.baseAddress, src.count)
      if size == error || size == unknown { return size }
      let frameLength = ZSTD_findFrameCompressedSize(src.baseAddress, src.count)
      return ZSTD_isError(frameLength) == 0 && frameLength == src.count ? size : unknown
    }
    if contentSize == error {
      throw ZarrError(.corruptData, "zstd: not a valid zstd frame")
    }
    if let expectedSize, contentSize != unknown, contentSize != UInt64(expectedSize) {
      throw ZarrError(.corruptData, "zstd: frame holds \(contentSize) bytes, expected \(expectedSize)")
    }
    // Never trust the frame header for an allocation: without an expected size, the limit bounds it.
    let limit = expectedSize ?? maxBytes
    if contentSize != unknown, contentSize > UInt64(limit) {
      throw ZarrError(.corruptData, "zstd: frame claims \(contentSize) bytes, more than the limit of \(limit)")
    }
    let capacity = expectedSize ?? (contentSize != unknown ? Int(contentSize) : -1)
    if capacity >= 0 {
      var result = 0
      let out = [UInt8](unsafeUninitializedCapacity: capacity) { buf, initialized in
        result = bytes.withUnsafeBytes { src in
          ZSTD_decompressDCtx(dctx, buf.baseAddress, capacity, src.baseAddress, src.count)
        }
        initialized = ZSTD_isError(result) != 0 ? 0 : result
      }
      if ZSTD_isError(result) != 0 {
        throw ZarrError(.corruptData, "zstd: \(String(cString: ZSTD_getErrorName(result)))")
      }
      if let expectedSize, result != expectedSize {
        throw ZarrError(.corruptData, "zstd: data decompressed to \(result) bytes, expected \(expectedSize)")
      }
      return out
    }
    return try streamingDecode(bytes, dctx: dctx, limit: limit)
  }

  /// Decompresses every frame straight into `output`, which they must fill exactly.
  public func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(ZarrError) {
    let dctx = ZstdCodec.decompressors.withLock { $0.popLast() }?.pointer ?? ZSTD_createDCtx()
    guard let dctx else { throw ZarrError(.codecFailure, "zstd: out of memory") }
    defer { ZstdCodec.decompressors.withLock { $0.append(SendablePointer(dctx)) } }
    // Decompresses every frame (with or without a content size) as long as the output holds them.
    let result = ZSTD_decompressDCtx(dctx, output.baseAddress, output.count, input.baseAddress, input.count)
    if ZSTD_isError(result) != 0 {
      throw ZarrError(.corruptData, "zstd: \(String(cString: ZSTD_getErrorName(result)))")
    }
    guard result == output.count else {
      throw ZarrError(.corruptData, "zstd: data decompressed to \(result) bytes, expected \(output.count)")
    }
  }

  /// Decodes frames that do not record their content size, refusing to produce more than `limit` bytes.
  func streamingDecode(_ bytes: [UInt8], dctx: OpaquePointer, limit: Int) throws(ZarrError) -> [UInt8] {
    ZSTD_DCtx_reset(dctx, ZSTD_reset_session_only)
    // Room for one byte over the limit, to tell "exactly the limit" from "more".
    let cap = limit < Int.max ? limit + 1 : limit
    var out = [UInt8](repeating: 0, count: min(max(bytes.count * 4, 1 << 16), cap))
    func grow() throws(ZarrError) {
      guard out.count < cap else {
        throw ZarrError(.corruptData, "zstd: data decompresses to more than \(limit) bytes")
      }
      out.append(contentsOf: [UInt8](repeating: 0, count: min(out.count, cap - out.count)))
    }
    var produced = 0
    var consumed = 0
    var lastResult = 0
    while consumed < bytes.count {
      if produced == out.count { try grow() }
      let (r, inPos, outPos): (Int, Int, Int) = bytes.withUnsafeBytes { src in
        out.withUnsafeMutableBytes { dst in
          var input = ZSTD_inBuffer(src: src.baseAddress, size: src.count, pos: consumed)
          var output = ZSTD_outBuffer(dst: dst.baseAddress, size: dst.count, pos: produced)
          let r = ZSTD_decompressStream(dctx, &output, &input)
          return (r, input.pos, output.pos)
        }
      }
      if ZSTD_isError(r) != 0 {
        throw ZarrError(.corruptData, "zstd: \(String(cString: ZSTD_getErrorName(r)))")
      }
      if inPos == consumed && outPos == produced && produced < out.count {
        throw ZarrError(.corruptData, "zstd: compressed data is truncated")
      }
      consumed = inPos
      produced = outPos
      lastResult = r
    }
    // Flush whatever the decoder still holds.
    while lastResult != 0 {
      if produced == out.count { try grow() }
      let (r, outPos): (Int, Int) = out.withUnsafeMutableBytes { dst in
        var input = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
        var output = ZSTD_outBuffer(dst: dst.baseAddress, size: dst.count, pos: produced)
        let r = ZSTD_decompressStream(dctx, &output, &input)
        return (r, output.pos)
      }
      if ZSTD_isError(r) != 0 { throw ZarrError(.corruptData, "zstd: \(String(cString: ZSTD_getErrorName(r)))") }
      if outPos == produced { throw ZarrError(.corruptData, "zstd: compressed data is truncated") }
      produced = outPos
      lastResult = r
    }
    guard produced <= limit else { throw ZarrError(.corruptData, "zstd: data decompresses to more than \(limit) bytes") }
    out.removeSubrange(produced...)
    return out
  }
}
