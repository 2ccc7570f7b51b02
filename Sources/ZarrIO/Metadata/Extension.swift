/// A named extension object: `{"name": ..., "configuration": {...}}`, or the short-hand string form.
///
/// Used for codecs, chunk grids, chunk key encodings and storage transformers.
public struct NamedConfiguration: Sendable, Hashable {
  /// The extension's name, e.g. `"zstd"` or `"regular"`.
  public var name: String
  /// The extension's `configuration` object; empty when absent.
  public var configuration: JSONObject
  /// `false` only when the document says `"must_understand": false`.
  public var mustUnderstand: Bool

  /// An extension object of `name` and `configuration`.
  public init(name: String, configuration: JSONObject = [:], mustUnderstand: Bool = true) {
    self.name = name
    self.configuration = configuration
    self.mustUnderstand = mustUnderstand
  }

  /// Reads an extension object; `pointer` locates it in its document for errors.
  public init(json: JSONValue, pointer: String) throws(ZarrError) {
    switch json {
    case .string(let s):
      self.init(name: s)
    case .object(let o):
      guard let name = o["name"]?.stringValue else {
        throw ZarrError(.invalidMetadata, "extension object needs a string \"name\"", pointer: pointer)
      }
      var config = JSONObject()
      if let c = o["configuration"] {
        guard let obj = c.objectValue else {
          throw ZarrError(.invalidMetadata, "\"configuration\" of '\(name)' must be an object",
            pointer: pointer + "/configuration")
        }
        config = obj
      }
      var must = true
      if let m = o["must_understand"] {
        guard let b = m.boolValue else {
          throw ZarrError(.invalidMetadata, "\"must_understand\" must be a boolean", pointer: pointer + "/must_understand")
        }
        must = b
      }
      for key in o.keys where !["name", "configuration", "must_understand"].contains(key) {
        throw ZarrError(.invalidMetadata, "unexpected field \"\(key)\" in extension '\(name)'", pointer: pointer + "/" + key)
      }
      self.init(name: name, configuration: config, mustUnderstand: must)
    default:
      throw ZarrError(.invalidMetadata, "expected an extension object or name, got \(json.typeName)", pointer: pointer)
    }
  }

  /// The canonical object form (configuration omitted when empty).
  public var json: JSONValue {
    var o: JSONObject = ["name": .string(name)]
    if !configuration.isEmpty { o["configuration"] = .object(configuration) }
    if !mustUnderstand { o["must_understand"] = .bool(false) }
    return .object(o)
  }
}

/// JSON pointer escaping of one reference token (RFC 6901): `~` becomes `~0`, `/` becomes `~1`.
package func pointerToken(_ s: String) -> String {
  guard s.utf8.contains(where: { $0 == UInt8(ascii: "~") || $0 == UInt8(ascii: "/") }) else { return s }
  return s.replacingAll("~", with: "~0").replacingAll("/", with: "~1")
}

extension String {
  func replacingAll(_ target: String, with replacement: String) -> String {
    guard !target.isEmpty else { return self }
    var out = ""
    var rest = Substring(self)
    while let r = rest.range(of: target) {
      out += rest[..<r.lowerBound]
      out += replacement
      rest = rest[r.upperBound...]
    }
    return out + rest
  }
}

extension Substring {
  func range(of target: String) -> Range<Substring.Index>? {
    let t = Array(target.utf8)
    var i = startIndex
    while i < endIndex {
      if self[i...].utf8.starts(with: t) {
        return i..<(self.utf8.index(i, offsetBy: t.count))
      }
      i = index(after: i)
    }
    return nil
  }
}
