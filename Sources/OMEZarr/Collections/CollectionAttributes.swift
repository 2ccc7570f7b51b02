import ZarrIO

// Typed attributes of RFC-8 nodes: coordinate systems referenced by id, plates, labels.

/// An RFC-8 coordinate system: referenced by `id` (a `name` is only descriptive).
public struct IdentifiedCoordinateSystem: Sendable, Hashable {
  /// The identifier transformations and references use for the system (`id`; read from `name` if `id` is missing).
  public var id: String
  /// A descriptive name for the system (`name`).
  public var name: String?
  /// The system's axes, in order (`axes`).
  public var axes: [Axis]
  /// Keys this model does not know, kept as written.
  public var extra: JSONObject = [:]

  /// Reads a coordinate system from its JSON object; `pointer` locates it in error messages.
  public init(json: JSONValue, pointer: String) throws(OMEZarrError) {
    var r = try ObjectReader(json, pointer: pointer, what: "a coordinate system")
    let id = try r.string("id"), name = try r.string("name")
    guard let key = id ?? name else {
      throw OMEZarrError(.invalidMetadata, "a coordinate system needs an \"id\"", pointer: pointer)
    }
    self.id = key
    self.name = name
    axes = try r.list("axes") { (v, p) throws(OMEZarrError) in try Axis(json: v, pointer: p) } ?? []
    extra = r.rest
  }
}

/// `attributes.plate` of an RFC-8 plate: rows, columns and acquisitions with string ids.
public struct PlateAttribute: Sendable, Hashable {
  /// A row, column or acquisition of the plate: a string identifier and an optional name.
  public struct Item: Sendable, Hashable {
    /// The identifier wells and images refer to (`id`).
    public var id: String
    /// A descriptive name (`name`).
    public var name: String?
  }
  /// The plate's rows, in order (`rows`).
  public var rows: [Item]
  /// The plate's columns, in order (`columns`).
  public var columns: [Item]
  /// The acquisitions the plate was imaged in; empty when not listed (`acquisitions`).
  public var acquisitions: [Item]

  /// Reads the `plate` attribute; `pointer` locates it in error messages.
  public init(json: JSONValue, pointer: String) throws(OMEZarrError) {
    var r = try ObjectReader(json, pointer: pointer, what: "plate")
    func items(_ key: String, required: Bool) throws(OMEZarrError) -> [Item] {
      let list = try r.list(key) { (v, p) throws(OMEZarrError) -> Item in
        var o = try ObjectReader(v, pointer: p, what: "a plate \(key) item")
        return Item(id: try o.requiredString("id", what: "a plate \(key) item"), name: try o.string("name"))
      }
      if list == nil && required { throw OMEZarrError(.invalidMetadata, "plate needs \"\(key)\"", pointer: pointer) }
      return list ?? []
    }
    rows = try items("rows", required: true)
    columns = try items("columns", required: true)
    acquisitions = try items("acquisitions", required: false)
  }
}

/// `attributes.labels` of a label multiscale: label values with colors, and the source images.
public struct LabelsAttribute: Sendable, Hashable {
  /// The display settings of one label value (`labelAttributes[]`).
  public struct Value: Sendable, Hashable {
    /// The pixel value this entry describes (`labelValue`; 0.5 `label-value` is read too).
    public var labelValue: Double
    /// RGBA, 0–255.
    public var color: [Int]?
    /// Keys this model does not know (label properties), kept as written.
    public var extra: JSONObject = [:]
  }
  /// The per-value display settings and properties (`labelAttributes`).
  public var labelAttributes: [Value]
  /// The images the labels annotate (`source`).
  public var source: [NodeReference]

  /// Reads the `labels` attribute; `pointer` locates it in error messages.
  public init(json: JSONValue, pointer: String) throws(OMEZarrError) {
    var r = try ObjectReader(json, pointer: pointer, what: "labels")
    labelAttributes = try r.list("labelAttributes") { (v, p) throws(OMEZarrError) -> Value in
      var o = try ObjectReader(v, pointer: p, what: "a label attribute")
      let v0 = try o.double("labelValue"), v1 = try o.double("label-value")
      guard let value = v0 ?? v1 else {
        throw OMEZarrError(.invalidMetadata, "a label attribute needs a number \"labelValue\"", pointer: p)
      }
      let c0 = try o.ints("color"), c1 = try o.ints("rgba")
      let color = c0 ?? c1
      return Value(labelValue: value, color: color, extra: o.rest)
    } ?? []
    source = try r.list("source") { (v, p) throws(OMEZarrError) in try NodeReference(json: v, pointer: p) } ?? []
  }
}
