import ZarrIO

/// A named coordinate system (0.6, RFC-5): `{"name": "physical", "axes": [...]}`.
public struct CoordinateSystem: Sendable, Hashable {
  /// The system's name, unique among the systems of a node.
  public var name: String
  /// The axes, in the order of the coordinates.
  public var axes: [Axis]
  /// Keys not modelled, kept as written.
  public var extra: JSONObject = [:]

  /// A system named `name` with `axes`.
  public init(name: String, axes: [Axis]) {
    self.name = name
    self.axes = axes
  }

  /// Reads a coordinate system object; `pointer` locates it for error messages.
  public init(json: JSONValue, pointer: String) throws(OMEZarrError) {
    var r = try ObjectReader(json, pointer: pointer, what: "a coordinate system")
    name = try r.requiredString("name", what: "a coordinate system")
    axes = try r.list("axes") { (v, p) throws(OMEZarrError) in try Axis(json: v, pointer: p) } ?? []
    guard r.has("axes") || !axes.isEmpty else {
      throw OMEZarrError(.invalidMetadata, "coordinate system '\(name)' needs \"axes\"", pointer: pointer)
    }
    extra = r.rest
  }

  /// The system as written in the metadata (unknown keys kept).
  public var json: JSONValue {
    var w = ObjectWriter()
    w.set("name", .string(name))
    w.set("axes", .array(axes.map(\.json)))
    w.merge(extra)
    return w.json
  }
}
