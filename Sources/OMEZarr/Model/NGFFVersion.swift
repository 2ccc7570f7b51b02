import ZarrIO

/// An OME-NGFF metadata version, grouped in families that share rules.
///
/// Reading accepts every spelling real files use (`"0.5-dev2"`, `"0.6"`, `"0.6.dev4"`, `"0.6rc0"`);
/// the original string is kept.
public enum NGFFVersion: Sendable, Hashable, CustomStringConvertible {
  /// 0.1 to 0.4: Zarr v2, top-level keys in `.zattrs`.
  case v04(String)
  /// 0.5: Zarr v3, metadata under `attributes.ome`.
  case v05(String)
  /// 0.6 and its pre-releases: RFC-5 coordinate systems and transformations.
  case v06(String)

  /// The 0.4 spelling this library writes (`"0.4"`).
  public static let latest04 = NGFFVersion.v04("0.4")
  /// The 0.5 spelling this library writes (`"0.5"`).
  public static let latest05 = NGFFVersion.v05("0.5")
  /// The 0.6 spelling this library writes (`"0.6rc0"`).
  public static let latest06 = NGFFVersion.v06("0.6rc0")

  /// The version string as written (`"0.5"`, `"0.6.dev4"`).
  public var description: String {
    switch self {
    case .v04(let s), .v05(let s), .v06(let s): return s
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
    } else {
      return nil
    }
  }

  /// The Zarr format this family is stored in.
  public var zarrFormat: ZarrFormat {
    if case .v04 = self { return .v2 }
    return .v3
  }

  /// The family's canonical version (`0.4`, `0.5`, `0.6rc0`).
  public var canonical: NGFFVersion {
    switch self {
    case .v04: return .latest04
    case .v05: return .latest05
    case .v06: return .latest06
    }
  }

  /// Whether two versions are of the same family.
  public func sameFamily(as other: NGFFVersion) -> Bool { canonical == other.canonical }

  /// Whether metadata lives under `attributes.ome` (0.5 and later).
  public var isNamespaced: Bool { zarrFormat == .v3 }

  /// The NGFF version declared by a node's attributes, if any.
  public static func detect(in attributes: JSONObject) -> NGFFVersion? {
    (try? OMEAttributes(attributes: attributes))?.ngffVersion
  }
}
