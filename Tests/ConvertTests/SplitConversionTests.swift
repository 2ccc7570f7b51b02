import Foundation
import OMEZarr
import TestSupport
import Testing
import ZarrIO
@testable import OMEZarrConvert

/// A conversion split into parts (`--part I/N`) and finalized equals a whole run, byte for byte.
@Suite("Split conversion")
struct SplitConversionTests {
  /// One configuration: the stack, the options and the number of parts.
  struct Case: Sendable, CustomStringConvertible {
    var planes: Int
    var height = 70
    var width = 90
    var chunks: [Int]
    var shards: [Int]
    var method: DownsamplingMethod = .mean
    var parts: Int
    var xyOnly = false
    var version: NGFFVersion = .latest05
    var labels = false
    /// The memory limit of the split runs (the whole run holds whole planes).
    var memoryLimit = 1 << 30
    var description: String {
      "\(planes)x\(height)x\(width) \(method) \(parts) parts\(xyOnly ? " xy-only" : "")\(labels ? " labels" : "") \(version)"
        + (memoryLimit < 1 << 30 ? " in bands (\(memoryLimit >> 10) KiB)" : "")
    }
  }

  static let cases: [Case] = [
    Case(planes: 40, chunks: [4, 32, 32], shards: [4, 64, 64], parts: 1),
    Case(planes: 40, chunks: [4, 32, 32], shards: [4, 64, 64], parts: 2),
    Case(planes: 40, chunks: [4, 32, 32], shards: [4, 64, 64], parts: 3),
    Case(planes: 41, chunks: [4, 32, 32], shards: [4, 64, 64], parts: 5),
    Case(planes: 40, chunks: [4, 32, 32], shards: [4, 64, 64], parts: 16),
    Case(planes: 37, chunks: [4, 32, 32], shards: [8, 64, 64], method: .gaussian, parts: 4),
    Case(planes: 40, chunks: [2, 16, 16], shards: [2, 32, 32], method: .gaussian, parts: 6),
    Case(planes: 30, chunks: [4, 32, 32], shards: [4, 64, 64], parts: 3, labels: true),
    Case(planes: 40, chunks: [4, 32, 32], shards: [4, 64, 64], parts: 4, xyOnly: true),
    Case(planes: 40, chunks: [4, 32, 32], shards: [4, 64, 64], parts: 3, version: .latest04),
    Case(planes: 1, height: 300, width: 90, chunks: [1, 32, 32], shards: [1, 64, 64], method: .gaussian, parts: 3),
    // Planes larger than the memory limit: bands of rows, in passes.
    Case(planes: 21, height: 600, width: 500, chunks: [4, 32, 32], shards: [4, 64, 64], parts: 1, memoryLimit: 1600 << 10),
    Case(planes: 21, height: 600, width: 500, chunks: [4, 32, 32], shards: [4, 64, 64], parts: 3, memoryLimit: 1600 << 10),
    Case(planes: 21, height: 600, width: 500, chunks: [4, 32, 32], shards: [4, 64, 64], method: .gaussian, parts: 3,
      memoryLimit: 1600 << 10),
  ]

  /// A TIFF stack for `c` (and a label stack when it has labels).
  static func inputs(_ c: Case) throws -> (image: String, labels: String?) {
    let dir = try Corpus.dir()
    let image = dir.appendingPathComponent("stack.tif").path
    try Corpus.write(image, try Corpus.planes(c.planes, c.height, c.width))
    guard c.labels else { return (image, nil) }
    let labels = dir.appendingPathComponent("labels.tif").path
    let planes = try Corpus.planes(c.planes, c.height, c.width, type: .uint8, seed: 3).map { p in
      try ArrayBuffer(shape: p.shape, dataType: .uint8, bytes: p.bytes.map { $0 % 5 })
    }
    try Corpus.write(labels, planes)
    return (image, labels)
  }

  static func options(_ c: Case, stage: ConvertStage = .whole) -> ConvertOptions {
    var o = ConvertOptions()
    o.threads = 2
    o.chunkShape = c.planes == 1 ? Array(c.chunks.dropFirst()) : c.chunks
    o.shardShape = c.planes == 1 ? Array(c.shards.dropFirst()) : c.shards
    o.method = c.method
    o.xyOnly = c.xyOnly
    o.version = c.version
    o.stage = stage
    if stage != .whole { o.memoryLimit = c.memoryLimit }
    return o
  }

  /// Runs one stage of `c` into `store`.
  @discardableResult
  static func run(_ c: Case, _ inputs: (image: String, labels: String?), stage: ConvertStage, into store: any Store) throws
    -> ConvertSummary
  {
    let labels: [(name: String, source: any PlaneSource)] = try inputs.labels.map { [("cells", try TIFFSource(path: $0))] } ?? []
    return try Converter.convert(try TIFFSource(path: inputs.image), into: store, named: "out", options: options(c, stage: stage),
      labels: labels)
  }

  @Test(arguments: cases)
  func partsInAnyOrderThenFinalizeEqualAWholeRun(_ c: Case) throws {
    let inputs = try Self.inputs(c)
    let whole = MemoryStore()
    try Self.run(c, inputs, stage: .whole, into: whole)
    let split = MemoryStore()
    var generator = SplitMix64(seed: UInt64(c.parts))
    for i in (0..<c.parts).shuffled(using: &generator) {
      let s = try Self.run(c, inputs, stage: .part(try ConvertPart(index: i, count: c.parts)), into: split)
      #expect(s.stage == .part(try ConvertPart(index: i, count: c.parts)) && !s.resumed)
      #expect(try OMENode.open(in: split).kind != .image, "no part makes the output look complete")
    }
    let summary = try Self.run(c, inputs, stage: .finalize, into: split)
    #expect(summary.stage == .finalize && summary.bytesWritten == whole.snapshot.values.reduce(0) { $0 + $1.count })
    #expect(differingKeys(split.snapshot, whole.snapshot) == [])
  }

  @Test func aWholeRunInBandsEqualsOneHoldingWholePlanes() throws {
    for method in [DownsamplingMethod.mean, .gaussian] {
      let c = Case(planes: 13, height: 600, width: 500, chunks: [4, 32, 32], shards: [4, 64, 64], method: method, parts: 1)
      let inputs = try Self.inputs(c)
      let whole = MemoryStore(), banded = MemoryStore()
      try Self.run(c, inputs, stage: .whole, into: whole)
      var o = Self.options(c)
      o.memoryLimit = 1600 << 10
      let job = try Converter.imageJobs(try TIFFSource(path: inputs.image), description: try TIFFSource(path: inputs.image).description,
        labels: [], options: o)[0]
      let passes = try Converter.passes(job, levels: 0..<job.layout.plan.count)
      #expect(passes.count > 1 && passes[0].bandRows < 600, "\(method): bands, in several passes: \(passes)")
      try Converter.convert(try TIFFSource(path: inputs.image), into: banded, named: "out", options: o)
      #expect(differingKeys(banded.snapshot, whole.snapshot) == [], "\(method)")
    }
  }

  @Test(arguments: [DownsamplingMethod.mean, .gaussian])
  func channelsSplitLikeTheWholeRun(_ method: DownsamplingMethod) throws {
    // A c, z, y, x Zarr input: parts take blocks of every channel's stream.
    let dir = try Corpus.dir().appendingPathComponent("czyx.zarr").path
    let input = try ZarrArray.create(in: try FilesystemStore(root: dir, create: true), path: "",
      metadata: ArrayMetadata(shape: [3, 20, 70, 90], dataType: .uint16, chunkShape: [1, 20, 70, 90],
        dimensionNames: ["c", "z", "y", "x"]))
    let planes = try Corpus.planes(60, 70, 90)
    try input.write(try ArrayBuffer(shape: [3, 20, 70, 90], dataType: .uint16, bytes: planes.flatMap(\.bytes)))
    var o = ConvertOptions()
    o.threads = 2
    o.chunkShape = [1, 4, 32, 32]
    o.shardShape = [1, 4, 64, 64]
    o.method = method
    let whole = MemoryStore(), split = MemoryStore()
    try Converter.convert(try ZarrSource(path: dir), into: whole, named: "out", options: o)
    for i in [4, 1, 6, 0, 3, 5, 2] {
      o.stage = .part(try ConvertPart(index: i, count: 7))
      try Converter.convert(try ZarrSource(path: dir), into: split, named: "out", options: o)
    }
    o.stage = .finalize
    try Converter.convert(try ZarrSource(path: dir), into: split, named: "out", options: o)
    #expect(try OMENode.open(in: split).image()?.levels.first?.shape == [3, 20, 70, 90])
    #expect(differingKeys(split.snapshot, whole.snapshot) == [])
  }

  static let standard = Case(planes: 40, chunks: [4, 32, 32], shards: [4, 64, 64], parts: 4)

  @Test func finalizeRefusesNamingTheMissingPartsAndLosesNothing() throws {
    let c = Self.standard
    let inputs = try Self.inputs(c)
    let store = MemoryStore()
    for i in [0, 2] { try Self.run(c, inputs, stage: .part(try ConvertPart(index: i, count: 4)), into: store) }
    let before = store.snapshot
    #expect {
      try Self.run(c, inputs, stage: .finalize, into: store)
    } throws: {
      ($0 as? ConvertError)?.code == .incomplete && ($0 as? ConvertError)?.message
        == "2 of 4 parts of 'out' have not finished: parts 1, 3; run them (--part 1/4 ...) before --finalize"
    }
    #expect(differingKeys(store.snapshot, before) == [])
    // With nothing split there, finalize says so.
    #expect {
      try Self.run(c, inputs, stage: .finalize, into: MemoryStore())
    } throws: {
      ($0 as? ConvertError)?.message == "'out' holds no split conversion to finalize; run its parts (--part I/N) first"
    }
  }

  @Test func aPartFailingMidwayAndRunAgainGivesTheSameResult() throws {
    let c = Self.standard
    let inputs = try Self.inputs(c)
    let whole = MemoryStore()
    try Self.run(c, inputs, stage: .whole, into: whole)
    let base = MemoryStore()
    // Part 1 dies at its 6th write (a few shards stored), then runs again.
    #expect(throws: ZarrError.self) {
      try Self.run(c, inputs, stage: .part(try ConvertPart(index: 1, count: 4)), into: FaultyStore(base, failingWrite: 6))
    }
    #expect(base.snapshot[".ome2zarr-parts/1-of-4.json"] == nil && base.snapshot[".ome2zarr-parts/1-of-4.started"] != nil)
    let again = try Self.run(c, inputs, stage: .part(try ConvertPart(index: 1, count: 4)), into: base)
    #expect(again.resumed, "a part run again knows it started before")
    for i in [3, 0, 2] { try Self.run(c, inputs, stage: .part(try ConvertPart(index: i, count: 4)), into: base) }
    // The parts spilled the first level they do not own, for finalize to start from.
    #expect(base.snapshot.keys.contains(".ome2zarr-parts/spill/image/zarr.json"))
    // A finished part run again does nothing.
    let done = try Self.run(c, inputs, stage: .part(try ConvertPart(index: 2, count: 4)), into: base)
    #expect(done.resumed && done.bytesRead == 0 && done.bytesWritten == 0)
    try Self.run(c, inputs, stage: .finalize, into: base)
    #expect(differingKeys(base.snapshot, whole.snapshot) == [])
    // Finalizing again changes nothing.
    let second = try Self.run(c, inputs, stage: .finalize, into: base)
    #expect(second.resumed && differingKeys(base.snapshot, whole.snapshot) == [])
  }

  @Test func partsOfAnotherSplitOrOtherOptionsAreRefused() throws {
    let c = Self.standard
    let inputs = try Self.inputs(c)
    let store = MemoryStore()
    try Self.run(c, inputs, stage: .part(try ConvertPart(index: 0, count: 4)), into: store)
    #expect {
      try Self.run(c, inputs, stage: .part(try ConvertPart(index: 1, count: 3)), into: store)
    } throws: {
      ($0 as? ConvertError)?.message == "the conversion in 'out' (split into 4 parts) used other inputs or options (parts differ); "
        + "give the same ones, or delete the output to start again"
    }
    var other = c
    other.method = .gaussian
    #expect {
      try Self.run(other, inputs, stage: .part(try ConvertPart(index: 1, count: 4)), into: store)
    } throws: { ($0 as? ConvertError)?.message.contains("(method differ)") == true }
    // A complete image is never written into by a part.
    let complete = MemoryStore()
    try Self.run(c, inputs, stage: .whole, into: complete)
    #expect {
      try Self.run(c, inputs, stage: .part(try ConvertPart(index: 0, count: 4)), into: complete)
    } throws: { ($0 as? ConvertError)?.message == "'out' is already a complete image; delete it to convert again" }
  }

  @Test func thePlanDealsEveryShardOfTheOwnedLevelsToExactlyOnePart() throws {
    let c = Case(planes: 100, chunks: [4, 32, 32], shards: [8, 64, 64], parts: 5)
    let inputs = try Self.inputs(c)
    let plan = try Converter.plan(try TIFFSource(path: inputs.image), options: Self.options(c), parts: 5)
    #expect(plan.count == 5 && plan.axis == "z" && plan.levels.first == [100, 70, 90])
    #expect(plan.ownedLevels == 2 && plan.blockPlanes == 16)
    for level in 0..<plan.ownedLevels {
      let shards = plan.parts.flatMap { $0.shards[level].flatMap { Array($0.shards) } }
      let count = (plan.levels[level][0] + 7) / 8
      #expect(shards == Array(0..<count), "level \(level): every shard once, in order")
    }
    #expect(plan.parts.map { $0.spans.map(\.planes) } == [[0..<16], [16..<32], [32..<64], [64..<80], [80..<100]])
    #expect(plan.parts.map(\.bytesRead) == [16, 16, 32, 16, 20].map { $0 * 70 * 90 * 2 })
    #expect(plan.json["tasks"]?.arrayValue?.count == 5 && plan.json["owned_levels"]?.intValue == 2)
  }
}
