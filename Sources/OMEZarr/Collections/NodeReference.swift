import ZarrIO

/// A reference to an object with an `id` (a node, a coordinate system, a plate row), in this
/// document or, with `path`, in another. Early drafts wrote a bare id string.
public struct NodeReference: Sendable, Hashable {
  /// The identifier of the referenced object (`id`).
  public var id: String
  /// The document holding the object; `nil` means this document (`path`).
  public var path: PathReference?
  /// Keys this model does not know, kept so they are written back unchanged.
  public var extra: JSONObject = [:]

  /// Creates a reference to `id`, in this document or in the one at `path`.
  public init(id: String, path: PathReference? = nil) {
    self.id = id
    self.path = path
  }

  /// Reads a reference from an object or a bare id string; `pointer` locates it in error messages.
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

  /// The reference as an object (the current draft's form), unknown keys kept.
  public var json: JSONValue {
    var w = ObjectWriter()
    w.set("id", .string(id))
    w.set("path", path?.json)
    w.merge(extra)
    return w.json
  }
}
