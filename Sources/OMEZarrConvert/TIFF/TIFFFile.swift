import COMETiff
import Synchronization
import ZarrIO

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// One image file directory (IFD) of a TIFF: geometry, sample layout and metadata tags.
public struct TIFFDirectory: Sendable, Hashable {
  /// The IFD's number in the file, from 0.
  public var index: Int
  /// Byte offset of the IFD (for jumping back to it).
  public var offset: UInt64
  /// The image width in pixels (`ImageWidth`).
  public var width: Int
  /// The image height in pixels (`ImageLength`).
  public var height: Int
  /// Bits per sample (`BitsPerSample`), e.g. 8 or 16.
  public var bitsPerSample: Int
  /// Samples per pixel (`SamplesPerPixel`): 1 for grey, 3 for RGB.
  public var samplesPerPixel: Int
  /// 1 unsigned, 2 signed, 3 IEEE float.
  public var sampleFormat: Int
  /// 1 contiguous (interleaved samples), 2 separate planes.
  public var planarConfig: Int
  /// The `PhotometricInterpretation` tag: 0 or 1 grey, 2 RGB, 3 palette, 6 YCbCr (read as RGB from JPEG).
  public var photometric: Int
  /// The TIFF `Compression` tag: 1 none, 5 LZW, 8 Deflate, 32773 PackBits, ...
  public var compression: Int
  /// Whether the image is stored in tiles rather than strips.
  public var isTiled: Bool
  /// The tile width in pixels; 0 for a striped image.
  public var tileWidth: Int
  /// The tile height in pixels; 0 for a striped image.
  public var tileHeight: Int
  /// Rows per strip, at most the image height; 0 for a tiled image.
  public var rowsPerStrip: Int
  /// The `ImageDescription` text (OME-XML or ImageJ metadata), when present.
  public var description: String?
  /// Pixels per ``resolutionUnit`` along X (`XResolution`), when present and positive.
  public var xResolution: Double?
  /// Pixels per ``resolutionUnit`` along Y (`YResolution`), when present and positive.
  public var yResolution: Double?
  /// 1 none, 2 inch, 3 centimeter.
  public var resolutionUnit: Int
  /// Offset of the first strip (for ImageJ stacks whose planes follow contiguously).
  public var firstStripOffset: UInt64
  /// Whether the file's byte order differs from this machine's.
  public var isByteSwapped: Bool
  /// The `NewSubfileType` bits: 1 marks a reduced-resolution image, as in pyramids.
  public var newSubfileType: Int

  /// The Zarr data type of one sample.
  public var dataType: DataType? {
    switch (sampleFormat, bitsPerSample) {
    case (1, 8): return .uint8
    case (1, 16): return .uint16
    case (1, 32): return .uint32
    case (1, 64): return .uint64
    case (2, 8): return .int8
    case (2, 16): return .int16
    case (2, 32): return .int32
    case (2, 64): return .int64
    case (3, 16): return .float16
    case (3, 32): return .float32
    case (3, 64): return .float64
    default: return nil
    }
  }

  var bytesPerSample: Int { bitsPerSample / 8 }
}

/// A libtiff handle. Not thread-safe: use one per thread (see ``TIFFHandlePool``).
final class TIFFHandle {
  let path: String
  private let tif: OpaquePointer
  private let errors: UnsafeMutablePointer<COMETiffErrors>

  init(path: String) throws(ConvertError) {
    self.path = path
    errors = UnsafeMutablePointer<COMETiffErrors>.allocate(capacity: 1)
    errors.initialize(to: COMETiffErrors())
    // "m": no memory mapping (plain reads); "c": no strip chopping (strips as stored).
    guard let t = COMETiff_open(path, "rmc", errors, Int64(ConvertLimits.maxBlockBytes)) else {
      let message = Self.message(errors)
      errors.deallocate()
      var st = stat()
      if stat(path, &st) != 0 {
        throw ConvertError(.unreadable, "cannot open: \(String(cString: strerror(errno)))", file: path)
      }
      throw ConvertError(.unreadable, "not a readable TIFF" + (message.isEmpty ? "" : ": \(message)"), file: path)
    }
    tif = t
  }

  deinit {
    TIFFClose(tif)
    errors.deallocate()
  }

  static func message(_ e: UnsafeMutablePointer<COMETiffErrors>) -> String {
    withUnsafeBytes(of: e.pointee.message) { raw in
      String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
    }
  }

  var lastError: String { Self.message(errors) }

  func fail(_ what: String, ifd: Int?) -> ConvertError {
    let detail = lastError
    return ConvertError(.unreadable, what + (detail.isEmpty ? "" : ": \(detail)"), file: path, ifd: ifd)
  }

  /// Every IFD of the main chain, in order.
  func directories() throws(ConvertError) -> [TIFFDirectory] {
    var out: [TIFFDirectory] = []
    guard TIFFSetDirectory(tif, 0) != 0 else { throw fail("cannot read the first IFD", ifd: 0) }
    errors.pointee.message.0 = 0
    repeat {
      out.append(try currentDirectory(index: out.count))
      if out.count > ConvertLimits.maxPlanes {
        throw ConvertError(.unsupported, "more than \(ConvertLimits.maxPlanes) IFDs (or a loop in the IFD chain)", file: path)
      }
    } while TIFFReadDirectory(tif) != 0
    // TIFFReadDirectory also returns 0 on errors: the chain must really end here.
    guard TIFFLastDirectory(tif) != 0, lastError.isEmpty else {
      throw fail("cannot read IFD \(out.count) (the file is truncated or corrupt)", ifd: out.count)
    }
    // libtiff stops quietly at a next-IFD offset past the end of the file: check the last link.
    if let last = out.last, let next = try nextIFDOffset(after: last.offset), next != 0 {
      throw ConvertError(.unreadable, "the file is truncated: IFD \(out.count) (at byte \(next)) is missing", file: path, ifd: out.count)
    }
    return out
  }

  /// Fills `buffer` with the bytes of the file at `path` from `offset` (raw planes of > 4 GB ImageJ files).
  static func readRaw(path: String, offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(ConvertError) {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { throw ConvertError(.unreadable, "cannot open", file: path) }
    defer { close(fd) }
    var done = 0
    while done < buffer.count {
      let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
      guard n > 0 else { throw ConvertError(.unreadable, "the file is truncated", file: path) }
      done += n
    }
  }

  /// The next-IFD link stored after the IFD at `offset`, read from the file itself.
  func nextIFDOffset(after offset: UInt64) throws(ConvertError) -> UInt64? {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    func bytes(_ at: UInt64, _ n: Int) -> [UInt8]? {
      var b = [UInt8](repeating: 0, count: n)
      let r = b.withUnsafeMutableBytes { pread(fd, $0.baseAddress, n, off_t(at)) }
      return r == n ? b : nil
    }
    guard let header = bytes(0, 4) else { return nil }
    let little = header[0] == 0x49
    func value(_ b: [UInt8]) -> UInt64 {
      (little ? b : b.reversed()).enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
    }
    let big = value(Array(header[2..<4])) == 43
    guard let countBytes = bytes(offset, big ? 8 : 2) else { return nil }
    let count = value(countBytes)
    guard count < 1 << 20 else { return nil }
    let linkAt = offset + (big ? 8 + 20 * count : 2 + 12 * count)
    guard let link = bytes(linkAt, big ? 8 : 4) else {
      throw ConvertError(.unreadable, "the file is truncated inside an IFD", file: path)
    }
    return value(link)
  }

  func currentDirectory(index: Int) throws(ConvertError) -> TIFFDirectory {
    var w: UInt32 = 0, h: UInt32 = 0
    guard COMETiff_getU32(tif, UInt32(TIFFTAG_IMAGEWIDTH), &w) != 0, COMETiff_getU32(tif, UInt32(TIFFTAG_IMAGELENGTH), &h) != 0 else {
      throw fail("IFD has no image width or length", ifd: index)
    }
    var bits: UInt16 = 1, spp: UInt16 = 1, fmt: UInt16 = 1, planar: UInt16 = 1, photometric: UInt16 = 1, compression: UInt16 = 1
    _ = COMETiff_getDefaultedU16(tif, UInt32(TIFFTAG_BITSPERSAMPLE), &bits)
    _ = COMETiff_getDefaultedU16(tif, UInt32(TIFFTAG_SAMPLESPERPIXEL), &spp)
    _ = COMETiff_getDefaultedU16(tif, UInt32(TIFFTAG_SAMPLEFORMAT), &fmt)
    _ = COMETiff_getDefaultedU16(tif, UInt32(TIFFTAG_PLANARCONFIG), &planar)
    _ = COMETiff_getU16(tif, UInt32(TIFFTAG_PHOTOMETRIC), &photometric)
    _ = COMETiff_getDefaultedU16(tif, UInt32(TIFFTAG_COMPRESSION), &compression)
    var tw: UInt32 = 0, th: UInt32 = 0, rps: UInt32 = 0
    let tiled = TIFFIsTiled(tif) != 0
    if tiled {
      _ = COMETiff_getU32(tif, UInt32(TIFFTAG_TILEWIDTH), &tw)
      _ = COMETiff_getU32(tif, UInt32(TIFFTAG_TILELENGTH), &th)
    } else {
      _ = COMETiff_getDefaultedU32(tif, UInt32(TIFFTAG_ROWSPERSTRIP), &rps)
    }
    // Only the first IFD's description carries OME-XML or ImageJ metadata: others are not kept
    // (a chain of IFDs sharing one large description must not be copied once per IFD).
    var desc: UnsafeMutablePointer<CChar>? = nil
    let description = index == 0 && COMETiff_getString(tif, UInt32(TIFFTAG_IMAGEDESCRIPTION), &desc) != 0
      ? desc.map { String(cString: $0) } : nil
    var xr: Float = 0, yr: Float = 0, unit: UInt16 = 2, subfile: UInt32 = 0
    let hasX = COMETiff_getFloat(tif, UInt32(TIFFTAG_XRESOLUTION), &xr) != 0
    let hasY = COMETiff_getFloat(tif, UInt32(TIFFTAG_YRESOLUTION), &yr) != 0
    _ = COMETiff_getDefaultedU16(tif, UInt32(TIFFTAG_RESOLUTIONUNIT), &unit)
    _ = COMETiff_getU32(tif, UInt32(TIFFTAG_SUBFILETYPE), &subfile)
    let first = TIFFNumberOfStrips(tif) > 0 ? TIFFGetStrileOffset(tif, 0) : 0
    return TIFFDirectory(
      index: index, offset: TIFFCurrentDirOffset(tif), width: Int(w), height: Int(h), bitsPerSample: Int(bits),
      samplesPerPixel: Int(spp), sampleFormat: Int(fmt == 4 ? 1 : fmt), planarConfig: Int(planar), photometric: Int(photometric),
      compression: Int(compression), isTiled: tiled, tileWidth: Int(tw), tileHeight: Int(th),
      rowsPerStrip: Int(min(rps, h == 0 ? 1 : h)), description: description,
      xResolution: hasX && xr > 0 ? Double(xr) : nil, yResolution: hasY && yr > 0 ? Double(yr) : nil,
      resolutionUnit: Int(unit), firstStripOffset: first, isByteSwapped: TIFFIsByteSwapped(tif) != 0,
      newSubfileType: Int(subfile))
  }

  /// Reads rows `rows` of sample `sample` of directory `dir` into `out` (rows x width, one sample).
  ///
  /// Every size comes from the IFD's tags, so each is checked before it sizes a buffer or an index:
  /// a decoded strip or tile at most ``ConvertLimits/maxBlockBytes``, equal to the size libtiff
  /// computes, no larger than its stored bytes when uncompressed, and decoded in full before use.
  func read(_ dir: TIFFDirectory, sample: Int, rows: Range<Int>, into out: UnsafeMutableRawBufferPointer) throws(ConvertError) {
    guard TIFFSetSubDirectory(tif, dir.offset) != 0 else { throw fail("cannot read the IFD", ifd: dir.index) }
    guard TIFFIsCODECConfigured(UInt16(truncatingIfNeeded: dir.compression)) != 0 else {
      throw ConvertError(.unsupported, "compression \(dir.compression) is not supported by this libtiff", file: path, ifd: dir.index)
    }
    if dir.photometric == 6 {
      // YCbCr: JPEG tiles and strips (tifffile's and Aperio's colour JPEG) are decoded to RGB by libtiff.
      guard dir.compression == 7, COMETiff_setU16(tif, UInt32(TIFFTAG_JPEGCOLORMODE), UInt16(JPEGCOLORMODE_RGB)) != 0 else {
        throw ConvertError(.unsupported, "YCbCr pixels are read only from JPEG tiles or strips, not compression \(dir.compression)",
          file: path, ifd: dir.index)
      }
    }
    let bps = dir.bytesPerSample
    let spp = dir.samplesPerPixel
    guard bps > 0, dir.bitsPerSample % 8 == 0, spp > 0, (0..<spp).contains(sample), dir.width > 0, dir.height > 0 else {
      throw ConvertError(.unreadable, "sample \(sample) of \(spp) samples of \(dir.bitsPerSample) bits cannot be read", file: path, ifd: dir.index)
    }
    guard rows.lowerBound >= 0, rows.upperBound <= dir.height, !rows.isEmpty else {
      throw ConvertError(.invalidArgument, "rows \(rows) are outside the image's \(dir.height) rows", file: path, ifd: dir.index)
    }
    let contig = dir.planarConfig == 1 && spp > 1
    let pixelBytes = contig ? bps * spp : bps
    let width = dir.width
    guard let needed = CheckedArithmetic.product([rows.count, width, bps]), out.count >= needed else {
      throw ConvertError(.invalidArgument, "plane buffer too small", file: path, ifd: dir.index)
    }
    // The decoded size of a block of `blockRows` x `blockWidth` pixels, checked against the limit,
    // libtiff's own computation (`libtiffSize`) and, uncompressed, the bytes stored for `index`.
    func blockBytes(rows blockRows: Int, width blockWidth: Int, libtiffSize: UInt64, index: UInt32, what: String) throws(ConvertError) -> Int {
      guard let bytes = CheckedArithmetic.product([blockRows, blockWidth, pixelBytes]), bytes <= ConvertLimits.maxBlockBytes else {
        throw ConvertError(.unsupported, "a \(what) of \(blockWidth) x \(blockRows) pixels is larger than \(ConvertLimits.maxBlockBytes >> 20) MiB",
          file: path, ifd: dir.index)
      }
      guard UInt64(bytes) == libtiffSize else {
        throw ConvertError(.unreadable, "the \(what) size \(libtiffSize) does not match its \(blockWidth) x \(blockRows) pixels", file: path, ifd: dir.index)
      }
      if dir.compression == 1, TIFFGetStrileByteCount(tif, index) < UInt64(bytes) {
        throw ConvertError(.unreadable, "\(what) \(index) is truncated (\(TIFFGetStrileByteCount(tif, index)) of \(bytes) bytes stored)",
          file: path, ifd: dir.index)
      }
      return bytes
    }
    // Copies a decoded block (strip or tile) into the output: `block` holds `blockRows` rows of
    // `blockWidth` pixels (pixelBytes each) starting at image row `top`, column `left`.
    func place(_ block: UnsafeRawPointer, top: Int, left: Int, blockRows: Int, blockWidth: Int) {
      let r0 = max(top, rows.lowerBound), r1 = min(top + blockRows, rows.upperBound)
      guard r0 < r1, let outBase = out.baseAddress else { return }
      let cols = min(blockWidth, width - left)
      guard cols > 0 else { return }
      for r in r0..<r1 {
        let src = block + ((r - top) * blockWidth) * pixelBytes
        let dst = outBase + ((r - rows.lowerBound) * width + left) * bps
        if !contig {
          dst.copyMemory(from: src, byteCount: cols * bps)
        } else {
          for c in 0..<cols {
            (dst + c * bps).copyMemory(from: src + c * pixelBytes + sample * bps, byteCount: bps)
          }
        }
      }
    }
    if dir.isTiled {
      guard dir.tileWidth > 0, dir.tileHeight > 0 else { throw fail("invalid tile size", ifd: dir.index) }
      let tileCount = TIFFNumberOfTiles(tif)
      let tileSize = try blockBytes(rows: dir.tileHeight, width: dir.tileWidth, libtiffSize: TIFFTileSize64(tif), index: 0, what: "tile")
      let buffer = UnsafeMutableRawPointer.allocate(byteCount: tileSize, alignment: 16)
      defer { buffer.deallocate() }
      let firstTileRow = rows.lowerBound / dir.tileHeight, lastTileRow = (rows.upperBound - 1) / dir.tileHeight
      for ty in firstTileRow...lastTileRow {
        for tx in stride(from: 0, to: width, by: dir.tileWidth) {
          let tile = TIFFComputeTile(tif, UInt32(tx), UInt32(ty * dir.tileHeight), 0, UInt16(contig ? 0 : sample))
          guard tile < tileCount else {
            throw ConvertError(.unreadable, "tile \(tile) does not exist (the IFD has \(tileCount))", file: path, ifd: dir.index)
          }
          if dir.compression == 1 { _ = try blockBytes(rows: dir.tileHeight, width: dir.tileWidth, libtiffSize: UInt64(tileSize), index: tile, what: "tile") }
          let n = TIFFReadEncodedTile(tif, tile, buffer, tmsize_t(tileSize))
          if n < 0 { throw fail("cannot decode tile \(tile)", ifd: dir.index) }
          guard n == tileSize else {
            throw ConvertError(.unreadable, "tile \(tile) is truncated (\(n) of \(tileSize) bytes)", file: path, ifd: dir.index)
          }
          place(buffer, top: ty * dir.tileHeight, left: tx, blockRows: dir.tileHeight, blockWidth: dir.tileWidth)
        }
      }
    } else {
      let rps = max(dir.rowsPerStrip, 1)
      let stripCount = TIFFNumberOfStrips(tif)
      let stripSize = try blockBytes(rows: min(rps, dir.height), width: width, libtiffSize: TIFFStripSize64(tif), index: 0, what: "strip")
      let stripsPerSample = (dir.height + rps - 1) / rps
      let buffer = UnsafeMutableRawPointer.allocate(byteCount: stripSize, alignment: 16)
      defer { buffer.deallocate() }
      for s in (rows.lowerBound / rps)...((rows.upperBound - 1) / rps) {
        let index = contig ? s : sample * stripsPerSample + s
        guard index < Int(stripCount) else {
          throw ConvertError(.unreadable, "strip \(index) does not exist (the IFD has \(stripCount))", file: path, ifd: dir.index)
        }
        let strip = UInt32(index)
        let stripRows = min(rps, dir.height - s * rps)
        if dir.compression == 1 {
          _ = try blockBytes(rows: stripRows, width: width, libtiffSize: UInt64(stripRows * width * pixelBytes), index: strip, what: "strip")
        }
        let n = TIFFReadEncodedStrip(tif, strip, buffer, tmsize_t(stripSize))
        if n < 0 { throw fail("cannot decode strip \(strip)", ifd: dir.index) }
        guard n >= stripRows * width * pixelBytes else {
          throw ConvertError(.unreadable, "strip \(strip) is truncated (\(n) of \(stripRows * width * pixelBytes) bytes)", file: path, ifd: dir.index)
        }
        place(buffer, top: s * rps, left: 0, blockRows: stripRows, blockWidth: width)
      }
    }
  }
}

/// TIFF handles shared by worker threads: a handle is used by one thread at a time.
final class TIFFHandlePool: Sendable {
  let path: String
  private let idle = Mutex<[UncheckedHandle]>([])

  struct UncheckedHandle: @unchecked Sendable { let handle: TIFFHandle }

  init(path: String) { self.path = path }

  func withHandle<R>(_ body: (TIFFHandle) throws -> R) throws -> R {
    let h = try idle.withLock { $0.popLast() }?.handle ?? TIFFHandle(path: path)
    defer { idle.withLock { $0.append(UncheckedHandle(handle: h)) } }
    return try body(h)
  }
}
