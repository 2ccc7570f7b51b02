/// How a conversion splits into independent parts: each part owns a run of level-0 planes along
/// the streaming axis, aligned to the shard boundaries of every level it builds, so that no two parts
/// ever write the same shard; the levels no part can build alone are left to the finalize step.
///
/// The unit of assignment is a *block*: the level-0 planes under one shard of the highest level the
/// parts own. That level is the highest one whose shard boundaries fall on the boundaries of all
/// finer levels' shards and that still has a block for every part (for every part that level 0
/// can give a block, when there are more parts than that). Blocks of all streams (the
/// indices of the axes before the streaming one, such as t and c) are numbered in order and dealt out
/// in contiguous, balanced runs; with more parts than blocks the last parts have nothing to do.
public struct PartPlan: Sendable, Hashable {
  /// A run of level-0 planes `planes` along the streaming axis in stream `stream` (the row-major
  /// index over the axes before it).
  public struct Span: Sendable, Hashable {
    /// The stream (row-major index over the axes before the streaming axis).
    public var stream: Int
    /// The level-0 planes along the streaming axis.
    public var planes: Range<Int>
  }

  /// The number of parts.
  public let count: Int
  /// Levels `0 ..< ownedLevels` are written by the parts; the others by the finalize step.
  public let ownedLevels: Int
  /// Level-0 planes per block.
  public let blockPlanes: Int
  /// The spans of each part, in order.
  public let parts: [[Span]]
  /// Level-0 planes along the streaming axis.
  let extent: Int
  /// Per level: level-0 planes under one shard along the streaming axis (shard depth x the product of the factors).
  let shardPlanes: [Int]
  /// Per level: shards along the streaming axis.
  let shardCounts: [Int]
  /// Level-0 planes of context a part reads on each side (a kernel that looks past its block).
  let margin: Int

  /// Plans `parts` parts for levels of `levelShapes` (level 0 first) with `factors` (from the previous
  /// level, all 1 for level 0) and shard shapes `shardShapes`, streaming along `axis`; `context` is how
  /// many planes of the previous level a kernel needs on each side (0 for block kernels such as mean,
  /// 1 for gaussian).
  /// - Throws: ``ConvertError`` (`.invalidArgument`) for fewer than 1 part or inconsistent shapes.
  public init(levelShapes: [[Int]], factors: [[Int]], shardShapes: [[Int]], axis: Int, parts: Int, context: Int = 0)
    throws(ConvertError)
  {
    let levels = levelShapes.count
    guard parts >= 1 else { throw ConvertError(.invalidArgument, "the number of parts must be at least 1, not \(parts)") }
    guard levels >= 1, factors.count == levels, shardShapes.count == levels,
      levelShapes.allSatisfy({ $0.count > axis }), shardShapes.allSatisfy({ $0.count > axis && $0[axis] >= 1 }),
      factors.allSatisfy({ $0.count > axis && $0[axis] >= 1 })
    else { throw ConvertError(.invalidArgument, "a part plan needs a shape, factors and a shard shape for every level") }
    let extent = levelShapes[0][axis]
    let streams = levelShapes[0][..<axis].reduce(1) { $0 * max($1, 1) }
    // Level-0 planes under one shard of each level (saturating: far beyond any extent is enough).
    var cumulative = 1
    var shardPlanes: [Int] = []
    for k in 0..<levels {
      cumulative = min(cumulative * factors[k][axis], 1 << 40)
      shardPlanes.append(min(shardShapes[k][axis] * cumulative, 1 << 50))
    }
    // The highest level whose shards align with every finer level's and leave a block per part (or,
    // with more parts than level 0 has blocks, as many blocks as level 0: owning it costs nothing).
    let useful = min(parts, streams * ((extent + shardPlanes[0] - 1) / shardPlanes[0]))
    var owned = 0
    for m in stride(from: levels - 1, through: 0, by: -1) {
      let block = shardPlanes[m]
      guard (0...m).allSatisfy({ block % shardPlanes[$0] == 0 }) else { continue }
      let blocks = streams * ((extent + block - 1) / block)
      if blocks >= useful || m == 0 {
        owned = m
        break
      }
    }
    let block = shardPlanes[owned]
    let perStream = max(1, (extent + block - 1) / block)
    let total = streams * perStream
    var plan: [[Span]] = []
    for p in 0..<parts {
      let first = p * total / parts, last = (p + 1) * total / parts
      var spans: [Span] = []
      var b = first
      while b < last {
        let stream = b / perStream
        let end = min(last, (stream + 1) * perStream)
        let planes = ((b % perStream) * block)..<min(((end - 1) % perStream + 1) * block, extent)
        spans.append(Span(stream: stream, planes: planes))
        b = end
      }
      plan.append(spans)
    }
    // Context: each level's kernel looks `context` planes of the level below past its block.
    var margin = 0
    var below = 1
    for k in 1..<max(owned + 1, 1) {
      margin += context * below
      below *= factors[k][axis]
    }
    count = parts
    ownedLevels = owned + 1
    blockPlanes = block
    self.parts = plan
    self.extent = extent
    self.shardPlanes = shardPlanes
    shardCounts = (0..<levels).map { k in (levelShapes[k][axis] + shardShapes[k][axis] - 1) / shardShapes[k][axis] }
    self.margin = margin
  }

  /// The shards along the streaming axis of `level` (one the parts own) that `part` writes, per span.
  public func shards(of part: Int, level: Int) -> [(stream: Int, shards: Range<Int>)] {
    guard parts.indices.contains(part), level < ownedLevels else { return [] }
    return parts[part].map { span in
      let lower = span.planes.lowerBound / shardPlanes[level]
      let upper = span.planes.upperBound >= extent ? shardCounts[level] : span.planes.upperBound / shardPlanes[level]
      return (span.stream, lower..<upper)
    }
  }

  /// The level-0 planes `part` reads per span: its own, widened by the context its kernels need.
  public func inputPlanes(of part: Int) -> [(stream: Int, planes: Range<Int>)] {
    guard parts.indices.contains(part) else { return [] }
    return parts[part].map { span in
      (span.stream, max(0, span.planes.lowerBound - margin)..<min(extent, span.planes.upperBound + margin))
    }
  }
}
