/// A sampled vector field: the parameters of a `displacements` or `coordinates` transformation.
///
/// The samples sit on a regular grid in the input coordinate system (sample `i` along axis `k` at
/// `i * scale[k] + translation[k]`, the pixel-centre convention); between samples the field is
/// interpolated (`linear` or `nearest`), and outside the grid the border samples extend.
struct VectorField: Sendable {
  enum Kind: String, Sendable { case displacements, coordinates }
  enum Interpolation: String, Sendable { case linear, nearest }

  let kind: Kind
  /// The store path of the field, for messages.
  let path: String
  let interpolation: Interpolation
  /// Grid size along each input axis.
  let shape: [Int]
  /// Vector length: the output dimension.
  let components: Int
  /// `shape.product * components` values, C order with the components last.
  let values: [Double]
  let scale: [Double]
  let translation: [Double]
  /// Element strides of the grid axes in ``values``.
  private let strides: [Int]

  /// Input dimension.
  var dimension: Int { shape.count }

  /// The most grid axes of a field: linear interpolation sums over the 2^N corners of a cell.
  static let maxDimension = 16

  init(kind: Kind, path: String, interpolation: Interpolation, shape: [Int], components: Int, values: [Double],
       scale: [Double], translation: [Double]) {
    precondition(values.count == shape.reduce(components, *) && scale.count == shape.count && translation.count == shape.count)
    self.kind = kind
    self.path = path
    self.interpolation = interpolation
    self.shape = shape
    self.components = components
    self.values = values
    self.scale = scale
    self.translation = translation
    var strides = [Int](repeating: components, count: shape.count)
    for k in stride(from: shape.count - 2, through: 0, by: -1) { strides[k] = strides[k + 1] * shape[k + 1] }
    self.strides = strides
  }

  /// The (interpolated) vector at point `x` of the input system.
  func vector(at x: [Double]) -> [Double] {
    let n = shape.count
    var out = [Double](repeating: 0, count: components)
    // Continuous grid index per axis, clamped to the grid.
    // (A coordinate that is not a number, or infinite minus infinite, counts as index 0.)
    let index = (0..<n).map { k -> Double in
      let i = (x[k] - translation[k]) / scale[k]
      return i.isNaN ? 0 : min(max(i, 0), Double(shape[k] - 1))
    }
    switch interpolation {
    case .nearest:
      var offset = 0
      for k in 0..<n { offset += min(Int((index[k] + 0.5).rounded(.down)), shape[k] - 1) * strides[k] }
      for c in 0..<components { out[c] = values[offset + c] }
    case .linear:
      var base = [Int](repeating: 0, count: n), frac = [Double](repeating: 0, count: n)
      for k in 0..<n {
        let i0 = min(Int(index[k].rounded(.down)), max(shape[k] - 2, 0))
        base[k] = i0
        frac[k] = shape[k] > 1 ? index[k] - Double(i0) : 0
      }
      // Sum over the 2^n corners of the cell (corners of weight zero are skipped).
      for corner in 0..<(1 << n) {
        var w = 1.0, offset = 0
        for k in 0..<n {
          let up = corner >> (n - 1 - k) & 1 == 1
          w *= up ? frac[k] : 1 - frac[k]
          offset += (base[k] + (up ? 1 : 0)) * strides[k]
        }
        if w == 0 { continue }
        for c in 0..<components { out[c] += w * values[offset + c] }
      }
    }
    return out
  }

  /// The transformation: `x + d(x)` for displacements, `c(x)` for coordinates.
  func forward(_ x: [Double]) -> [Double] {
    let v = vector(at: x)
    return kind == .displacements ? zip(x, v).map(+) : v
  }

  /// Throws when the field cannot be inverted even by iteration.
  func checkInvertible() throws(OMEZarrError) {
    if kind == .coordinates && components != dimension {
      throw OMEZarrError(.unsupported, "coordinates field '\(path)' maps \(dimension) to \(components) dimensions and cannot be inverted")
    }
    if kind == .coordinates && interpolation == .nearest {
      throw OMEZarrError(.unsupported, "coordinates field '\(path)' uses nearest interpolation (piecewise constant) and cannot be inverted")
    }
  }

  /// The point `x` with `forward(x) == y`, found by damped Newton iteration from `y - d(y)`
  /// (displacements) or the nearest sample (coordinates).
  /// - Throws: `.unsupported` when the iteration does not converge (e.g. `y` outside the field's range).
  func inverse(_ y: [Double]) throws(OMEZarrError) -> [Double] {
    let n = dimension
    let tolerance = 1e-11 * max(1, y.map(abs).max() ?? 0)
    func residual(_ x: [Double]) -> [Double] { zip(forward(x), y).map(-) }
    func size(_ r: [Double]) -> Double { r.map(abs).max() ?? 0 }
    var x = kind == .displacements ? zip(y, vector(at: y)).map(-) : nearestSample(to: y)
    var r = residual(x)
    for _ in 0..<100 {
      if size(r) <= tolerance { return x }
      // Jacobian by central differences at a small fraction of the grid spacing.
      var jac = Matrix(rows: n, columns: n, entries: [Double](repeating: 0, count: n * n))
      for j in 0..<n {
        let h = 1e-4 * abs(scale[j])
        var a = x, b = x
        a[j] += h
        b[j] -= h
        let fa = forward(a), fb = forward(b)
        for i in 0..<n { jac[i, j] = (fa[i] - fb[i]) / (2 * h) }
      }
      // Newton step, or (singular Jacobian) a fixed-point step for displacements.
      let step = jac.solve(r) ?? (kind == .displacements ? r : nil)
      guard let step else { break }
      var t = 1.0, next = x, nextR = r
      repeat {
        next = zip(x, step).map { $0 - t * $1 }
        nextR = residual(next)
        t /= 2
      } while size(nextR) >= size(r) && t > 1e-6
      if size(nextR) >= size(r) { break }
      x = next
      r = nextR
    }
    if size(r) <= tolerance * 1e3 { return x }
    throw OMEZarrError(.unsupported,
      "the inverse of \(kind.rawValue) field '\(path)' did not converge at \(y) (residual \(size(r)))")
  }

  /// The position of the sample whose vector is closest to `y` (over at most 65,536 samples).
  private func nearestSample(to y: [Double]) -> [Double] {
    let n = dimension, count = shape.reduce(1, *)
    let stride = max(1, count / 65_536)
    var best = 0, bestDistance = Double.infinity
    for s in Swift.stride(from: 0, to: count, by: stride) {
      var d = 0.0
      for c in 0..<components { d += (values[s * components + c] - y[c]) * (values[s * components + c] - y[c]) }
      if d < bestDistance { (best, bestDistance) = (s, d) }
    }
    var index = [Int](repeating: 0, count: n), rest = best
    for k in Swift.stride(from: n - 1, through: 0, by: -1) {
      index[k] = rest % shape[k]
      rest /= shape[k]
    }
    return (0..<n).map { Double(index[$0]) * scale[$0] + translation[$0] }
  }
}
