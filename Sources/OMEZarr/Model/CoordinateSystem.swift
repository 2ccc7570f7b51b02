import ZarrIO

/// A named coordinate system (0.6, RFC-5): `{"name": "physical", "axes": [...]}`.
public struct CoordinateSystem: Sendable, Hashable {
  public var name: String
  public var axes: [Axis]
  public var extra: JSONObject = [:]

  public init(name: String, axes: [Axis]) {
    self.name = name
    self.axes = axes
  }

  public init(json: JSONValue, pointer: String) throws(OMEZarrError) {
    var r = try ObjectReader(json, pointer: pointer, what: "a coordinate system")
    name = try r.requiredString("name", what: "a coordinate system")
    axes = try r.list("axes") { (v, p) throws(OMEZarrError) in try Axis(json: v, pointer: p) } ?? []
    guard r.has("axes") || !axes.isEmpty else {
      throw OMEZarrError(.invalidMetadata, "coordinate system '\(name)' needs \"axes\"", pointer: pointer)
    }
    extra = r.rest
  }

  public var json: JSONValue {
    var w = ObjectWriter()
    w.set("name", .string(name))
    w.set("axes", .array(axes.map(\.json)))
    w.merge(extra)
    return w.json
  }
}
