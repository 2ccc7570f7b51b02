import Foundation
import OMEZarr
import Synchronization
import ZarrIO

/// A TIFF image: a plain (multi-page) TIFF, an OME-TIFF series (with multi-file sets, opened from
/// any of their files or from their `.companion.ome`), or an ImageJ hyperstack (including > 4 GB
/// files whose planes follow the first IFD contiguously).
///
/// Axes are t, c, z, y, x with axes of size 1 left out (y and x always kept); RGB(A) samples are
/// channels.
public final class TIFFSource: PlaneSource {
  /// The image: axes t, c, z, y, x without the size-1 ones, with the physical sizes and channels the file gives.
  public let description: SourceDescription
  /// The OME-XML of an OME-TIFF (kept in `OME/METADATA.ome.xml` of collections).
  public let omeXML: String?
  /// Plane location per linear index over the leading axes.
  private let planes: [PlaneRef]
  private let pools: [String: TIFFHandlePool]
  private let directories: [String: [TIFFDirectory]]
  /// ImageJ > 4 GB: raw plane offsets in the file (uncompressed, contiguous).
  private let contiguous: ContiguousLayout?

  struct PlaneRef: Sendable {
    var file: String
    var ifd: Int
    var sample: Int
  }

  /// One IFD of one file.
  struct PlaneKey: Hashable, Comparable {
    var file: String
    var ifd: Int

    static func < (a: PlaneKey, b: PlaneKey) -> Bool { (a.file, a.ifd) < (b.file, b.ifd) }
  }

  struct ContiguousLayout: Sendable {
    var file: String
    var firstOffset: UInt64
    var planeBytes: Int
    var byteSwapped: Bool
  }

  /// Whether `path` names a companion OME-XML document of a multi-file OME-TIFF set.
  public static func isCompanion(_ path: String) -> Bool { path.lowercased().hasSuffix(".companion.ome") }

  /// The OME-XML document of a companion file (at most ``ConvertLimits/maxCompanionBytes``).
  static func companionDocument(_ path: String) throws -> String {
    let location = try StoreLocation(path)
    let size = location.objectInfo()?.size ?? 0
    guard size <= ConvertLimits.maxCompanionBytes else {
      throw ConvertError(.unsupported, "the companion OME-XML is \(size) bytes, more than \(ConvertLimits.maxCompanionBytes >> 20) MiB", file: path)
    }
    guard let bytes = try? location.read(), bytes.count <= ConvertLimits.maxCompanionBytes else {
      throw ConvertError(.unreadable, "cannot read the companion OME-XML", file: path)
    }
    return String(decoding: bytes, as: UTF8.self)
  }

  /// The file a `TiffData` `UUID FileName` names: beside `path` or below its folder, never outside it.
  static func member(_ fileName: String, of path: String) throws(ConvertError) -> String {
    let parts = fileName.split(separator: "/", omittingEmptySubsequences: false)
    guard !fileName.hasPrefix("/"), !parts.contains(".."), !parts.contains(""), !fileName.contains("\0") else {
      throw ConvertError(.unreadable, "the OME-XML names '\(fileName)', outside the folder of the set", file: path)
    }
    return URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent(fileName).path
  }

  /// The number of images (series) in a TIFF: OME-XML images, else 1.
  public static func seriesCount(path: String) throws -> Int {
    if isCompanion(path) { return max(try OMEXMLMetadata.parse(companionDocument(path), file: path).images.count, 1) }
    let h = try TIFFHandle(path: path)
    let dirs = try h.directories()
    guard let d = dirs.first?.description, d.contains("<OME"), let meta = try? OMEXMLMetadata.parse(d) else { return 1 }
    // Every image needs planes of its own: more images than IFDs (in this file) cannot be right.
    let otherFiles = meta.images.contains { $0.tiffData.contains { !($0.fileName ?? "").isEmpty } }
    guard otherFiles || meta.images.count <= dirs.count else {
      throw ConvertError(.unreadable, "the OME-XML describes \(meta.images.count) images but the file has \(dirs.count) IFDs", file: path)
    }
    return max(meta.images.count, 1)
  }

  /// Opens `path`; for OME-TIFF with several images, `series` picks one (default 0).
  public init(path: String, series: Int = 0) throws {
    // A companion holds the OME-XML only: the TIFF read first is the one with the series' first plane.
    let companion = Self.isCompanion(path) ? try Self.companionDocument(path) : nil
    var tiffPath = path
    if let companion {
      let meta = try OMEXMLMetadata.parse(companion, file: path)
      guard !meta.images.isEmpty else { throw ConvertError(.unreadable, "the companion OME-XML describes no images", file: path) }
      guard meta.images.indices.contains(series) else {
        throw ConvertError(.invalidArgument, "series \(series) does not exist (the companion has \(meta.images.count))", file: path)
      }
      guard let name = meta.images[series].tiffData.first?.fileName, !name.isEmpty else {
        throw ConvertError(.unreadable, "OME-XML image \(series) names no TIFF file (TiffData UUID FileName)", file: path)
      }
      tiffPath = try Self.member(name, of: path)
    }
    let main = try TIFFHandle(path: tiffPath)
    let dirs = try main.directories()
    guard var first = dirs.first else { throw ConvertError(.unreadable, "the TIFF has no images", file: tiffPath) }
    var directories: [String: [TIFFDirectory]] = [tiffPath: dirs]
    var pools: [String: TIFFHandlePool] = [tiffPath: TIFFHandlePool(path: tiffPath)]
    let fullRes = dirs.filter { $0.newSubfileType & 1 == 0 }
    let samples = first.samplesPerPixel
    let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
      .replacingOccurrences(of: ".ome", with: "").replacingOccurrences(of: ".companion", with: "")
    var axesSizes: [(String, Int)]  // t, c, z
    var refs: [PlaneRef] = []
    var scale: [String: Double] = [:]
    var units: [String: String] = [:]
    var channels: [Omero.Channel]? = nil
    var contiguous: ContiguousLayout? = nil
    var imageName: String? = name
    var warnings: [ConvertWarning] = []
    // Every plane (and sample) gets a reference: their number must stay within the limit.
    func checkPlanes(_ sizes: [(String, Int)]) throws(ConvertError) {
      guard let n = CheckedArithmetic.product(sizes.map(\.1)), n <= ConvertLimits.maxPlanes else {
        throw ConvertError(.unsupported, "the image has \(sizes.map { "\($0.0)=\($0.1)" }.joined(separator: " ")) planes, "
          + "more than \(ConvertLimits.maxPlanes)", file: path)
      }
    }

    if let desc = companion ?? first.description, desc.contains("<OME") {
      let meta = try OMEXMLMetadata.parse(desc, file: path)
      guard meta.images.indices.contains(series) else {
        throw ConvertError(.invalidArgument, "series \(series) does not exist (the file has \(meta.images.count))", file: path)
      }
      let img = meta.images[series]
      if let problem = img.problems.first {
        throw ConvertError(.unreadable, "OME-XML image \(series): \(problem)", file: path)
      }
      for note in img.ignored { warnings.append(ConvertWarning("OME-XML image \(series): \(note); left out", file: path)) }
      imageName = img.name ?? name
      let samplesImg = img.samplesPerPixel
      guard img.sizeC % samplesImg == 0 else {
        throw ConvertError(.unreadable, "OME-XML image \(series): SizeC=\(img.sizeC) is not a multiple of SamplesPerPixel=\(samplesImg)", file: path)
      }
      guard let planeCount = CheckedArithmetic.product([img.sizeZ, img.planeChannels, img.sizeT]), planeCount <= ConvertLimits.maxPlanes else {
        throw ConvertError(.unreadable,
          "OME-XML image \(series): SizeZ=\(img.sizeZ) x SizeC=\(img.sizeC) x SizeT=\(img.sizeT) is more than \(ConvertLimits.maxPlanes) planes",
          file: path)
      }
      axesSizes = [("t", img.sizeT), ("c", img.sizeC), ("z", img.sizeZ)]
      try checkPlanes(axesSizes)
      // Plane -> (file, IFD) from TiffData.
      var map = [Int: (String, Int)]()
      for td in img.tiffData {
        var file = tiffPath
        if let fn = td.fileName, !fn.isEmpty {
          file = try Self.member(fn, of: path)
        } else if companion != nil {
          throw ConvertError(.unreadable, "OME-XML image \(series): a TiffData names no TIFF file (TiffData UUID FileName)", file: path)
        }
        if directories[file] == nil {
          directories[file] = try TIFFHandle(path: file).directories()
          pools[file] = TIFFHandlePool(path: file)
        }
        guard td.firstZ < img.sizeZ, td.firstC < img.planeChannels, td.firstT < img.sizeT else {
          warnings.append(ConvertWarning("OME-XML image \(series): TiffData FirstZ=\(td.firstZ) FirstC=\(td.firstC) FirstT=\(td.firstT) "
            + "is outside SizeZ=\(img.sizeZ) SizeC=\(img.planeChannels) SizeT=\(img.sizeT); ignored", file: path))
          continue
        }
        let start = img.planeIndex(z: td.firstZ, c: td.firstC, t: td.firstT)
        let count = min(td.planeCount ?? planeCount, planeCount - start)
        for k in 0..<max(count, 0) { map[start + k] = (file, td.ifd + k) }
      }
      if img.tiffData.isEmpty { for p in 0..<planeCount { map[p] = (tiffPath, p) } }
      for t in 0..<img.sizeT {
        for c in 0..<img.sizeC {
          for z in 0..<img.sizeZ {
            let p = img.planeIndex(z: z, c: c / samplesImg, t: t)
            guard let (file, ifd) = map[p] else {
              throw ConvertError(.unreadable, "OME-XML maps no IFD to plane z=\(z) c=\(c) t=\(t)", file: path)
            }
            guard let count = directories[file]?.count, ifd < count else {
              throw ConvertError(.unreadable, "OME-XML refers to IFD \(ifd), but the file has \(directories[file]?.count ?? 0)", file: file)
            }
            refs.append(PlaneRef(file: file, ifd: ifd, sample: c % samplesImg))
          }
        }
      }
      for a in ["X", "Y", "Z"] {
        if let v = img.physicalSize[a] { scale[a.lowercased()] = v; units[a.lowercased()] = Units.udunits(img.physicalSizeUnit[a]) }
      }
      if let ti = img.timeIncrement { scale["t"] = ti; units["t"] = Units.udunits(img.timeIncrementUnit) ?? "second" }
      if !img.channels.isEmpty {
        var list: [Omero.Channel] = []
        for (i, ch) in img.channels.enumerated() where list.count < img.sizeC {
          for s in 0..<min(ch.samplesPerPixel, img.sizeC) {
            var c = Omero.Channel(label: ch.name ?? "Channel \(list.count)")
            if let rgba = ch.color {
              let u = UInt32(bitPattern: rgba)
              c.color = String(format: "%02X%02X%02X", (u >> 24) & 0xFF, (u >> 16) & 0xFF, (u >> 8) & 0xFF)
            }
            if ch.samplesPerPixel > 1 { c.label = (ch.name ?? "Channel \(i)") + " " + ["R", "G", "B", "A"][min(s, 3)] }
            list.append(c)
          }
        }
        if list.count == img.sizeC { channels = list }
      }
    } else if let desc = first.description, let ij = ImageJMetadata(description: desc), ij.problems.isEmpty {
      for note in ij.ignored { warnings.append(ConvertWarning("ImageJ description: \(note); left out", file: path)) }
      // Bounded by the checks of ImageJMetadata: each count and their product at most maxPlanes.
      let planesWanted = ij.channels * ij.slices * ij.frames
      axesSizes = [("t", ij.frames), ("c", ij.channels * samples), ("z", ij.slices)]
      try checkPlanes(axesSizes)
      if fullRes.count < planesWanted {
        // > 4 GB ImageJ files: one IFD, the planes follow its data contiguously.
        guard first.compression == 1, !first.isTiled, samples == 1, let type = first.dataType else {
          throw ConvertError(.unsupported, "ImageJ stack with \(planesWanted) images but \(fullRes.count) IFDs and compressed or tiled data",
            file: path)
        }
        let size = UInt64(max(InputSource.fileAttributes(path).size, 0))
        guard let planeBytes = CheckedArithmetic.product([first.width, first.height], times: type.size),
              let total = CheckedArithmetic.product([planesWanted, planeBytes]),
              first.firstStripOffset <= size, UInt64(total) <= size - first.firstStripOffset
        else {
          throw ConvertError(.unreadable, "the file is truncated: the \(planesWanted) planes of the ImageJ description do not fit", file: path)
        }
        contiguous = ContiguousLayout(file: path, firstOffset: first.firstStripOffset, planeBytes: planeBytes,
          byteSwapped: first.isByteSwapped)
      }
      // ImageJ order: channel fastest, then slice, then frame.
      for t in 0..<ij.frames {
        for c in 0..<(ij.channels * samples) {
          for z in 0..<ij.slices {
            let ifd = (c / samples) + ij.channels * (z + ij.slices * t)
            refs.append(PlaneRef(file: path, ifd: ifd, sample: c % samples))
          }
        }
      }
      if let unit = Units.udunits(ij.unit) {
        // Resolutions are 32-bit floats in libtiff: keep the digits they carry.
        if let xr = first.xResolution { scale["x"] = Self.significant(1 / xr); units["x"] = unit }
        if let yr = first.yResolution { scale["y"] = Self.significant(1 / yr); units["y"] = unit }
        if let s = ij.spacing { scale["z"] = s; units["z"] = unit }
      }
      if let fi = ij.frameInterval { scale["t"] = fi; units["t"] = "second" }
    } else {
      if let desc = first.description, let ij = ImageJMetadata(description: desc), let problem = ij.problems.first {
        warnings.append(ConvertWarning("ImageJ description: \(problem); reading the IFDs as z slices", file: path))
      }
      // A plain TIFF: full-resolution IFDs are z planes, samples are channels.
      axesSizes = [("t", 1), ("c", samples), ("z", fullRes.count)]
      try checkPlanes(axesSizes)
      for c in 0..<samples {
        for d in fullRes { refs.append(PlaneRef(file: path, ifd: d.index, sample: c)) }
      }
      if let xr = first.xResolution, let yr = first.yResolution, first.resolutionUnit == 2 || first.resolutionUnit == 3 {
        let perMicrometer = first.resolutionUnit == 2 ? 25_400.0 : 10_000.0
        scale["x"] = Self.significant(perMicrometer / xr)
        scale["y"] = Self.significant(perMicrometer / yr)
        units["x"] = "micrometer"
        units["y"] = "micrometer"
      }
    }
    // The first plane of the image sets the geometry and type; every other must match it.
    if contiguous == nil, let r = refs.first, let list = directories[r.file], list.indices.contains(r.ifd) { first = list[r.ifd] }
    guard let dataType = first.dataType else {
      throw ConvertError(.unsupported, "\(first.bitsPerSample)-bit samples of format \(first.sampleFormat) are not supported",
        file: refs.first?.file ?? path, ifd: first.index)
    }
    let spp = first.samplesPerPixel
    if let r = refs.first(where: { $0.sample >= spp }) {
      throw ConvertError(.unreadable, "the metadata asks for sample \(r.sample) of pixels that have \(spp)", file: r.file, ifd: r.ifd)
    }
    // Each (file, IFD) once; file names may hold any character (`run#1/a.tif`).
    let distinct: [PlaneKey] = Set(refs.map { PlaneKey(file: $0.file, ifd: $0.ifd) }).sorted()
    for key in distinct {
      let file = key.file, ifd = key.ifd
      guard contiguous != nil || (directories[file]?.indices.contains(ifd) ?? false) else {
        throw ConvertError(.unreadable, "plane IFD \(ifd) does not exist", file: file)
      }
      if contiguous == nil, let d = directories[file]?[ifd] {
        guard d.width == first.width, d.height == first.height, d.dataType == dataType, d.samplesPerPixel == spp else {
          throw ConvertError(.unsupported, "IFD \(ifd) is \(d.width) x \(d.height) \(d.dataType?.name ?? "?") unlike the first plane",
            file: file, ifd: ifd)
        }
      }
    }
    var axes: [Axis] = []
    var shape: [Int] = []
    var s: [Double] = []
    for (n, size) in axesSizes where size > 1 {
      axes.append(n == "c" ? .channel() : n == "t" ? .time(unit: units["t"]) : .space("z", unit: units["z"]))
      shape.append(size)
      s.append(n == "c" ? 1 : scale[n] ?? 1)
    }
    axes += [.space("y", unit: units["y"]), .space("x", unit: units["x"])]
    shape += [first.height, first.width]
    s += [scale["y"] ?? 1, scale["x"] ?? 1]
    // Pixel sizes from resolutions can be anything: keep usable ones only.
    for i in axes.indices where !ConvertLimits.isPhysicalSize(s[i]) {
      warnings.append(ConvertWarning("the \(axes[i].name) pixel size \(s[i]) is not a positive size; 1 is used", file: path))
      s[i] = 1
      scale[axes[i].name] = nil
    }
    // Unknown physical sizes have no unit.
    for i in axes.indices where axes[i].isSpace && scale[axes[i].name] == nil { axes[i].unit = nil }
    // Colour pixels: the channel axis is exactly one pixel's RGB(A) samples.
    let colour = [2, 6].contains(first.photometric) && (samples == 3 || samples == 4) && axesSizes.first { $0.0 == "c" }?.1 == samples
    if colour, channels == nil {
      channels = zip(["Red", "Green", "Blue", "Alpha"], ["FF0000", "00FF00", "0000FF", "FFFFFF"]).prefix(samples).map {
        var c = Omero.Channel(label: $0.0)
        c.color = $0.1
        return c
      }
    }
    var described = SourceDescription(name: imageName, axes: axes, shape: shape, dataType: dataType, scale: s, channels: channels,
      files: Array(directories.keys).sorted(), warnings: warnings)
    described.rgb = colour ? samples : nil
    description = described
    try description.check(file: path)
    guard refs.count == description.planeCount else {
      throw ConvertError(.unreadable, "the image has \(description.planeCount) planes (shape \(description.shape)) but the file maps \(refs.count) of them to IFDs",
        file: path)
    }
    planes = refs
    omeXML = companion ?? dirs.first?.description.flatMap { $0.contains("<OME") ? $0 : nil }
    self.pools = pools
    self.directories = directories
    self.contiguous = contiguous
  }

  /// A value from 32-bit float precision, rounded to the 7 significant digits a float carries.
  static func significant(_ d: Double) -> Double {
    Double(String(format: "%.7g", d)) ?? d
  }

  /// Reads `rows` of the plane at `index`, from its IFD, or directly from a contiguous ImageJ stack.
  public func read(plane index: [Int], rows: Range<Int>, into buffer: UnsafeMutableRawBufferPointer) throws {
    // Linear plane number over (t, c, z) with size-1 axes left out of `index`.
    var linear = 0
    let lead = description.leadingShape
    guard index.count == lead.count, zip(index, lead).allSatisfy({ (0..<$1).contains($0) }) else {
      throw ConvertError(.invalidArgument, "plane \(index) is outside the image's planes \(lead)", file: description.files.first)
    }
    for (i, size) in lead.enumerated() { linear = linear * size + index[i] }
    guard planes.indices.contains(linear) else {
      throw ConvertError(.unreadable, "plane \(index) is not in the file", file: description.files.first)
    }
    let ref = planes[linear]
    if let c = contiguous {
      let width = description.shape[description.shape.count - 1], bps = description.dataType.size
      let height = description.shape[description.shape.count - 2]
      guard rows.lowerBound >= 0, rows.upperBound <= height, buffer.count >= rows.count * width * bps else {
        throw ConvertError(.invalidArgument, "rows \(rows) of a plane of \(height) rows do not fit the buffer", file: c.file)
      }
      let offset = c.firstOffset + UInt64(ref.ifd * c.planeBytes + rows.lowerBound * width * bps)
      let count = rows.count * width * bps
      try TIFFHandle.readRaw(path: c.file, offset: offset, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<count]))
      if c.byteSwapped, description.dataType.swapUnit > 1 {
        ElementOps.byteSwap(UnsafeMutableRawBufferPointer(rebasing: buffer[0..<count]), unit: description.dataType.swapUnit)
      }
      return
    }
    guard let pool = pools[ref.file], let list = directories[ref.file], list.indices.contains(ref.ifd) else {
      throw ConvertError(.unreadable, "no IFD \(ref.ifd)", file: ref.file)
    }
    try pool.withHandle { h in try h.read(list[ref.ifd], sample: ref.sample, rows: rows, into: buffer) }
  }
}
