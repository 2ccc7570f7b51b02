import OMEZarr
import ZarrIO

extension Converter {
  /// One pass over an image: levels built in one streaming sweep, from the input (when they start
  /// at level 0) or from the stored level before them, band by band when a whole plane of the level
  /// read does not fit the memory limit.
  struct Pass: Equatable {
    /// The levels written.
    var levels: Range<Int>
    /// Rows (y) of the level read per band: multiples of every written level's shard rows, so
    /// that no two bands write one shard (the whole height when a plane fits).
    var bandRows: Int
    /// Rows of context read on each side of a band (the gaussian kernel's, over the levels built).
    var margin: Int

    /// The level read: the input's level 0, or the stored level before the first written.
    var source: Int { max(levels.lowerBound - 1, 0) }
    /// Whether the pass reads the input (else a stored level).
    var readsInput: Bool { levels.lowerBound == 0 }
  }

  /// The passes that build `levels` of `job`: one when a whole plane of level 0 fits (every image
  /// that fitted before bands existed), else as many levels per pass as a band of whole shard rows
  /// allows, each later pass reading the stored level the one before wrote.
  static func passes(_ job: ImageJob, levels: Range<Int>) throws -> [Pass] {
    let shapes = job.layout.plan.shapes
    let factors = job.layout.plan.factors
    let axis = job.layout.slabAxis
    let n = job.desc.shape.count
    guard !levels.isEmpty else { return [] }
    guard axis < n - 2 else { return [Pass(levels: levels, bandRows: shapes[0][n - 2], margin: 0)] }
    let y = n - 2
    let limit = job.options.memoryLimit
    let shardRows = shapes.map { levelMetadata(job, shape: $0).chunkShape[y] }
    var out: [Pass] = []
    var first = levels.lowerBound
    while first < levels.upperBound {
      let source = max(first - 1, 0)
      let shape = shapes[source]
      let depth = min(levelMetadata(job, shape: shape).chunkShape[axis], shape[axis])
      // Three slabs' worth: the band read, the levels' pending bands, the shards being encoded; five
      // when slabs are thinner than the next level's factor along z (the carried planes, and their
      // concatenation with the next slab).
      // (A plane that fits keeps the single pass it always had: the layout sized it with three.)
      let zFactor = source + 1 < shapes.count ? factors[source + 1][axis] : 1
      let slabs = depth % zFactor == 0 || depth >= shape[axis] ? 3 : 5
      let planeRow = CheckedArithmetic.product([depth] + Array(shape[(axis + 1)...]).enumerated().map { i, e in
        i + axis + 1 == y ? 1 : e
      } + [job.desc.dataType.size]) ?? Int.max
      let rowBytes = CheckedArithmetic.product([slabs, planeRow]) ?? Int.max
      if CheckedArithmetic.product([3, planeRow, shape[y]]).map({ $0 <= limit }) ?? false {
        out.append(Pass(levels: first..<levels.upperBound, bandRows: shape[y], margin: 0))
        break
      }
      var chosen: Pass? = nil
      for end in stride(from: levels.upperBound, to: first, by: -1) {
        var align = 1, below = 1
        for k in first..<end {
          if k > source { below *= factors[k][y] }
          align = lcm(align, shardRows[k] * below)
        }
        let margin = job.options.method == .gaussian ? (1 << min(end - 1 - source, 40)) - 1 : 0
        let fit = limit / rowBytes - 2 * margin
        if fit >= align {
          chosen = Pass(levels: first..<end, bandRows: min(fit / align * align, (shape[y] + align - 1) / align * align), margin: margin)
          break
        }
      }
      guard let pass = chosen else {
        throw ConvertError(.invalidArgument,
          "a band of one row of shards of level \(source) (\(shardRows[first]) rows, \((rowBytes / slabs * shardRows[first]) >> 20) MiB) "
            + "does not fit the memory limit of \(limit >> 20) MiB; raise --memory-limit or give smaller --shards")
      }
      out.append(pass)
      first = pass.levels.upperBound
    }
    return out
  }

  /// Level-0 planes under one plane of level `k` along the streaming axis (the product of the factors).
  static func planesPerPlane(_ job: ImageJob, level k: Int) -> Int {
    job.layout.plan.factors[...k].reduce(1) { $0 * $1[job.layout.slabAxis] }
  }

  /// The planes of level `k` under the level-0 planes `span` (blocks end on whole planes of every
  /// level they cover; the last span ends with the level).
  static func levelPlanes(_ job: ImageJob, span: Range<Int>, level k: Int) -> Range<Int> {
    let below = planesPerPlane(job, level: k)
    let upper = span.upperBound >= job.desc.shape[job.layout.slabAxis] ? job.layout.plan.shapes[k][job.layout.slabAxis]
      : span.upperBound / below
    return (span.lowerBound / below)..<upper
  }

  /// Runs `pass` over the level-0 planes `span` of stream `outer`, reading from `start` (level-0
  /// planes before `span` are context, for gaussian parts), and writes each built level's planes
  /// under `span` only.
  /// `input`, when given, holds the planes of the pass's first level (the parts' spill): they are
  /// read from it and written to that level (a single band).
  static func run(
    _ pass: Pass, _ job: ImageJob, arrays: [ZarrArray], span: Range<Int>, start: Int? = nil, end: Int? = nil, outer: [Int],
    input: ZarrArray? = nil, progress: (any ConvertProgress)?
  ) throws {
    let axis = job.layout.slabAxis
    let n = job.desc.shape.count
    let plan = job.layout.plan
    // Whether the first pipeline level is written (fed from the input or the spill), or only read.
    let writesFirst = pass.readsInput || input != nil
    let source = input != nil ? pass.levels.lowerBound : pass.source
    let levels = writesFirst ? Array(arrays[pass.levels]) : Array(arrays[source..<pass.levels.upperBound])
    let factors = writesFirst ? Array(plan.factors[pass.levels]) : Array(plan.factors[source..<pass.levels.upperBound])
    // Planes of the first pipeline level (the level read) under `span`, and each level's window.
    func planes(_ k: Int) -> Range<Int> { levelPlanes(job, span: span, level: k) }
    let windows = (writesFirst ? [] : [0..<0]) + pass.levels.map { planes($0) }
    let read = pass.readsInput ? (start ?? span.lowerBound)..<(end ?? span.upperBound) : planes(source)
    let y = n - 2
    let height = plan.shapes[source][y]
    let bands = axis < y ? stride(from: 0, to: height, by: max(pass.bandRows, 1)).map { $0..<min($0 + pass.bandRows, height) }
      : [0..<height]
    let depth = levels[0].chunkShape[axis]
    for band in bands {
      let rows = max(0, band.lowerBound - pass.margin)..<min(height, band.upperBound + pass.margin)
      // Rows written per level: the band's own, at that level's resolution.
      var rowWindows: [Range<Int>]? = nil
      if axis < y, band.count < height {
        var below = 1
        rowWindows = (writesFirst ? [] : [0..<0]) + pass.levels.map { k in
          if k > source { below *= plan.factors[k][y] }
          return (band.lowerBound / below)..<(band.upperBound >= height ? plan.shapes[k][y] : band.upperBound / below)
        }
      }
      let pipeline = Pipeline(arrays: levels, factors: factors, windows: windows, start: read.lowerBound,
        rows: axis < y ? rows : nil, rowWindows: rowWindows, outer: outer, slabAxis: axis, method: job.options.method,
        threads: job.options.threads)
      var z = read.lowerBound
      // One slab buffer, reused: once a slab is written and downsampled nothing holds it.
      var slab: ArrayBuffer? = nil
      while z < read.upperBound {
        let next = min((z / depth + 1) * depth, read.upperBound)
        if pass.readsInput {
          try readSlab(job.source, desc: job.desc, outer: outer, slabAxis: axis, range: z..<next, band: axis < y ? rows : nil,
            threads: job.options.threads, progress: progress, into: &slab)
        } else {
          let box = (0..<n).map { d in d < axis ? outer[d]..<(outer[d] + 1) : d == axis ? z..<next : d == y && axis < y ? rows : 0..<levels[0].shape[d] }
          slab = try (input ?? levels[0]).read(box)
          progress?.advance(bytes: slab?.bytes.count ?? 0)
        }
        guard let s = slab else { break }
        try pipeline.push(level: 0, slab: s, start: z)
        z = next
      }
      try pipeline.finish()
    }
  }

  /// Bytes `passes` read in one stream over the level-0 planes `span`, with `input` the planes
  /// read from the input (the span and its context): the progress total.
  static func bytesRead(_ passes: [Pass], _ job: ImageJob, span: Range<Int>, input: Range<Int>) -> Int {
    let axis = job.layout.slabAxis
    let n = job.desc.shape.count
    let plan = job.layout.plan
    var total = 0
    for pass in passes {
      let shape = plan.shapes[pass.source]
      let below = planesPerPlane(job, level: pass.source)
      let planes = pass.readsInput ? input.count : (span.count + below - 1) / below
      var rows = shape[n - 2]
      if axis < n - 2 {
        let bands = (rows + pass.bandRows - 1) / max(pass.bandRows, 1)
        rows += 2 * pass.margin * max(bands - 1, 0)
      }
      let plane = (axis + 1..<n).reduce(job.desc.dataType.size) { acc, d in acc * (d == n - 2 ? rows : shape[d]) }
      total += planes * plane
    }
    return total
  }
}

/// The least common multiple of two positive integers.
func lcm(_ a: Int, _ b: Int) -> Int {
  var (x, y) = (a, b)
  while y != 0 { (x, y) = (y, x % y) }
  return a / x * b
}
