import Foundation
import OMEZarr
import ZarrIO

/// How ``Exporter`` writes an OME-TIFF.
public struct ExportOptions: Sendable {
  /// How tiles are compressed.
  public enum Compression: String, Sendable, CaseIterable {
    case deflate, zstd, lzw, jpeg, none
    /// The TIFF `Compression` tag value (8: Adobe deflate, 50000: zstd as libtiff and tifffile write it).
    var tag: UInt16 {
      switch self {
      case .deflate: 8
      case .zstd: 50000
      case .lzw: 5
      case .jpeg: 7
      case .none: 1
      }
    }
    /// The default level (deflate 6, zstd 3, JPEG quality 90; libdeflate's levels run to 12).
    var defaultLevel: Int? {
      switch self {
      case .deflate: 6
      case .zstd: 3
      case .jpeg: 90
      case .lzw, .none: nil
      }
    }
    /// The levels allowed.
    var levels: ClosedRange<Int>? {
      switch self {
      case .deflate: 1...12
      case .zstd: 1...22
      case .jpeg: 1...100
      case .lzw, .none: nil
      }
    }
  }

  /// Tile compression (deflate by default).
  public var compression = Compression.deflate
  /// The compression level (`nil`: the codec's default).
  public var compressionLevel: Int? = nil
  /// The side of the square tiles, a multiple of 16.
  public var tileSize = 512
  /// How many resolutions to write at most (`nil`: halve until the plane fits one tile).
  public var levels: Int? = nil
  /// The image level exported as full resolution.
  public var baseLevel = 0
  /// A crop, per axis name (`z`, `y`, `x`, `t`, `c`...), in pixels of that level (`nil`: all).
  public var region: [String: Range<Int>] = [:]
  /// The channels exported, by index, in this order (`nil`: all).
  public var channels: [Int]? = nil
  /// The images of a collection or plate exported, by index in its order (`nil`: all).
  public var series: [Int]? = nil
  /// One file per image (`OUT_s0.ome.tif`, `OUT_s1.ome.tif`, ...) instead of one multi-image file.
  public var split = false
  /// Whether channels are written as the samples of colour pixels (`Photometric` RGB,
  /// interleaved): `nil` decides from the image (what `convert` recorded of an RGB TIFF).
  public var rgb: Bool? = nil
  /// Build the OME-XML from the NGFF metadata even when the input carries its original's
  /// (`OME/METADATA.ome.xml` of a bioformats2raw collection), which is otherwise updated.
  public var rebuildMetadata = false
  /// Write an ImageJ hyperstack (planes in TZCYX order, strips, one resolution, classic TIFF)
  /// instead of an OME-TIFF.
  public var imageJ = false
  /// Write a BigTIFF even when the file would fit a classic TIFF.
  public var bigTIFF = false
  /// Replace an existing output.
  public var overwrite = false
  /// Encoding threads.
  public var threads = ProcessInfo.processInfo.activeProcessorCount
  /// The memory the planes being exported may take (slab depth is reduced to fit).
  public var memoryLimit = 256 << 20
  /// The OME-XML document's UUID (`nil`: a random one); fixed for reproducible files.
  public var uuid: UUID? = nil

  /// The defaults: deflate, 512 × 512 tiles, a full pyramid.
  public init() {}
}

/// What ``Exporter/export(_:to:options:progress:)`` wrote.
public struct ExportSummary: Sendable {
  /// The file written (the first, with ``ExportOptions/split``).
  public var output: String
  /// Every OME-TIFF (or ImageJ file) written.
  public var outputs: [String]
  /// The companion OME-XML of a split set (`OUT.companion.ome`), describing every file's images.
  public var companion: String?
  /// The images exported (a collection's or plate's, or the one image).
  public var images: Int
  /// Height and width of each resolution of the first image, full resolution first.
  public var levels: [[Int]]
  /// Planes (main directories) of all images: sizes Z × C × T each.
  public var planes: Int
  /// Whether the file is a BigTIFF.
  public var bigTIFF: Bool
  /// The compression used.
  public var compression: ExportOptions.Compression
  /// Bytes of full-resolution pixels read.
  public var bytesRead: Int
  /// Bytes of file written.
  public var bytesWritten: Int
  /// Wall time.
  public var seconds: Double

  /// The summary as JSON (snake_case keys).
  public var json: JSONValue {
    [
      "output": .string(output), "outputs": .array(outputs.map { .string($0) }), "companion": companion.map { .string($0) } ?? .null,
      "images": .int(Int64(images)), "levels": .array(levels.map { .array($0.map { .int(Int64($0)) }) }),
      "planes": .int(Int64(planes)), "bigtiff": .bool(bigTIFF), "compression": .string(compression.rawValue),
      "bytes_read": .int(Int64(bytesRead)), "bytes_written": .int(Int64(bytesWritten)), "seconds": .double(seconds),
    ]
  }
}

/// Writes an OME-Zarr image as a tiled, pyramidal OME-TIFF (or an ImageJ hyperstack): full resolution in the main
/// directories (one per plane, in XYZCT order), reduced resolutions as their SubIFDs, the OME-XML
/// in the first directory's description.
///
/// It streams: slabs of planes (the depth of the image's chunks, fewer when memory is short) are
/// read a band of rows at a time; each band's tiles are encoded on all cores and appended, and
/// each band is halved into the next resolution, whose rows wait only until they fill a row of
/// tiles. Memory is bounded by the slab, never by the image. The file is written beside the
/// output and appears only when complete.
public enum Exporter {
  /// The pixel types OME-TIFF can hold.
  static let omeTypes: Set<DataType> = [.int8, .uint8, .int16, .uint16, .int32, .uint32, .float32, .float64]

  /// Exports the image at `input` to the OME-TIFF `output`.
  /// - Throws: `ConvertError` for an input that is not an image, a type OME cannot hold, a level
  ///   that does not exist, an output that exists (without ``ExportOptions/overwrite``);
  ///   `ZarrError`/`OMEZarrError` when reading or writing fails.
  public static func export(_ input: StoreLocation, to output: StoreLocation, options: ExportOptions,
    progress: (any ConvertProgress)? = nil) throws -> ExportSummary
  {
    let started = Date()
    let node = try OMENode.open(input)
    let (found, plate) = try images(of: node, name: input.name)
    var chosen = Array(found.indices)
    if let series = options.series {
      for i in series where !found.indices.contains(i) {
        throw ConvertError(.invalidArgument, "series \(i) does not exist: '\(input)' holds \(found.count) image\(found.count == 1 ? "" : "s") (0-\(found.count - 1))")
      }
      guard Set(series).count == series.count else {
        throw ConvertError(.invalidArgument, "series \(series.map(String.init).joined(separator: ",")) lists an image twice")
      }
      chosen = series
    }
    guard !chosen.isEmpty else { throw ConvertError(.invalidArgument, "'\(input)' holds no images to export") }
    let plans = try chosen.map { try ExportPlan(node: found[$0].node, name: found[$0].name, options: options) }
    // The original OME-XML of a collection converted from an OME-TIFF, carried over.
    let metadataKey = joinKey(node.path, "OME/METADATA.ome.xml")
    let original: String? = node.kind == .bioformats2raw && !options.rebuildMetadata
      && (try? node.store.size(of: metadataKey)).flatMap { $0 }.map { $0 <= ConvertLimits.maxCompanionBytes } == true
      ? (try? node.store.get(metadataKey)).flatMap { $0 }.map { String(decoding: $0, as: UTF8.self) }
      : nil
    if options.imageJ && plans.count > 1 && !options.split {
      throw ConvertError(.invalidArgument, "an ImageJ hyperstack holds one image and '\(input)' has \(plans.count): use --series or --split")
    }
    // One file, or one per image; each file's planes and tiles within the limits, as each image's are.
    let groups: [[Int]] = options.split ? plans.indices.map { [$0] } : [Array(plans.indices)]
    for group in groups {
      let planes = group.reduce(0) { $0 + plans[$1].planeCount }
      let segments = group.reduce(0) { $0 + plans[$1].segmentCount }
      guard planes <= ConvertLimits.maxPlanes, segments <= ConvertLimits.maxExportSegments else {
        throw ConvertError(.unsupported, "'\(input)' would put \(planes) planes and \(segments) tiles in one file, more than an export writes "
          + "(\(ConvertLimits.maxPlanes) planes, \(ConvertLimits.maxExportSegments) tiles): use --split or --series")
      }
    }
    // Bytes read, for progress and the summary (each image's at most 2^60, checked; the sum saturates).
    let totalBytes = plans.reduce(0) { $0.addingReportingOverflow($1.bytes).overflow ? Int.max : $0 + $1.bytes }
    let targets = groups.count == 1 ? [output] : plans.indices.map { splitName(output, $0) }
    // Split OME-TIFFs are a set: a companion document describes all of them (as raw2ometiff's --split).
    let companion = options.split && !options.imageJ && plans.count > 1 ? companionName(output) : nil
    if !options.overwrite {
      for target in targets + [companion].compactMap({ $0 }) where target.entry() != .absent && target.entry() != nil {
        throw ConvertError(.outputExists, "'\(target)' already exists; use --overwrite to replace it")
      }
    }
    progress?.start(totalBytes: totalBytes, label: output.name)
    var files: [StagedFile] = []
    var bigTIFF = false
    var written = 0
    // The plate over the images of `group`, by index in it.
    func platePart(_ group: [Int]) -> ExportedPlate? {
      plate.flatMap { plate -> ExportedPlate? in
        let local = Dictionary(uniqueKeysWithValues: group.enumerated().map { (chosen[$0.element], $0.offset) })
        var inFile = plate
        inFile.wells = plate.wells.compactMap { well in
          var kept = well
          kept.images = well.images.compactMap { local[$0] }
          return kept.images.isEmpty ? nil : kept
        }
        return inFile.wells.isEmpty ? nil : inFile
      }
    }
    let planesChanged = !options.region.isEmpty || options.channels != nil
    // Every image as the companion describes it: in its own file, named with that file's UUID.
    var inFiles: [ExportedImageDescription] = []
    for (number, (group, target)) in zip(groups, targets).enumerated() {
      let file = try StagedFile(target: target)
      var writer = try TIFFStreamWriter(file: file)
      var descriptions: [ExportedImageDescription] = []
      var tables: [[[ExportEngine.SegmentTable]]] = []
      var firstIFD = 0
      // ImageJ's layout above 4 GiB: room for its one directory before the planes.
      var leading: UInt64?
      for index in group {
        let plan = plans[index]
        if plan.contiguousImageJ {
          let directory = plan.directories(plane: 0, tables: plan.emptyPlaneTables(), description: Array(plan.imageJDescription().utf8),
            options: options).main
          leading = UInt64(try file.appendZeros(TIFFStreamWriter.byteCount(directory, big: false)))
        }
        if plan.placesPlanes {
          // Uncompressed ImageJ planes lie one after another (ImageJ reads them from the first
          // directory alone): their region is set aside first and each strip written in its place.
          writer.dataStart = UInt64(try file.reserve(plan.planeCount * plan.planeBytes))
        }
        tables.append(try ExportEngine(plan: plan, options: options).run(writer: &writer, progress: progress))
        descriptions.append(plan.omeDescription(firstIFD: firstIFD))
        firstIFD += plan.planeCount
      }
      let uuid = Self.uuid(options.uuid, file: companion == nil ? nil : number)
      for var d in descriptions {
        d.file = (target.name, uuid)
        inFiles.append(d)
      }
      let carried = original.flatMap {
        OMEXMLCarryOver.update($0, images: group.map { chosen[$0] }, descriptions: descriptions,
          planesChanged: planesChanged, uuid: uuid, creator: "ome2zarr")
      }
      let text = options.imageJ ? plans[group[0]].imageJDescription()
        : carried ?? OMEXMLBuilder.document(images: descriptions, plate: platePart(group), uuid: uuid, creator: "ome2zarr")
      // Plane i of the file: the image it belongs to and its plane there; the description goes in the first.
      let description = Array(text.utf8)
      let firstPlanes = group.reduce(into: [0]) { $0.append($0[$0.count - 1] + plans[$1].planeCount) }
      var image = 0
      func directories(_ i: Int) -> (main: TIFFIFD, subs: [TIFFIFD]) {
        if i < firstPlanes[image] { image = 0 }
        while i >= firstPlanes[image + 1] { image += 1 }
        let plane = i - firstPlanes[image]
        return plans[group[image]].directories(plane: plane, tables: tables[image][plane], description: i == 0 ? description : nil,
          options: options)
      }
      if let leading {
        try writer.finish(only: directories(0).main, at: leading)
      } else {
        let big = try writer.finish(planes: firstPlanes[group.count], forceBigTIFF: options.bigTIFF, directories: directories)
        // ImageJ reads no BigTIFF: a file that needs one takes ImageJ's layout above 4 GiB instead.
        guard !(big && options.imageJ) else {
          throw ConvertError(.invalidArgument, "the ImageJ file '\(target)' would pass 4 GiB with its directories")
        }
        bigTIFF = big || bigTIFF
      }
      written += file.size
      files.append(file)
    }
    if let companion {
      let uuid = Self.uuid(options.uuid, file: nil)
      let all = Array(plans.indices)
      let text = original.flatMap {
        OMEXMLCarryOver.update($0, images: chosen, descriptions: inFiles, planesChanged: planesChanged, uuid: uuid, creator: "ome2zarr")
      } ?? OMEXMLBuilder.document(images: inFiles, plate: platePart(all), uuid: uuid, creator: "ome2zarr")
      let file = try StagedFile(target: companion)
      _ = try Array(text.utf8).withUnsafeBytes { try file.append($0) }
      written += file.size
      files.append(file)
    }
    // Every file appears only once all are complete.
    for file in files { try file.commit() }
    progress?.finish()
    return ExportSummary(output: targets[0].description, outputs: targets.map(\.description), companion: companion?.description,
      images: plans.count,
      levels: plans[0].levelSizes.map { [$0.height, $0.width] }, planes: plans.reduce(0) { $0 + $1.planeCount },
      bigTIFF: bigTIFF, compression: options.compression, bytesRead: totalBytes,
      bytesWritten: written, seconds: Date().timeIntervalSince(started))
  }

  /// The images an export of `location` writes, in order: the image itself, a collection's
  /// series, or a plate's fields.
  /// - Throws: `ConvertError` for anything else; `OMEZarrError` when it cannot be read.
  public static func images(in location: StoreLocation) throws -> [OMEImage] {
    // One entry per image export would write, in its order (indices are what --series names).
    try images(of: OMENode.open(location), name: location.name).images.map { found in
      guard let image = try found.node.image() else {
        throw ConvertError(.unsupported, "'\(found.name)' is \(found.node.kind), not an image")
      }
      return image
    }
  }

  /// The `OME` `UUID` of a file (`urn:uuid:…`): random, or `fixed`; a split set's file `number`
  /// gets `fixed` plus its number plus one in the last four bytes, so every file's differs.
  static func uuid(_ fixed: UUID?, file number: Int?) -> String {
    guard var bytes = fixed?.uuid else { return "urn:uuid:" + UUID().uuidString.lowercased() }
    if let number {
      let last = (UInt32(bytes.12) << 24 | UInt32(bytes.13) << 16 | UInt32(bytes.14) << 8 | UInt32(bytes.15)) &+ UInt32(truncatingIfNeeded: number + 1)
      (bytes.12, bytes.13, bytes.14, bytes.15) = (UInt8(last >> 24), UInt8(truncatingIfNeeded: last >> 16), UInt8(truncatingIfNeeded: last >> 8), UInt8(truncatingIfNeeded: last))
    }
    return "urn:uuid:" + UUID(uuid: bytes).uuidString.lowercased()
  }

  /// An output's name without its TIFF extension (`.ome.tif`, `.ome.tiff`, `.tif`, `.tiff`, any
  /// case), and that extension: `a.v1.ome.tif` -> (`a.v1`, `.ome.tif`).
  static func nameParts(_ output: StoreLocation) -> (stem: String, ext: String) {
    let name = output.name
    let lower = name.lowercased()
    for ext in [".ome.tiff", ".ome.tif", ".tiff", ".tif"] where lower.hasSuffix(ext) && lower.count > ext.count {
      return (String(name.dropLast(ext.count)), String(name.suffix(ext.count)))
    }
    return (name, "")
  }

  /// `out.ome.tif` -> `out.companion.ome`, beside it (as raw2ometiff names it).
  static func companionName(_ output: StoreLocation) -> StoreLocation {
    output.parent.appending(nameParts(output).stem + ".companion.ome")
  }

  /// `out.ome.tif` -> `out_s3.ome.tif`, beside it.
  static func splitName(_ output: StoreLocation, _ index: Int) -> StoreLocation {
    let (stem, ext) = nameParts(output)
    return output.parent.appending(stem + "_s\(index)" + ext)
  }

  /// The images `node` holds, in export order: itself (an image), a bioformats2raw collection's
  /// series, or a plate's (or a well's) fields, well by well; with the plate's layout.
  static func images(of node: OMENode, name: String) throws -> (images: [(node: OMENode, name: String)], plate: ExportedPlate?) {
    switch node.kind {
    case .image, .labelImage:
      return ([(node, name)], nil)
    case .plate:
      guard let plate = node.metadata.plate else { break }
      var images: [(node: OMENode, name: String)] = []
      var wells: [ExportedPlate.Well] = []
      for well in plate.wells {
        let wellNode = try node.child(well.path)
        var fields: [Int] = []
        for (f, field) in (wellNode.metadata.well?.images ?? []).enumerated() {
          fields.append(images.count)
          images.append((try wellNode.child(field.path), "\(well.path.replacingOccurrences(of: "/", with: "")) field \(f)"))
        }
        wells.append(ExportedPlate.Well(row: well.rowIndex, column: well.columnIndex, images: fields))
      }
      return (images, ExportedPlate(name: plate.name, rowNames: plate.rows.map(\.name), columnNames: plate.columns.map(\.name), wells: wells))
    case .well:
      let fields = node.metadata.well?.images ?? []
      return (try fields.enumerated().map { (try node.child($0.element.path), "\(name) field \($0.offset)") }, nil)
    case .bioformats2raw:
      var paths = (try? node.child("OME"))?.metadata.series ?? []
      if paths.isEmpty {
        while let child = try? node.child(String(paths.count)), child.kind == .image { paths.append(String(paths.count)) }
      }
      return (try paths.map { (try node.child($0), "\(name) series \($0)") }, nil)
    default:
      break
    }
    throw ConvertError(.unsupported, "'\(name)' is \(node.kind), not an image, a plate or a bioformats2raw collection")
  }
}
