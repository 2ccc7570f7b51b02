import ArgumentParser
import Foundation
import OMEZarr
import OMEZarrConvert
import ZarrIO

/// `ome2zarr convert INPUT... OUTPUT`: TIFF stacks, folders of planes and Zarr to OME-Zarr pyramids.
struct Convert: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Convert TIFF, OME-TIFF, ImageJ stacks, folders of planes or Zarr into a sharded OME-Zarr pyramid.",
    discussion: """
      Inputs:
      - a TIFF: multi-page, BigTIFF, striped or tiled, any compression libtiff decodes;
      - an OME-TIFF: several images become a bioformats2raw-style collection unless --series picks one;
        a multi-file set is opened from any of its files or its .companion.ome;
      - an ImageJ hyperstack;
      - a folder of single-plane TIFFs, in natural order or arranged by --pattern such as 'img_t{t}_c{c}_z{z}.tif';
      - a Zarr array or OME-Zarr image (a directory, a bucket, a URL or a .ozx), re-encoded.

      Output: OME-Zarr 0.5 (Zarr v3, sharded) by default. Chunks default to 64³ for volumes and 512² (256² above 2 bytes per sample) for planes, 1 along t and c: sizes viewers stream well. Shards are one chunk deep along the streaming axis (z, or y for 2-D images) and grow in y and x up to 32 MiB, so that one slab of shards bounds the memory whatever the stack depth.

      An output ending in .ozx is one zipped OME-Zarr file (RFC-9): the shards are written straight into it, the metadata at its start at the end (no temporary copy); it appears only when complete (local outputs beside it, bucket outputs assembled in the temporary directory, then uploaded). Archives cannot be resumed or split into parts: convert to a directory, then `ome2zarr pack`.

      The data is read once: every level is computed from the slab before it in the same pass. The image metadata is written last; after an interruption, the same command with --resume finishes without rewriting completed shards.

      On a cluster: split the conversion into N parts run as array tasks (--part I/N or --part auto), each writing its own shards, then run --finalize once. --plan shows the split. Recipes for Slurm, Kubernetes, AWS Batch and Dask: Examples/cluster.
      """)

  @Argument(help: "Input file(s) or folder, then the output directory (or .ozx archive).")
  var paths: [String]

  @Option(help: "OME-Zarr version.")
  var version: NGFFVersion = .latest05
  @Option(help: "Chunk shape, comma-separated (one value per axis).")
  var chunks: String?
  @Option(help: "Shard shape, comma-separated (one value per axis).")
  var shards: String?
  @Option(help: "Compressor (blosc-zstd: blosc with zstd and byte shuffle).")
  var compressor: CompressorName = .bloscZstd
  @Option(help: "Compression level (default: 3 for zstd and blosc-zstd, 5 for blosc-lz4 and gzip).")
  var compressionLevel: Int?
  @Option(help: "Blosc shuffle: byte (default), bit or none.")
  var shuffle: ShuffleName?
  /// The old name of `--compression-level`, still accepted.
  @Option(name: .customLong("level"), help: .hidden)
  var level: Int?
  @Option(help: "Downsampling method (labels: mode).")
  var method: DownsamplingMethod = .mean
  @Option(help: "Number of levels (default: until the largest space dimension fits one chunk).")
  var levels: Int?
  @Flag(help: "Never downsample z.")
  var xyOnly = false
  @Option(help: "Threads (default: all cores).")
  var threads: Int?
  @Option(help: ArgumentHelp("Memory for slab buffers, e.g. 512M or 2G.", valueName: "bytes"))
  var memoryLimit = ByteCount(1 << 30)
  @Option(help: "Axis names, e.g. 'czyx' or 'c,z,y,x' (types: t time, c channel, others space).")
  var axes: String?
  @Option(help: "Pixel size per axis, comma-separated (e.g. 1,2.0,0.5,0.5).")
  var scale: String?
  @Option(help: "Units per axis or one for all space axes (e.g. micrometer or um).")
  var units: String?
  @Option(help: "Translation per axis, comma-separated.")
  var translation: String?
  @Option(help: ArgumentHelp("Anatomical direction of space axes (needs --version 0.9), e.g. "
    + "z=superior-to-inferior,y=anterior-to-posterior,x=left-to-right.", valueName: "axis=direction,..."))
  var orientation: String?
  @Option(help: "Image name.")
  var name: String?
  @Option(help: "Channel names, comma-separated.")
  var channelNames: String?
  @Option(help: "Channel colors (RRGGBB), comma-separated.")
  var channelColors: String?
  @Option(help: "Channel windows start:end, comma-separated.")
  var channelWindows: String?
  @Option(help: "Filename pattern for folder inputs, with {t}, {c} and {z}.")
  var pattern: String?
  @Option(help: "The OME-TIFF image (series) to convert (default: all, as a collection).")
  var series: Int?
  @Option(name: .customLong("label"), help: "A label image NAME=PATH (repeatable).")
  var labels: [String] = []
  @Flag(help: "Replace an existing output.")
  var overwrite = false
  @Flag(help: "Finish an interrupted conversion of the same inputs and options.")
  var resume = false
  @Option(help: ArgumentHelp(
    "Run one part of a split conversion: I/N (0 <= I < N), auto (from the batch engine's array-task variables), or auto/N.",
    valueName: "part"))
  var part: String?
  @Flag(help: "After all parts: build the remaining levels and write the metadata (same inputs and options as the parts).")
  var finalize = false
  @Flag(help: "Show how the conversion splits into --parts N parts (or a table of choices), and exit.")
  var plan = false
  @Option(help: "With --plan: the number of parts to show.")
  var parts: Int?
  @Flag(help: "No progress output.")
  var quiet = false
  @Flag(help: "Print a JSON summary.")
  var json = false

  func validate() throws {
    guard paths.count >= 2 else { throw ValidationError("give at least one input and the output directory") }
    if let compressionLevel, let level, compressionLevel != level {
      throw ValidationError("--level is the old name of --compression-level: give one of them")
    }
    if overwrite && resume { throw ValidationError("--overwrite and --resume exclude each other") }
    if shuffle != nil, !compressor.isBlosc { throw ValidationError("--shuffle goes with --compressor blosc-zstd or blosc-lz4") }
    let stages = [part != nil ? "--part" : nil, finalize ? "--finalize" : nil, plan ? "--plan" : nil].compactMap { $0 }
    if stages.count > 1 { throw ValidationError("\(stages.joined(separator: " and ")) exclude each other") }
    if part != nil || finalize {
      // Parts run at the same time: none may delete the others' work, and every part resumes by itself.
      if overwrite { throw ValidationError("\(stages[0]) cannot be combined with --overwrite; delete the output first") }
      if resume { throw ValidationError("\(stages[0]) cannot be combined with --resume: parts and --finalize always resume") }
    }
    if let orientation { try OrientationOption.check(orientation, version: version) }
    if let last = paths.last, let output = try? StoreLocation(last), output.isInArchive, !plan {
      if !output.isArchive { throw ValidationError("'\(last)' lies inside an archive: give the archive itself as the output (a .ozx is written whole)") }
      // An archive is written in one go and holds Zarr v3.
      if let stage = stages.first { throw ValidationError("\(stage) needs a directory or bucket output, not an archive: convert, then pack") }
      if resume { throw ValidationError("an archive (\(output.name)) cannot be resumed: convert to a directory to resume, then pack") }
      if version.zarrFormat != .v3 { throw ValidationError("an archive (\(output.name)) holds Zarr v3: --version 0.5 or later, not \(version)") }
    }
    if parts != nil && !plan { throw ValidationError("--parts goes with --plan; parts are given as --part I/N") }
    if let parts, !(1...Self.maxParts).contains(parts) {
      throw ValidationError("--parts must be between 1 and \(Self.maxParts), not \(parts)")
    }
    if let threads, !(1...Self.maxThreads).contains(threads) {
      throw ValidationError("--threads must be between 1 and \(Self.maxThreads), not \(threads)")
    }
    if let levels, !(1...Self.maxLevels).contains(levels) {
      throw ValidationError("--levels must be between 1 and \(Self.maxLevels), not \(levels)")
    }
    guard memoryLimit.bytes > 0 else { throw ValidationError("--memory-limit must be positive") }
    if let l = compressionLevel ?? level {
      let range = compressor.levels
      guard range.contains(l) else {
        throw ValidationError("--compression-level for \(compressor.rawValue) must be between \(range.lowerBound) and \(range.upperBound), not \(l)")
      }
    }
  }

  /// The most parts a conversion splits into (Kubernetes' limit on completions).
  static let maxParts = 100_000
  /// The most threads `--threads` may ask for.
  static let maxThreads = 4096
  /// The most pyramid levels `--levels` may ask for (a 2^63 dimension halves to 1 in 63).
  static let maxLevels = 64

  @OptionGroup(title: "Limits") var readLimits: ReadLimitOptions
  @OptionGroup(title: "Remote storage") var remote: RemoteOptions

  func run() throws {
    let output = try StoreLocation(paths.last!)
    _ = try LocationSchemes.handler(for: output)  // an unsupported scheme or archive is a usage error, before any work
    let inputs = Array(paths.dropLast())
    var options = ConvertOptions()
    options.version = version.forWriting
    options.method = method
    options.levels = levels
    options.xyOnly = xyOnly
    options.threads = threads ?? options.threads
    options.memoryLimit = memoryLimit.bytes
    options.overwrite = overwrite
    options.resume = resume
    options.name = name
    options.chunkShape = try chunks.map(Self.ints)
    options.shardShape = try shards.map(Self.ints)
    options.compressor = compressor.compressor(level: compressionLevel ?? level, shuffle: shuffle ?? .byte)
    if let part {
      // A part that cannot be taken from the arguments or the engine is a usage error.
      let p: ConvertPart
      do { p = try ConvertPart.parse(part, environment: ProcessInfo.processInfo.environment) } catch { throw ValidationError(error.description) }
      guard p.count <= Self.maxParts else { throw ValidationError("a conversion splits into at most \(Self.maxParts) parts, not \(p.count)") }
      options.stage = .part(p)
    }
    if finalize { options.stage = .finalize }
    let progress: ProgressBar? = quiet || json ? nil : ProgressBar()

    let sources = try InputSource.open(inputs, pattern: pattern, series: series)
    let labelSources: [(name: String, source: any PlaneSource)] = try labels.map { spec in
      guard let eq = spec.firstIndex(of: "="), !spec[..<eq].isEmpty else {
        throw ValidationError("--label takes NAME=PATH, not '\(spec)'")
      }
      return (String(spec[..<eq]), try InputSource.open([String(spec[spec.index(after: eq)...])], pattern: pattern, series: series)[0].source)
    }
    if plan {
      return try showPlan(sources: sources, labels: labelSources, options: options)
    }
    var summaries: [ConvertSummary] = []
    if sources.count == 1 {
      try applyMetadataOptions(to: &options, source: sources[0].source)
      summaries.append(try Converter.convert(sources[0].source, to: output, options: options, labels: labelSources, progress: progress))
    } else {
      // Several OME-TIFF images: a bioformats2raw-style collection, one image per series.
      summaries = try Converter.convertSeries(sources, to: output, options: options, imageOptions: { source in
        var o = options
        try applyMetadataOptions(to: &o, source: source)
        return o
      }, omeXML: (sources.first?.source as? TIFFSource)?.omeXML, progress: progress)
    }
    // Repairs of the input's metadata, always shown (also listed in the --json summary).
    for w in summaries.flatMap(\.warnings) {
      FileHandle.standardError.write(Data("warning: \(w)\n".utf8))
    }
    if json {
      let doc: JSONValue = summaries.count == 1 ? summaries[0].json : ["images": .array(summaries.map(\.json)), "output": .string(output.description)]
      print(doc.serialized())
    } else if !quiet {
      for s in summaries {
        if case .part(let p) = s.stage, s.resumed, s.bytesRead == 0 {
          print("\(s.output): part \(p) had already finished")
          continue
        }
        let stage = s.stage == .whole ? "" : " (\(s.stage))"
        let mbps = Double(s.bytesRead) / max(s.seconds, 1e-9) / 1e6
        print("\(s.output)\(stage): \(s.levels.count) levels \(s.levels.map { "\($0)" }.joined(separator: " "))"
          + " \(s.dataType), \(s.bytesWritten) bytes written in \(String(format: "%.2f", s.seconds)) s (\(String(format: "%.0f", mbps)) MB/s)")
      }
    }
  }

  /// `--plan`: the split into `--parts` parts, or without it a table of choices of N.
  func showPlan(sources: [InputSource], labels: [(name: String, source: any PlaneSource)], options: ConvertOptions) throws {
    var docs: [JSONValue] = []
    for input in sources {
      var o = options
      try applyMetadataOptions(to: &o, source: input.source)
      if let parts {
        let p = try Converter.plan(input.source, options: o, labels: labels, parts: parts)
        docs.append(p.json)
        if !json { print(Self.describe(p, name: sources.count > 1 ? input.name : paths[0], axes: input.source.description.axes)) }
        continue
      }
      // Choices: 1, 2, 4, ... parts while every part still has a block of its own.
      let one = try Converter.plan(input.source, options: o, labels: labels, parts: 1)
      let blocks = (try Converter.plan(input.source, options: o, labels: labels, parts: Self.maxParts)).parts.filter { !$0.spans.isEmpty }.count
      var rows: [SplitPlan] = [one]
      var n = 2
      while n <= min(blocks, 4096) {
        rows.append(try Converter.plan(input.source, options: o, labels: labels, parts: n))
        n *= 2
      }
      let total = one.parts[0].bytesRead
      docs.append(["choices": .array(rows.map { r in
        ["parts": .int(Int64(r.count)), "owned_levels": .int(Int64(r.ownedLevels)),
         "max_bytes_read": .int(Int64(r.parts.map(\.bytesRead).max() ?? 0)), "memory_per_part": .int(Int64(r.memoryPerPart)),
         "finalize_bytes_read": .int(Int64(r.finalizeBytesRead))]
      }), "most_parts": .int(Int64(blocks))])
      if !json {
        print("\(sources.count > 1 ? input.name : paths[0]): \(one.levels.count) levels, streamed along \(one.axis); "
          + "up to \(blocks) parts have work of their own (each part needs about \(Self.bytes(one.memoryPerPart)) of buffers)")
        print("parts  levels by parts  most read by a part  finalize reads  finalize share")
        for r in rows {
          let most = r.parts.map(\.bytesRead).max() ?? 0
          let share = total > 0 ? Double(r.finalizeBytesRead) / Double(total) * 100 : 0
          func pad(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }
          print([pad("\(r.count)", 5), pad("\(r.ownedLevels)", 15), pad(Self.bytes(most), 19), pad(Self.bytes(r.finalizeBytesRead), 14),
            pad(String(format: "%.1f%%", share), 14)].joined(separator: "  "))
        }
        print("show one with --plan --parts N")
      }
    }
    if json { print((docs.count == 1 ? docs[0] : ["images": .array(docs)]).serialized()) }
  }

  /// The text form of a plan: one line per part, then the finalize step.
  static func describe(_ plan: SplitPlan, name: String, axes: [Axis]) -> String {
    let axis = plan.axis
    let axisIndex = axes.firstIndex { $0.name == axis } ?? 0
    let outerShape = Array(plan.levels[0].prefix(axisIndex))
    /// `c=1 ` for the stream's outer index (nothing for a single stream).
    func stream(_ i: Int) -> String {
      var rest = i
      var out: [String] = []
      for d in outerShape.indices.reversed() {
        out.insert("\(axes[d].name)=\(rest % max(outerShape[d], 1))", at: 0)
        rest /= max(outerShape[d], 1)
      }
      return out.isEmpty ? "" : out.joined(separator: " ") + " "
    }
    func ranges(_ r: Range<Int>) -> String { "\(r.lowerBound)..<\(r.upperBound)" }
    var lines = ["\(name): \(plan.count) part\(plan.count == 1 ? "" : "s") along \(axis), blocks of \(plan.blockPlanes) planes; "
      + "levels 0-\(plan.ownedLevels - 1) by the parts"
      + (plan.ownedLevels < plan.levels.count ? ", \(plan.ownedLevels)-\(plan.levels.count - 1) by --finalize" : "")
      + "; about \(bytes(plan.memoryPerPart)) of buffers per part"]
    for p in plan.parts {
      guard !p.spans.isEmpty else {
        lines.append("  part \(p.index): nothing to do (more parts than blocks)")
        continue
      }
      let planes = p.spans.map { "\(stream($0.stream))\(axis) \(ranges($0.planes))" }.joined(separator: ", ")
      let shards = p.shards.enumerated().map { k, spans in
        "level \(k) " + spans.map { "\(stream($0.stream))\(ranges($0.shards))" }.joined(separator: ", ")
      }.joined(separator: "; ")
      let input = p.inputPlanes.map(\.planes) != p.spans.map(\.planes)
        ? " (reads \(p.inputPlanes.map { "\(stream($0.stream))\(axis) \(ranges($0.planes))" }.joined(separator: ", ")))" : ""
      lines.append("  part \(p.index): \(planes)\(input); reads \(bytes(p.bytesRead)), writes \(bytes(p.rawBytes)) before compression; "
        + "shards along \(axis): \(shards)")
    }
    if plan.ownedLevels < plan.levels.count {
      lines.append("  finalize: levels \(plan.ownedLevels)-\(plan.levels.count - 1) from level \(plan.ownedLevels - 1); "
        + "reads \(bytes(plan.finalizeBytesRead)), writes \(bytes(plan.finalizeRawBytes)) before compression")
    } else {
      lines.append("  finalize: channel windows and metadata only")
    }
    return lines.joined(separator: "\n")
  }

  /// `12.3 MiB`-style sizes.
  static func bytes(_ n: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
    var v = Double(n)
    var u = 0
    while v >= 1024, u < units.count - 1 {
      v /= 1024
      u += 1
    }
    return u == 0 ? "\(n) B" : String(format: "%.1f %@", v, units[u])
  }

  func applyMetadataOptions(to options: inout ConvertOptions, source: any PlaneSource) throws {
    let desc = source.description
    let n = desc.shape.count
    var axesList = desc.axes
    if let axes {
      let names = axes.contains(",") ? axes.split(separator: ",").map(String.init) : axes.map { String($0) }
      guard names.count == n else { throw ValidationError("--axes has \(names.count) names for \(n) dimensions (shape \(desc.shape))") }
      axesList = names.map { n in n == "c" ? .channel() : n == "t" ? .time() : .space(n, unit: nil) }
    }
    if let units {
      let list = units.split(separator: ",").map(String.init)
      for (i, a) in axesList.enumerated() where a.type == "space" || a.type == "time" {
        let u = list.count == 1 ? (a.type == "space" ? list[0] : nil) : (i < list.count ? list[i] : nil)
        if let u {
          guard let canonical = Units.canonical(u) else { throw ValidationError("unknown unit '\(u)' (use UDUNITS names such as micrometer)") }
          axesList[i].unit = canonical
        }
      }
    }
    if axes != nil || units != nil { options.axes = axesList }
    options.orientation = try orientation.map { try OrientationOption.resolve($0, axes: axesList) }
    options.scale = try scale.map(Self.doubles)
    if let bad = options.scale?.first(where: { !($0 > 0 && $0.isFinite) }) {
      throw ValidationError("--scale values must be finite positive numbers, not \(bad)")
    }
    options.translation = try translation.map(Self.doubles)
    if let bad = options.translation?.first(where: { !$0.isFinite }) {
      throw ValidationError("--translation values must be finite numbers, not \(bad)")
    }
    if channelNames != nil || channelColors != nil || channelWindows != nil {
      let names = channelNames?.split(separator: ",").map(String.init) ?? []
      let colors = channelColors?.split(separator: ",").map(String.init) ?? []
      let windows = try channelWindows?.split(separator: ",").map { w -> (Double, Double) in
        let p = w.split(separator: ":")
        guard p.count == 2, let a = Double(p[0]), let b = Double(p[1]), a.isFinite, b.isFinite else {
          throw ValidationError("channel windows are start:end with finite numbers")
        }
        return (a, b)
      } ?? []
      let count = max(names.count, colors.count, windows.count)
      options.channels = try (0..<count).map { i in
        var c = desc.channels?.indices.contains(i) == true ? desc.channels![i] : Omero.Channel(label: "Channel \(i)")
        if i < names.count { c.label = names[i] }
        if i < colors.count {
          guard colors[i].count == 6, colors[i].allSatisfy(\.isHexDigit) else {
            throw ValidationError("channel colors are 6 hexadecimal digits (RRGGBB), not '\(colors[i])'")
          }
          c.color = colors[i].uppercased()
        }
        if i < windows.count { c.window = .init(min: nil, max: nil, start: windows[i].0, end: windows[i].1) }
        return c
      }
    }
  }

  static func ints(_ s: String) throws -> [Int] {
    try s.split(separator: ",").map { p in
      guard let v = Int(p.trimmingCharacters(in: .whitespaces)), v > 0 else { throw ValidationError("'\(s)' is not a list of positive integers") }
      return v
    }
  }

  static func doubles(_ s: String) throws -> [Double] {
    try s.split(separator: ",").map { p in
      guard let v = Double(p.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("'\(s)' is not a list of numbers") }
      return v
    }
  }



}
