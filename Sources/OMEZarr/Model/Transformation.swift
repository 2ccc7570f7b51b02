import ZarrIO

/// A reference to a coordinate system: by `name`, optionally in the node at `path` (0.6), or by
/// `id` (RFC-8). Older 0.6 drafts wrote a bare string, read as the name.
public struct CoordinateSystemRef: Sendable, Hashable, CustomStringConvertible {
  /// The coordinate system's name (`name`).
  public var name: String?
  /// The node holding the coordinate system, relative to the referring node; `nil` means this node (`path`).
  public var path: String?
  /// The coordinate system's identifier in an RFC-8 collection (`id`).
  public var id: String?
  /// Keys this model does not know, kept so they are written back unchanged.
  public var extra: JSONObject = [:]

  /// Creates a reference by name, by name in the node at `path`, or by RFC-8 `id`.
  public init(name: String? = nil, path: String? = nil, id: String? = nil) {
    self.name = name
    self.path = path
    self.id = id
  }

  /// Reads a reference from a bare name string or an object; `pointer` locates it in error messages.
  public init(json: JSONValue, pointer: String) throws(OMEZarrError) {
    if let s = json.stringValue {
      self.init(name: s)
      return
    }
    var r = try ObjectReader(json, pointer: pointer, what: "a coordinate system reference")
    self.init(name: try r.string("name"), path: try r.string("path"), id: try r.string("id"))
    extra = r.rest
  }

  /// The reference as an object (the canonical 0.6 form), unknown keys kept.
  public var json: JSONValue {
    var w = ObjectWriter()
    w.set("id", id.map(JSONValue.string))
    w.set("name", name.map(JSONValue.string))
    w.set("path", path.map(JSONValue.string))
    w.merge(extra)
    return w.json
  }

  /// The reference for messages: `path:name`, or the name (or `id`) alone.
  public var description: String {
    [path.map { "\($0):" }, name ?? id].compactMap { $0 }.joined()
  }
}

/// A coordinate transformation (0.4/0.5 `scale`/`translation`/`identity`; every RFC-5 type of 0.6).
///
/// Parameters this library does not understand are kept verbatim (``Kind/other(_:)`` and
/// ``extra``), so documents round-trip. Inline parameters and `path` references are both kept.
public struct Transformation: Sendable, Hashable {
  /// The transformation's type and its parameters.
  public indirect enum Kind: Sendable, Hashable {
    /// The identity: output coordinates equal input coordinates (`identity`).
    case identity
    /// Output axis `i` is input axis `mapAxis[i]`.
    case mapAxis([Int])
    /// Drops the listed input axes and creates the listed output axes, which get value 0 (`projectAxis`).
    case projectAxis(droppedInputs: [Int], createdOutputs: [Int])
    /// Adds one offset per axis (`translation`), in the output coordinate system's units.
    case translation([Double])
    /// Multiplies by one factor per axis (`scale`).
    case scale([Double])
    /// Rows of an M x (N+1) matrix (the homogeneous last row omitted).
    case affine([[Double]])
    /// Rows of an N x N rotation matrix, orthonormal with determinant 1 (`rotation`).
    case rotation([[Double]])
    /// Transformations applied one after another, first to last (`sequence`).
    case sequence([Transformation])
    /// A displacement field stored in the multiscale group at `path`, added to the input coordinates.
    case displacements(interpolation: String?)
    /// A coordinate field stored in the multiscale group at `path`, giving the output coordinates directly.
    case coordinates(interpolation: String?)
    /// A transformation with its explicit inverse (`forward`, `inverse`).
    case bijection(forward: Transformation, inverse: Transformation)
    /// Transformations of subsets of the axes, combined into one (`byDimension`).
    case byDimension([ByDimensionPart])
    /// Pre-0.6.dev3 data only.
    case inverseOf(Transformation)
    /// A type (or a form of a known type) this library does not read; kept as written.
    case other(String)
  }

  /// The transformation's type and inline parameters.
  public var kind: Kind
  /// A name for the transformation (`name`).
  public var name: String?
  /// The coordinate system the transformation maps from (`input`).
  public var input: CoordinateSystemRef?
  /// The coordinate system the transformation maps to (`output`).
  public var output: CoordinateSystemRef?
  /// A Zarr node holding the parameters (affine, rotation, displacements, coordinates; 0.4 scale).
  public var path: String?
  /// Keys this model does not know, kept so they are written back unchanged.
  public var extra: JSONObject = [:]

  /// Creates a transformation of the given kind, optionally named, with its systems and a parameter `path`.
  public init(_ kind: Kind, name: String? = nil, input: CoordinateSystemRef? = nil, output: CoordinateSystemRef? = nil,
              path: String? = nil) {
    self.kind = kind
    self.name = name
    self.input = input
    self.output = output
    self.path = path
  }

  /// A `scale` transformation with one factor per axis, without input or output.
  public static func scale(_ s: [Double]) -> Transformation { Transformation(.scale(s)) }
  /// A `translation` transformation with one offset per axis, without input or output.
  public static func translation(_ t: [Double]) -> Transformation { Transformation(.translation(t)) }
  /// The `identity` transformation, without input or output.
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

  /// Reads a transformation from its JSON object, keeping unreadable parameters as `.other`; `pointer` locates errors.
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

  /// The transformation as written to metadata (0.6 form), unknown keys kept.
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
/// Reads both the 0.6 form (since rc0) `{"transformation": T, "inputAxes": [..], "outputAxes": [..]}` and the
/// older flattened form `{...T, "input_axes": [..], "output_axes": [..]}`; writes the 0.6 form.
public struct ByDimensionPart: Sendable, Hashable {
  /// The transformation applied to the selected axes (`transformation`).
  public var transformation: Transformation
  /// The indices of the input axes the part reads (`inputAxes`).
  public var inputAxes: [Int]
  /// The indices of the output axes the part writes (`outputAxes`).
  public var outputAxes: [Int]
  /// Keys this model does not know, kept so they are written back unchanged.
  public var extra: JSONObject = [:]

  /// Creates a part applying `transformation` from `inputAxes` to `outputAxes`.
  public init(_ transformation: Transformation, inputAxes: [Int], outputAxes: [Int]) {
    self.transformation = transformation
    self.inputAxes = inputAxes
    self.outputAxes = outputAxes
  }

  /// Reads a part in the 0.6 (rc0 and later) or the older flattened form; `pointer` locates it in error messages.
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

  /// The part in the 0.6 form, unknown keys kept.
  public var json: JSONValue {
    var w = ObjectWriter()
    w.set("transformation", transformation.json)
    w.set("inputAxes", .ints(inputAxes))
    w.set("outputAxes", .ints(outputAxes))
    w.merge(extra)
    return w.json
  }
}
