import ZarrIO

/// One axis of an image: `{"name": "z", "type": "space", "unit": "micrometer"}`.
public struct Axis: Sendable, Hashable {
  public var name: String
  /// `space`, `time`, `channel`, or (0.6) `array`, `coordinate`, `displacement`, or a custom type.
  public var type: String?
  /// A UDUNITS-2 unit name such as `micrometer` or `millisecond`.
  public var unit: String?
  /// 0.6: integer-indexed, no interpolation.
  public var discrete: Bool?
  /// 0.6: a human-readable name.
  public var longName: String?
  public var extra: JSONObject = [:]

  public init(name: String, type: String? = nil, unit: String? = nil, discrete: Bool? = nil, longName: String? = nil) {
    self.name = name
    self.type = type
    self.unit = unit
    self.discrete = discrete
    self.longName = longName
  }

  /// Convenience: a space axis with a unit.
  public static func space(_ name: String, unit: String? = "micrometer") -> Axis { Axis(name: name, type: "space", unit: unit) }
  public static func time(_ name: String = "t", unit: String? = nil) -> Axis { Axis(name: name, type: "time", unit: unit) }
  public static func channel(_ name: String = "c") -> Axis { Axis(name: name, type: "channel") }

  public var isSpace: Bool { type == "space" }

  /// Reads an axis; 0.1–0.3 wrote axes as bare names (`"x"`), read as axes without a type.
  public init(json: JSONValue, pointer: String) throws(OMEZarrError) {
    if let s = json.stringValue {
      self.init(name: s, type: ["x", "y", "z"].contains(s) ? "space" : s == "t" ? "time" : s == "c" ? "channel" : nil)
      return
    }
    var r = try ObjectReader(json, pointer: pointer, what: "an axis")
    self.init(name: try r.requiredString("name", what: "an axis"), type: try r.string("type"), unit: try r.string("unit"),
      discrete: try r.bool("discrete"), longName: try r.string("longName"))
    extra = r.rest
  }

  public var json: JSONValue {
    var w = ObjectWriter()
    w.set("name", .string(name))
    w.set("type", type.map(JSONValue.string))
    w.set("unit", unit.map(JSONValue.string))
    w.set("discrete", discrete.map(JSONValue.bool))
    w.set("longName", longName.map(JSONValue.string))
    w.merge(extra)
    return w.json
  }
}

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

/// UDUNITS-2 names the NGFF specification lists for space and time axes.
public enum Units {
  public static let space: Set<String> = [
    "angstrom", "attometer", "centimeter", "decimeter", "exameter", "femtometer", "foot", "gigameter", "hectometer",
    "inch", "kilometer", "megameter", "meter", "micrometer", "mile", "millimeter", "nanometer", "parsec", "petameter",
    "picometer", "terameter", "yard", "yoctometer", "yottameter", "zeptometer", "zettameter",
  ]
  public static let time: Set<String> = [
    "attosecond", "centisecond", "day", "decisecond", "exasecond", "femtosecond", "gigasecond", "hectosecond", "hour",
    "kilosecond", "megasecond", "microsecond", "millisecond", "minute", "nanosecond", "petasecond", "picosecond",
    "second", "terasecond", "yoctosecond", "yottasecond", "zeptosecond", "zettasecond",
  ]

  /// Common abbreviations and spellings mapped to UDUNITS names (`um` -> `micrometer`).
  public static let aliases: [String: String] = [
    "um": "micrometer", "µm": "micrometer", "μm": "micrometer", "micron": "micrometer", "microns": "micrometer",
    "nm": "nanometer", "mm": "millimeter", "cm": "centimeter", "m": "meter", "pm": "picometer", "Å": "angstrom",
    "A": "angstrom", "s": "second", "sec": "second", "ms": "millisecond", "us": "microsecond", "µs": "microsecond",
    "ns": "nanosecond", "min": "minute", "h": "hour", "hr": "hour",
  ]

  /// The UDUNITS name for a unit as users and files write it, or `nil` if unknown.
  public static func canonical(_ unit: String) -> String? {
    if space.contains(unit) || time.contains(unit) { return unit }
    if let a = aliases[unit] { return a }
    let lower = unit.lowercased()
    if space.contains(lower) || time.contains(lower) { return lower }
    return aliases[lower]
  }
}
