import ZarrIO

/// An OME-NGFF metadata version family, detected from a node's attributes.
///
/// The full NGFF models (multiscales, labels, plates, RFC-5 transforms) build on this.
public enum NGFFVersion: Sendable, Hashable, CustomStringConvertible {
  /// 0.4 and earlier: Zarr v2, top-level keys in `.zattrs`.
  case v04(String)
  /// 0.5: Zarr v3, metadata under `attributes.ome`.
  case v05
  /// 0.6 and its pre-releases (`0.6.devN`, `0.6rcN`).
  case v06(String)

  public var description: String {
    switch self {
    case .v04(let s): return s
    case .v05: return "0.5"
    case .v06(let s): return s
    }
  }

  /// Parses a version string.
  public init?(_ s: String) {
    if s == "0.5" {
      self = .v05
    } else if s == "0.6" || s.hasPrefix("0.6.dev") || s.hasPrefix("0.6rc") || s.hasPrefix("0.6-") {
      self = .v06(s)
    } else if ["0.1", "0.2", "0.3", "0.4"].contains(s) {
      self = .v04(s)
    } else {
      return nil
    }
  }

  /// The NGFF version declared by a node's attributes, if any.
  public static func detect(in attributes: JSONObject) -> NGFFVersion? {
    if let ome = attributes["ome"]?.objectValue, let v = ome["version"]?.stringValue {
      return NGFFVersion(v)
    }
    for key in ["multiscales", "plate", "well", "image-label"] {
      switch attributes[key] {
      case .array(let a)?:
        if let v = a.first?["version"]?.stringValue { return NGFFVersion(v) }
      case .object(let o)?:
        if let v = o["version"]?.stringValue { return NGFFVersion(v) }
      default: break
      }
    }
    return nil
  }
}
