/// Where a box of the array (a chunk or shard: its origin and shape) meets a region.
struct Overlap {
  /// The first overlapping element, relative to the box.
  var inBox: [Int]
  /// The first overlapping element, relative to the region.
  var inRegion: [Int]
  /// The overlap's shape.
  var extent: [Int]
  /// Whether the overlap holds every element of the box that lies inside the array.
  var coversBox: Bool
  /// Whether the box reaches past the array's edge (its outside part holds the fill value).
  var boxCrossesEdge: Bool

  /// The overlap, or `nil` when the box and the region do not meet.
  init?(box origin: [Int], shape: [Int], region: [Range<Int>], arrayShape: [Int]) {
    let n = origin.count
    inBox = []
    inRegion = []
    extent = []
    coversBox = true
    boxCrossesEdge = false
    inBox.reserveCapacity(n)
    inRegion.reserveCapacity(n)
    extent.reserveCapacity(n)
    for d in 0..<n {
      let end = origin[d] + shape[d]
      let lo = max(origin[d], region[d].lowerBound)
      let hi = min(end, region[d].upperBound)
      if hi <= lo { return nil }
      inBox.append(lo - origin[d])
      inRegion.append(lo - region[d].lowerBound)
      extent.append(hi - lo)
      if lo != origin[d] || hi != min(end, arrayShape[d]) { coversBox = false }
      if end > arrayShape[d] { boxCrossesEdge = true }
    }
  }
}
