import ZarrIO

/// A reference to an object with an `id` (a node, a coordinate system, a plate row), in this
/// document or, with `path`, in another. Early drafts wrote a bare id string.
public struct NodeReference: Sendable, Hashable {
  public var id: String
  public var path: PathReference?
  public var extra: JSONObject = [:]

  public init(id: String, path: PathReference? = nil) {
    self.id = id
    self.path = path
  }

  public init(json: JSONValue, pointer: String) throws(OMEZarrError) {
    if let s = json.stringValue {
      self.init(id: s)
      return
    }
    var r = try ObjectReader(json, pointer: pointer, what: "a reference")
    self.init(id: try r.requiredString("id", what: "a reference"))
    if let p = r.value("path"), !p.isNull { path = try PathReference(json: p, pointer: r.child("path")) }
    extra = r.rest
  }

  public var json: JSONValue {
    var w = ObjectWriter()
    w.set("id", .string(id))
    w.set("path", path?.json)
    w.merge(extra)
    return w.json
  }
}
