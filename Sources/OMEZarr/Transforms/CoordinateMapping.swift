/// A coordinate transformation ready to apply to points: its parameters loaded (also those stored in
/// Zarr arrays) and its input and output dimensions known.
///
/// Build one from metadata with ``TransformGraph`` (or ``CoordinateMapping/init(_:inputDimension:outputDimension:parameters:)``),
/// apply it with ``apply(_:)``, invert it with ``inverse()`` and, when it is affine, hand
/// ``affineMatrix`` to a viewer.
public struct CoordinateMapping: Sendable, CustomStringConvertible {
  /// The number of coordinates of an input point.
  public let inputDimension: Int
  /// The number of coordinates of an output point.
  public let outputDimension: Int
  let step: Step

  indirect enum Step: Sendable {
    case identity
    /// Output axis `i` is input axis `p[i]`.
    case mapAxis([Int])
    /// Output axis `i` is input axis `source[i]`, or 0 where `source[i]` is `nil` (a created axis).
    case project(source: [Int?])
    case translation([Double])
    case scale([Double])
    /// `outputDimension x (inputDimension + 1)`.
    case affine(Matrix)
    case rotation(Matrix)
    case sequence([CoordinateMapping])
    case byDimension([DimensionPart])
    case field(VectorField)
    /// The inverse of a field, computed point by point by iteration.
    case fieldInverse(VectorField)
    case bijection(forward: CoordinateMapping, inverse: CoordinateMapping)
  }

  struct DimensionPart: Sendable {
    var mapping: CoordinateMapping
    var inputAxes: [Int]
    var outputAxes: [Int]
  }

  /// The most axes a system of a mapping may have: matrices are (N+1)², their products (N+1)³.
  public static let maxDimension = 64

  init(_ step: Step, input: Int, output: Int) {
    self.step = step
    inputDimension = input
    outputDimension = output
  }

  /// The identity on `n` axes.
  public static func identity(_ n: Int) -> CoordinateMapping { CoordinateMapping(.identity, input: n, output: n) }
  /// Multiplies each coordinate by its factor in `s`.
  public static func scale(_ s: [Double]) -> CoordinateMapping { CoordinateMapping(.scale(s), input: s.count, output: s.count) }
  /// Adds to each coordinate its offset in `t`.
  public static func translation(_ t: [Double]) -> CoordinateMapping {
    CoordinateMapping(.translation(t), input: t.count, output: t.count)
  }
  /// An affine map from the `M x (N+1)` matrix (the homogeneous last row omitted).
  public static func affine(_ m: Matrix) -> CoordinateMapping {
    CoordinateMapping(.affine(m), input: m.columns - 1, output: m.rows)
  }

  /// The composition: `self` first, then `next`.
  /// - Throws: `.invalidArgument` when the dimensions do not chain.
  public func then(_ next: CoordinateMapping) throws(OMEZarrError) -> CoordinateMapping {
    try CoordinateMapping(chaining: [self, next])
  }

  /// The mappings applied one after the other (nested sequences flattened), built in one pass
  /// however long the chain; `mappings` must not be empty.
  /// - Throws: `.invalidArgument` when one mapping's output does not fit the next one's input.
  init(chaining mappings: [CoordinateMapping]) throws(OMEZarrError) {
    var parts: [CoordinateMapping] = []
    for (i, m) in mappings.enumerated() {
      if i > 0, mappings[i - 1].outputDimension != m.inputDimension {
        throw OMEZarrError(.invalidArgument,
          "cannot chain a \(mappings[i - 1].outputDimension)-dimensional output into a \(m.inputDimension)-dimensional input")
      }
      if case .sequence(let inner) = m.step { parts += inner } else { parts.append(m) }
    }
    self.init(.sequence(parts), input: mappings.first?.inputDimension ?? 0, output: mappings.last?.outputDimension ?? 0)
  }

  // MARK: Applying

  /// Maps one point of the input system to the output system.
  /// - Throws: `.invalidArgument` for a point of the wrong dimension; `.unsupported` when an
  ///   iterative inverse does not converge at this point.
  public func apply(_ point: [Double]) throws(OMEZarrError) -> [Double] {
    guard point.count == inputDimension else {
      throw OMEZarrError(.invalidArgument, "a point has \(point.count) coordinates, the input system \(inputDimension)")
    }
    return try map(point)
  }

  /// Maps each point.
  public func apply(points: [[Double]]) throws(OMEZarrError) -> [[Double]] {
    var out: [[Double]] = []
    out.reserveCapacity(points.count)
    for (i, p) in points.enumerated() {
      do {
        out.append(try apply(p))
      } catch {
        throw OMEZarrError(error.code, "point \(i): \(error.message)")
      }
    }
    return out
  }

  func map(_ x: [Double]) throws(OMEZarrError) -> [Double] {
    switch step {
    case .identity: return x
    case .mapAxis(let p): return p.map { x[$0] }
    case .project(let source): return source.map { $0.map { x[$0] } ?? 0 }
    case .translation(let t): return zip(x, t).map(+)
    case .scale(let s): return zip(x, s).map(*)
    case .affine(let m):
      return (0..<m.rows).map { r in
        var s = m[r, m.columns - 1]
        for c in 0..<(m.columns - 1) { s += m[r, c] * x[c] }
        return s
      }
    case .rotation(let m): return m.apply(x)
    case .sequence(let parts):
      var y = x
      for p in parts { y = try p.map(y) }
      return y
    case .byDimension(let parts):
      var y = [Double](repeating: 0, count: outputDimension)
      for part in parts {
        let out = try part.mapping.map(part.inputAxes.map { x[$0] })
        for (k, axis) in part.outputAxes.enumerated() { y[axis] = out[k] }
      }
      return y
    case .field(let f): return f.forward(x)
    case .fieldInverse(let f): return try f.inverse(x)
    case .bijection(let forward, _): return try forward.map(x)
    }
  }

  // MARK: Inverting

  /// Whether ``inverse()`` succeeds (exactly, or by iteration for fields).
  public var isInvertible: Bool { (try? inverse()) != nil }

  /// The inverse mapping, from the output system back to the input system: scale and translation
  /// exactly, rotation by its transpose, affine by matrix inversion, sequences reversed, bijections
  /// swapped, displacement and coordinate fields by iteration (Newton's method) point by point.
  /// - Throws: `.unsupported` naming what cannot be inverted (a projection that drops axes, a zero
  ///   scale, a singular or non-square affine, a field with nearest interpolation).
  public func inverse() throws(OMEZarrError) -> CoordinateMapping {
    let n = inputDimension, m = outputDimension
    func swapped(_ s: Step) -> CoordinateMapping { CoordinateMapping(s, input: m, output: n) }
    switch step {
    case .identity: return self
    case .mapAxis: return swapped(step.inverted)
    case .project(let source):
      let used = source.compactMap { $0 }
      guard source.count == n, used.count == n else {
        throw OMEZarrError(.unsupported, "projectAxis drops or creates axes (\(n) -> \(m) dimensions) and cannot be inverted")
      }
      return swapped(.mapAxis(Array(used)).inverted)
    case .translation(let t): return swapped(.translation(t.map { -$0 }))
    case .scale(let s):
      if let i = s.firstIndex(of: 0) {
        throw OMEZarrError(.unsupported, "scale \(s) is zero on axis \(i) and cannot be inverted")
      }
      return swapped(.scale(s.map { 1 / $0 }))
    case .affine(let a):
      guard n == m else {
        throw OMEZarrError(.unsupported, "an affine from \(n) to \(m) dimensions cannot be inverted")
      }
      guard let inv = a.homogeneous.inverse else {
        throw OMEZarrError(.unsupported, "affine \(a) is singular and cannot be inverted")
      }
      return swapped(.affine(Matrix(rows: n, columns: n + 1, entries: Array(inv.entries[0..<(n * (n + 1))]))))
    case .rotation(let r):
      // A true rotation is inverted exactly by its transpose; a matrix that is only nearly
      // orthonormal (parameters rounded in the metadata) by inversion, so forward then inverse
      // returns the points.
      if r.isOrthonormal(tolerance: 1e-12) { return swapped(.rotation(r.transposed)) }
      guard let inv = r.inverse else {
        throw OMEZarrError(.unsupported, "rotation \(r) is singular and cannot be inverted")
      }
      return swapped(.rotation(inv))
    case .sequence(let parts):
      var inv: [CoordinateMapping] = []
      for (i, p) in parts.enumerated().reversed() {
        do {
          inv.append(try p.inverse())
        } catch {
          throw OMEZarrError(error.code, "sequence item \(i): \(error.message)")
        }
      }
      return swapped(.sequence(inv))
    case .byDimension(let parts):
      let inputsUsed = parts.flatMap(\.inputAxes)
      guard n == m, inputsUsed.count == n, Set(inputsUsed).count == n else {
        throw OMEZarrError(.unsupported, "a byDimension that does not use each input axis exactly once cannot be inverted")
      }
      var inv: [DimensionPart] = []
      for (i, p) in parts.enumerated() {
        do {
          inv.append(DimensionPart(mapping: try p.mapping.inverse(), inputAxes: p.outputAxes, outputAxes: p.inputAxes))
        } catch {
          throw OMEZarrError(error.code, "byDimension item \(i): \(error.message)")
        }
      }
      return swapped(.byDimension(inv))
    case .field(let f):
      try f.checkInvertible()
      return swapped(.fieldInverse(f))
    case .fieldInverse(let f): return swapped(.field(f))
    case .bijection(let forward, let inverse): return swapped(.bijection(forward: inverse, inverse: forward))
    }
  }

  // MARK: Matrix form

  /// The `(M+1) x (N+1)` homogeneous matrix of the mapping when it is affine (identity, mapAxis,
  /// projectAxis, translation, scale, affine, rotation, and sequences, byDimensions and bijections of
  /// them); `nil` when it involves a field.
  public var affineMatrix: Matrix? {
    let n = inputDimension, m = outputDimension
    var h = Matrix(rows: m + 1, columns: n + 1, entries: [Double](repeating: 0, count: (m + 1) * (n + 1)))
    h[m, n] = 1
    switch step {
    case .identity: return .identity(n + 1)
    case .mapAxis(let p):
      for (i, a) in p.enumerated() { h[i, a] = 1 }
    case .project(let source):
      for (i, a) in source.enumerated() { if let a { h[i, a] = 1 } }
    case .translation(let t):
      for i in 0..<n {
        h[i, i] = 1
        h[i, n] = t[i]
      }
    case .scale(let s):
      for i in 0..<n { h[i, i] = s[i] }
    case .affine(let a): return a.homogeneous
    case .rotation(let r):
      for i in 0..<n { for j in 0..<n { h[i, j] = r[i, j] } }
    case .sequence(let parts):
      var acc = Matrix.identity(n + 1)
      for p in parts {
        guard let mp = p.affineMatrix else { return nil }
        acc = mp * acc
      }
      return acc
    case .byDimension(let parts):
      for p in parts {
        guard let mp = p.mapping.affineMatrix else { return nil }
        let pn = p.inputAxes.count
        for (r, outAxis) in p.outputAxes.enumerated() {
          for (c, inAxis) in p.inputAxes.enumerated() { h[outAxis, inAxis] += mp[r, c] }
          h[outAxis, n] += mp[r, pn]
        }
      }
    case .field, .fieldInverse: return nil
    case .bijection(let forward, _): return forward.affineMatrix
    }
    return h
  }

  /// The mapping for messages, e.g. `scale[2.0, 2.0]` or a sequence of such steps.
  public var description: String {
    switch step {
    case .identity: return "identity"
    case .mapAxis(let p): return "mapAxis\(p)"
    case .project(let s): return "projectAxis\(s.map { $0.map(String.init) ?? "new" })"
    case .translation(let t): return "translation\(t)"
    case .scale(let s): return "scale\(s)"
    case .affine(let a): return "affine\(a)"
    case .rotation(let r): return "rotation\(r)"
    case .sequence(let p): return "sequence[" + p.map(\.description).joined(separator: ", ") + "]"
    case .byDimension(let p): return "byDimension[" + p.map { "\($0.inputAxes)->\($0.outputAxes): \($0.mapping)" }.joined(separator: ", ") + "]"
    case .field(let f): return "\(f.kind.rawValue)(\(f.path))"
    case .fieldInverse(let f): return "inverse of \(f.kind.rawValue)(\(f.path))"
    case .bijection(let f, let i): return "bijection(forward: \(f), inverse: \(i))"
    }
  }
}

extension CoordinateMapping.Step {
  /// The inverse permutation of a `mapAxis`.
  fileprivate var inverted: CoordinateMapping.Step {
    guard case .mapAxis(let p) = self else { return self }
    var q = [Int](repeating: 0, count: p.count)
    for (i, a) in p.enumerated() { q[a] = i }
    return .mapAxis(q)
  }
}

extension Matrix {
  /// An `M x (N+1)` affine with the row `[0 … 0 1]` appended.
  var homogeneous: Matrix {
    var e = entries
    e += [Double](repeating: 0, count: columns - 1) + [1]
    return Matrix(rows: rows + 1, columns: columns, entries: e)
  }
}
