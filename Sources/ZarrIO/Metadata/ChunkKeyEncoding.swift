/// How chunk grid coordinates become store keys.
public enum ChunkKeyEncoding: Sendable, Hashable {
  /// `c/1/2` (or `c.1.2`); a 0-d array's chunk is `c`.
  case `default`(separator: Separator)
  /// `1.2` (or `1/2`), the Zarr v2 form; a 0-d array's chunk is `0`.
  case v2(separator: Separator)

  /// The character between the parts of a chunk key.
  public enum Separator: String, Sendable, Hashable {
    /// `/`: chunks are nested directories in a filesystem store.
    case slash = "/"
    /// `.`: chunks are flat objects in the node's directory.
    case dot = "."
  }

  /// The key of chunk `coords`, relative to the array's node.
  public func key(_ coords: [Int]) -> String {
    switch self {
    case .default(let sep):
      var s = "c"
      for c in coords {
        s += sep.rawValue
        s += String(c)
      }
      return s
    case .v2(let sep):
      if coords.isEmpty { return "0" }
      return coords.map(String.init).joined(separator: sep.rawValue)
    }
  }

  /// Reads `chunk_key_encoding` (name `default` or `v2`, configuration optional).
  public init(json: JSONValue, pointer: String = "/chunk_key_encoding") throws(ZarrError) {
    let ext = try NamedConfiguration(json: json, pointer: pointer)
    if !ext.mustUnderstand {
      throw ZarrError(.invalidMetadata, "must_understand: false is not allowed for chunk_key_encoding", pointer: pointer)
    }
    var sep: Separator? = nil
    if let s = ext.configuration["separator"] {
      guard let str = s.stringValue, let v = Separator(rawValue: str) else {
        throw ZarrError(.invalidMetadata, "separator must be \"/\" or \".\"", pointer: pointer + "/configuration/separator")
      }
      sep = v
    }
    for key in ext.configuration.keys where key != "separator" {
      throw ZarrError(.invalidMetadata, "unknown chunk_key_encoding field \"\(key)\"", pointer: pointer + "/configuration/" + key)
    }
    switch ext.name {
    case "default": self = .default(separator: sep ?? .slash)
    case "v2": self = .v2(separator: sep ?? .dot)
    default:
      throw ZarrError(.unsupported, "unknown chunk_key_encoding '\(ext.name)'", pointer: pointer + "/name")
    }
  }

  /// The `chunk_key_encoding` metadata, with the separator written out.
  public var json: JSONValue {
    switch self {
    case .default(let s): return ["name": "default", "configuration": ["separator": .string(s.rawValue)]]
    case .v2(let s): return ["name": "v2", "configuration": ["separator": .string(s.rawValue)]]
    }
  }

  /// The separator of either encoding.
  public var separator: Separator {
    switch self {
    case .default(let s), .v2(let s): return s
    }
  }
}
