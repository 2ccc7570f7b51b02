import ZarrIO

/// UDUNITS-2 names the NGFF specification lists for space and time axes.
///
/// The one definition of units in this library: models normalise with ``canonical(_:)``, the
/// validator checks against ``space`` and ``time``, the converter reads file spellings with
/// ``udunits(_:)``.
public enum Units {
  /// The UDUNITS-2 names of lengths the specification lists for `space` axes.
  public static let space: Set<String> = [
    "angstrom", "attometer", "centimeter", "decimeter", "exameter", "femtometer", "foot", "gigameter", "hectometer",
    "inch", "kilometer", "megameter", "meter", "micrometer", "mile", "millimeter", "nanometer", "parsec", "petameter",
    "picometer", "terameter", "yard", "yoctometer", "yottameter", "zeptometer", "zettameter",
  ]
  /// The UDUNITS-2 names of durations the specification lists for `time` axes.
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

  /// OME `UnitsLength` and `UnitsTime` symbols (the SI symbols) of every NGFF space and time unit.
  public static let omeSymbols: [String: String] = [
    "angstrom": "Å", "attometer": "am", "centimeter": "cm", "decimeter": "dm", "exameter": "Em",
    "femtometer": "fm", "foot": "ft", "gigameter": "Gm", "hectometer": "hm", "inch": "in", "kilometer": "km",
    "megameter": "Mm", "meter": "m", "micrometer": "\u{B5}m", "mile": "mi", "millimeter": "mm", "nanometer": "nm",
    "parsec": "pc", "petameter": "Pm", "picometer": "pm", "terameter": "Tm", "yard": "yd", "yoctometer": "ym",
    "yottameter": "Ym", "zeptometer": "zm", "zettameter": "Zm",
    "attosecond": "as", "centisecond": "cs", "day": "d", "decisecond": "ds", "exasecond": "Es",
    "femtosecond": "fs", "gigasecond": "Gs", "hectosecond": "hs", "hour": "h", "kilosecond": "ks",
    "megasecond": "Ms", "microsecond": "\u{B5}s", "millisecond": "ms", "minute": "min", "nanosecond": "ns",
    "petasecond": "Ps", "picosecond": "ps", "second": "s", "terasecond": "Ts", "yoctosecond": "ys",
    "yottasecond": "Ys", "zeptosecond": "zs", "zettasecond": "Zs",
  ]

  /// NGFF unit names by OME (SI) symbol, case-sensitive (`Mm` is megameter, `mm` millimeter), with
  /// `μ` (U+03BC) read as `µ` (U+00B5).
  public static let omeSymbolNames: [String: String] = {
    var names = Dictionary(uniqueKeysWithValues: omeSymbols.map { ($1, $0) })
    names["\u{3BC}m"] = "micrometer"
    names["\u{3BC}s"] = "microsecond"
    return names
  }()

  /// The UDUNITS name for a unit as users and files write it, or `nil` if unknown.
  ///
  /// A name, an alias or an OME (SI) symbol as written; then the same in lower case, so `Mm` is a
  /// megameter but `MICRON` a micrometer.
  public static func canonical(_ unit: String) -> String? {
    if space.contains(unit) || time.contains(unit) { return unit }
    if let a = aliases[unit] ?? omeSymbolNames[unit] { return a }
    let lower = unit.lowercased()
    if space.contains(lower) || time.contains(lower) { return lower }
    return aliases[lower] ?? omeSymbolNames[lower]
  }

  /// Spellings OME-XML, ImageJ and TIFF files use beyond ``aliases`` (British spellings, plurals, an
  /// escaped `µ`), lower-case, mapped to UDUNITS names.
  public static let fileSpellings: [String: String] = [
    "\\u00b5m": "micrometer", "micrometre": "micrometer", "micrometres": "micrometer", "micrometers": "micrometer",
    "nanometre": "nanometer", "nanometers": "nanometer", "millimetre": "millimeter", "millimeters": "millimeter",
  ]

  /// The UDUNITS name for a unit as an image file writes it (``canonical(_:)`` or ``fileSpellings``),
  /// or `nil` if unknown or absent.
  public static func udunits(_ unit: String?) -> String? {
    guard let unit else { return nil }
    return canonical(unit) ?? fileSpellings[unit.lowercased()]
  }

  /// `" (did you mean 'micrometer'?)"` when `unit` is a known alias or spelling of a name in `list`.
  static func suggestion(_ unit: String, in list: Set<String>) -> String {
    if let name = canonical(unit), list.contains(name) { return " (did you mean '\(name)'?)" }
    if unit.hasSuffix("s"), let name = canonical(String(unit.dropLast())), list.contains(name) { return " (did you mean '\(name)'?)" }
    return ""
  }
}
