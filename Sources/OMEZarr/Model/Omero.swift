import ZarrIO

/// Rendering settings (`omero`, transitional): channels with colors and windows.
public struct Omero: Sendable, Hashable {
  public struct Window: Sendable, Hashable {
    public var min: Double?
    public var max: Double?
    public var start: Double?
    public var end: Double?
    public var extra: JSONObject = [:]

    public init(min: Double?, max: Double?, start: Double?, end: Double?) {
      self.min = min
      self.max = max
      self.start = start
      self.end = end
    }

    public init(json: JSONValue, pointer: String) throws(OMEZarrError) {
      var r = try ObjectReader(json, pointer: pointer, what: "a channel window")
      self.init(min: try r.double("min"), max: try r.double("max"), start: try r.double("start"), end: try r.double("end"))
      extra = r.rest
    }

    public var json: JSONValue {
      var w = ObjectWriter()
      w.set("min", min.map(JSONValue.number))
      w.set("max", max.map(JSONValue.number))
      w.set("start", start.map(JSONValue.number))
      w.set("end", end.map(JSONValue.number))
      w.merge(extra)
      return w.json
    }
  }

  public struct Channel: Sendable, Hashable {
    public var label: String?
    /// Six hex digits, RGB (`"FF0000"`).
    public var color: String?
    public var window: Window?
    public var active: Bool?
    public var coefficient: Double?
    public var family: String?
    public var inverted: Bool?
    public var extra: JSONObject = [:]

    public init(label: String? = nil, color: String? = nil, window: Window? = nil, active: Bool? = true) {
      self.label = label
      self.color = color
      self.window = window
      self.active = active
    }

    public init(json: JSONValue, pointer: String) throws(OMEZarrError) {
      var r = try ObjectReader(json, pointer: pointer, what: "a channel")
      active = try r.bool("active")
      coefficient = try r.double("coefficient")
      color = try r.string("color")
      family = try r.string("family")
      inverted = try r.bool("inverted")
      label = try r.string("label")
      if let w = r.value("window"), !w.isNull { window = try Window(json: w, pointer: r.child("window")) }
      extra = r.rest
    }

    public var json: JSONValue {
      var w = ObjectWriter()
      w.set("active", active.map(JSONValue.bool))
      w.set("coefficient", coefficient.map(JSONValue.number))
      w.set("color", color.map(JSONValue.string))
      w.set("family", family.map(JSONValue.string))
      w.set("inverted", inverted.map(JSONValue.bool))
      w.set("label", label.map(JSONValue.string))
      w.set("window", window?.json)
      w.merge(extra)
      return w.json
    }
  }

  public var id: Int?
  public var name: String?
  public var version: String?
  public var channels: [Channel]
  /// `rdefs` (`defaultT`, `defaultZ`, `model`), kept as written.
  public var rdefs: JSONValue?
  public var extra: JSONObject = [:]

  public init(channels: [Channel], name: String? = nil) {
    self.channels = channels
    self.name = name
  }

  public init(json: JSONValue, pointer: String) throws(OMEZarrError) {
    var r = try ObjectReader(json, pointer: pointer, what: "omero")
    id = try r.int("id")
    name = try r.string("name")
    version = try r.string("version")
    channels = try r.list("channels") { (v, p) throws(OMEZarrError) in try Channel(json: v, pointer: p) } ?? []
    rdefs = r.value("rdefs")
    extra = r.rest
  }

  public var json: JSONValue {
    var w = ObjectWriter()
    w.set("id", id.map { .int(Int64($0)) })
    w.set("name", name.map(JSONValue.string))
    w.set("version", version.map(JSONValue.string))
    w.set("channels", .array(channels.map(\.json)))
    w.set("rdefs", rdefs)
    w.merge(extra)
    return w.json
  }
}
