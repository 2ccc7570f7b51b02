import Dispatch
import Foundation
import OMEZarr
import ZarrIO

/// What one run of `convert` does: the whole conversion, or one stage of a conversion split into
/// parts that batch engines run as array tasks.
public enum ConvertStage: Sendable, Hashable, CustomStringConvertible {
  /// The whole conversion in one run.
  case whole
  /// One part of a split conversion: its shards of the levels the parts own (``PartPlan``).
  case part(ConvertPart)
  /// The step after all parts: the coarse levels no part owns, the channel windows, the metadata.
  case finalize

  /// `whole`, `part I/N` or `finalize`.
  public var description: String {
    switch self {
    case .whole: "whole"
    case .part(let p): "part \(p)"
    case .finalize: "finalize"
    }
  }
}

/// How a conversion splits into parts, for `convert --plan`: what each part reads and writes.
public struct SplitPlan: Sendable {
  /// One part: its runs of level-0 planes, the shards it writes, what it reads.
  public struct Part: Sendable {
    /// The part's number, from 0.
    public var index: Int
    /// Per span: the stream (row-major index over the axes before the streaming axis) and its level-0 planes.
    public var spans: [PartPlan.Span]
    /// Per owned level, per span: the shards along the streaming axis it writes.
    public var shards: [[(stream: Int, shards: Range<Int>)]]
    /// Per span: the level-0 planes it reads (its own and the context its kernels need).
    public var inputPlanes: [(stream: Int, planes: Range<Int>)]
    /// Bytes read from the inputs (label images included).
    public var bytesRead: Int
    /// Uncompressed bytes of the shards it writes (label images included).
    public var rawBytes: Int
  }

  /// The number of parts.
  public var count: Int
  /// The streaming axis (its name).
  public var axis: String
  /// The shape of each level, level 0 first.
  public var levels: [[Int]]
  /// Levels `0 ..< ownedLevels` are written by the parts, the others by `--finalize`.
  public var ownedLevels: Int
  /// Level-0 planes per block (the unit dealt out to the parts).
  public var blockPlanes: Int
  /// Buffer memory a part needs: the same as a single run's.
  public var memoryPerPart: Int
  /// The parts.
  public var parts: [Part]
  /// Bytes `--finalize` reads (the last owned level) and the uncompressed bytes it writes.
  public var finalizeBytesRead: Int
  /// Uncompressed bytes of the levels `--finalize` writes.
  public var finalizeRawBytes: Int

  /// The plan as JSON (snake_case keys; plane and shard ranges as `[start, end)` pairs).
  public var json: JSONValue {
    func range(_ r: Range<Int>) -> JSONValue { [.int(Int64(r.lowerBound)), .int(Int64(r.upperBound))] }
    return [
      "parts": .int(Int64(count)), "axis": .string(axis), "levels": .array(levels.map { .array($0.map { .int(Int64($0)) }) }),
      "owned_levels": .int(Int64(ownedLevels)), "block_planes": .int(Int64(blockPlanes)),
      "memory_per_part": .int(Int64(memoryPerPart)),
      "finalize": ["levels": .array((ownedLevels..<levels.count).map { .int(Int64($0)) }),
        "bytes_read": .int(Int64(finalizeBytesRead)), "raw_bytes": .int(Int64(finalizeRawBytes))],
      "tasks": .array(parts.map { p in
        [
          "part": .int(Int64(p.index)),
          "planes": .array(p.spans.map { ["stream": .int(Int64($0.stream)), "planes": range($0.planes)] }),
          "input_planes": .array(p.inputPlanes.map { ["stream": .int(Int64($0.stream)), "planes": range($0.planes)] }),
          "shards": .array(p.shards.enumerated().map { level, spans in
            ["level": .int(Int64(level)), "ranges": .array(spans.map { ["stream": .int(Int64($0.stream)), "shards": range($0.shards)] })]
          }),
          "bytes_read": .int(Int64(p.bytesRead)), "raw_bytes": .int(Int64(p.rawBytes)),
        ]
      }),
    ]
  }
}

extension ConvertError.Code {
  /// A split conversion cannot be finalized: parts have not finished.
  public static let incomplete = ConvertError.Code("incomplete")
}

extension Converter {
  /// Where the parts of a split conversion record that they started and finished.
  static let partsPrefix = ".ome2zarr-parts"

  /// The name of the marker a finished part leaves (in ``partsPrefix``).
  static func doneName(_ index: Int, of count: Int) -> String { "\(index)-of-\(count).json" }

  /// The marker a finished part leaves.
  static func doneKey(_ index: Int, of count: Int) -> String { joinKey(partsPrefix, doneName(index, of: count)) }

  /// The marker a part leaves when it starts (a re-run then skips the shards already stored).
  static func startedKey(_ index: Int, of count: Int) -> String { joinKey(partsPrefix, "\(index)-of-\(count).started") }

  /// The split of one image of the conversion into `count` parts.
  static func partPlan(_ job: ImageJob, count: Int) throws -> PartPlan {
    let axis = job.layout.slabAxis
    let shapes = job.layout.plan.shapes
    let shards = shapes.map { levelMetadata(job, shape: $0).chunkShape }
    // Streams (t, c, ...) are parts' units only when no shard spans two of them.
    if let d = (0..<axis).first(where: { shards[0][$0] > 1 && job.desc.shape[$0] > 1 }) {
      throw ConvertError(.invalidArgument,
        "a split conversion needs shards 1 deep along the axes before '\(job.desc.axes[axis].name)'; "
          + "the shard shape \(shards[0]) is \(shards[0][d]) deep along '\(job.desc.axes[d].name)'")
    }
    return try PartPlan(levelShapes: shapes, factors: job.layout.plan.factors, shardShapes: shards, axis: axis, parts: count,
      context: job.options.method == .gaussian ? 1 : 0)
  }

  /// The levels the parts write: those of the plan, but for the gaussian only those of the first
  /// pass (a later pass would need context planes that other parts write).
  static func partLevels(_ job: ImageJob, _ plan: PartPlan) throws -> Int {
    guard job.options.method == .gaussian else { return plan.ownedLevels }
    return try passes(job, levels: 0..<plan.ownedLevels).first?.levels.upperBound ?? plan.ownedLevels
  }

  /// The run parameters of a split conversion: a whole run's, and the number of parts.
  static func splitMarker(_ desc: SourceDescription, options: ConvertOptions, count: Int) throws -> JSONValue {
    var o = try runParameters(desc, options: options).objectValue ?? [:]
    o["parts"] = .int(Int64(count))
    return .object(o)
  }

  /// Checks that `existing` run parameters are `marker`'s, naming what differs.
  static func checkSameRun(_ existing: JSONValue?, _ marker: JSONValue, output: String) throws {
    guard let existing else {
      throw ConvertError(.outputExists, "the conversion marker of '\(output)' vanished while this part started (finalized meanwhile?)")
    }
    guard existing != marker else { return }
    let keys = Set((marker.objectValue?.map(\.0) ?? []) + (existing.objectValue?.map(\.0) ?? [])).sorted()
    let differing = keys.filter { existing[$0] != marker[$0] }
    let parts = existing["parts"]?.intValue.map { "split into \($0) parts" } ?? "not split (a whole conversion)"
    throw ConvertError(.outputExists,
      "the conversion in '\(output)' (\(parts)) used other inputs or options (\(differing.joined(separator: ", ")) differ); "
        + "give the same ones, or delete the output to start again")
  }

  /// Claims `store` for a split conversion: creates its marker, or finds an identical one another
  /// part created. A complete image or any other node there is refused.
  static func claimSplit(store: any Store, marker: JSONValue, output: String) throws {
    func existing() throws -> JSONValue? { try store.get(markerKey).map { try JSONValue.parse($0) } }
    if let found = try existing() { return try checkSameRun(found, marker, output: output) }
    // Parts create the marker before any node: a node without one is not this conversion's.
    if try NodeKind.detect(store, "") != nil {
      if let found = try existing() { return try checkSameRun(found, marker, output: output) }
      let complete = (try? OMENode.open(in: store))?.kind == .image
      throw ConvertError(.outputExists,
        complete
          ? "'\(output)' is already a complete image; delete it to convert again"
          : "'\(output)' already exists and is not a split conversion of these inputs; delete it or choose another output")
    }
    if try !store.create(markerKey, marker.serializedBytes()) {
      try checkSameRun(try existing(), marker, output: output)
    }
  }

  /// Writes the metadata documents of every group and level array exactly as a whole run creates
  /// them, each only where none is; an existing one must be the same.
  static func createSharedMetadata(jobs: [ImageJob], store: any Store, output: String) throws {
    try createShared(in: store, output: output) { memory in
      for job in jobs { _ = try createLevels(job, in: memory, resume: false) }
    }
  }

  /// Writes the documents `make` writes into an empty memory store to `store`, each only where none
  /// is; an existing one must be the same (parts running at once write identical metadata).
  /// Only keys below `under` are written, when given.
  static func createShared(in store: any Store, output: String, under: String? = nil, _ make: (MemoryStore) throws -> Void) throws {
    let memory = MemoryStore()
    try make(memory)
    for key in try memory.list(prefix: "").sorted() where under.map({ key.hasPrefix($0 + "/") }) ?? true {
      guard let value = try memory.get(key), try !store.create(key, value) else { continue }
      guard try store.get(key) == value else {
        throw ConvertError(.outputExists, "'\(output)' holds other metadata at '\(key)' than this conversion writes")
      }
    }
  }

  /// Opens the level arrays of an image the parts created.
  static func openLevels(_ job: ImageJob, in store: any Store) throws -> [ZarrArray] {
    try job.layout.plan.shapes.indices.map { i in
      var a = try ZarrArray.open(in: store, path: joinKey(job.path, String(i)))
      a.concurrency = job.options.threads
      return a
    }
  }

  /// The level the parts *spill*: the first level they do not own, which they still compute for their
  /// blocks and store in a temporary array, so that `--finalize` starts from it instead of decoding
  /// the last owned level. Only for block kernels (gaussian outputs need the neighbours' planes), one
  /// pass of whole planes, and blocks that map to whole planes of that level.
  static func spillLevel(_ job: ImageJob, plan: PartPlan, passes: [Pass]) -> Int? {
    let shapes = job.layout.plan.shapes
    let axis = job.layout.slabAxis
    let n = job.desc.shape.count
    guard let k = passes.last?.levels.upperBound, k >= 1, k < shapes.count, job.options.method != .gaussian, passes.count == 1,
      axis == n - 2 || passes[0].bandRows >= shapes[0][n - 2]
    else { return nil }
    return plan.blockPlanes % planesPerPlane(job, level: k) == 0 ? k : nil
  }

  /// Where the parts spill an image's level (under ``partsPrefix``, removed by `--finalize`).
  static func spillPath(_ job: ImageJob) -> String {
    joinKey(joinKey(partsPrefix, "spill"), job.path.isEmpty ? "image" : job.path)
  }

  /// The spill array of level `k`: chunks of a block's planes (whole y and x shards of the level),
  /// compressed fast.
  static func spillMetadata(_ job: ImageJob, plan: PartPlan, level k: Int) -> ArrayMetadata {
    let axis = job.layout.slabAxis
    let shape = job.layout.plan.shapes[k]
    let below = planesPerPlane(job, level: k)
    let shard = levelMetadata(job, shape: shape).chunkShape
    let chunk = shape.indices.map { d in d < axis ? 1 : d == axis ? max(1, plan.blockPlanes / below) : shard[d] }
    let dataType = job.desc.dataType
    return ArrayMetadata(shape: shape, dataType: dataType, chunkShape: chunk,
      codecs: [Codecs.bytes(endian: dataType.hasEndianness ? .little : nil)]
        + Compressor.blosc(cname: "lz4", clevel: 1, shuffle: .shuffle).codecs(for: dataType))
  }

  /// Bytes of one level-0 plane along the streaming axis (everything after it).
  static func planeBytes(_ job: ImageJob) -> Int {
    job.desc.shape[(job.layout.slabAxis + 1)...].reduce(job.desc.dataType.size, *)
  }

  /// Runs one part: its shards of the levels the parts own, for the image and every label image,
  /// then its marker. A part already finished returns at once; one re-run after a failure skips the
  /// shards already stored (each stored whole or not at all).
  static func convertPart(
    _ part: ConvertPart, jobs: [ImageJob], store: any Store, output: String, options: ConvertOptions,
    warnings: [ConvertWarning], progress: (any ConvertProgress)?, started: UInt64
  ) throws -> ConvertSummary {
    let desc = jobs[0].desc
    let plans = try jobs.map { try partPlan($0, count: part.count) }
    var work: [(job: ImageJob, plan: PartPlan, passes: [Pass])] = []
    var bytesRead = 0
    for (job, plan) in zip(jobs, plans) {
      let passes = try passes(job, levels: 0..<partLevels(job, plan))
      for (span, input) in zip(plan.parts[part.index], plan.inputPlanes(of: part.index)) {
        bytesRead += Self.bytesRead(passes, job, span: span.planes, input: input.planes)
      }
      work.append((job, plan, passes))
    }
    func summary(read: Int, written: Int, resumed: Bool) -> ConvertSummary {
      var s = ConvertSummary(input: desc.files, output: output, levels: jobs[0].layout.plan.shapes, dataType: desc.dataType,
        bytesRead: read, bytesWritten: written, seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9,
        labels: jobs.compactMap(\.labelName), resumed: resumed, warnings: warnings)
      s.stage = .part(part)
      return s
    }
    try claimSplit(store: store, marker: try splitMarker(desc, options: options, count: part.count), output: output)
    let done = doneKey(part.index, of: part.count)
    if try store.exists(done) { return summary(read: 0, written: 0, resumed: true) }
    let rerun = try !store.create(startedKey(part.index, of: part.count), [])
    try createSharedMetadata(jobs: jobs, store: store, output: output)

    progress?.start(totalBytes: bytesRead, label: "\(String(output.split(separator: "/").last ?? "")) part \(part)")
    var shardKeys: [String] = []
    for (job, plan, passes) in work {
      let owned = passes.last?.levels.upperBound ?? 0
      let arrays = try openLevels(job, in: store).map { a in
        var a = a
        a.skipStoredChunks = rerun
        return a
      }
      let outers = streams(of: job)
      let spans = Array(zip(plan.parts[part.index], plan.inputPlanes(of: part.index)))
      // The first level not owned goes to the spill array, for --finalize to start from.
      var levels = arrays, partPasses = passes
      if let k = spillLevel(job, plan: plan, passes: passes) {
        let path = spillPath(job)
        try createShared(in: store, output: output, under: partsPrefix) { memory in
          _ = try ZarrArray.create(in: memory, path: path, metadata: spillMetadata(job, plan: plan, level: k))
        }
        var spill = try ZarrArray.open(in: store, path: path)
        spill.skipStoredChunks = rerun
        spill.concurrency = job.options.threads
        levels = Array(arrays.prefix(k)) + [spill]
        partPasses[partPasses.count - 1].levels = partPasses[partPasses.count - 1].levels.lowerBound..<(k + 1)
      }
      for pass in partPasses {
        for (span, input) in spans {
          try run(pass, job, arrays: levels, span: span.planes, start: input.planes.lowerBound, end: input.planes.upperBound,
            outer: outers[span.stream], progress: progress)
        }
      }
      for (k, array) in arrays.prefix(owned).enumerated() {
        for (stream, shards) in plan.shards(of: part.index, level: k) {
          shardKeys += shardCoordinates(array, axis: job.layout.slabAxis, outer: outers[stream], shards: shards)
            .map { array.chunkKey($0) }
        }
      }
    }
    let keys = shardKeys
    let sizes = ResultSlots<Int>(count: keys.count)
    try Parallel.forEach(keys.count, width: Parallel.ioWidth(store, cores: options.threads)) { i in
      sizes.set(i, try store.size(of: keys[i]) ?? 0)
    }
    let written = sizes.values.reduce(0) { $0 + ($1 ?? 0) }
    let record: JSONValue = [
      "part": .int(Int64(part.index)), "parts": .int(Int64(part.count)), "bytes_read": .int(Int64(bytesRead)),
      "bytes_written": .int(Int64(written)), "seconds": .double(Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9),
      "rerun": .bool(rerun),
    ]
    try store.set(done, record.serializedBytes())
    progress?.finish()
    return summary(read: bytesRead, written: written, resumed: rerun)
  }

  /// The grid coordinates of the shards of `array` at outer index `outer` whose index along `axis`
  /// is in `shards`.
  static func shardCoordinates(_ array: ZarrArray, axis: Int, outer: [Int], shards: Range<Int>) -> [[Int]] {
    let grid = zip(array.shape, array.chunkShape).map { ($0 + $1 - 1) / $1 }
    var cell = [Int](repeating: 1, count: grid.count)
    var shape = grid
    for d in 0..<axis { shape[d] = 1 }
    shape[axis] = shards.count
    cell[axis] = 1
    return gridBoxes(shape: shape, cell: cell).map { box in
      box.enumerated().map { d, r in d < axis ? outer[d] / array.chunkShape[d] : d == axis ? shards.lowerBound + r.lowerBound : r.lowerBound }
    }
  }

  /// The finalize step: checks every part finished, builds the levels no part owns from the last
  /// level the parts wrote, computes the channel windows, and writes the metadata last. The result
  /// is the same, byte for byte, as a whole run's. Finalizing a finished conversion again only
  /// removes what its parts left.
  static func finalize(
    jobs: [ImageJob], store: any Store, output: String, options: ConvertOptions, warnings: [ConvertWarning],
    progress: (any ConvertProgress)?, started: UInt64
  ) throws -> ConvertSummary {
    let desc = jobs[0].desc
    func summary(read: Int, resumed: Bool) throws -> ConvertSummary {
      var s = ConvertSummary(input: desc.files, output: output, levels: jobs[0].layout.plan.shapes, dataType: desc.dataType,
        bytesRead: read, bytesWritten: try store.storedBytes(under: ""),
        seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9, labels: jobs.compactMap(\.labelName),
        resumed: resumed, warnings: warnings)
      s.stage = .finalize
      return s
    }
    guard let bytes = try store.get(markerKey) else {
      if (try? OMENode.open(in: store))?.kind == .image {
        try store.deletePrefix(partsPrefix)
        return try summary(read: 0, resumed: true)
      }
      throw ConvertError(.incomplete, "'\(output)' holds no split conversion to finalize; run its parts (--part I/N) first")
    }
    let existing = try JSONValue.parse(bytes)
    guard let count = existing["parts"]?.intValue, count >= 1 else {
      throw ConvertError(.invalidArgument, "'\(output)' holds an interrupted whole conversion, not a split one; finish it with --resume")
    }
    try checkSameRun(existing, try splitMarker(desc, options: options, count: count), output: output)
    let finished = Set(try store.listDirectory(partsPrefix).keys)
    let missing = (0..<count).filter { !finished.contains(doneName($0, of: count)) }
    guard missing.isEmpty else {
      let shown = missing.prefix(20).map(String.init).joined(separator: ", ") + (missing.count > 20 ? ", ..." : "")
      throw ConvertError(.incomplete,
        "\(missing.count) of \(count) parts of '\(output)' have not finished: part\(missing.count == 1 ? "" : "s") \(shown); "
          + "run \(missing.count == 1 ? "it" : "them") (--part \(missing[0])/\(count) ...) before --finalize")
    }
    // Every part is done: what interrupted attempts left half-written can go.
    try store.deleteTemporaryObjects(under: "")
    var work: [(job: ImageJob, passes: [Pass], spill: ZarrArray?)] = []
    var bytesRead = 0
    for job in jobs {
      let plan = try partPlan(job, count: count)
      let owned = try partLevels(job, plan)
      let extent = job.desc.shape[job.layout.slabAxis]
      if let k = spillLevel(job, plan: plan, passes: try passes(job, levels: 0..<owned)) {
        // One pass from the parts' spill of level k.
        let spill = try ZarrArray.open(in: store, path: spillPath(job))
        let shape = job.layout.plan.shapes[k]
        bytesRead += shape.reduce(job.desc.dataType.size, *)
        work.append((job, [Pass(levels: k..<job.layout.plan.count, bandRows: shape[max(shape.count - 2, 0)], margin: 0)], spill))
        continue
      }
      let passes = try passes(job, levels: owned..<job.layout.plan.count)
      bytesRead += streams(of: job).count * Self.bytesRead(passes, job, span: 0..<extent, input: 0..<extent)
      work.append((job, passes, nil))
    }
    progress?.start(totalBytes: bytesRead, label: "\(String(output.split(separator: "/").last ?? "")) finalize")
    var metadata: [OMEAttributes] = []
    for (job, passes, spill) in work {
      let arrays = try openLevels(job, in: store)
      let extent = job.desc.shape[job.layout.slabAxis]
      for pass in passes {
        for outer in streams(of: job) {
          try run(pass, job, arrays: arrays, span: 0..<extent, outer: outer, input: spill, progress: progress)
        }
      }
      metadata.append(try imageMetadata(job, arrays: arrays))
    }
    try writeMetadata(jobs: jobs, metadata: metadata, store: store)
    try store.deletePrefix(partsPrefix)
    progress?.finish()
    return try summary(read: bytesRead, resumed: false)
  }

  /// How the conversion of `source` (and `labels`) with `options` splits into `parts` parts.
  public static func plan(
    _ source: any PlaneSource, options: ConvertOptions, labels: [(name: String, source: any PlaneSource)] = [], parts: Int
  ) throws -> SplitPlan {
    var desc = source.description
    try apply(options, to: &desc)
    try desc.check(file: desc.files.first)
    _ = repair(&desc)
    _ = try checkMetadata(&desc, options: options)
    let jobs = try imageJobs(source, description: desc, labels: labels, options: options)
    let plans = try jobs.map { try partPlan($0, count: parts) }
    let main = jobs[0], plan = plans[0]
    let axis = main.layout.slabAxis
    /// Uncompressed bytes of the planes `range` of level `k` of `job` in one stream.
    func levelBytes(_ job: ImageJob, _ k: Int, planes: Int) -> Int {
      job.layout.plan.shapes[k][(axis + 1)...].reduce(job.desc.dataType.size * planes, *)
    }
    let owned = try zip(jobs, plans).map { try partLevels($0, $1) }
    let partPasses = try jobs.indices.map { try passes(jobs[$0], levels: 0..<owned[$0]) }
    var list: [SplitPlan.Part] = []
    for p in 0..<parts {
      var read = 0, raw = 0
      for (i, (job, plan)) in zip(jobs, plans).enumerated() {
        let passes = partPasses[i]
        for (span, input) in zip(plan.parts[p], plan.inputPlanes(of: p)) {
          read += bytesRead(passes, job, span: span.planes, input: input.planes)
          for k in 0..<owned[i] { raw += levelBytes(job, k, planes: levelPlanes(job, span: span.planes, level: k).count) }
        }
      }
      list.append(SplitPlan.Part(index: p, spans: plan.parts[p], shards: (0..<owned[0]).map { plan.shards(of: p, level: $0) },
        inputPlanes: plan.inputPlanes(of: p), bytesRead: read, rawBytes: raw))
    }
    var finalizeRead = 0, finalizeRaw = 0
    for (i, job) in jobs.enumerated() where owned[i] < job.layout.plan.count {
      let streams = job.desc.shape[..<axis].reduce(1, *)
      let extent = job.desc.shape[axis]
      if let k = spillLevel(job, plan: plans[i], passes: partPasses[i]) {
        // Finalize starts from the parts' spill of level k.
        finalizeRead += job.layout.plan.shapes[k].reduce(job.desc.dataType.size, *)
      } else {
        finalizeRead += streams * bytesRead(try passes(job, levels: owned[i]..<job.layout.plan.count), job, span: 0..<extent,
          input: 0..<extent)
      }
      for k in owned[i]..<job.layout.plan.count {
        finalizeRaw += levelBytes(job, k, planes: job.layout.plan.shapes[k][axis]) * streams
      }
    }
    // A part buffers what a single run does: about three slabs a shard deep (see ``layout``).
    let slab = main.desc.shape.indices.reduce(main.desc.dataType.size) { acc, d in
      acc * (d < axis ? 1 : d == axis ? min(main.layout.shard[d], main.desc.shape[d]) : main.desc.shape[d])
    }
    return SplitPlan(count: parts, axis: main.desc.axes[axis].name, levels: main.layout.plan.shapes, ownedLevels: owned[0],
      blockPlanes: plan.blockPlanes, memoryPerPart: min(3 * slab, options.memoryLimit), parts: list, finalizeBytesRead: finalizeRead,
      finalizeRawBytes: finalizeRaw)
  }
}
