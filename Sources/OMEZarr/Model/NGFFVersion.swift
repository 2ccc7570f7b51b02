import ZarrIO

/// An OME-NGFF metadata version, grouped in families that share rules.
///
/// Reading accepts every spelling real files use (`"0.5-dev2"`, `"0.6"`, `"0.6.dev4"`, `"0.6rc0"`,
/// `"0.9.dev1"`); the original string is kept.
public enum NGFFVersion: Sendable, Hashable, CustomStringConvertible {
  /// 0.1 to 0.4: Zarr v2, top-level keys in `.zattrs`.
  case v04(String)
  /// 0.5: Zarr v3, metadata under `attributes.ome`.
  case v05(String)
  /// 0.6 and its pre-releases: RFC-5 coordinate systems and transformations.
  case v06(String)
  /// 0.9 and its development releases: 0.6 plus RFC-3 (any number and order of axes) and RFC-4
  /// (anatomical axis orientation).
  case v09(String)

  /// The 0.4 spelling this library writes (`"0.4"`).
  public static let latest04 = NGFFVersion.v04("0.4")
  /// The 0.5 spelling this library writes (`"0.5"`).
  public static let latest05 = NGFFVersion.v05("0.5")
  /// The 0.6 spelling this library writes (`"0.6"`, released 2026-09-14).
  public static let latest06 = NGFFVersion.v06("0.6")
  /// The 0.9 spelling this library writes (`"0.9.dev2"`, the newest development release whose
  /// schemas are published; its `_version.schema` accepts `"0.9.dev2"` and `"0.9"`).
  public static let latest09 = NGFFVersion.v09("0.9.dev2")

  /// The 0.9 development releases that are written as given rather than as ``latest09``: their
  /// schemas were published and peers read them (ngff-zarr reads `0.9.dev1` only).
  public static let published09: Set<String> = ["0.9.dev1", "0.9.dev2"]

  /// The version string as written (`"0.5"`, `"0.6.dev4"`).
  public var description: String {
    switch self {
    case .v04(let s), .v05(let s), .v06(let s), .v09(let s): return s
    }
  }

  /// Parses a version string into its family (`nil` for unknown families).
  public init?(_ s: String) {
    let core = s.split(separator: "-").first.map(String.init) ?? s
    if ["0.1", "0.2", "0.3", "0.4"].contains(core) || core.hasPrefix("0.4.") {
      self = .v04(s)
    } else if core == "0.5" || core.hasPrefix("0.5.") {
      self = .v05(s)
    } else if core == "0.6" || core.hasPrefix("0.6.") || core.hasPrefix("0.6rc") || core.hasPrefix("0.6dev") {
      self = .v06(s)
    } else if core == "0.9" || core.hasPrefix("0.9.") || core.hasPrefix("0.9rc") || core.hasPrefix("0.9dev") {
      self = .v09(s)
    } else {
      return nil
    }
  }

  /// The Zarr format this family is stored in.
  public var zarrFormat: ZarrFormat {
    if case .v04 = self { return .v2 }
    return .v3
  }

  /// The family's canonical version (`0.4`, `0.5`, `0.6`, `0.9.dev2`).
  public var canonical: NGFFVersion {
    switch self {
    case .v04: return .latest04
    case .v05: return .latest05
    case .v06: return .latest06
    case .v09: return .latest09
    }
  }

  /// The version to write when `self` is asked for: the family's canonical one, except that a
  /// published 0.9 development release (``published09``) is kept as given.
  public var forWriting: NGFFVersion {
    if case .v09(let s) = self, Self.published09.contains(s) { return self }
    return canonical
  }

  /// Whether two versions are of the same family.
  public func sameFamily(as other: NGFFVersion) -> Bool { canonical == other.canonical }

  /// Whether metadata lives under `attributes.ome` (0.5 and later).
  public var isNamespaced: Bool { zarrFormat == .v3 }

  /// Whether images describe their axes in RFC-5 coordinate systems and map levels to them with
  /// transformations (0.6 and later).
  public var hasCoordinateSystems: Bool {
    switch self {
    case .v04, .v05: return false
    case .v06, .v09: return true
    }
  }

  /// Whether the RFC-3 axis rules apply (0.9 and later): any number (at least one) of axes of any
  /// types in any order, where earlier versions need 2 to 5 axes, 2 or 3 of type space, in the
  /// order time, channel, space.
  public var hasFreeAxes: Bool {
    if case .v09 = self { return true }
    return false
  }

  /// Whether axes may carry an RFC-4 anatomical `orientation` (0.9 and later).
  public var hasAxisOrientation: Bool { hasFreeAxes }

  /// The family's position in release order (0.4 first); a lower one is an older family.
  public var familyOrder: Int {
    switch self {
    case .v04: return 0
    case .v05: return 1
    case .v06: return 2
    case .v09: return 3
    }
  }

  /// The NGFF version declared by a node's attributes, if any.
  public static func detect(in attributes: JSONObject) -> NGFFVersion? {
    (try? OMEAttributes(attributes: attributes))?.ngffVersion
  }
}
