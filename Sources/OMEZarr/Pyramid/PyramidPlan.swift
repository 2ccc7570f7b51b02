import Foundation
import ZarrIO

/// The levels of a pyramid: shape, downsampling factors, scale and translation of each.
///
/// Only space axes are downsampled, and only the finest of them (as webknossos does): an axis is
/// halved while its pixel size is below twice the smallest pixel size, so anisotropic stacks
/// (e.g. z 2 µm, xy 0.5 µm) first become near-isotropic. Levels continue until the largest space
/// dimension fits in one chunk, or to `levels` when given.
public struct PyramidPlan: Sendable, Hashable {
  /// The shape of each level, level 0 (full resolution) first.
  public var shapes: [[Int]]
  /// Factors from the previous level (all 1 for level 0).
  public var factors: [[Int]]
  /// The pixel size of each level per axis, in the axes' units (level 0's is the image's scale).
  public var scales: [[Double]]
  /// The position of each level's first pixel centre per axis, in the axes' units.
  public var translations: [[Double]]

  /// The number of levels.
  public var count: Int { shapes.count }

  /// Plans levels for an image of `shape` with `axes`, level-0 `scale` and `translation`.
  ///
  /// - Parameters:
  ///   - chunkShape: the level-0 chunk shape (stops when the largest space dimension fits a chunk).
  ///   - levels: an exact level count (levels stop early only when nothing can be halved).
  ///   - xyOnly: never downsample the first of three space axes (z).
  public static func make(
    shape: [Int], axes: [Axis], scale: [Double]? = nil, translation: [Double]? = nil, chunkShape: [Int]? = nil,
    levels: Int? = nil, xyOnly: Bool = false, method: DownsamplingMethod = .mean
  ) -> PyramidPlan {
    let n = shape.count
    let s0 = scale ?? [Double](repeating: 1, count: n)
    let t0 = translation ?? [Double](repeating: 0, count: n)
    var space = axes.indices.filter { axes[$0].isSpace }
    if xyOnly, space.count == 3 { space.removeFirst() }
    let chunks = chunkShape ?? shape
    var plan = PyramidPlan(shapes: [shape], factors: [[Int](repeating: 1, count: n)], scales: [s0], translations: [t0])
    while true {
      let current = plan.shapes.last!
      if let levels {
        if plan.count >= levels { break }
      } else {
        // Done when the largest space dimension fits in one chunk.
        let fits = space.allSatisfy { current[$0] <= chunks[$0] }
        if fits || space.isEmpty { break }
      }
      let pixel = plan.scales.last!
      let candidates = space.filter { current[$0] > 1 }
      guard let finest = candidates.map({ abs(pixel[$0]) }).min() else { break }
      var f = [Int](repeating: 1, count: n)
      for d in candidates where abs(pixel[d]) < 2 * finest * (1 - 1e-9) { f[d] = 2 }
      let shapeNext = zip(current, f).map { ($0 + $1 - 1) / $1 }
      let scaleNext = (0..<n).map { clean(pixel[$0] * Double(f[$0])) }
      let translationNext = (0..<n).map { d in
        clean(method.isBlockCentred ? t0[d] + (scaleNext[d] - s0[d]) / 2 : t0[d])
      }
      plan.shapes.append(shapeNext)
      plan.factors.append(f)
      plan.scales.append(scaleNext)
      plan.translations.append(translationNext)
    }
    return plan
  }

  /// `d` rounded to 12 significant digits, so that binary noise (0.1 + 0.2) does not reach metadata.
  static func clean(_ d: Double) -> Double {
    guard d.isFinite, d != 0 else { return d }
    let magnitude = pow(10, 11 - floor(log10(abs(d))))
    return (d * magnitude).rounded() / magnitude
  }
}
