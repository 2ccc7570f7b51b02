import COMETiff
import ZarrIO

/// Writes TIFF files through libtiff: multi-page, striped or tiled, any compression libtiff
/// encodes, classic or BigTIFF. Used to make sample inputs and test files.
public final class TIFFWriter {
  /// The compressions the writer offers, with their TIFF `Compression` tag values.
  public enum Compression: Int, Sendable {
    /// Uncompressed, LZW, Deflate (zlib), PackBits or zstd.
    case none = 1, lzw = 5, deflate = 8, packBits = 32773, zstd = 50000
  }

  /// How the file and its pages are written.
  public struct Options: Sendable {
    /// The compression of every page.
    public var compression: Compression = .none
    /// Horizontal differencing (2) for LZW/Deflate/zstd.
    public var predictor = false
    /// Write BigTIFF (64-bit offsets) rather than classic TIFF.
    public var bigTIFF = false
    /// Tile size (multiples of 16); `nil` writes strips.
    public var tileSize: Int?
    /// Rows per strip of a striped page.
    public var rowsPerStrip = 64
    /// ImageDescription of the first page (OME-XML or ImageJ text).
    public var description: String?
    /// Pixels per centimeter in x and y (written with ResolutionUnit centimeter).
    public var pixelsPerCentimeter: Double?
    /// The defaults: classic TIFF, uncompressed strips of 64 rows.
    public init() {}
  }

  private let tif: OpaquePointer
  private let path: String
  private let options: Options
  private let errors: UnsafeMutablePointer<COMETiffErrors>
  private var page = 0

  /// Creates (or replaces) the TIFF file at `path`, written with `options`.
  public init(path: String, options: Options = Options()) throws {
    self.path = path
    self.options = options
    errors = UnsafeMutablePointer<COMETiffErrors>.allocate(capacity: 1)
    errors.initialize(to: COMETiffErrors())
    guard let t = COMETiff_open(path, options.bigTIFF ? "w8" : "w", errors, 0) else {
      errors.deallocate()
      throw ConvertError(.unreadable, "cannot create the TIFF", file: path)
    }
    tif = t
  }

  deinit {
    TIFFClose(tif)
    errors.deallocate()
  }

  /// Appends one page: `plane` has shape [height, width] (one sample) or [height, width, samples]
  /// (interleaved, e.g. RGB).
  public func append(_ plane: ArrayBuffer) throws {
    guard plane.shape.count == 2 || plane.shape.count == 3 else {
      throw ConvertError(.invalidArgument, "a TIFF page is [height, width] or [height, width, samples]")
    }
    let height = plane.shape[0], width = plane.shape[1], spp = plane.shape.count == 3 ? plane.shape[2] : 1
    let t = plane.dataType
    let format: UInt16 = t.isFloat ? 3 : t.isSigned ? 2 : 1
    func check(_ r: Int32, _ what: String) throws {
      if r == 0 { throw ConvertError(.unreadable, "cannot set \(what): \(TIFFHandle.message(errors))", file: path, ifd: page) }
    }
    try check(COMETiff_setU32(tif, UInt32(TIFFTAG_IMAGEWIDTH), UInt32(width)), "width")
    try check(COMETiff_setU32(tif, UInt32(TIFFTAG_IMAGELENGTH), UInt32(height)), "height")
    try check(COMETiff_setU16(tif, UInt32(TIFFTAG_BITSPERSAMPLE), UInt16(t.size * 8)), "bits per sample")
    try check(COMETiff_setU16(tif, UInt32(TIFFTAG_SAMPLESPERPIXEL), UInt16(spp)), "samples per pixel")
    try check(COMETiff_setU16(tif, UInt32(TIFFTAG_SAMPLEFORMAT), format), "sample format")
    try check(COMETiff_setU16(tif, UInt32(TIFFTAG_PLANARCONFIG), 1), "planar configuration")
    try check(COMETiff_setU16(tif, UInt32(TIFFTAG_PHOTOMETRIC), spp >= 3 ? 2 : 1), "photometric")
    try check(COMETiff_setU16(tif, UInt32(TIFFTAG_COMPRESSION), UInt16(options.compression.rawValue)), "compression")
    if options.predictor, options.compression != .none, options.compression != .packBits {
      _ = COMETiff_setU16(tif, UInt32(TIFFTAG_PREDICTOR), t.isFloat ? 3 : 2)
    }
    if spp == 4 {
      var alpha: UInt16 = 2
      _ = COMETiff_setExtraSamples(tif, 1, &alpha)
    }
    if page == 0, let d = options.description { try check(COMETiff_setString(tif, UInt32(TIFFTAG_IMAGEDESCRIPTION), d), "description") }
    if let ppcm = options.pixelsPerCentimeter {
      _ = COMETiff_setDouble(tif, UInt32(TIFFTAG_XRESOLUTION), ppcm)
      _ = COMETiff_setDouble(tif, UInt32(TIFFTAG_YRESOLUTION), ppcm)
      _ = COMETiff_setU16(tif, UInt32(TIFFTAG_RESOLUTIONUNIT), 3)
    }
    let rowBytes = width * spp * t.size
    try plane.bytes.withUnsafeBytes { src in
      if let tile = options.tileSize {
        try check(COMETiff_setU32(tif, UInt32(TIFFTAG_TILEWIDTH), UInt32(tile)), "tile width")
        try check(COMETiff_setU32(tif, UInt32(TIFFTAG_TILELENGTH), UInt32(tile)), "tile length")
        let tileBytes = tile * tile * spp * t.size
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: tileBytes, alignment: 16)
        defer { buffer.deallocate() }
        for y in stride(from: 0, to: height, by: tile) {
          for x in stride(from: 0, to: width, by: tile) {
            buffer.initializeMemory(as: UInt8.self, repeating: 0, count: tileBytes)
            for r in 0..<min(tile, height - y) {
              let cols = min(tile, width - x)
              (buffer + r * tile * spp * t.size).copyMemory(from: src.baseAddress! + (y + r) * rowBytes + x * spp * t.size,
                byteCount: cols * spp * t.size)
            }
            let index = TIFFComputeTile(tif, UInt32(x), UInt32(y), 0, 0)
            if TIFFWriteEncodedTile(tif, index, buffer, tmsize_t(tileBytes)) < 0 {
              throw ConvertError(.unreadable, "cannot write a tile: \(TIFFHandle.message(errors))", file: path, ifd: page)
            }
          }
        }
      } else {
        let rps = min(options.rowsPerStrip, height)
        try check(COMETiff_setU32(tif, UInt32(TIFFTAG_ROWSPERSTRIP), UInt32(rps)), "rows per strip")
        var strip: UInt32 = 0
        for y in stride(from: 0, to: height, by: rps) {
          let rows = min(rps, height - y)
          // libtiff may modify the buffer (predictor): give it a copy.
          var copy = Array(UnsafeRawBufferPointer(rebasing: src[(y * rowBytes)..<((y + rows) * rowBytes)]))
          let r = copy.withUnsafeMutableBytes { TIFFWriteEncodedStrip(tif, strip, $0.baseAddress, tmsize_t($0.count)) }
          if r < 0 { throw ConvertError(.unreadable, "cannot write a strip: \(TIFFHandle.message(errors))", file: path, ifd: page) }
          strip += 1
        }
      }
    }
    guard TIFFWriteDirectory(tif) != 0 else {
      throw ConvertError(.unreadable, "cannot write the IFD: \(TIFFHandle.message(errors))", file: path, ifd: page)
    }
    page += 1
  }

  /// Writes an OME-XML description for a single image stored as z planes (ZYX, one sample).
  public static func omeXML(sizeX: Int, sizeY: Int, sizeZ: Int, sizeC: Int = 1, sizeT: Int = 1, type: DataType,
                            physicalSize: (x: Double, y: Double, z: Double)? = nil, name: String = "image") -> String {
    let pixelType: String
    switch type {
    case .float32: pixelType = "float"
    case .float64: pixelType = "double"
    default: pixelType = type.name
    }
    var phys = ""
    if let p = physicalSize {
      phys = " PhysicalSizeX=\"\(p.x)\" PhysicalSizeXUnit=\"µm\" PhysicalSizeY=\"\(p.y)\" PhysicalSizeYUnit=\"µm\" PhysicalSizeZ=\"\(p.z)\" PhysicalSizeZUnit=\"µm\""
    }
    var channels = ""
    for c in 0..<sizeC { channels += "<Channel ID=\"Channel:0:\(c)\" SamplesPerPixel=\"1\"/>" }
    return """
      <?xml version="1.0" encoding="UTF-8"?>
      <OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06"><Image ID="Image:0" Name="\(name)">\
      <Pixels ID="Pixels:0" DimensionOrder="XYZCT" Type="\(pixelType)" SizeX="\(sizeX)" SizeY="\(sizeY)" SizeZ="\(sizeZ)" \
      SizeC="\(sizeC)" SizeT="\(sizeT)"\(phys)>\(channels)<TiffData/></Pixels></Image></OME>
      """
  }
}
