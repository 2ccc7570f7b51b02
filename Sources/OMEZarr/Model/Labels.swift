import ZarrIO

/// A label image's description (`image-label`): colors, properties and the source image.
public struct ImageLabel: Sendable, Hashable {
  /// The display color of one label value (`colors[]`).
  public struct Color: Sendable, Hashable {
    /// The pixel value the color applies to (`label-value`).
    public var labelValue: Int
    /// Four values 0...255.
    public var rgba: [Int]?
    /// Keys this model does not know, kept so they are written back unchanged.
    public var extra: JSONObject = [:]

    /// Creates a color entry for a label value.
    public init(labelValue: Int, rgba: [Int]?) {
      self.labelValue = labelValue
      self.rgba = rgba
    }

    /// Reads a label color from its JSON object; `pointer` locates it in error messages.
    public init(json: JSONValue, pointer: String) throws(OMEZarrError) {
      var r = try ObjectReader(json, pointer: pointer, what: "a label color")
      guard let v = try r.int("label-value") else {
        throw OMEZarrError(.invalidMetadata, "a label color needs an integer \"label-value\"", pointer: pointer)
      }
      self.init(labelValue: v, rgba: try r.ints("rgba"))
      extra = r.rest
    }

    /// The color entry as written to metadata, unknown keys kept.
    public var json: JSONValue {
      var w = ObjectWriter()
      w.set("label-value", .int(Int64(labelValue)))
      w.set("rgba", rgba.map { .ints($0) })
      w.merge(extra)
      return w.json
    }
  }

  /// The NGFF version nested in `image-label` (`version`; 0.4 style, superseded by `ome.version` from 0.5 on).
  public var version: String?
  /// The display colors of label values (`colors`).
  public var colors: [Color]?
  /// Per-label properties, each an object with `label-value` and any keys, kept as written.
  public var properties: [JSONObject]?
  /// `source.image`: the image the labels belong to, relative (default `../../`).
  public var sourceImage: String?
  /// Keys of `source` other than `image`, kept as written.
  public var sourceExtra: JSONObject = [:]
  /// Keys this model does not know, kept so they are written back unchanged.
  public var extra: JSONObject = [:]

  /// Creates a label image description; the source image defaults to the image two levels up (`../../`).
  public init(colors: [Color]? = nil, properties: [JSONObject]? = nil, sourceImage: String? = "../../") {
    self.colors = colors
    self.properties = properties
    self.sourceImage = sourceImage
  }

  /// Reads `image-label` from its JSON object; `pointer` locates it in error messages.
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

  /// The label image description as written to metadata, unknown keys kept.
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
