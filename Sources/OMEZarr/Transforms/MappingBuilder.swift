import ZarrIO

/// Where a transformation's `path` parameters are read from: the store, and the node whose
/// metadata holds the transformation (relative paths resolve against it, `/…` against the root).
public struct ParameterSource: Sendable {
  /// The store parameter arrays are read from.
  public let store: any Store
  /// The store path of the node whose metadata holds the transformation.
  public let base: String
  /// Fields larger than this many values are refused rather than loaded.
  public var maxFieldValues = 1 << 24

  /// Reads parameters from `store`, resolving relative paths against the node at `base`.
  public init(store: any Store, base: String) {
    self.store = store
    self.base = base
  }

  func resolve(_ path: String) -> String { StorePath.resolve(path, from: base) }

  /// All values of the array at `path`, with its shape.
  func array(_ path: String) throws(OMEZarrError) -> (shape: [Int], values: [Double], attributes: JSONObject) {
    let key = resolve(path)
    do {
      let a = try ZarrArray.open(in: store, path: key)
      // Saturates instead of overflowing: a shape near 2^63 is just "too many".
      let count = CheckedArithmetic.saturatingProduct(a.shape)
      guard count <= maxFieldValues else {
        throw OMEZarrError(.unsupported, "parameter array '\(key)' has \(count) values, more than the limit of \(maxFieldValues)")
      }
      guard let values = try a.read().doubleValues() else {
        throw OMEZarrError(.invalidMetadata, "parameter array '\(key)' has data type \(a.metadata.dataType), not a number")
      }
      return (a.shape, values, a.attributes)
    } catch let e as OMEZarrError {
      throw e
    } catch {
      throw OMEZarrError(.inconsistent, "cannot read parameter array '\(key)': \(error)")
    }
  }

  func matrix(_ path: String) throws(OMEZarrError) -> Matrix {
    let (shape, values, _) = try array(path)
    guard shape.count == 2 else {
      throw OMEZarrError(.invalidMetadata, "matrix array '\(resolve(path))' has \(shape.count) dimensions, not 2")
    }
    return Matrix(rows: shape[0], columns: shape[1], entries: values)
  }

  func vector(_ path: String) throws(OMEZarrError) -> [Double] {
    let (shape, values, _) = try array(path)
    guard shape.count == 1 else {
      throw OMEZarrError(.invalidMetadata, "parameter array '\(resolve(path))' has \(shape.count) dimensions, not 1")
    }
    return values
  }

  /// The field at `path`: a multiscale group (0.6 since rc0; its first level is used) or an array whose
  /// attributes describe its coordinate system (earlier drafts), or a bare array (vector axis last).
  func field(_ path: String, kind: VectorField.Kind, interpolation: String?) throws(OMEZarrError) -> VectorField {
    let key = resolve(path)
    let interp: VectorField.Interpolation
    switch interpolation ?? "linear" {
    case "linear": interp = .linear
    case "nearest": interp = .nearest
    default:
      throw OMEZarrError(.unsupported, "interpolation '\(interpolation ?? "")' of field '\(key)' is not supported (linear, nearest)")
    }
    // Find the array and its description: coordinate systems and the array -> field transformation.
    var arrayPath = key
    var systems: [CoordinateSystem] = []
    var toField: [Transformation] = []
    let attributes: JSONObject
    do {
      attributes = try ZarrNode.open(in: store, path: key).attributes
    } catch {
      throw OMEZarrError(.inconsistent, "cannot open field '\(key)': \(error)")
    }
    if let ms = try OMEAttributes(attributes: attributes).multiscales?.first, let level = ms.datasets.first {
      arrayPath = StorePath.resolve(level.path, from: key)
      systems = ms.coordinateSystems ?? ms.axes.map { [CoordinateSystem(name: "field", axes: $0)] } ?? []
      if let out = level.coordinateTransformations.first?.output?.name, let i = systems.firstIndex(where: { $0.name == out }) {
        systems = [systems[i]]
      }
      toField = level.coordinateTransformations
    } else {
      let o = OMEMetadataObject(attributes: attributes).object
      if let list = o["coordinateSystems"]?.arrayValue {
        for (i, v) in list.enumerated() { systems.append(try CoordinateSystem(json: v, pointer: "/coordinateSystems/\(i)")) }
      }
      if let list = o["coordinateTransformations"]?.arrayValue {
        for (i, v) in list.enumerated() { toField.append(try Transformation(json: v, pointer: "/coordinateTransformations/\(i)")) }
      }
    }
    let (shape, raw, _) = try array("/" + arrayPath)
    let ndim = shape.count
    guard ndim <= VectorField.maxDimension + 1 else {
      throw OMEZarrError(.unsupported, "field '\(key)' has \(ndim) dimensions; at most \(VectorField.maxDimension) grid axes are supported")
    }
    guard ndim >= 2 else {
      throw OMEZarrError(.invalidMetadata, "field '\(key)' has \(ndim) dimensions; it needs one per input axis plus one for the vectors")
    }
    // The vector axis: typed `displacement`/`coordinate` in the field's system, else the last.
    let vectorType: AxisType = kind == .displacements ? .displacement : .coordinate
    var v = ndim - 1
    if let cs = systems.first(where: { $0.axes.count == ndim }), let i = cs.axes.firstIndex(where: { $0.type == vectorType }) {
      v = i
    }
    guard let st = Transformation.scaleAndTranslation(toField, ndim: ndim) else {
      throw OMEZarrError(.unsupported, "field '\(key)': the transformation from its array to its coordinate system is not a scale and translation")
    }
    let spatial = (0..<ndim).filter { $0 != v }
    let components = shape[v]
    let gridShape = spatial.map { shape[$0] }
    guard !gridShape.contains(0), components > 0 else {
      throw OMEZarrError(.invalidMetadata, "field '\(key)' is empty (shape \(shape))")
    }
    // Reorder to components last.
    var values = raw
    if v != ndim - 1 {
      var strides = [Int](repeating: 1, count: ndim)
      for k in stride(from: ndim - 2, through: 0, by: -1) { strides[k] = strides[k + 1] * shape[k + 1] }
      var index = [Int](repeating: 0, count: ndim - 1)
      var o = 0
      for _ in 0..<gridShape.reduce(1, *) {
        var src = 0
        for (j, axis) in spatial.enumerated() { src += index[j] * strides[axis] }
        for c in 0..<components {
          values[o] = raw[src + c * strides[v]]
          o += 1
        }
        var j = ndim - 2
        while j >= 0 {
          index[j] += 1
          if index[j] < gridShape[j] { break }
          index[j] = 0
          j -= 1
        }
      }
    }
    let scale = spatial.map { st.scale[$0] }
    if let bad = scale.firstIndex(where: { $0 == 0 || !$0.isFinite }) {
      throw OMEZarrError(.invalidMetadata, "field '\(key)' has a scale of \(scale[bad]) on axis \(spatial[bad]); it must be finite and not zero")
    }
    if let bad = st.translation.firstIndex(where: { !$0.isFinite }) {
      throw OMEZarrError(.invalidMetadata, "field '\(key)' has a translation of \(st.translation[bad]) on axis \(bad); it must be finite")
    }
    return VectorField(kind: kind, path: key, interpolation: interp, shape: gridShape, components: components,
      values: values, scale: scale, translation: spatial.map { st.translation[$0] })
  }
}

extension CoordinateMapping {
  /// The mapping a transformation describes, between systems of `inputDimension` and
  /// `outputDimension` axes (either may be `nil` when unknown, e.g. inside a sequence; it is then
  /// inferred from the parameters).
  /// - Throws: `OMEZarrError` naming the problem: unknown type, parameters that do not fit the
  ///   dimensions, a parameter array that cannot be read.
  public init(_ t: Transformation, inputDimension n: Int?, outputDimension m: Int?, parameters: ParameterSource) throws(OMEZarrError) {
    func checkSize(_ d: Int, _ what: String) throws(OMEZarrError) {
      guard d <= Self.maxDimension else {
        throw OMEZarrError(.unsupported, "\(what) has \(d) dimensions; at most \(Self.maxDimension) are supported")
      }
    }
    if let n { try checkSize(n, "the input system of \(t.type)") }
    if let m { try checkSize(m, "the output system of \(t.type)") }
    func dims(_ d: Int, _ what: String) throws(OMEZarrError) -> Int {
      try checkSize(d, t.type)
      if let n, n != d { throw OMEZarrError(.invalidMetadata, "\(what) has \(d) dimensions but its input system \(n)") }
      if let m, m != d { throw OMEZarrError(.invalidMetadata, "\(what) has \(d) dimensions but its output system \(m)") }
      return d
    }
    switch t.kind {
    case .identity:
      guard let d = n ?? m else { throw OMEZarrError(.invalidMetadata, "identity: the dimension is unknown (no input or output system)") }
      self = .identity(try dims(d, "identity"))
    case .mapAxis(let p):
      let d = try dims(p.count, "mapAxis \(p)")
      guard p.sorted() == Array(0..<d) else {
        throw OMEZarrError(.invalidMetadata, "mapAxis \(p) is not a permutation of 0..<\(d)")
      }
      self.init(.mapAxis(p), input: d, output: d)
    case .projectAxis(let dropped, let created):
      guard let inDim = n ?? m.map({ $0 - created.count + dropped.count }) else {
        throw OMEZarrError(.invalidMetadata, "projectAxis: the input dimension is unknown")
      }
      let outDim = inDim - dropped.count + created.count
      guard inDim >= 0, outDim >= 0 else {
        throw OMEZarrError(.invalidMetadata, "projectAxis: dropping \(dropped.count) and creating \(created.count) axes does not fit \(m ?? 0) output axes")
      }
      if let m, m != outDim { throw OMEZarrError(.invalidMetadata, "projectAxis gives \(outDim) dimensions but its output system has \(m)") }
      guard Set(dropped).count == dropped.count, dropped.allSatisfy({ (0..<inDim).contains($0) }),
        Set(created).count == created.count, created.allSatisfy({ (0..<outDim).contains($0) })
      else {
        throw OMEZarrError(.invalidMetadata, "projectAxis: droppedInputs \(dropped) or createdOutputs \(created) out of range or repeated")
      }
      var kept = (0..<inDim).filter { !dropped.contains($0) }.makeIterator()
      let source: [Int?] = (0..<outDim).map { created.contains($0) ? nil : kept.next() }
      self.init(.project(source: source), input: inDim, output: outDim)
    case .translation(let v):
      let values = v.isEmpty && t.path != nil ? try parameters.vector(t.path ?? "") : v
      let d = try dims(values.count, "translation \(values)")
      self.init(.translation(values), input: d, output: d)
    case .scale(let v):
      let values = v.isEmpty && t.path != nil ? try parameters.vector(t.path ?? "") : v
      let d = try dims(values.count, "scale \(values)")
      self.init(.scale(values), input: d, output: d)
    case .affine(let rows):
      var a = try rows.isEmpty && t.path != nil ? parameters.matrix(t.path ?? "") : Self.matrix(rows, "affine")
      // Lenient: a full homogeneous matrix (last row 0 … 0 1) is read as its upper rows.
      if a.rows == a.columns, a.rows > 1, (m.map { $0 + 1 == a.rows } ?? true),
        a.rowList.last == [Double](repeating: 0, count: a.columns - 1) + [1]
      {
        a = Matrix(rows: a.rows - 1, columns: a.columns, entries: Array(a.entries.dropLast(a.columns)))
      }
      guard a.columns >= 2 else { throw OMEZarrError(.invalidMetadata, "affine \(a) needs N+1 >= 2 columns") }
      try checkSize(a.columns - 1, "affine")
      try checkSize(a.rows, "affine")
      if let n, a.columns != n + 1 {
        throw OMEZarrError(.invalidMetadata, "affine has \(a.columns) columns; an input of \(n) dimensions needs \(n + 1)")
      }
      if let m, a.rows != m {
        throw OMEZarrError(.invalidMetadata, "affine has \(a.rows) rows; an output of \(m) dimensions needs \(m)")
      }
      self = .affine(a)
    case .rotation(let rows):
      let r = try rows.isEmpty && t.path != nil ? parameters.matrix(t.path ?? "") : Self.matrix(rows, "rotation")
      guard r.rows == r.columns else { throw OMEZarrError(.invalidMetadata, "rotation \(r) is not square") }
      let d = try dims(r.rows, "rotation")
      self.init(.rotation(r), input: d, output: d)
    case .sequence(let list):
      guard !list.isEmpty else { throw OMEZarrError(.invalidMetadata, "a sequence needs at least one transformation") }
      var parts: [CoordinateMapping] = []
      var dim = n
      for (i, inner) in list.enumerated() {
        do {
          let p = try CoordinateMapping(inner, inputDimension: dim, outputDimension: i == list.count - 1 ? m : nil,
            parameters: parameters)
          parts.append(p)
          dim = p.outputDimension
        } catch {
          throw OMEZarrError(error.code, "sequence item \(i) (\(inner.type)): \(error.message)")
        }
      }
      self.init(.sequence(parts), input: parts[0].inputDimension, output: parts[parts.count - 1].outputDimension)
    case .displacements(let interpolation), .coordinates(let interpolation):
      guard let path = t.path else { throw OMEZarrError(.invalidMetadata, "\(t.type) needs a \"path\" to its field") }
      let kind: VectorField.Kind = t.type == "displacements" ? .displacements : .coordinates
      let f = try parameters.field(path, kind: kind, interpolation: interpolation)
      if let n, f.dimension != n {
        throw OMEZarrError(.invalidMetadata, "field '\(f.path)' has \(f.dimension) grid axes but the input system \(n)")
      }
      if let m, f.components != m {
        throw OMEZarrError(.invalidMetadata, "field '\(f.path)' has vectors of length \(f.components) but the output system \(m) axes")
      }
      if kind == .displacements && f.components != f.dimension {
        throw OMEZarrError(.invalidMetadata, "displacements field '\(f.path)' has vectors of length \(f.components) on \(f.dimension) axes")
      }
      self.init(.field(f), input: f.dimension, output: f.components)
    case .bijection(let forward, let inverse):
      let f: CoordinateMapping, i: CoordinateMapping
      do { f = try CoordinateMapping(forward, inputDimension: n, outputDimension: m, parameters: parameters) } catch {
        throw OMEZarrError(error.code, "bijection forward: \(error.message)")
      }
      do {
        i = try CoordinateMapping(inverse, inputDimension: f.outputDimension, outputDimension: f.inputDimension,
          parameters: parameters)
      } catch {
        throw OMEZarrError(error.code, "bijection inverse: \(error.message)")
      }
      self.init(.bijection(forward: f, inverse: i), input: f.inputDimension, output: f.outputDimension)
    case .byDimension(let list):
      guard !list.isEmpty else { throw OMEZarrError(.invalidMetadata, "a byDimension needs at least one transformation") }
      // Unknown dimensions are inferred from the largest axis index (checked before it is used).
      func inferred(_ given: Int?, _ axes: [Int]) throws(OMEZarrError) -> Int {
        if let given { return given }
        return try dims(Swift.max(Swift.min(axes.max() ?? -1, Self.maxDimension), -1) + 1, "byDimension")
      }
      let inDim = try inferred(n, list.flatMap(\.inputAxes))
      let outDim = try inferred(m, list.flatMap(\.outputAxes))
      var parts: [DimensionPart] = []
      var covered = [Int](repeating: 0, count: outDim)
      for (i, part) in list.enumerated() {
        guard part.inputAxes.allSatisfy({ (0..<inDim).contains($0) }), part.outputAxes.allSatisfy({ (0..<outDim).contains($0) }) else {
          throw OMEZarrError(.invalidMetadata,
            "byDimension item \(i): axes \(part.inputAxes) -> \(part.outputAxes) outside \(inDim) -> \(outDim) dimensions")
        }
        for a in part.outputAxes { covered[a] += 1 }
        do {
          let mapping = try CoordinateMapping(part.transformation, inputDimension: part.inputAxes.count,
            outputDimension: part.outputAxes.count, parameters: parameters)
          parts.append(DimensionPart(mapping: mapping, inputAxes: part.inputAxes, outputAxes: part.outputAxes))
        } catch {
          throw OMEZarrError(error.code, "byDimension item \(i) (\(part.transformation.type)): \(error.message)")
        }
      }
      if let a = covered.firstIndex(where: { $0 != 1 }) {
        throw OMEZarrError(.invalidMetadata, "byDimension: output axis \(a) is set by \(covered[a]) transformations, not exactly one")
      }
      self.init(.byDimension(parts), input: inDim, output: outDim)
    case .inverseOf(let inner):
      let forward = try CoordinateMapping(inner, inputDimension: m, outputDimension: n, parameters: parameters)
      self = try forward.inverse()
    case .other(let type):
      throw OMEZarrError(.unsupported, "transformation type '\(type)' (or this form of it) is not supported")
    }
  }

  private static func matrix(_ rows: [[Double]], _ what: String) throws(OMEZarrError) -> Matrix {
    guard let m = Matrix(rows), m.rows > 0 else { throw OMEZarrError(.invalidMetadata, "\(what) rows are empty or of different lengths") }
    return m
  }
}
