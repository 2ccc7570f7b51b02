import ZarrIO

extension Omero {
  /// Rendering settings computed from an image level (the coarsest one is cheap): per channel the
  /// window's min and max and, as its start and end, the 0.1 % and 99.9 % quantiles. A level over
  /// 4 M voxels per channel is sampled (evenly spaced planes and voxels). Given channels keep their
  /// names, colors and windows; missing colors follow a standard palette.
  public static func computed(
    from level: ZarrArray, axes: [Axis], channels given: [Channel]? = nil, name: String? = nil
  ) throws -> Omero? {
    guard !level.dataType.isComplex, level.dataType != .bool, !level.dataType.isRaw else { return nil }
    let channelAxis = axes.firstIndex { $0.type == .channel }
    let count = channelAxis.map { level.shape[$0] } ?? 1
    guard count <= 256 else { return nil }
    let colors = count == 1 ? ["FFFFFF"] : count == 2 ? ["00FF00", "FF00FF"] : count == 3 ? ["FF0000", "00FF00", "0000FF"]
      : ["FF0000", "00FF00", "0000FF", "FF00FF", "00FFFF", "FFFF00", "FFFFFF"]
    let n = level.shape.count
    // Products saturate at Int.max (shapes come from files; only the sampling steps depend on them).
    func product(_ sizes: some Sequence<Int>) -> Int { CheckedArithmetic.saturatingProduct(sizes) }
    let planeSize = n >= 2 ? product(level.shape.suffix(2)) : product(level.shape)
    let planesPerChannel = product(level.shape.prefix(max(n - 2, 0))) / max(count, 1)
    let budget = 4 << 20
    let planeStep = max(1, product([planesPerChannel, planeSize]) / budget)
    let voxelStep = max(1, planeSize / budget)
    let lead = Array(level.shape.prefix(max(n - 2, 0)))
    var channels: [Channel] = []
    for c in 0..<count {
      var values: [Double] = []
      var k = 0
      for box in gridBoxes(shape: lead, cell: [Int](repeating: 1, count: lead.count)) {
        if let a = channelAxis, a < lead.count, box[a].lowerBound != c { continue }
        defer { k += 1 }
        guard k % planeStep == 0 else { continue }
        let region = box + Array(level.fullRegion.suffix(min(n, 2)))
        let plane = try level.read(region).doubleValues() ?? []
        for i in stride(from: 0, to: plane.count, by: voxelStep) where plane[i].isFinite { values.append(plane[i]) }
      }
      values.sort()
      let lo = values.first ?? 0, hi = values.last ?? 0
      func q(_ p: Double) -> Double { values.isEmpty ? 0 : values[min(values.count - 1, Int(p * Double(values.count - 1)))] }
      var ch = given?.indices.contains(c) == true ? given![c] : Channel(label: "Channel \(c)")
      if ch.color == nil { ch.color = colors[c % colors.count] }
      if ch.window == nil { ch.window = Window(min: lo, max: hi, start: q(0.001), end: q(0.999)) }
      if ch.active == nil { ch.active = true }
      ch.coefficient = ch.coefficient ?? 1
      ch.family = ch.family ?? "linear"
      ch.inverted = ch.inverted ?? false
      channels.append(ch)
    }
    var o = Omero(channels: channels, name: name)
    o.rdefs = ["model": count == 1 ? "greyscale" : "color"]
    return o
  }
}
