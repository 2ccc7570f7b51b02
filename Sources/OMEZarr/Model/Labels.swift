import ZarrIO

/// A label image's description (`image-label`): colors, properties and the source image.
public struct ImageLabel: Sendable, Hashable {
  public struct Color: Sendable, Hashable {
    public var labelValue: Int
    /// Four values 0...255.
    public var rgba: [Int]?
    public var extra: JSONObject = [:]

    public init(labelValue: Int, rgba: [Int]?) {
      self.labelValue = labelValue
      self.rgba = rgba
    }

    public init(json: JSONValue, pointer: String) throws(OMEZarrError) {
      var r = try ObjectReader(json, pointer: pointer, what: "a label color")
      guard let v = try r.int("label-value") else {
        throw OMEZarrError(.invalidMetadata, "a label color needs an integer \"label-value\"", pointer: pointer)
      }
      self.init(labelValue: v, rgba: try r.ints("rgba"))
      extra = r.rest
    }

    public var json: JSONValue {
      var w = ObjectWriter()
      w.set("label-value", .int(Int64(labelValue)))
      w.set("rgba", rgba.map { .ints($0) })
      w.merge(extra)
      return w.json
    }
  }

  public var version: String?
  public var colors: [Color]?
  /// Per-label properties, each an object with `label-value` and any keys, kept as written.
  public var properties: [JSONObject]?
  /// `source.image`: the image the labels belong to, relative (default `../../`).
  public var sourceImage: String?
  public var sourceExtra: JSONObject = [:]
  public var extra: JSONObject = [:]

  public init(colors: [Color]? = nil, properties: [JSONObject]? = nil, sourceImage: String? = "../../") {
    self.colors = colors
    self.properties = properties
    self.sourceImage = sourceImage
  }

  public init(json: JSONValue, pointer: String) throws(OMEZarrError) {
    var r = try ObjectReader(json, pointer: pointer, what: "image-label")
    version = try r.string("version")
    colors = try r.list("colors") { (v, p) throws(OMEZarrError) in try Color(json: v, pointer: p) }
    properties = try r.list("properties") { (v, p) throws(OMEZarrError) -> JSONObject in
      guard let o = v.objectValue else { throw OMEZarrError(.invalidMetadata, "a label property must be an object", pointer: p) }
      return o
    }
    if let s = r.value("source"), !s.isNull {
      var sr = try ObjectReader(s, pointer: r.child("source"), what: "source")
      sourceImage = try sr.string("image")
      sourceExtra = sr.rest
    }
    extra = r.rest
  }

  public var json: JSONValue {
    var w = ObjectWriter()
    w.set("version", version.map(JSONValue.string))
    w.set("colors", colors.map { .array($0.map(\.json)) })
    w.set("properties", properties.map { .array($0.map(JSONValue.object)) })
    if sourceImage != nil || !sourceExtra.isEmpty {
      var s = ObjectWriter()
      s.set("image", sourceImage.map(JSONValue.string))
      s.merge(sourceExtra)
      w.set("source", s.json)
    }
    w.merge(extra)
    return w.json
  }
}
