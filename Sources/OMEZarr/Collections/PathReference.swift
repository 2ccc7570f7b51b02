import ZarrIO

/// Where an RFC-8 node's metadata lives: `{"type": "zarr" | "json" | "prefix:custom", "path": …}`.
///
/// `path` is relative to the document holding it (`./image.ome.zarr`, `../other.json`), a
/// `file://` URL, or an `http(s)://` URL. Early drafts wrote a bare string, read with the type
/// inferred (`json` for `*.json`, else `zarr`).
public struct PathReference: Sendable, Hashable, CustomStringConvertible {
  /// How to read the target: `zarr` (a group or array, `zarr.json` appended), `json` (a document), or `prefix:custom`.
  public var type: String
  /// The target: relative to the holding document, a `file://` URL or an `http(s)://` URL (`path`).
  public var path: String
  /// Keys this model does not know, kept so they are written back unchanged.
  public var extra: JSONObject = [:]

  /// Creates a path reference of an explicit type.
  public init(type: String, path: String) {
    self.type = type
    self.path = path
  }

  /// A path to `path`, typed `json` when it names a `.json` file, else `zarr`.
  public init(inferring path: String) {
    self.init(type: path.hasSuffix(".json") ? "json" : "zarr", path: path)
  }

  /// Reads a path from an object or a bare string (type inferred); `pointer` locates it in error messages.
  public init(json: JSONValue, pointer: String) throws(OMEZarrError) {
    if let s = json.stringValue {
      self.init(inferring: s)
      return
    }
    var r = try ObjectReader(json, pointer: pointer, what: "a path")
    // One example repository wrote `value` for `path`.
    let p0 = try r.string("path"), p1 = try r.string("value")
    guard let p = p0 ?? p1 else {
      throw OMEZarrError(.invalidMetadata, "a path needs a string \"path\"", pointer: pointer)
    }
    let type = try r.string("type")
    self.init(type: type ?? (p.hasSuffix(".json") ? "json" : "zarr"), path: p)
    extra = r.rest
  }

  /// The path reference as an object (the current draft's form), unknown keys kept.
  public var json: JSONValue {
    var w = ObjectWriter()
    w.set("type", .string(type))
    w.set("path", .string(path))
    w.merge(extra)
    return w.json
  }

  /// A URL of a remote scheme (`http://`, `https://`, `s3://`, …).
  public var isRemote: Bool { StoreLocation.scheme(of: path).map { $0 != "file" } ?? false }
  /// A `file://` URL.
  public var isFileURL: Bool { StoreLocation.scheme(of: path) == "file" }
  /// Any URL (`scheme://…`), as opposed to a path relative to the document.
  public var isURL: Bool { StoreLocation.isURL(path) }

  /// The reference for messages: `type:path`.
  public var description: String { "\(type):\(path)" }
}
