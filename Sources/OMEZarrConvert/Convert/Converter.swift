import Dispatch
import Foundation
import OMEZarr
import Synchronization
import ZarrIO

/// How `convert` writes its output.
public struct ConvertOptions: Sendable {
  /// The OME-NGFF version of the output (default 0.5, Zarr v3).
  public var version: NGFFVersion = .latest05
  /// Chunk shape (default: 64³ for volumes, 512² / 256² for planes, 1 on t and c).
  public var chunkShape: [Int]?
  /// Shard shape (default: one chunk deep along the streaming axis, growing in y and x up to 32 MiB).
  public var shardShape: [Int]?
  /// blosc with zstd level 3 and byte shuffle: on 16-bit microscopy data smaller and faster than
  /// plain zstd (see the README).
  public var compressor: Compressor = .blosc(cname: "zstd", clevel: 3, shuffle: .shuffle)
  /// Exact number of pyramid levels, level 0 included; default: until the largest space dimension fits one chunk.
  public var levels: Int?
  /// How each level is computed from the one before (mean by default; labels always use mode).
  public var method: DownsamplingMethod = .mean
  /// Never downsample z: only y and x shrink from level to level.
  public var xyOnly = false
  /// How many threads read, downsample and encode (default: all active processors).
  public var threads = ProcessInfo.processInfo.activeProcessorCount
  /// Bytes the slab buffers may use; the planner makes shards shallower (and then chunks) to fit.
  public var memoryLimit = 1 << 30
  /// Replace an existing output (everything at the destination is deleted first).
  public var overwrite = false
  /// Finish an interrupted conversion with the same inputs and options, skipping shards already stored.
  public var resume = false
  /// The image name written to the metadata, instead of the source's.
  public var name: String?
  /// Replaces the source's axes (names, types, units).
  public var axes: [Axis]?
  /// RFC-4 anatomical orientation by space axis name (`["x": .init(.leftToRight)]`), set on the
  /// output's axes; written only in OME-NGFF 0.9, the version that defines it.
  public var orientation: [String: AxisOrientation]?
  /// Replaces the source's physical pixel size, one value per axis in the axis units.
  public var scale: [Double]?
  /// Replaces the source's physical offset of the first pixel, one value per axis in the axis units.
  public var translation: [Double]?
  /// Replaces the source's channel names and colors (omero metadata).
  public var channels: [Omero.Channel]?
  /// The whole conversion (default), one part of a split one, or the finalize step after the parts.
  public var stage: ConvertStage = .whole
  /// The defaults: OME-NGFF 0.5, blosc-zstd, automatic chunks, shards and levels.
  public init() {}
}

/// What a conversion did.
public struct ConvertSummary: Sendable {
  /// The input files the image came from.
  public var input: [String]
  /// The destination, as given (path or URL).
  public var output: String
  /// The shape of each pyramid level, level 0 first.
  public var levels: [[Int]]
  /// The data type of the image.
  public var dataType: DataType
  /// Level-0 bytes read from the inputs, label images included.
  public var bytesRead: Int
  /// Bytes stored at the destination at the end, metadata included (and what a resumed run found).
  public var bytesWritten: Int
  /// Wall-clock duration of the conversion, in seconds.
  public var seconds: Double
  /// The names of the label images written under `labels/`.
  public var labels: [String]
  /// Whether the run finished an interrupted conversion.
  public var resumed: Bool
  /// What was repaired in the input's metadata (see ``ConvertWarning``).
  public var warnings: [ConvertWarning] = []
  /// What the run did: the whole conversion, one part, or the finalize step.
  public var stage: ConvertStage = .whole

  /// The summary as a JSON object with snake_case keys (`bytes_read`, `data_type`, ...).
  public var json: JSONValue {
    [
      "input": .array(input.map(JSONValue.string)), "output": .string(output),
      "levels": .array(levels.map { .array($0.map { .int(Int64($0)) }) }), "data_type": .string(dataType.name),
      "bytes_read": .int(Int64(bytesRead)), "bytes_written": .int(Int64(bytesWritten)), "seconds": .double(seconds),
      "labels": .array(labels.map(JSONValue.string)), "resumed": .bool(resumed),
      "warnings": .array(warnings.map { .string($0.description) }), "stage": .string(stage.description),
    ]
  }
}

/// Progress of a conversion, reported from worker threads.
public protocol ConvertProgress: Sendable {
  /// Called once with the total number of level-0 bytes to read.
  func start(totalBytes: Int, label: String)
  /// Called as level-0 data is read.
  func advance(bytes: Int)
  /// Called once when the output is complete.
  func finish()
}

/// Converts a ``PlaneSource`` into an OME-Zarr image with its pyramid in one streaming pass.
///
/// Level 0 is read slab by slab along the streaming axis (z, or y for 2-D images), one shard deep;
/// each slab is written as whole shards and downsampled into the next level's pending slab, which
/// is written when it fills, and so on: every level is built in the same pass, and memory is a few
/// slabs whatever the stack depth. Image metadata is written last, and a marker file records the
/// run's parameters until then, so an interrupted output never looks complete and `resume` can
/// finish it without rewriting completed shards.
public enum Converter {
  static let markerKey = ".ome2zarr-convert.json"

  /// Converts `source` (and label images) to an OME-Zarr image at `destination` (a directory, or
  /// any location whose scheme can write).
  /// - Throws: `ZarrError.invalidArgument` before anything is written when no registered scheme
  ///   can store at `destination` (an unsupported URL scheme or archive type).
  @discardableResult
  public static func convert(
    _ source: any PlaneSource, to destination: StoreLocation, options: ConvertOptions,
    labels: [(name: String, source: any PlaneSource)] = [], progress: (any ConvertProgress)? = nil
  ) throws -> ConvertSummary {
    let store = try destination.openStore(create: true)
    try checkArchive(store, destination, options: options)
    let summary = try convert(source, into: store, named: destination.description, options: options, labels: labels, progress: progress)
    try ZippedOMEZarr.finish(store, version: options.version.description)
    return summary
  }

  /// Refuses what an archive output (`.ozx`) cannot do: parts, resuming, Zarr v2, replacing an
  /// existing archive without `overwrite`.
  static func checkArchive(_ store: any Store, _ destination: StoreLocation, options: ConvertOptions) throws {
    guard let archive = store as? any FinishableStore else { return }
    guard options.stage == .whole else {
      throw ConvertError(.invalidArgument, "'\(destination)' is an archive: a split conversion (--part, --finalize) needs a directory or bucket; pack it afterwards")
    }
    guard !options.resume else {
      throw ConvertError(.invalidArgument, "'\(destination)' is an archive, which cannot be resumed (convert to a directory to resume, then pack it)")
    }
    guard options.version.zarrFormat == .v3 else {
      throw ConvertError(.invalidArgument, "'\(destination)': a zipped OME-Zarr holds Zarr v3 (version 0.5 or later), not \(options.version)")
    }
    guard options.overwrite || !archive.replacesExisting else {
      throw ConvertError(.outputExists, "'\(destination)' already exists; use --overwrite to replace it")
    }
  }

  /// Converts `source` (and label images) to an OME-Zarr image at the root of `store`; `output`
  /// names it in messages and the summary.
  @discardableResult
  public static func convert(
    _ source: any PlaneSource, into store: any Store, named output: String, options: ConvertOptions,
    labels: [(name: String, source: any PlaneSource)] = [], progress: (any ConvertProgress)? = nil
  ) throws -> ConvertSummary {
    let started = DispatchTime.now().uptimeNanoseconds
    var desc = source.description
    try apply(options, to: &desc)
    let file = desc.files.first
    try desc.check(file: file)
    var warnings = desc.warnings
    warnings += repair(&desc)
    // The metadata is built and validated before anything is written: refuse (or repair) now.
    warnings += try checkMetadata(&desc, options: options)
    let jobs = try imageJobs(source, description: desc, labels: labels, options: options)
    switch options.stage {
    case .whole: break
    case .part(let part):
      return try convertPart(part, jobs: jobs, store: store, output: output, options: options, warnings: warnings,
        progress: progress, started: started)
    case .finalize:
      return try finalize(jobs: jobs, store: store, output: output, options: options, warnings: warnings, progress: progress,
        started: started)
    }
    var work: [(job: ImageJob, passes: [Pass])] = []
    var total = 0
    for job in jobs {
      let passes = try passes(job, levels: 0..<job.layout.plan.count)
      let extent = job.desc.shape[job.layout.slabAxis]
      total += streams(of: job).count * bytesRead(passes, job, span: 0..<extent, input: 0..<extent)
      work.append((job, passes))
    }
    let marker = try runParameters(desc, options: options)
    var resumed = false
    if try NodeKind.detect(store, "") != nil || (try store.exists(markerKey)) {
      let existing = try store.get(markerKey).flatMap { try? JSONValue.parse($0) }
      if options.resume, let existing {
        guard existing == marker else {
          throw ConvertError(.outputExists, "the interrupted conversion in '\(output)' used other inputs or options; use --overwrite")
        }
        try store.deleteTemporaryObjects(under: "")
        resumed = true
      } else if options.resume, (try? OMENode.open(in: store))?.kind == .image {
        throw ConvertError(.outputExists, "'\(output)' is already a complete image; nothing to resume (use --overwrite to convert again)")
      } else if options.overwrite {
        try store.deletePrefix("")
      } else {
        throw ConvertError(.outputExists, "'\(output)' already exists; use --overwrite to replace it or --resume to finish an interrupted conversion")
      }
    }
    // The marker is created only where none is (a conditional write on object stores), so two runs
    // started on one output at the same time cannot both go on.
    if resumed {
      try store.set(markerKey, marker.serializedBytes())
    } else if try !store.create(markerKey, marker.serializedBytes()) {
      throw ConvertError(.outputExists, "another conversion started writing to '\(output)' at the same time")
    }
    progress?.start(totalBytes: total, label: String(output.split(separator: "/").last ?? ""))
    var metadata: [OMEAttributes] = []
    for (job, passes) in work {
      let arrays = try createLevels(job, in: store, resume: resumed)
      let extent = job.desc.shape[job.layout.slabAxis]
      for pass in passes {
        for outer in streams(of: job) { try run(pass, job, arrays: arrays, span: 0..<extent, outer: outer, progress: progress) }
      }
      metadata.append(try imageMetadata(job, arrays: arrays))
    }
    try writeMetadata(jobs: jobs, metadata: metadata, store: store)
    progress?.finish()
    let written = try store.storedBytes(under: "")
    return ConvertSummary(input: desc.files, output: output, levels: jobs[0].layout.plan.shapes, dataType: desc.dataType,
      bytesRead: desc.byteCount * jobs.count, bytesWritten: written,
      seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9, labels: jobs.compactMap(\.labelName),
      resumed: resumed, warnings: warnings)
  }

  /// The image and its label images, checked and laid out before anything is written.
  static func imageJobs(
    _ source: any PlaneSource, description desc: SourceDescription, labels: [(name: String, source: any PlaneSource)],
    options: ConvertOptions
  ) throws -> [ImageJob] {
    let main = ImageJob(source: source, desc: desc, path: "", options: options, layout: try layout(desc, options: options))
    var jobs = [main]
    for (name, labelSource) in labels {
      var ldesc = labelSource.description
      guard ldesc.dataType.isInteger else {
        throw ConvertError(.invalidArgument, "label image '\(name)' must have an integer data type, not \(ldesc.dataType)")
      }
      guard ldesc.shape == desc.shape else {
        throw ConvertError(.invalidArgument, "label image '\(name)' has shape \(ldesc.shape), the image \(desc.shape)")
      }
      ldesc.axes = desc.axes
      ldesc.scale = desc.scale
      ldesc.translation = desc.translation
      var lopts = options
      lopts.method = .mode
      jobs.append(ImageJob(source: labelSource, desc: ldesc, path: "labels/\(name)", options: lopts,
        layout: try layout(ldesc, options: lopts, plan: main.layout.plan), labelName: name))
    }
    return jobs
  }

  /// Writes the label images' and then the image's metadata (the last write of a conversion), and
  /// removes the marker: now the output is complete.
  static func writeMetadata(jobs: [ImageJob], metadata: [OMEAttributes], store: any Store) throws {
    for (job, meta) in zip(jobs, metadata) where !job.path.isEmpty {
      let g = try ZarrGroup.open(in: store, path: job.path)
      _ = try g.setAttributes(meta.applied(to: g.attributes))
    }
    let labelNames = jobs.compactMap(\.labelName)
    if !labelNames.isEmpty {
      var meta = OMEAttributes()
      meta.version = jobs[0].options.version.description
      meta.labels = labelNames
      let g = try ZarrGroup.open(in: store, path: "labels")
      _ = try g.setAttributes(meta.applied(to: g.attributes))
    }
    let root = try ZarrGroup.open(in: store)
    var attributes = metadata[0].applied(to: root.attributes)
    // Colour pixels, recorded beside `ome` (other readers ignore the key): export writes them
    // interleaved again. Only while the channel axis still holds exactly those samples.
    let main = jobs[0].desc
    if let samples = main.rgb, let c = main.axes.firstIndex(where: { $0.type == .channel }), main.shape[c] == samples {
      attributes["ome2zarr"] = ["rgb": ["axis": .string(main.axes[c].name), "alpha": .bool(samples == 4)]]
    }
    _ = try root.setAttributes(attributes)
    try store.delete(markerKey)
  }

  /// Repairs metadata no OME-Zarr image may carry, with a warning each: scales that are not
  /// finite positive sizes (``ConvertLimits/physicalSizes``) become 1, non-finite or huge
  /// translations 0, units that are not UDUNITS names of the axis type are dropped, and channel
  /// colors that are not RRGGBB and windows that are not finite with min ≤ max are dropped (the
  /// converter computes them).
  static func repair(_ desc: inout SourceDescription) -> [ConvertWarning] {
    var out: [ConvertWarning] = []
    let file = desc.files.first
    for i in desc.scale.indices where !ConvertLimits.isPhysicalSize(desc.scale[i]) {
      out.append(ConvertWarning("the scale \(desc.scale[i]) of axis '\(desc.axes[i].name)' is not a positive size; 1 is used", file: file))
      desc.scale[i] = 1
    }
    if let t = desc.translation, let i = t.firstIndex(where: { !($0.magnitude <= ConvertLimits.maxTranslation) }) {
      out.append(ConvertWarning("the translation \(t[i]) of axis '\(desc.axes[i].name)' is not a usable offset; 0 is used", file: file))
      desc.translation = t.map { $0.magnitude <= ConvertLimits.maxTranslation ? $0 : 0 }
    }
    for i in desc.axes.indices {
      guard let unit = desc.axes[i].unit else { continue }
      let allowed: Set<String>? = desc.axes[i].type == .space ? Units.space : desc.axes[i].type == .time ? Units.time : nil
      guard let allowed, !allowed.contains(unit) else { continue }
      if let name = Units.udunits(unit), allowed.contains(name) {
        desc.axes[i].unit = name
      } else {
        out.append(ConvertWarning("the unit '\(unit)' of axis '\(desc.axes[i].name)' is not a UDUNITS name for it; left out", file: file))
        desc.axes[i].unit = nil
      }
    }
    for i in (desc.channels ?? []).indices {
      guard var c = desc.channels?[i] else { continue }
      if let color = c.color, !(color.count == 6 && color.allSatisfy(\.isHexDigit)) {
        out.append(ConvertWarning("channel \(i) has color '\(color)', not RRGGBB; a default is used", file: file))
        c.color = nil
      }
      if let w = c.window {
        let values = [w.min, w.max, w.start, w.end].compactMap { $0 }
        if !values.allSatisfy(\.isFinite) || (w.min ?? -.infinity) > (w.max ?? .infinity) {
          out.append(ConvertWarning("channel \(i) has the window \(values) (not finite, or min above max); it is computed instead", file: file))
          c.window = nil
        }
      }
      if let k = c.coefficient, !k.isFinite { c.coefficient = nil }
      desc.channels?[i] = c
    }
    return out
  }

  /// The safety net: builds the image's metadata (group and level arrays, no chunks) in memory and
  /// validates it before anything is written. Axes the validator rejects are replaced by the
  /// defaults for the dimension count, channels it rejects are dropped (with a warning each); any
  /// other error refuses the input.
  static func checkMetadata(_ desc: inout SourceDescription, options: ConvertOptions) throws -> [ConvertWarning] {
    var out: [ConvertWarning] = []
    let file = desc.files.first
    func errors() throws -> [Finding] {
      let layout = try self.layout(desc, options: options)
      let store = MemoryStore()
      var meta = OMEAttributes()
      meta.version = options.version.description
      meta.multiscales = [ImageWriter.multiscale(plan: layout.plan, axes: desc.axes, options: layout.imageOptions)]
      // Windows come from the data later: a placeholder where none is given.
      let count = desc.axes.firstIndex { $0.type == .channel }.map { desc.shape[$0] } ?? 1
      meta.omero = Omero(channels: (0..<min(count, 256)).map { i in
        var c = desc.channels.flatMap { $0.indices.contains(i) ? $0[i] : nil } ?? Omero.Channel(label: "Channel \(i)")
        c.color = c.color ?? "FFFFFF"
        c.window = c.window ?? Omero.Window(min: 0, max: 1, start: 0, end: 1)
        return c
      }, name: desc.name)
      _ = try ZarrGroup.create(in: store, attributes: meta.applied(to: [:]), format: options.version.zarrFormat)
      for (i, shape) in layout.plan.shapes.enumerated() {
        _ = try ZarrArray.create(in: store, path: String(i), metadata: ImageWriter.levelMetadata(shape: shape, dataType: desc.dataType,
          axes: desc.axes, chunkShape: layout.chunk, options: layout.imageOptions))
      }
      return try Validator().validate(store: store).errors
    }
    var found = try errors()
    if found.contains(where: { $0.rule.hasPrefix("axes.") || $0.pointer.contains("/axes") || $0.rule == "level.dimension-names" }) {
      let defaults = ImageOptions.defaultAxes(ndim: desc.shape.count)
      out.append(ConvertWarning("the axes \(desc.axes.map(\.name)) are not valid OME-Zarr axes "
        + "(\(found.first { $0.pointer.contains("/axes") || $0.rule.hasPrefix("axes.") }?.message ?? "dimension names")); "
        + "\(defaults.map(\.name)) are used", file: file))
      for i in desc.axes.indices { desc.axes[i] = Axis(name: defaults[i].name, type: defaults[i].type, unit: defaults[i].type == desc.axes[i].type ? desc.axes[i].unit : nil) }
      found = try errors()
    }
    if desc.channels != nil, let bad = found.first(where: { $0.pointer.contains("/omero") }) {
      out.append(ConvertWarning("the channel metadata is not valid OME-Zarr (\(bad.message)); "
        + "default channels are used", file: file))
      desc.channels = nil
      found = try errors()
    }
    if let e = found.first {
      throw ConvertError(.invalidArgument, "the image metadata would not be valid OME-Zarr: \(e.message) (at \(e.pointer))", file: file)
    }
    return out
  }

  static func apply(_ options: ConvertOptions, to desc: inout SourceDescription) throws {
    let n = desc.shape.count
    if let axes = options.axes {
      guard axes.count == n else {
        throw ConvertError(.invalidArgument, "\(axes.count) axes given (\(axes.map(\.name).joined(separator: ","))) for an image of \(n) dimensions \(desc.shape)")
      }
      desc.axes = axes
    }
    if let s = options.scale {
      guard s.count == n else { throw ConvertError(.invalidArgument, "--scale needs \(n) values (axes \(desc.axes.map(\.name).joined(separator: ",")))") }
      desc.scale = s
    }
    if let t = options.translation {
      guard t.count == n else { throw ConvertError(.invalidArgument, "--translation needs \(n) values") }
      desc.translation = t
    }
    for (axis, orientation) in (options.orientation ?? [:]).sorted(by: { $0.key < $1.key }) {
      guard let i = desc.axes.firstIndex(where: { $0.name == axis }), desc.axes[i].isSpace else {
        throw ConvertError(.invalidArgument, "an orientation is given for '\(axis)', which is not a space axis of "
          + "\(desc.axes.map(\.name).joined(separator: ","))")
      }
      desc.axes[i].orientation = orientation
    }
    if let c = options.channels { desc.channels = c }
    if let name = options.name { desc.name = name }
    // Axes given by the user must end in two space axes; a source's are checked (and repaired) later.
    if let axes = options.axes, !axes.suffix(2).allSatisfy(\.isSpace) {
      throw ConvertError(.invalidArgument, "the last two axes must be space axes (y, x): \(axes.map(\.name))")
    }
  }

  /// The parameters a resumed run must match: inputs, their sizes and dates, and every option.
  static func runParameters(_ desc: SourceDescription, options: ConvertOptions) throws -> JSONValue {
    let files: [JSONValue] = desc.files.map { f in
      let stamp = InputSource.fileAttributes(f)
      return ["path": .string(f), "size": .int(Int64(stamp.size)), "modified": .double(stamp.modified)]
    }
    return [
      "tool": "ome2zarr convert", "files": .array(files), "shape": .array(desc.shape.map { .int(Int64($0)) }),
      "data_type": .string(desc.dataType.name), "axes": .array(desc.axes.map(\.json)),
      "scale": .array(desc.scale.map(JSONValue.double)), "version": .string(options.version.description),
      "chunks": options.chunkShape.map { .array($0.map { .int(Int64($0)) }) } ?? .null,
      "shards": options.shardShape.map { .array($0.map { .int(Int64($0)) }) } ?? .null,
      "compressor": .string("\(options.compressor)"), "levels": options.levels.map { .int(Int64($0)) } ?? .null,
      "method": .string(options.method.rawValue), "xy_only": .bool(options.xyOnly), "memory_limit": .int(Int64(options.memoryLimit)),
    ]
  }

  /// One multiscale image of a conversion: the image itself, or one of its label images.
  struct ImageJob {
    var source: any PlaneSource
    var desc: SourceDescription
    /// Where the image goes in the output: the root, or `labels/NAME`.
    var path: String
    var options: ConvertOptions
    var layout: Layout
    /// The label image's name (nil for the image).
    var labelName: String? = nil
  }

  /// Creates the image's group and level arrays (or reopens them to resume).
  static func createLevels(_ job: ImageJob, in store: any Store, resume: Bool) throws -> [ZarrArray] {
    let (path, format) = (job.path, job.options.version.zarrFormat)
    if !resume || (try? ZarrGroup.open(in: store, path: path)) == nil {
      if !path.isEmpty { _ = try ZarrGroup.create(in: store, path: path, format: format, overwrite: true) }
      else if try NodeKind.detect(store, "") == nil { _ = try ZarrGroup.create(in: store, format: format) }
    }
    var arrays: [ZarrArray] = []
    for (i, shape) in job.layout.plan.shapes.enumerated() {
      let key = joinKey(path, String(i))
      var a: ZarrArray
      if resume, let existing = try? ZarrArray.open(in: store, path: key) {
        a = existing
      } else {
        a = try ZarrArray.create(in: store, path: key, metadata: levelMetadata(job, shape: shape), overwrite: true)
      }
      a.skipStoredChunks = resume
      a.concurrency = job.options.threads
      arrays.append(a)
    }
    return arrays
  }

  /// The array metadata of a level of `shape`.
  static func levelMetadata(_ job: ImageJob, shape: [Int]) -> ArrayMetadata {
    ImageWriter.levelMetadata(shape: shape, dataType: job.desc.dataType, axes: job.desc.axes, chunkShape: job.layout.chunk,
      options: job.layout.imageOptions)
  }

  /// The outer indices of an image (t, c, ... before the streaming axis), each streamed on its own.
  static func streams(of job: ImageJob) -> [[Int]] {
    let outerShape = Array(job.desc.shape.prefix(job.layout.slabAxis))
    return gridBoxes(shape: outerShape, cell: [Int](repeating: 1, count: outerShape.count)).map { $0.map(\.lowerBound) }
  }

  /// The multiscale metadata of an image whose levels are all written: windows from the coarsest
  /// level, or for a label image its colors.
  static func imageMetadata(_ job: ImageJob, arrays: [ZarrArray]) throws -> OMEAttributes {
    let options = job.options
    var meta = OMEAttributes()
    meta.version = options.version.description
    meta.multiscales = [ImageWriter.multiscale(plan: job.layout.plan, axes: job.desc.axes, options: job.layout.imageOptions)]
    if job.labelName != nil {
      var l = ImageLabel(sourceImage: "../../")
      if case .v04 = options.version { l.version = options.version.description }
      l.colors = try labelColors(arrays[0])
      meta.imageLabel = l
    } else if let coarsest = arrays.last {
      meta.omero = try Omero.computed(from: coarsest, axes: job.desc.axes, channels: job.desc.channels, name: job.desc.name)
      if case .v04 = options.version { meta.omero?.version = options.version.description }
    }
    return meta
  }

  /// How an image is stored: chunk and shard shapes (fitted to the memory limit), level options, pyramid.
  struct Layout {
    /// The streaming axis: z if present, else y.
    var slabAxis: Int
    var chunk: [Int]
    var shard: [Int]
    var imageOptions: ImageOptions
    var plan: PyramidPlan
  }

  /// The chunks, shards and pyramid of `desc` under `options` (or the `given` plan, for labels).
  static func layout(_ desc: SourceDescription, options: ConvertOptions, plan given: PyramidPlan? = nil) throws -> Layout {
    let shape = desc.shape
    let n = shape.count
    // The streaming axis: z if present, else y.
    let slabAxis = desc.axes.firstIndex(where: \.isSpace) ?? (n - 2)
    var chunk = options.chunkShape ?? ImageWriter.defaultChunkShape(shape: shape, axes: desc.axes, dataType: desc.dataType)
    guard chunk.count == n, chunk.allSatisfy({ $0 > 0 }) else {
      throw ConvertError(.invalidArgument, "chunk shape \(chunk) does not fit \(n) dimensions")
    }
    // Shards one chunk deep along the streaming axis (a slab completes whole shards), up to 32 MiB.
    var shard = options.shardShape ?? ArrayMetadata.defaultShardShape(shape: shape, chunkShape: chunk, dataType: desc.dataType,
      byteLimit: 32 << 20, growing: [n - 1, n - 2].filter { $0 >= 0 && ($0 != slabAxis || n == 2) })
    guard shard.count == n, zip(shard, chunk).allSatisfy({ $0 > 0 && $0 % $1 == 0 }) else {
      throw ConvertError(.invalidArgument, "shard shape \(shard) must be a multiple of the chunk shape \(chunk)")
    }
    // Fit the memory limit: a slab is one shard deep along the streaming axis, whole elsewhere,
    // and the levels' pending slabs and encoding add about as much again.
    func slabBytes(rows: Int? = nil) -> Int {
      (0..<n).reduce(desc.dataType.size) { acc, d in
        let extent = d < slabAxis ? 1 : d == slabAxis ? min(shard[d], shape[d]) : d == n - 2 && rows != nil ? rows! : shape[d]
        return CheckedArithmetic.product([acc, extent]) ?? Int.max
      }
    }
    func shallower() {
      if shard[slabAxis] > chunk[slabAxis] { shard[slabAxis] /= 2 } else { chunk[slabAxis] = max(1, chunk[slabAxis] / 2); shard[slabAxis] = chunk[slabAxis] }
      shard[slabAxis] = max(chunk[slabAxis], shard[slabAxis] / chunk[slabAxis] * chunk[slabAxis])
    }
    let (wantedChunk, wantedShard) = (chunk, shard)
    while 3 * slabBytes() > options.memoryLimit, shard[slabAxis] > 1 { shallower() }
    if 3 * slabBytes() > options.memoryLimit {
      // Planes too large for any slab: keep the chunks and stream bands of rows (see ``passes``).
      // A band of one shard row must fit: shards narrow in y and x (unless given), then grow shallower.
      guard slabAxis < n - 2 else {
        throw ConvertError(.invalidArgument,
          "one slab of the image (\(slabBytes() >> 20) MiB) does not fit the memory limit of \(options.memoryLimit >> 20) MiB; raise --memory-limit")
      }
      (chunk, shard) = (wantedChunk, wantedShard)
      let (y, x) = (n - 2, n - 1)
      // The widest band: level 1 built from level 0, two shard rows and a row of context each side.
      func bandRows() -> Int { min(2 * shard[y] + 2, shape[y]) }
      while 3 * slabBytes(rows: bandRows()) > options.memoryLimit {
        if options.shardShape == nil, shard[y] > chunk[y] || shard[x] > chunk[x] {
          shard[y] = max(chunk[y], shard[y] / 2 / chunk[y] * chunk[y])
          shard[x] = max(chunk[x], shard[x] / 2 / chunk[x] * chunk[x])
        } else if shard[slabAxis] > 1 {
          shallower()
        } else {
          throw ConvertError(.invalidArgument,
            "a band of two rows of shards of the image (\(slabBytes(rows: bandRows()) >> 20) MiB) does not fit the memory limit "
              + "of \(options.memoryLimit >> 20) MiB; raise --memory-limit or give smaller --shards")
        }
      }
    }
    var imageOptions = ImageOptions(axes: desc.axes, scale: desc.scale, translation: desc.translation, version: options.version)
    imageOptions.name = desc.name
    imageOptions.chunkShape = chunk
    imageOptions.shardShape = shard
    imageOptions.compressor = options.compressor
    imageOptions.method = options.method
    imageOptions.levels = options.levels
    imageOptions.xyOnly = options.xyOnly
    let plan = given ?? PyramidPlan.make(shape: shape, axes: desc.axes, scale: desc.scale, translation: desc.translation,
      chunkShape: chunk, levels: options.levels, xyOnly: options.xyOnly, method: options.method)

    return Layout(slabAxis: slabAxis, chunk: chunk, shard: shard, imageOptions: imageOptions, plan: plan)
  }

  /// Reads rows/planes `range` of the streaming axis at outer index `outer` into one slab buffer;
  /// `band` limits the rows (y) of each plane when the streaming axis is another.
  static func readSlab(
    _ source: any PlaneSource, desc: SourceDescription, outer: [Int], slabAxis: Int, range: Range<Int>, band: Range<Int>? = nil,
    threads: Int, progress: (any ConvertProgress)?, into reused: inout ArrayBuffer?
  ) throws {
    let n = desc.shape.count
    var shape = desc.shape
    for d in 0..<slabAxis { shape[d] = 1 }
    shape[slabAxis] = range.count
    let rows = slabAxis < n - 2 ? band ?? 0..<desc.shape[n - 2] : 0..<desc.shape[n - 2]
    if slabAxis < n - 2 { shape[n - 2] = rows.count }
    let height = rows.count, width = desc.shape[n - 1]
    let elem = desc.dataType.size
    let count = shape.reduce(elem, *)
    var slab: ArrayBuffer
    if var r = reused, r.bytes.count == count {
      reused = nil  // keep the storage uniquely referenced
      r.shape = shape
      slab = r
    } else {
      reused = nil
      // Every byte is read into: no need to zero it.
      slab = ArrayBuffer(uninitializedShape: shape, dataType: desc.dataType)
    }
    // Work items: whole planes (slab along a leading axis) or bands of rows (slab along y).
    let items: [(plane: [Int], rows: Range<Int>, offset: Int)]
    if slabAxis < n - 2 {
      // Planes below the streaming axis (e.g. z then nothing, or z with y,x): index = outer + [z] + inner.
      let inner = Array(desc.shape[(slabAxis + 1)..<(n - 2)])
      let innerBoxes = gridBoxes(shape: inner, cell: [Int](repeating: 1, count: inner.count)).map { $0.map(\.lowerBound) }
      var list: [(plane: [Int], rows: Range<Int>, offset: Int)] = []
      var offset = 0
      for z in range {
        for i in innerBoxes {
          list.append((outer + [z] + i, rows, offset))
          offset += height * width * elem
        }
      }
      items = list
    } else {
      let band = max(16, (range.count + threads * 4 - 1) / (threads * 4))
      items = stride(from: range.lowerBound, to: range.upperBound, by: band).map { r in
        (outer, r..<min(r + band, range.upperBound), (r - range.lowerBound) * width * elem)
      }
    }
    let list = items
    try slab.bytes.withUnsafeMutableBytes { buf in
      let base = SendablePointer(buf)
      try Parallel.forEach(list.count, width: threads) { i in
        let item = list[i]
        let bytes = item.rows.count * width * elem
        try source.read(plane: item.plane, rows: item.rows,
          into: UnsafeMutableRawBufferPointer(rebasing: base.pointer[item.offset..<(item.offset + bytes)]))
        progress?.advance(bytes: bytes)
      }
    }
    reused = slab
  }

  /// A distinct color for every label value of a label image (0, the background, excluded), or
  /// `nil` when it has more than 4096 values. Hues follow the golden ratio so neighbours differ.
  static func labelColors(_ level: ZarrArray) throws -> [ImageLabel.Color]? {
    var values = Set<Int64>()
    for box in gridBoxes(shape: level.shape, cell: level.chunkShape) {
      let b = try level.read(box)
      for v in b.doubleValues() ?? [] {
        values.insert(Int64(v))
        if values.count > 4097 { return nil }
      }
    }
    return values.filter { $0 != 0 }.sorted().map { v in
      let h = (Double(v) * 0.618_033_988_749_895).truncatingRemainder(dividingBy: 1)
      let (r, g, b) = hsv(h < 0 ? h + 1 : h, 0.75, 1)
      return ImageLabel.Color(labelValue: Int(v), rgba: [Int(r * 255), Int(g * 255), Int(b * 255), 255])
    }
  }

  static func hsv(_ h: Double, _ s: Double, _ v: Double) -> (Double, Double, Double) {
    let i = Int(h * 6) % 6, f = h * 6 - Double(Int(h * 6))
    let p = v * (1 - s), q = v * (1 - f * s), t = v * (1 - (1 - f) * s)
    switch i {
    case 0: return (v, t, p)
    case 1: return (q, v, p)
    case 2: return (p, v, t)
    case 3: return (p, q, v)
    case 4: return (t, p, v)
    default: return (v, p, q)
    }
  }

}

extension Converter {
  /// Converts several images (the series of one OME-TIFF) into a bioformats2raw-layout root at
  /// `destination`: image `name` at `<destination>/<name>`, `OME/` listing the series (with the
  /// OME-XML when given), and the root's `bioformats2raw.layout` written last.
  /// `imageOptions` gives each image's options when they depend on its source (default: `options`).
  /// A split conversion (``ConvertOptions/stage``) runs the part of every image, and the finalize
  /// step finalizes every image before it writes the collection's metadata.
  public static func convertSeries(
    _ sources: [InputSource], to destination: StoreLocation, options: ConvertOptions,
    imageOptions: ((any PlaneSource) throws -> ConvertOptions)? = nil, omeXML: String? = nil,
    progress: (any ConvertProgress)? = nil
  ) throws -> [ConvertSummary] {
    let store = try destination.openStore(create: true)
    try checkArchive(store, destination, options: options)
    if options.stage == .whole, try NodeKind.detect(store, "") != nil, !options.overwrite, !options.resume {
      throw ConvertError(.outputExists, "'\(destination)' already exists; use --overwrite or --resume")
    }
    if options.overwrite { try store.deletePrefix("") }
    var summaries: [ConvertSummary] = []
    for input in sources {
      let (name, source) = (input.name, input.source)
      let imageStore = try destination.appending(name).openStore(create: true)
      summaries.append(try convert(source, into: imageStore, named: destination.appending(name).description,
        options: try imageOptions?(source) ?? options, progress: progress))
    }
    // A part leaves the collection's metadata to the finalize step.
    if case .part = options.stage { return summaries }
    var ome = OMEAttributes()
    ome.version = options.version.description
    ome.series = sources.map(\.name)
    _ = try ZarrGroup.create(in: store, path: "OME", attributes: ome.applied(to: [:]), format: options.version.zarrFormat, overwrite: true)
    if let omeXML { try store.set("OME/METADATA.ome.xml", Array(omeXML.utf8)) }
    var root = OMEAttributes()
    root.version = options.version.description
    root.bioformats2rawLayout = 3
    let group = try ZarrGroup.open(in: store)
    _ = try group.setAttributes(root.applied(to: group.attributes))
    try ZippedOMEZarr.finish(store, version: options.version.description)
    return summaries
  }
}
