import ZarrIO

/// A reference to a coordinate system: by `name`, optionally in the node at `path` (0.6), or by
/// `id` (RFC-8). Older 0.6 drafts wrote a bare string, read as the name.
public struct CoordinateSystemRef: Sendable, Hashable, CustomStringConvertible {
  public var name: String?
  public var path: String?
  public var id: String?
  public var extra: JSONObject = [:]

  public init(name: String? = nil, path: String? = nil, id: String? = nil) {
    self.name = name
    self.path = path
    self.id = id
  }

  public init(json: JSONValue, pointer: String) throws(OMEZarrError) {
    if let s = json.stringValue {
      self.init(name: s)
      return
    }
    var r = try ObjectReader(json, pointer: pointer, what: "a coordinate system reference")
    self.init(name: try r.string("name"), path: try r.string("path"), id: try r.string("id"))
    extra = r.rest
  }

  public var json: JSONValue {
    var w = ObjectWriter()
    w.set("id", id.map(JSONValue.string))
    w.set("name", name.map(JSONValue.string))
    w.set("path", path.map(JSONValue.string))
    w.merge(extra)
    return w.json
  }

  public var description: String {
    [path.map { "\($0):" }, name ?? id].compactMap { $0 }.joined()
  }
}

/// A coordinate transformation (0.4/0.5 `scale`/`translation`/`identity`; every RFC-5 type of 0.6).
///
/// Parameters this library does not understand are kept verbatim (``Kind/other(_:)`` and
/// ``extra``), so documents round-trip. Inline parameters and `path` references are both kept.
public struct Transformation: Sendable, Hashable {
  public indirect enum Kind: Sendable, Hashable {
    case identity
    /// Output axis `i` is input axis `mapAxis[i]`.
    case mapAxis([Int])
    case projectAxis(droppedInputs: [Int], createdOutputs: [Int])
    case translation([Double])
    case scale([Double])
    /// Rows of an M x (N+1) matrix (the homogeneous last row omitted).
    case affine([[Double]])
    case rotation([[Double]])
    case sequence([Transformation])
    case displacements(interpolation: String?)
    case coordinates(interpolation: String?)
    case bijection(forward: Transformation, inverse: Transformation)
    case byDimension([ByDimensionPart])
    /// Pre-0.6.dev3 data only.
    case inverseOf(Transformation)
    /// A type (or a form of a known type) this library does not read; kept as written.
    case other(String)
  }

  public var kind: Kind
  public var name: String?
  public var input: CoordinateSystemRef?
  public var output: CoordinateSystemRef?
  /// A Zarr node holding the parameters (affine, rotation, displacements, coordinates; 0.4 scale).
  public var path: String?
  public var extra: JSONObject = [:]

  public init(_ kind: Kind, name: String? = nil, input: CoordinateSystemRef? = nil, output: CoordinateSystemRef? = nil,
              path: String? = nil) {
    self.kind = kind
    self.name = name
    self.input = input
    self.output = output
    self.path = path
  }

  public static func scale(_ s: [Double]) -> Transformation { Transformation(.scale(s)) }
  public static func translation(_ t: [Double]) -> Transformation { Transformation(.translation(t)) }
  public static let identity = Transformation(.identity)

  /// The `type` string.
  public var type: String {
    switch kind {
    case .identity: return "identity"
    case .mapAxis: return "mapAxis"
    case .projectAxis: return "projectAxis"
    case .translation: return "translation"
    case .scale: return "scale"
    case .affine: return "affine"
    case .rotation: return "rotation"
    case .sequence: return "sequence"
    case .displacements: return "displacements"
    case .coordinates: return "coordinates"
    case .bijection: return "bijection"
    case .byDimension: return "byDimension"
    case .inverseOf: return "inverseOf"
    case .other(let t): return t
    }
  }

  public init(json: JSONValue, pointer: String) throws(OMEZarrError) {
    var r = try ObjectReader(json, pointer: pointer, what: "a coordinate transformation")
    let type = try r.requiredString("type", what: "a coordinate transformation")
    name = try r.string("name")
    if let i = r.value("input") { input = try CoordinateSystemRef(json: i, pointer: r.child("input")) }
    if let o = r.value("output") { output = try CoordinateSystemRef(json: o, pointer: r.child("output")) }
    // Parameters: a form we cannot read falls back to `.other` with the original keys kept.
    var params = r
    do {
      kind = try Transformation.readKind(type, &params)
      path = try params.string("path")
      r = params
    } catch {
      kind = .other(type)
      path = nil
    }
    extra = r.rest
  }

  private static func matrix(_ r: inout ObjectReader, _ key: String) throws(OMEZarrError) -> [[Double]] {
    try r.list(key) { (row, p) throws(OMEZarrError) -> [Double] in
      guard let a = row.arrayValue else { throw OMEZarrError(.invalidMetadata, "matrix rows must be lists", pointer: p) }
      var out: [Double] = []
      for v in a {
        guard let d = v.doubleValue else { throw OMEZarrError(.invalidMetadata, "matrix entries must be numbers", pointer: p) }
        out.append(d)
      }
      return out
    } ?? []
  }

  private static func readKind(_ type: String, _ r: inout ObjectReader) throws(OMEZarrError) -> Kind {
    switch type {
    case "identity": return .identity
    case "mapAxis":
      guard let m = try r.ints("mapAxis") else { throw OMEZarrError(.invalidMetadata, "mapAxis needs a list") }
      return .mapAxis(m)
    case "projectAxis":
      return .projectAxis(droppedInputs: try r.ints("droppedInputs") ?? [], createdOutputs: try r.ints("createdOutputs") ?? [])
    case "translation":
      return .translation(try r.numbers("translation") ?? [])
    case "scale":
      return .scale(try r.numbers("scale") ?? [])
    case "affine":
      return .affine(try matrix(&r, "affine"))
    case "rotation":
      return .rotation(try matrix(&r, "rotation"))
    case "sequence":
      return .sequence(try r.list("transformations") { (v, p) throws(OMEZarrError) in try Transformation(json: v, pointer: p) } ?? [])
    case "displacements":
      return .displacements(interpolation: try r.string("interpolation"))
    case "coordinates":
      return .coordinates(interpolation: try r.string("interpolation"))
    case "bijection":
      let f = try r.required("forward", what: "bijection"), i = try r.required("inverse", what: "bijection")
      return .bijection(forward: try Transformation(json: f, pointer: r.child("forward")),
        inverse: try Transformation(json: i, pointer: r.child("inverse")))
    case "byDimension":
      return .byDimension(try r.list("transformations") { (v, p) throws(OMEZarrError) in try ByDimensionPart(json: v, pointer: p) } ?? [])
    case "inverseOf":
      let t = try r.required("transformation", what: "inverseOf")
      return .inverseOf(try Transformation(json: t, pointer: r.child("transformation")))
    default:
      throw OMEZarrError(.unsupported, "unknown transformation type '\(type)'")
    }
  }

  public var json: JSONValue {
    var w = ObjectWriter()
    w.set("type", .string(type))
    w.set("name", name.map(JSONValue.string))
    w.set("input", input?.json)
    w.set("output", output?.json)
    switch kind {
    case .identity, .other: break
    case .mapAxis(let m): w.set("mapAxis", .ints(m))
    case .projectAxis(let d, let c):
      if !d.isEmpty { w.set("droppedInputs", .ints(d)) }
      if !c.isEmpty { w.set("createdOutputs", .ints(c)) }
    case .translation(let t): if !(t.isEmpty && path != nil) { w.set("translation", .numbers(t)) }
    case .scale(let s): if !(s.isEmpty && path != nil) { w.set("scale", .numbers(s)) }
    case .affine(let m): if !(m.isEmpty && path != nil) { w.set("affine", .array(m.map { .numbers($0) })) }
    case .rotation(let m): if !(m.isEmpty && path != nil) { w.set("rotation", .array(m.map { .numbers($0) })) }
    case .sequence(let ts): w.set("transformations", .array(ts.map(\.json)))
    case .displacements(let i), .coordinates(let i): w.set("interpolation", i.map(JSONValue.string))
    case .bijection(let f, let i):
      w.set("forward", f.json)
      w.set("inverse", i.json)
    case .byDimension(let parts): w.set("transformations", .array(parts.map(\.json)))
    case .inverseOf(let t): w.set("transformation", t.json)
    }
    w.set("path", path.map(JSONValue.string))
    w.merge(extra)
    return w.json
  }
}

/// One part of a `byDimension` transformation: a transformation of some input axes to some output axes.
///
/// Reads both the 0.6rc0 form `{"transformation": T, "inputAxes": [..], "outputAxes": [..]}` and the
/// older flattened form `{...T, "input_axes": [..], "output_axes": [..]}`; writes the 0.6rc0 form.
public struct ByDimensionPart: Sendable, Hashable {
  public var transformation: Transformation
  public var inputAxes: [Int]
  public var outputAxes: [Int]
  public var extra: JSONObject = [:]

  public init(_ transformation: Transformation, inputAxes: [Int], outputAxes: [Int]) {
    self.transformation = transformation
    self.inputAxes = inputAxes
    self.outputAxes = outputAxes
  }

  public init(json: JSONValue, pointer: String) throws(OMEZarrError) {
    var r = try ObjectReader(json, pointer: pointer, what: "a byDimension part")
    // Axis indices; older drafts named the axes instead, which is not read (the whole
    // byDimension is then kept as written).
    func axes(_ r: inout ObjectReader, _ keys: [String]) throws(OMEZarrError) -> [Int]? {
      for k in keys where r.has(k) { return try r.ints(k) }
      return nil
    }
    if let t = r.value("transformation") {
      transformation = try Transformation(json: t, pointer: r.child("transformation"))
      inputAxes = try axes(&r, ["inputAxes", "input_axes"]) ?? []
      outputAxes = try axes(&r, ["outputAxes", "output_axes"]) ?? []
      extra = r.rest
    } else {
      // Flattened: the part is the transformation itself plus its axes.
      inputAxes = try axes(&r, ["inputAxes", "input_axes"]) ?? []
      outputAxes = try axes(&r, ["outputAxes", "output_axes"]) ?? []
      transformation = try Transformation(json: .object(r.rest), pointer: pointer)
    }
  }

  public var json: JSONValue {
    var w = ObjectWriter()
    w.set("transformation", transformation.json)
    w.set("inputAxes", .ints(inputAxes))
    w.set("outputAxes", .ints(outputAxes))
    w.merge(extra)
    return w.json
  }
}
