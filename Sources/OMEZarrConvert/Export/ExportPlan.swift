import Foundation
import OMEZarr
import ZarrIO

/// What an export reads and writes: the image's axes mapped to T, C, Z, Y, X, the resolutions,
/// and the directories and OME-XML that describe them.
struct ExportPlan {
  let image: OMEImage
  let source: ZarrArray
  let inputName: String
  let dataType: DataType
  /// Array dimension of each role (nil when the image has no such axis).
  let t: Int?, c: Int?, z: Int?
  let y: Int, x: Int
  let sizeT: Int, sizeC: Int, sizeZ: Int
  /// Where the exported part starts along T, Z, Y and X, and the source channel of each exported one.
  let firstT: Int, firstZ: Int, firstY: Int, firstX: Int
  let channels: [Int]
  /// Height and width of each resolution, full resolution first.
  let levelSizes: [(height: Int, width: Int)]
  let baseLevel: Int
  let isLabels: Bool
  let tileSize: Int
  /// An ImageJ hyperstack (strips of whole rows, TZCYX order) rather than an OME-TIFF.
  let imageJ: Bool
  let compression: ExportOptions.Compression

  /// The segments' width and height: square tiles, or strips as wide as the plane.
  var segmentWidth: Int { imageJ ? levelSizes[0].width : tileSize }
  var segmentHeight: Int { imageJ ? ExportPlan.stripRows : tileSize }
  /// Rows per strip of an ImageJ file.
  static let stripRows = 64
  /// Whether uncompressed ImageJ planes are written in place, one after another.
  var placesPlanes: Bool { imageJ && compression == .none }
  /// ImageJ's layout above 4 GiB: one directory, before the planes, which lie one after another;
  /// ImageJ, Bio-Formats and tifffile find them from that directory and `images=` in its description.
  var contiguousImageJ: Bool {
    guard imageJ else { return false }
    // Each plane and its directory: entries and values (512 bytes is more than they take) and two
    // numbers per strip.
    let perPlane = UInt64(planeBytes) + 512 + 8 * UInt64(tiles(level: 0).down)
    let (total, overflow) = UInt64(planeCount).multipliedReportingOverflow(by: perPlane)
    return overflow || total >= ExportPlan.imageJDirectoriesLimit
  }
  /// Planes and their directories of at least this many bytes leave no room below 4 GiB for the
  /// first directory's description.
  static let imageJDirectoriesLimit: UInt64 = (1 << 32) - (1 << 24)
  /// Bytes of one full-resolution plane.
  var planeBytes: Int { levelSizes[0].height * levelSizes[0].width * dataType.size * samples }
  /// Samples per pixel: the channels of colour pixels (3 or 4), else 1.
  var samples: Int { rgb ?? 1 }
  /// The channels are one colour pixel's samples (3: RGB, 4: RGBA), written interleaved.
  let rgb: Int?
  /// Tiles (or strips) over every plane and resolution (at most ``ConvertLimits/maxExportSegments``).
  let segmentCount: Int

  /// A read of one array: the resolution it is (`levels.lowerBound`) and the ones derived from it.
  struct Pass {
    let array: ZarrArray
    let levels: Range<Int>
  }
  /// The reads of an export: the exported level, then each stored level reused as it is.
  let passes: [Pass]

  var planeCount: Int { sizeT * (rgb == nil ? sizeC : 1) * sizeZ }
  /// Full-resolution bytes read.
  var bytes: Int { planeCount * planeBytes }

  /// The main directory of plane (t, c, z): XYZCT order (z fastest) in an OME-TIFF, TZCYX
  /// (c fastest) in an ImageJ hyperstack.
  func planeIndex(t: Int, c: Int, z: Int) -> Int {
    if rgb != nil { return z + sizeZ * t }
    return imageJ ? c + sizeC * (z + sizeZ * t) : z + sizeZ * (c + sizeC * t)
  }

  /// The plan for the image at `node`, named `name` in the OME-XML unless its multiscale has one.
  init(node: OMENode, name: String, options: ExportOptions) throws {
    let input = node.path.isEmpty ? name : node.path
    guard node.kind == .image || node.kind == .labelImage, let image = try node.image() else {
      throw ConvertError(.unsupported, "'\(input)' is \(node.kind), not an image")
    }
    guard options.tileSize >= 16, options.tileSize <= 4096, options.tileSize % 16 == 0 else {
      throw ConvertError(.invalidArgument, "the tile size must be a multiple of 16 from 16 to 4096, not \(options.tileSize)")
    }
    if let level = options.compressionLevel {
      guard let range = options.compression.levels, range.contains(level) else {
        let allowed = options.compression.levels.map { "\($0.lowerBound) to \($0.upperBound)" } ?? "none"
        throw ConvertError(.invalidArgument, "compression level \(level) is not allowed for \(options.compression.rawValue) (\(allowed))")
      }
    }
    guard image.levels.indices.contains(options.baseLevel) else {
      throw ConvertError(.invalidArgument, "level \(options.baseLevel) does not exist: the image has levels 0-\(image.levels.count - 1)")
    }
    let array = image.levels[options.baseLevel]
    guard Exporter.omeTypes.contains(array.dataType) else {
      throw ConvertError(.unsupported, "OME-TIFF cannot hold \(array.dataType) pixels (only int8 to uint32, float32 and float64)")
    }
    let axes = image.axes
    let shape = array.shape
    guard axes.count == shape.count, shape.count >= 2 else {
      throw ConvertError(.unsupported, "'\(input)' has \(shape.count) dimensions and \(axes.count) axes")
    }
    var t: Int? = nil, c: Int? = nil, z: Int? = nil
    let spatial = axes.indices.filter { axes[$0].type == .space }
    for i in 0..<(shape.count - 2) {
      if axes[i].type == .time, t == nil {
        t = i
      } else if axes[i].type == .channel, c == nil {
        c = i
      } else if axes[i].type == .space, z == nil, spatial.count >= 3 {
        z = i
      } else if shape[i] != 1 {
        throw ConvertError(.unsupported, "axis '\(axes[i].name)' (\(shape[i]) long) has no place in OME-TIFF (T, C, Z, Y, X)")
      }
    }
    // The crop: named axes only, inside the level.
    var ranges = shape.map { 0..<$0 }
    for (name, asked) in options.region {
      guard let dim = axes.firstIndex(where: { $0.name == name }) else {
        throw ConvertError(.invalidArgument, "the crop names axis '\(name)', which the image does not have (\(axes.map(\.name).joined(separator: ", ")))")
      }
      // An open end (Int.max) runs to the end of the axis.
      let upper = asked.upperBound == Int.max ? shape[dim] : asked.upperBound
      guard asked.lowerBound >= 0, asked.lowerBound < upper, upper <= shape[dim] else {
        throw ConvertError(.invalidArgument, "region \(name) \(asked.lowerBound):\(upper) lies outside 0:\(shape[dim])")
      }
      ranges[dim] = asked.lowerBound..<upper
    }
    let channelCount = c.map { ranges[$0].count } ?? 1
    let channelList = options.channels ?? Array(0..<channelCount)
    for index in channelList where index < 0 || index >= (c.map { shape[$0] } ?? 1) {
      throw ConvertError(.invalidArgument, "channel \(index) does not exist: the image has channels 0-\((c.map { shape[$0] } ?? 1) - 1)")
    }
    guard Set(channelList).count == channelList.count else {
      throw ConvertError(.invalidArgument, "the channels \(channelList.map(String.init).joined(separator: ",")) name one channel twice")
    }
    if options.channels == nil, let c { channels = channelList.map { $0 + ranges[c].lowerBound } } else { channels = channelList }
    self.image = image
    source = array
    inputName = name
    dataType = array.dataType
    self.t = t
    self.c = c
    self.z = z
    y = shape.count - 2
    x = shape.count - 1
    sizeT = t.map { ranges[$0].count } ?? 1
    sizeC = channels.count
    // Colour pixels: asked for, or recorded by convert; all of a pixel's 3 or 4 samples, 8 or 16 bits.
    let recorded = node.zarr.attributes["ome2zarr"]?["rgb"] != nil
    let colour = (options.rgb ?? (recorded && !options.imageJ)) && c != nil
    if colour {
      // The slab holds a colour pixel's samples one after another, each its planes: c before z.
      guard options.channels == nil, c.map({ ranges[$0] == 0..<shape[$0] }) == true, sizeC == 3 || sizeC == 4,
        [.uint8, .uint16].contains(array.dataType), !options.imageJ, (c ?? 0) < (z ?? Int.max)
      else {
        throw ConvertError(.invalidArgument, "RGB needs all 3 or 4 channels of uint8 or uint16 pixels, in an OME-TIFF (this image has \(sizeC) of \(array.dataType))")
      }
    }
    rgb = colour ? sizeC : nil
    if options.compression == .jpeg, rgb == 4 {
      throw ConvertError(.invalidArgument, "JPEG cannot hold RGBA: use --no-rgb, or deflate, zstd or lzw")
    }
    sizeZ = z.map { ranges[$0].count } ?? 1
    firstT = t.map { ranges[$0].lowerBound } ?? 0
    firstZ = z.map { ranges[$0].lowerBound } ?? 0
    firstY = ranges[shape.count - 2].lowerBound
    firstX = ranges[shape.count - 1].lowerBound
    // Every exported axis holds something, and a TIFF's width and height are 32-bit.
    for (axis, size) in [("T", sizeT), ("C", sizeC), ("Z", sizeZ), ("Y", ranges[y].count), ("X", ranges[x].count)] {
      guard size > 0 else { throw ConvertError(.unsupported, "'\(name)' has nothing to export: its \(axis) axis is empty") }
    }
    for (axis, size) in [("Y", ranges[y].count), ("X", ranges[x].count)] where size > Int(UInt32.max) {
      throw ConvertError(.unsupported, "'\(name)' is \(size) pixels along \(axis), more than a TIFF holds (\(UInt32.max))")
    }
    var sizes = [(height: ranges[y].count, width: ranges[x].count)]
    if options.imageJ {
      guard [.uint8, .uint16, .float32].contains(array.dataType) else {
        throw ConvertError(.unsupported, "ImageJ cannot hold \(array.dataType) pixels (only uint8, uint16 and float32); export an OME-TIFF instead")
      }
      guard options.compression != .zstd else {
        throw ConvertError(.invalidArgument, "ImageJ cannot read zstd: use deflate, lzw or none with --imagej")
      }
    }
    if options.compression == .jpeg {
      guard array.dataType == .uint8, !options.imageJ else {
        throw ConvertError(.invalidArgument, "JPEG holds 8-bit pixels in an OME-TIFF, not \(array.dataType)\(options.imageJ ? " in an ImageJ file" : ""): use deflate, zstd or lzw")
      }
    }
    let limit = options.imageJ ? 1 : max(1, options.levels ?? Int.max)
    while sizes.count < limit, let last = sizes.last, max(last.height, last.width) > options.tileSize {
      sizes.append(((last.height + 1) / 2, (last.width + 1) / 2))
    }
    levelSizes = sizes
    // Every plane gets a directory and every tile an offset and a size, held until the end: both
    // counts are bounded before anything is read.
    guard let planes = CheckedArithmetic.product([sizeT, rgb == nil ? sizeC : 1, sizeZ]), planes <= ConvertLimits.maxPlanes else {
      throw ConvertError(.unsupported, "'\(name)' has \(sizeT) x \(sizeC) x \(sizeZ) planes (T x C x Z), more than an export writes (\(ConvertLimits.maxPlanes))")
    }
    guard let planeBytes = CheckedArithmetic.product([sizes[0].height, sizes[0].width, array.dataType.size, rgb ?? 1]),
      let bytes = CheckedArithmetic.product([planes, planeBytes]), bytes <= ConvertLimits.maxImageBytes
    else {
      throw ConvertError(.unsupported, "'\(name)' holds more than \(ConvertLimits.maxImageBytes) bytes to export")
    }
    let (segmentWidth, segmentHeight) = options.imageJ ? (sizes[0].width, ExportPlan.stripRows) : (options.tileSize, options.tileSize)
    func along(_ n: Int, _ segment: Int) -> Int { n == 0 ? 0 : (n - 1) / segment + 1 }
    let perLevel = sizes.map { CheckedArithmetic.product([along($0.height, segmentHeight), along($0.width, segmentWidth)]) }
    let perPlane = perLevel.reduce(Int?(0)) { sum, n in
      guard let sum, let n, case (let total, false) = sum.addingReportingOverflow(n) else { return nil }
      return total
    }
    guard let perPlane, let segments = CheckedArithmetic.product([planes, perPlane]), segments <= ConvertLimits.maxExportSegments else {
      throw ConvertError(.unsupported, "'\(name)' would take more than \(ConvertLimits.maxExportSegments) tiles; export a crop, fewer levels or larger tiles (--tile)")
    }
    segmentCount = segments
    // The image's own levels serve as reduced resolutions while each is the next halving in X and
    // Y only (same type, every other axis as long); a crop derives them all.
    var starts = [(array, 0)]
    if options.region.isEmpty {
      var level = 1
      while level < sizes.count, options.baseLevel + level < image.levels.count {
        let stored = image.levels[options.baseLevel + level]
        var expected = array.shape
        expected[expected.count - 2] = sizes[level].height
        expected[expected.count - 1] = sizes[level].width
        guard stored.shape == expected, stored.dataType == array.dataType else { break }
        starts.append((stored, level))
        level += 1
      }
    }
    passes = starts.enumerated().map { i, start in
      Pass(array: start.0, levels: start.1..<(i + 1 < starts.count ? starts[i + 1].1 : sizes.count))
    }
    baseLevel = options.baseLevel
    isLabels = node.kind == .labelImage
    tileSize = options.tileSize
    imageJ = options.imageJ
    compression = options.compression
    if contiguousImageJ {
      // ImageJ's own layout above 4 GiB is uncompressed, and the first plane's strips must lie below 4 GiB.
      guard compression == .none else {
        throw ConvertError(.invalidArgument, "an ImageJ hyperstack of \(planeCount * planeBytes) bytes passes 4 GiB, where ImageJ reads only uncompressed planes: use --compression none, or export an OME-TIFF")
      }
      guard UInt64(planeBytes) < ExportPlan.imageJDirectoriesLimit else {
        throw ConvertError(.invalidArgument, "a plane of \(planeBytes) bytes is too large for an ImageJ TIFF (below 4 GiB); export an OME-TIFF")
      }
    }
  }

  /// Each plane's and resolution's segment table, every offset and count zero until written.
  func emptyTables() -> [[ExportEngine.SegmentTable]] { (0..<planeCount).map { _ in emptyPlaneTables() } }

  /// One plane's segment table per resolution, every offset and count zero.
  func emptyPlaneTables() -> [ExportEngine.SegmentTable] {
    levelSizes.indices.map { level in
      let n = tiles(level: level).across * tiles(level: level).down
      return ExportEngine.SegmentTable(offsets: [UInt64](repeating: 0, count: n), counts: [UInt64](repeating: 0, count: n))
    }
  }

  /// Segments (tiles or strips) across and down at resolution `level`.
  func tiles(level: Int) -> (across: Int, down: Int) {
    let s = levelSizes[level]
    return ((s.width + segmentWidth - 1) / segmentWidth, (s.height + segmentHeight - 1) / segmentHeight)
  }

  /// The ImageJ hyperstack description (tifffile's order of keys).
  func imageJDescription() -> String {
    var lines = ["ImageJ=1.11a", "images=\(planeCount)"]
    if sizeC > 1 { lines.append("channels=\(sizeC)") }
    if sizeZ > 1 { lines.append("slices=\(sizeZ)") }
    if sizeT > 1 { lines.append("frames=\(sizeT)") }
    lines.append("hyperstack=true")
    lines.append("mode=\(sizeC > 1 ? "composite" : "grayscale")")
    let scale = image.scale(level: baseLevel)
    let axes = image.axes
    if let unit = axes[x].unit, let symbol = unit == "micrometer" ? "micron" : OMEXMLBuilder.omeUnit(unit) {
      lines.append("unit=\(symbol)")
    }
    if let z, sizeZ > 1, let scale, ConvertLimits.isPhysicalSize(scale[z]) { lines.append("spacing=\(scale[z])") }
    if sizeT > 1 { lines.append("loop=false") }
    if let t, sizeT > 1, let scale, let seconds = ExportPlan.seconds(axes[t].unit), ConvertLimits.isPhysicalSize(scale[t] * seconds) {
      lines.append("finterval=\(scale[t] * seconds)")
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// Seconds in one `unit` of time (nil when not a time unit).
  static func seconds(_ unit: String?) -> Double? {
    switch unit {
    case "second", nil: 1
    case "millisecond": 1e-3
    case "microsecond": 1e-6
    case "nanosecond": 1e-9
    case "minute": 60
    case "hour": 3600
    case "day": 86400
    default: nil
    }
  }

  /// A pixel size as a TIFF resolution (pixels per unit), a rational.
  static func resolution(_ size: Double) -> (UInt32, UInt32) {
    guard size > 0, size.isFinite else { return (1, 1) }
    let perUnit = 1 / size
    var denominator: UInt32 = 1_000_000
    while Double(denominator) * perUnit > Double(UInt32.max), denominator > 1 { denominator /= 10 }
    return (UInt32(min(Double(UInt32.max), (perUnit * Double(denominator)).rounded())), denominator)
  }

  /// How the OME-XML describes this image, its planes starting at directory `firstIFD`.
  func omeDescription(firstIFD: Int) -> ExportedImageDescription {
    let scale = image.scale(level: baseLevel)
    let axes = image.axes
    func physical(_ dim: Int?) -> (value: Double, unit: String?)? {
      guard let dim, let scale, scale.indices.contains(dim) else { return nil }
      return (scale[dim], axes[dim].unit)
    }
    let omero = image.omero
    let channels = self.channels.map { i in
      let channel = omero?.channels.indices.contains(i) == true ? omero?.channels[i] : nil
      return ExportedChannel(name: channel?.label, color: channel?.color)
    }
    let description = ExportedImageDescription(
      name: image.node.metadata.multiscales?.first?.name ?? inputName, dataType: dataType,
      sizeX: levelSizes[0].width, sizeY: levelSizes[0].height, sizeZ: sizeZ, sizeC: sizeC, sizeT: sizeT,
      physicalSizeX: physical(x), physicalSizeY: physical(y), physicalSizeZ: physical(z), timeIncrement: physical(t),
      channels: rgb == nil ? channels : [ExportedChannel()],
      rgbSamples: rgb, firstIFD: firstIFD)
    return description
  }

  /// The main directory of `plane` and its SubIFDs (the reduced resolutions), for the plane's
  /// segment tables `tables` (offsets and byte counts per level); `description` goes in the main
  /// directory.
  func directories(plane: Int, tables: [ExportEngine.SegmentTable], description: [UInt8]?, options: ExportOptions)
    -> (main: TIFFIFD, subs: [TIFFIFD])
  {
    var main = TIFFIFD()
    var subs: [TIFFIFD] = []
    let format: UInt16 = dataType.isFloat ? 3 : dataType.isSigned ? 2 : 1
    let predictor = ExportEngine.usesPredictor(options.compression, dataType)
    for level in levelSizes.indices {
      let size = levelSizes[level]
      var ifd = TIFFIFD()
      ifd.set(254, .longs([level == 0 ? 0 : 1]))
      ifd.set(256, .longs([UInt32(size.width)]))
      ifd.set(257, .longs([UInt32(size.height)]))
      ifd.set(258, .shorts([UInt16](repeating: UInt16(dataType.size * 8), count: samples)))
      ifd.set(259, .shorts([options.compression.tag]))
      // Colour JPEG tiles are YCbCr with chroma halved in X and Y (as tifffile and libtiff write them).
      let ycbcr = rgb != nil && compression == .jpeg
      ifd.set(262, .shorts([rgb == nil ? 1 : ycbcr ? 6 : 2]))
      if ycbcr {
        ifd.set(530, .shorts([2, 2]))
        ifd.set(532, .rationals([(0, 1), (255, 1), (128, 1), (255, 1), (128, 1), (255, 1)]))
      }
      if level == 0, let description { ifd.set(270, .ascii(description)) }
      ifd.set(277, .shorts([UInt16(samples)]))
      if rgb == 4 { ifd.set(338, .shorts([2])) }  // the fourth sample is unassociated alpha
      ifd.set(284, .shorts([1]))
      ifd.set(305, .ascii(Array("ome2zarr".utf8)))
      if predictor { ifd.set(317, .shorts([2])) }
      if imageJ {
        ifd.set(273, .offsets(tables[level].offsets))
        ifd.set(278, .longs([UInt32(segmentHeight)]))
        ifd.set(279, .offsets(tables[level].counts))
        if let scale = image.scale(level: baseLevel) {
          ifd.set(282, .rationals([ExportPlan.resolution(scale[x])]))
          ifd.set(283, .rationals([ExportPlan.resolution(scale[y])]))
          ifd.set(296, .shorts([1]))
        }
      } else {
        ifd.set(322, .longs([UInt32(tileSize)]))
        ifd.set(323, .longs([UInt32(tileSize)]))
        ifd.set(324, .offsets(tables[level].offsets))
        ifd.set(325, .offsets(tables[level].counts))
      }
      ifd.set(339, .shorts([UInt16](repeating: format, count: samples)))
      if level == 0 { main = ifd } else { subs.append(ifd) }
    }
    // The reduced resolutions, as many as follow (the writer knows where they lie).
    if !subs.isEmpty { main.set(330, .subIFDs(subs.count)) }
    return (main, subs)
  }
}
