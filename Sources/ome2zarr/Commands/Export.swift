import ArgumentParser
import Foundation
import OMEZarr
import OMEZarrConvert
import ZarrIO

/// `ome2zarr export IMAGE OUT.ome.tif`: an OME-Zarr image as a tiled, pyramidal OME-TIFF.
struct Export: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Export an OME-Zarr image as a tiled, pyramidal OME-TIFF.",
    usage: "ome2zarr export <image> <output.ome.tif> [<options>]",
    discussion: """
      Full resolution goes in the main directories, one per plane in XYZCT order; reduced \
      resolutions (each half the size of the one before, until a plane fits one tile) go in their \
      SubIFDs, as QuPath, Bio-Formats and tifffile read them. The OME-XML in the first directory \
      gives the sizes, pixel type, physical sizes with units, and channel names and colours. The \
      file is a BigTIFF only when it needs to be.

      It streams: a slab of planes is read a band of rows at a time and encoded on all cores, so \
      memory stays bounded whatever the image's size. The file is written beside the output and \
      appears only when complete.

      --imagej writes an ImageJ hyperstack instead: planes in TZCYX order in strips, one \
      resolution, a classic TIFF (ImageJ reads neither BigTIFF nor SubIFDs), channels, slices, \
      frames, spacing, unit and frame interval in the description, the pixel size as resolution. \
      Above 4 GiB it is ImageJ's own layout: one directory before the uncompressed planes.

      A plate or a bioformats2raw collection becomes a multi-image OME-TIFF (the plate's wells and \
      fields in its OME-XML), or one file per image with --split (each opens on its own; \
      OUT.companion.ome describes the whole set, as raw2ometiff writes it); --series picks images.

      Exit codes: 0 exported, 1 an input that is not an image or holds what OME-TIFF cannot, \
      2 a usage error, an existing output (without --overwrite), or an input or output that \
      cannot be read or written.
      """)

  @Argument(help: "The image, plate or bioformats2raw collection: a directory, a .ozx, an s3:// prefix or an http(s):// URL.")
  var input: String
  @Argument(help: "The OME-TIFF to write (.ome.tif).")
  var output: String
  @Option(help: "Compression: deflate, zstd, lzw, jpeg (8-bit) or none (default: deflate; with --imagej, none).")
  var compression: String?
  @Option(help: "Compression level (deflate 1-12, default 6; zstd 1-22, default 3; jpeg quality 1-100, default 90).")
  var compressionLevel: Int?
  @Option(help: "Tile side in pixels, a multiple of 16.")
  var tile = 512
  @Option(help: "Resolutions to write at most (default: halve until a plane fits one tile).")
  var levels: Int?
  @Flag(help: "Write full resolution only.")
  var noPyramid = false
  @Option(help: "The image level exported as full resolution.")
  var level = 0
  // `--crop`, not `--region`: every command's `--region` is the S3 region, as in the AWS CLI.
  @Option(help: ArgumentHelp("A crop, in pixels of the exported level: 'z0:z1,y0:y1,x0:x1' (the last axes) or 'name=a:b,...'.",
    valueName: "ranges"))
  var crop: String?
  @Option(help: ArgumentHelp("The channels to export, by index or name, in order: '0,2' or 'DAPI,GFP'.", valueName: "list"))
  var channels: String?
  @Option(help: ArgumentHelp("The images of a collection or plate to export, by index: '0,3'.", valueName: "list"))
  var series: String?
  @Flag(help: "One file per image (OUT_s0.ome.tif, ...) and the set's OUT.companion.ome, instead of one multi-image file.")
  var split = false
  @Flag(inversion: .prefixedNo, help: "Write the 3 or 4 channels as colour pixels (RGB, interleaved); default: as convert recorded an RGB TIFF.")
  var rgb: Bool? = nil
  @Flag(help: "Build the OME-XML from the NGFF metadata, not from a collection's OME/METADATA.ome.xml.")
  var rebuildMetadata = false
  @Flag(help: "Write a BigTIFF even when a classic TIFF would do.")
  var bigtiff = false
  @Flag(help: "Write an ImageJ hyperstack for Fiji (TZCYX planes, one resolution, uncompressed unless --compression deflate).")
  var imagej = false
  @Option(help: "Encoding threads (default: all cores; in a cluster job, its share, e.g. $SLURM_CPUS_PER_TASK).")
  var threads: Int?
  @Option(help: ArgumentHelp("Memory for the planes being read and halved, e.g. 256M or 1G (one row of tiles at least).",
    valueName: "bytes"))
  var memoryLimit = ByteCount(256 << 20)
  @Flag(help: "Replace an existing output.")
  var overwrite = false
  @Flag(help: "No progress bar.")
  var quiet = false
  @Flag(help: "Print a JSON summary.")
  var json = false

  @OptionGroup(title: "Limits") var readLimits: ReadLimitOptions
  @OptionGroup(title: "Remote storage") var remote: RemoteOptions

  func run() throws {
    if imagej && (levels != nil || bigtiff) {
      throw CommandFailure.usage("--imagej writes one resolution in a classic TIFF: --levels and --bigtiff do not apply")
    }
    let name = compression ?? (imagej ? "none" : "deflate")
    guard let codec = ExportOptions.Compression(rawValue: name) else {
      throw CommandFailure.usage("--compression must be one of deflate, zstd, lzw, jpeg, none (not '\(name)')")
    }
    if let levels, levels < 1 { throw CommandFailure.usage("--levels must be at least 1") }
    if noPyramid && levels != nil { throw CommandFailure.usage("--no-pyramid and --levels do not go together") }
    let from = try StoreLocation(input)
    let to = try StoreLocation(output)
    guard from.entry() != .absent else { throw CommandFailure.io("'\(input)' does not exist") }
    guard !to.isInArchive else { throw CommandFailure.usage("'\(output)' must be a file or an object, not an archive") }
    var options = ExportOptions()
    if let series {
      let list = try series.split(separator: ",", omittingEmptySubsequences: false).map {
        guard let i = Int($0.trimmingCharacters(in: .whitespaces)) else { throw CommandFailure.usage("--series takes indices: '\(series)'") }
        return i
      }
      var seen = Set<Int>()
      for i in list where !seen.insert(i).inserted { throw CommandFailure.usage("--series lists \(i) twice: '\(series)'") }
      options.series = list
    }
    if crop != nil || channels != nil {
      // The axes and channels of the first image exported name what --crop and --channels pick.
      let found = try Exporter.images(in: from)
      let first = options.series?.first ?? 0
      guard found.indices.contains(first) else {
        throw CommandFailure.invalidData("series \(first) does not exist: '\(input)' holds \(found.count) images")
      }
      let image = found[first]
      if let crop { options.region = try Self.parseRegion(crop, axes: image.axes.map(\.name)) }
      if let channels {
        let names = image.omero?.channels.map { $0.label } ?? []
        options.channels = try channels.split(separator: ",").map { item in
          let text = item.trimmingCharacters(in: .whitespaces)
          if let index = Int(text) { return index }
          guard let index = names.firstIndex(of: text) else {
            throw CommandFailure.usage("--channels: no channel is named '\(text)' (\(names.compactMap { $0 }.joined(separator: ", ")))")
          }
          return index
        }
      }
    }
    options.compression = codec
    options.compressionLevel = compressionLevel
    options.tileSize = tile
    options.levels = noPyramid ? 1 : levels
    options.baseLevel = level
    options.bigTIFF = bigtiff
    options.imageJ = imagej
    options.split = split
    if let threads {
      guard (1...Convert.maxThreads).contains(threads) else {
        throw CommandFailure.usage("--threads must be between 1 and \(Convert.maxThreads), not \(threads)")
      }
      options.threads = threads
    }
    guard memoryLimit.bytes > 0 else { throw CommandFailure.usage("--memory-limit must be positive") }
    options.memoryLimit = memoryLimit.bytes
    options.rgb = rgb
    options.rebuildMetadata = rebuildMetadata
    options.overwrite = overwrite
    let bar = quiet || json ? nil : ProgressBar()
    let summary = try Exporter.export(from, to: to, options: options, progress: bar)
    if json {
      print(summary.json.serialized())
    } else if !quiet {
      if summary.outputs.count > 1 { print("wrote " + summary.outputs.joined(separator: ", ")) }
      let sizes = summary.levels.map { "\($0[1])x\($0[0])" }.joined(separator: ", ")
      print(String(format: "%@: %d planes, levels %@, %@%@, %.1f MB in %.2f s", summary.output, summary.planes, sizes,
        summary.compression.rawValue, summary.bigTIFF ? ", BigTIFF" : "", Double(summary.bytesWritten) / 1e6, summary.seconds))
    }
  }

  /// `z0:z1,y0:y1,x0:x1` (ranges of the last axes, either bound may be left out) or
  /// `name=a:b,...`, as ranges per axis name.
  static func parseRegion(_ text: String, axes: [String]) throws -> [String: Range<Int>] {
    let items = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    guard items.count <= axes.count else {
      throw CommandFailure.usage("--crop has \(items.count) ranges but the image has \(axes.count) axes")
    }
    var region: [String: Range<Int>] = [:]
    for (i, item) in items.enumerated() {
      var name = axes[axes.count - items.count + i]
      var spec = Substring(item)
      if let eq = item.firstIndex(of: "=") {
        name = String(item[..<eq])
        spec = item[item.index(after: eq)...]
      }
      let bounds = spec.split(separator: ":", omittingEmptySubsequences: false)
      guard bounds.count == 2 else { throw CommandFailure.usage("--crop: '\(item)' is not a range a:b") }
      let low = bounds[0].isEmpty ? 0 : Int(bounds[0]), high = bounds[1].isEmpty ? Int.max : Int(bounds[1])
      guard let low, let high, low < high else { throw CommandFailure.usage("--crop: '\(item)' is not a range a:b with a < b") }
      region[name] = low..<high
    }
    return region
  }
}
