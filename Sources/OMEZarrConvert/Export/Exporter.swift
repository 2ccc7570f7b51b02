import Foundation
import OMEZarr
import ZarrIO

/// How ``Exporter`` writes an OME-TIFF.
public struct ExportOptions: Sendable {
  /// How tiles are compressed.
  public enum Compression: String, Sendable, CaseIterable {
    case deflate, zstd, none
    /// The TIFF `Compression` tag value (8: Adobe deflate, 50000: zstd as libtiff and tifffile write it).
    var tag: UInt16 {
      switch self {
      case .deflate: 8
      case .zstd: 50000
      case .none: 1
      }
    }
    /// The default level (deflate 6, zstd 3; libdeflate's levels run to 12).
    var defaultLevel: Int? {
      switch self {
      case .deflate: 6
      case .zstd: 3
      case .none: nil
      }
    }
    /// The levels allowed.
    var levels: ClosedRange<Int>? {
      switch self {
      case .deflate: 1...12
      case .zstd: 1...22
      case .none: nil
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
  /// The file written.
  public var output: String
  /// Height and width of each resolution, full resolution first.
  public var levels: [[Int]]
  /// Planes (main directories): sizes Z × C × T.
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
      "output": .string(output), "levels": .array(levels.map { .array($0.map { .int(Int64($0)) }) }),
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
    let plan = try ExportPlan(input: input, options: options)
    if !options.overwrite, output.entry() != .absent, output.entry() != nil {
      throw ConvertError(.outputExists, "'\(output)' already exists; use --overwrite to replace it")
    }
    let file = try StagedFile(target: output)
    var writer = try TIFFStreamWriter(file: file)
    if plan.placesPlanes {
      // Uncompressed ImageJ planes lie one after another (ImageJ reads them from the first
      // directory alone): their region is set aside first and each strip written in its place.
      writer.dataStart = UInt64(try file.reserve(plan.planeCount * plan.planeBytes))
    }
    let engine = ExportEngine(plan: plan, options: options)
    progress?.start(totalBytes: plan.bytes, label: output.name)
    let tables = try engine.run(writer: &writer, progress: progress)
    let description = options.imageJ ? plan.imageJDescription() : plan.omeXML(uuid: (options.uuid ?? UUID()).uuidString.lowercased())
    let (main, sub) = plan.directories(tables: tables, description: Array(description.utf8), options: options)
    let big = try writer.finish(main: main, sub: sub, forceBigTIFF: options.bigTIFF)
    let written = file.size
    try file.commit()
    progress?.finish()
    return ExportSummary(output: output.description, levels: plan.levelSizes.map { [$0.height, $0.width] },
      planes: plan.planeCount, bigTIFF: big, compression: options.compression, bytesRead: plan.bytes,
      bytesWritten: written, seconds: Date().timeIntervalSince(started))
  }
}
