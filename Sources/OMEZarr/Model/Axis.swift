import ZarrIO

/// One axis of an image: `{"name": "z", "type": "space", "unit": "micrometer"}`.
public struct Axis: Sendable, Hashable {
  /// The axis name, unique within its image or coordinate system.
  public var name: String
  /// `space`, `time`, `channel`, or (0.6) `array`, `coordinate`, `displacement`, or a custom type.
  public var type: AxisType?
  /// A UDUNITS-2 unit name such as `micrometer` or `millisecond`.
  public var unit: String?
  /// 0.6: integer-indexed, no interpolation.
  public var discrete: Bool?
  /// 0.6: a human-readable name.
  public var longName: String?
  /// 0.9 (RFC-4): the anatomical orientation of a space axis. Read in every version; an
  /// `orientation` that is not an object with string `type` and `value` stays in ``extra``.
  public var orientation: AxisOrientation?
  /// Keys not modelled, kept as written.
  public var extra: JSONObject = [:]

  /// An axis named `name` of `type`, with `unit` (a UDUNITS-2 name).
  public init(name: String, type: AxisType? = nil, unit: String? = nil, discrete: Bool? = nil, longName: String? = nil,
              orientation: AxisOrientation? = nil) {
    self.name = name
    self.type = type
    self.unit = unit
    self.discrete = discrete
    self.longName = longName
    self.orientation = orientation
  }

  /// Convenience: a space axis with a unit.
  public static func space(_ name: String, unit: String? = "micrometer") -> Axis { Axis(name: name, type: .space, unit: unit) }
  /// Convenience: a time axis, optionally with a unit.
  public static func time(_ name: String = "t", unit: String? = nil) -> Axis { Axis(name: name, type: .time, unit: unit) }
  /// Convenience: a channel axis.
  public static func channel(_ name: String = "c") -> Axis { Axis(name: name, type: .channel) }

  /// Whether this is a space axis.
  public var isSpace: Bool { type == .space }

  /// Reads an axis; 0.1–0.3 wrote axes as bare names (`"x"`), read as axes without a type.
  public init(json: JSONValue, pointer: String) throws(OMEZarrError) {
    if let s = json.stringValue {
      self.init(name: s, type: AxisType.implied(byName: s))
      return
    }
    var r = try ObjectReader(json, pointer: pointer, what: "an axis")
    self.init(name: try r.requiredString("name", what: "an axis"), type: try r.string("type").map(AxisType.init(rawValue:)), unit: try r.string("unit"),
      discrete: try r.bool("discrete"), longName: try r.string("longName"))
    // Lenient: a malformed orientation is kept as written (the validator reports it).
    if let o = r.has("orientation") ? r.value("orientation") : nil {
      orientation = try? AxisOrientation(json: o, pointer: r.child("orientation"))
      extra = r.rest
      if orientation == nil { extra["orientation"] = o }
    } else {
      extra = r.rest
    }
  }

  /// The axis as written in the metadata (unknown keys kept).
  public var json: JSONValue {
    var w = ObjectWriter()
    w.set("name", .string(name))
    w.set("type", type.map { .string($0.rawValue) })
    w.set("unit", unit.map(JSONValue.string))
    w.set("discrete", discrete.map(JSONValue.bool))
    w.set("longName", longName.map(JSONValue.string))
    w.set("orientation", orientation?.json)
    w.merge(extra)
    return w.json
  }
}
