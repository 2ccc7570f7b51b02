import ZarrIO

/// Rendering settings (`omero`, transitional): channels with colors and windows.
public struct Omero: Sendable, Hashable {
  /// The display window: the range of values shown and the range of the data (`window`).
  public struct Window: Sendable, Hashable {
    /// The smallest value the data can take (`min`).
    public var min: Double?
    /// The largest value the data can take (`max`).
    public var max: Double?
    /// The low end of the display range: values at or below it are shown darkest (`start`).
    public var start: Double?
    /// The high end of the display range: values at or above it are shown at full color (`end`).
    public var end: Double?
    /// Keys this model does not know, kept so they are written back unchanged.
    public var extra: JSONObject = [:]

    /// Creates a window from the data range (`min`, `max`) and the display range (`start`, `end`).
    public init(min: Double?, max: Double?, start: Double?, end: Double?) {
      self.min = min
      self.max = max
      self.start = start
      self.end = end
    }

    /// Reads a channel window from its JSON object; `pointer` locates it in error messages.
    public init(json: JSONValue, pointer: String) throws(OMEZarrError) {
      var r = try ObjectReader(json, pointer: pointer, what: "a channel window")
      self.init(min: try r.double("min"), max: try r.double("max"), start: try r.double("start"), end: try r.double("end"))
      extra = r.rest
    }

    /// The window as written to metadata, unknown keys kept.
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

  /// The rendering settings of one channel (`channels[]`), matched to the `c` axis by position.
  public struct Channel: Sendable, Hashable {
    /// The channel's display name (`label`).
    public var label: String?
    /// Six hex digits, RGB (`"FF0000"`).
    public var color: String?
    /// The channel's display range and data range (`window`).
    public var window: Window?
    /// Whether the channel is shown (`active`).
    public var active: Bool?
    /// The rendering coefficient of the channel (`coefficient`), kept as written.
    public var coefficient: Double?
    /// The intensity mapping family, such as `linear` (`family`).
    public var family: String?
    /// Whether the lookup is inverted, high values shown dark (`inverted`).
    public var inverted: Bool?
    /// Keys this model does not know, kept so they are written back unchanged.
    public var extra: JSONObject = [:]

    /// Creates a channel from a label, an RGB hex color, a window and whether it is shown.
    public init(label: String? = nil, color: String? = nil, window: Window? = nil, active: Bool? = true) {
      self.label = label
      self.color = color
      self.window = window
      self.active = active
    }

    /// Reads a channel from its JSON object; `pointer` locates it in error messages.
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

    /// The channel as written to metadata, unknown keys kept.
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

  /// The OMERO image identifier the settings came from (`id`).
  public var id: Int?
  /// The image's name (`name`).
  public var name: String?
  /// The version of the `omero` block (`version`).
  public var version: String?
  /// The per-channel rendering settings, one per index of the `c` axis (`channels`).
  public var channels: [Channel]
  /// `rdefs` (`defaultT`, `defaultZ`, `model`), kept as written.
  public var rdefs: JSONValue?
  /// Keys this model does not know, kept so they are written back unchanged.
  public var extra: JSONObject = [:]

  /// Creates rendering settings from the channels and an optional image name.
  public init(channels: [Channel], name: String? = nil) {
    self.channels = channels
    self.name = name
  }

  /// Reads the rendering settings from the `omero` JSON object; `pointer` locates it in error messages.
  public init(json: JSONValue, pointer: String) throws(OMEZarrError) {
    var r = try ObjectReader(json, pointer: pointer, what: "omero")
    id = try r.int("id")
    name = try r.string("name")
    version = try r.string("version")
    channels = try r.list("channels") { (v, p) throws(OMEZarrError) in try Channel(json: v, pointer: p) } ?? []
    rdefs = r.value("rdefs")
    extra = r.rest
  }

  /// The rendering settings as written to metadata, unknown keys kept.
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
