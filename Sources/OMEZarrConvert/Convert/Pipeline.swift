import OMEZarr
import ZarrIO

/// The levels' pending slabs: a slab pushed to level k is written when whole shards along the
/// streaming axis are complete, and downsampled (with the planes left over from the last slab)
/// into level k+1.
///
/// A pipeline may start anywhere along the streaming axis and writes only the planes of each
/// level's *window* (a part of a split conversion writes its own shards; planes outside are
/// context for the next level's kernel, or, for the finalize step, a stored level that is only read).
/// Its slabs may also cover a band of rows (y) of a plane too large to hold whole: it then writes
/// only each level's row window, the rows before and after being context for the gaussian kernel.
final class Pipeline {
  let arrays: [ZarrArray]
  /// Per level: the factors from the level before (all 1 for the first).
  let factors: [[Int]]
  /// Per level: the planes along the streaming axis this pipeline writes.
  let windows: [Range<Int>]
  /// The row axis (y), when it is not the streaming axis.
  let rowAxis: Int?
  /// Per level: the rows its slabs cover, and the rows written.
  var rows: [Range<Int>]
  let rowWindows: [Range<Int>]
  let outer: [Int]
  let axis: Int
  let method: DownsamplingMethod
  let threads: Int
  /// Per level: planes not yet written, and where they start.
  var pending: [ArrayBuffer?]
  var pendingStart: [Int]
  /// Per level: planes not yet downsampled into the next level, and where they start.
  var carry: [ArrayBuffer?]
  var carryStart: [Int]
  /// Per level (gaussian): the next output plane of the level below.
  var nextOutput: [Int]

  /// A pipeline through `arrays` (levels with `factors`), writing `windows` (default: every plane)
  /// and fed from plane `start` of the first level on; its slabs cover `rows` of the first level
  /// (default: all) and it writes `rowWindows` of each level (default: all it computes).
  init(arrays: [ZarrArray], factors: [[Int]], windows: [Range<Int>]? = nil, start: Int = 0, rows: Range<Int>? = nil,
    rowWindows: [Range<Int>]? = nil, outer: [Int], slabAxis: Int, method: DownsamplingMethod, threads: Int)
  {
    self.arrays = arrays
    self.factors = factors
    self.windows = windows ?? arrays.map { 0..<$0.shape[slabAxis] }
    let n = arrays[0].shape.count
    rowAxis = slabAxis < n - 2 ? n - 2 : nil
    self.rows = Pipeline.bandRows(arrays.map(\.shape), factors: factors, rowAxis: rowAxis, rows: rows, method: method)
    self.rowWindows = rowWindows ?? self.rows
    self.outer = outer
    self.axis = slabAxis
    self.method = method
    self.threads = threads
    pending = [ArrayBuffer?](repeating: nil, count: arrays.count)
    pendingStart = [Int](repeating: 0, count: arrays.count)
    carry = [ArrayBuffer?](repeating: nil, count: arrays.count)
    carryStart = [Int](repeating: 0, count: arrays.count)
    nextOutput = [Int](repeating: 0, count: arrays.count)
    // Gaussian: the first output of each level whose taps (from 2 j - 1) are all fed.
    var first = start
    for k in 0..<max(arrays.count - 1, 0) {
      first = factors[k + 1][slabAxis] == 2 && first > 0 ? (first + 2) / 2 : first / factors[k + 1][slabAxis]
      nextOutput[k] = first
    }
  }

  /// Per level: the rows of a band's slabs (`rows` of the first level): halved blocks for the
  /// block kernels; for the gaussian, the outputs whose taps are all in the band (or the image edge).
  static func bandRows(_ shapes: [[Int]], factors: [[Int]], rowAxis: Int?, rows: Range<Int>?, method: DownsamplingMethod)
    -> [Range<Int>]
  {
    guard let y = rowAxis else { return shapes.map { 0..<($0.count > 1 ? $0[$0.count - 2] : 1) } }
    var r = rows ?? 0..<shapes[0][y]
    var out = [r]
    for k in 1..<max(shapes.count, 1) {
      let f = factors[k][y], height = shapes[k - 1][y]
      if method == .gaussian && f == 2 {
        let lower = r.lowerBound == 0 ? 0 : (r.lowerBound + 2) / 2
        let upper = r.upperBound >= height ? shapes[k][y] : max(lower, (r.upperBound - 3) / 2 + 1)
        r = lower..<upper
      } else {
        r = (r.lowerBound / f)..<min(shapes[k][y], (r.upperBound + f - 1) / f)
      }
      out.append(r)
    }
    return out
  }

  /// Rows `window` of a slab of level `k` (which covers `rows[k]`).
  func cropRows(_ b: ArrayBuffer, level k: Int, to window: Range<Int>) throws -> ArrayBuffer {
    guard let y = rowAxis, window != rows[k] else { return b }
    let rowBytes = b.shape[(y + 1)...].reduce(b.dataType.size, *)
    let planes = b.shape[..<y].reduce(1, *)
    let height = b.shape[y]
    let skip = window.lowerBound - rows[k].lowerBound
    var bytes: [UInt8] = []
    bytes.reserveCapacity(planes * window.count * rowBytes)
    for p in 0..<planes {
      let base = (p * height + skip) * rowBytes
      bytes += b.bytes[base..<(base + window.count * rowBytes)]
    }
    var shape = b.shape
    shape[y] = window.count
    return try ArrayBuffer(shape: shape, dataType: b.dataType, bytes: bytes)
  }

  /// Planes along the streaming axis of a slab (its extent there).
  func depth(_ b: ArrayBuffer) -> Int { b.shape[axis] }

  /// `a` followed by `b` along the streaming axis (contiguous, as the axes before it have extent 1).
  func concat(_ a: ArrayBuffer?, _ b: ArrayBuffer) throws -> ArrayBuffer {
    guard let a else { return b }
    var shape = b.shape
    shape[axis] = a.shape[axis] + b.shape[axis]
    return try ArrayBuffer(shape: shape, dataType: b.dataType, bytes: a.bytes + b.bytes)
  }

  /// Splits off the first `count` planes.
  func split(_ b: ArrayBuffer, at count: Int) throws -> (ArrayBuffer, ArrayBuffer?) {
    let planeBytes = b.bytes.count / max(b.shape[axis], 1)
    if count >= b.shape[axis] { return (b, nil) }
    var s1 = b.shape, s2 = b.shape
    s1[axis] = count
    s2[axis] = b.shape[axis] - count
    return (try ArrayBuffer(shape: s1, dataType: b.dataType, bytes: Array(b.bytes[0..<(count * planeBytes)])),
      try ArrayBuffer(shape: s2, dataType: b.dataType, bytes: Array(b.bytes[(count * planeBytes)...])))
  }

  func origin(level k: Int, _ start: Int) -> [Int] {
    (0..<arrays[0].shape.count).map { d in d < axis ? outer[d] : d == axis ? start : d == rowAxis ? rowWindows[k].lowerBound : 0 }
  }

  /// Planes `lo ..< hi` of `b` (relative to its first).
  func planes(_ b: ArrayBuffer, _ lo: Int, _ hi: Int) throws -> ArrayBuffer {
    if lo == 0 && hi == depth(b) { return b }
    let planeBytes = b.bytes.count / max(depth(b), 1)
    var shape = b.shape
    shape[axis] = hi - lo
    return try ArrayBuffer(shape: shape, dataType: b.dataType, bytes: Array(b.bytes[(lo * planeBytes)..<(hi * planeBytes)]))
  }

  func push(level k: Int, slab: ArrayBuffer, start: Int) throws {
    // 1. Write whole shards of the planes in the level's window.
    let lo = max(start, windows[k].lowerBound), hi = min(start + depth(slab), windows[k].upperBound)
    if hi > lo, !rowWindows[k].isEmpty {
      try write(level: k, slab: cropRows(planes(slab, lo - start, hi - start), level: k, to: rowWindows[k]), start: lo)
    }
    // 2. Downsample whole blocks into the next level.
    guard k + 1 < arrays.count else { return }
    if method == .gaussian { return try pushGaussian(level: k, slab: slab, start: start) }
    let f = factors[k + 1][axis]
    let extent = arrays[k].shape[axis]
    let input = try concat(carry[k], slab)
    let inputStart = carry[k] == nil ? start : carryStart[k]
    let usable = depth(input) / f * f
    let last = inputStart + depth(input) >= extent
    let take = last ? depth(input) : usable
    guard take > 0 else {
      carry[k] = input
      carryStart[k] = inputStart
      return
    }
    let (blocks, leftover) = try split(input, at: take)
    carry[k] = leftover
    carryStart[k] = inputStart + take
    let reduced = try Downsample.apply(blocks, factors: factors[k + 1], method: method, threads: threads)
    try push(level: k + 1, slab: reduced, start: inputStart / f)
  }

  /// Writes the whole shards along the streaming axis that `slab` (planes from `start`) completes
  /// at level `k`, keeping the rest pending.
  func write(level k: Int, slab: ArrayBuffer, start: Int) throws {
    let all = try concat(pending[k], slab)
    var begin = pending[k] == nil ? start : pendingStart[k]
    var rest: ArrayBuffer? = all
    let shardDepth = arrays[k].chunkShape[axis]
    let extent = arrays[k].shape[axis]
    while let r = rest {
      let want = min(shardDepth, extent - begin)
      if depth(r) < want { break }
      let (head, tail) = try split(r, at: want)
      try arrays[k].write(head, at: origin(level: k, begin))
      begin += want
      rest = tail
    }
    pending[k] = rest
    pendingStart[k] = begin
  }

  /// Gaussian: outputs need one input plane of context on each side, so the carry keeps the
  /// planes from `2 j - 1` for the next output `j` (or all planes when the axis is not halved).
  func pushGaussian(level k: Int, slab: ArrayBuffer, start: Int) throws {
    let factors = self.factors[k + 1]
    let f = factors[axis]
    // The planes at hand: the carried ones, then the slab (not concatenated: slabs are big).
    let held = carry[k]
    let heldStart = held == nil ? start : carryStart[k]
    let heldDepth = held.map(depth) ?? 0
    let available = start + depth(slab)
    let planeBytes = slab.bytes.count / max(depth(slab), 1)
    let extent = arrays[k].shape[axis]
    let outExtent = (extent + f - 1) / f
    let next = nextOutput[k]
    // The last output whose taps (up to f j + 2, clamped) are all here.
    let end = available == extent ? outExtent : (f == 2 ? (available >= 3 ? max(next, (available - 3) / 2 + 1) : next) : available)
    /// Planes `lo ..< hi` (absolute) as bytes, from the carry and the slab.
    let planes = { @Sendable (lo: Int, hi: Int) -> [UInt8] in
      var out: [UInt8] = []
      out.reserveCapacity((hi - lo) * planeBytes)
      if let held, lo < heldStart + heldDepth {
        let a = lo - heldStart, b = min(hi, heldStart + heldDepth) - heldStart
        out += held.bytes[(a * planeBytes)..<(b * planeBytes)]
      }
      if hi > start {
        let a = max(lo, start) - start, b = hi - start
        out += slab.bytes[(a * planeBytes)..<(b * planeBytes)]
      }
      return out
    }
    guard end > next else {
      var shape = slab.shape
      shape[axis] = available - heldStart
      carry[k] = try ArrayBuffer(shape: shape, dataType: slab.dataType, bytes: planes(heldStart, available))
      carryStart[k] = heldStart
      return
    }
    var fullShape = arrays[k].shape
    for d in 0..<axis { fullShape[d] = 1 }
    var outShape = zip(slab.shape, factors).map { ($0 + $1 - 1) / $1 }
    // A band of rows: its outputs, from its first row on.
    let (rowAxis, rowOrigin, outRows) = (self.rowAxis, rows[k].lowerBound, rows[k + 1])
    if let y = rowAxis { outShape[y] = outRows.count }
    let outputShape = outShape
    // Output planes in parallel, each from its own window of input planes.
    let outputs = Array(next..<end)
    let results = ResultSlots<ArrayBuffer>(count: outputs.count)
    let (axis, threads, full, slabShape, type) = (self.axis, self.threads, fullShape, slab.shape, slab.dataType)
    try Parallel.forEach(outputs.count, width: threads) { g in
      let j = outputs[g]
      let lo = f == 2 ? max(0, 2 * j - 1) : j
      let hi = f == 2 ? min(extent, 2 * j + 3) : j + 1
      var wshape = slabShape
      wshape[axis] = hi - lo
      let window = try ArrayBuffer(shape: wshape, dataType: type, bytes: planes(lo, hi))
      var origin = [Int](repeating: 0, count: wshape.count)
      origin[axis] = lo
      var region = outputShape.map { 0..<$0 }
      region[axis] = outputs[g]..<(outputs[g] + 1)
      if let y = rowAxis {
        origin[y] = rowOrigin
        region[y] = outRows
      }
      results.set(g, try Downsample.gaussian(window: window, origin: origin, fullShape: full, factors: factors, outputs: region))
    }
    var bytes: [UInt8] = []
    for r in results.values { bytes += r?.bytes ?? [] }
    var shape = outShape
    shape[axis] = end - next
    let reduced = try ArrayBuffer(shape: shape, dataType: slab.dataType, bytes: bytes)
    nextOutput[k] = end
    // Keep the planes the next outputs need.
    let keepFrom = end >= outExtent ? available : (f == 2 ? max(heldStart, 2 * end - 1) : end)
    if keepFrom < available {
      var s = slab.shape
      s[axis] = available - keepFrom
      carry[k] = try ArrayBuffer(shape: s, dataType: slab.dataType, bytes: planes(keepFrom, available))
      carryStart[k] = keepFrom
    } else {
      carry[k] = nil
      carryStart[k] = available
    }
    try push(level: k + 1, slab: reduced, start: next)
  }

  /// Writes whatever is left (the partial last shards).
  func finish() throws {
    for k in 0..<arrays.count {
      if let c = carry[k], k + 1 < arrays.count, depth(c) > 0, method != .gaussian {
        carry[k] = nil
        let f = factors[k + 1][axis]
        let reduced = try Downsample.apply(c, factors: factors[k + 1], method: method, threads: threads)
        try push(level: k + 1, slab: reduced, start: carryStart[k] / f)
      }
      if let p = pending[k], depth(p) > 0, windows[k].contains(pendingStart[k]) {
        try arrays[k].write(p, at: origin(level: k, pendingStart[k]))
        pending[k] = nil
      }
    }
  }
}
