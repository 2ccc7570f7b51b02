/// The store key a request path names, checked: the path is `/TOKEN/key` (or `/key` without a
/// token), each segment percent-decoded once, and nothing that could leave the store's root or
/// name something other than a key is accepted (`.`/`..` in any encoding, empty segments,
/// backslashes, NUL, an encoded `/`, bytes that are not UTF-8).
public enum RequestTarget: Sendable, Hashable {
  /// A key of the store (`""` is the root, which is never served).
  case key(String)
  /// No such thing (a wrong or missing token answers the same, so tokens cannot be probed).
  case notFound
  /// A path that tries to leave the root.
  case forbidden

  /// The target of the request path `raw` (its query ignored), under `token`.
  public init(path raw: String, token: String?) {
    var path = Array(raw.utf8)[...]
    if let query = path.firstIndex(of: UInt8(ascii: "?")) { path = path[..<query] }
    guard path.first == UInt8(ascii: "/") else {
      self = .notFound
      return
    }
    var segments = path.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
    if let token {
      guard let first = segments.first, RequestTarget.equal(first, Array(token.utf8)) else {
        self = .notFound
        return
      }
      segments.removeFirst()
    }
    var key: [UInt8] = []
    key.reserveCapacity(path.count)
    var empty = 0, lastEmpty = false
    for (i, segment) in segments.enumerated() {
      guard let d = RequestTarget.decoded(segment) else {
        self = .forbidden
        return
      }
      let dot = UInt8(ascii: ".")
      if d.elementsEqual([dot]) || d.elementsEqual([dot, dot])
        || d.contains(where: { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "\\") || $0 == 0 })
      {
        self = .forbidden
        return
      }
      if d.isEmpty {
        empty += 1
        lastEmpty = i == segments.count - 1
      }
      if i > 0 { key.append(UInt8(ascii: "/")) }
      key.append(contentsOf: d)
    }
    // A trailing slash names a directory: never listed.
    if empty > 0 {
      self = empty == 1 && lastEmpty ? .key("") : .notFound
      return
    }
    guard let text = String(validating: key, as: UTF8.self) else {
      self = .forbidden
      return
    }
    self = .key(text)
  }

  /// `segment` with its `%XX` escapes decoded, or `nil` when one is malformed.
  static func decoded(_ segment: ArraySlice<UInt8>) -> [UInt8]? {
    guard segment.contains(UInt8(ascii: "%")) else { return Array(segment) }
    func hex(_ c: UInt8) -> UInt8? {
      switch c {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
      case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
      case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
      default: nil
      }
    }
    var out: [UInt8] = []
    var i = segment.startIndex
    while i < segment.endIndex {
      if segment[i] == UInt8(ascii: "%") {
        guard i + 2 < segment.endIndex, let high = hex(segment[i + 1]), let low = hex(segment[i + 2]) else { return nil }
        out.append(high << 4 | low)
        i += 3
      } else {
        out.append(segment[i])
        i += 1
      }
    }
    return out
  }

  /// Compares in time independent of where the bytes differ.
  static func equal(_ a: ArraySlice<UInt8>, _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var diff: UInt8 = 0
    for (x, y) in zip(a, b) { diff |= x ^ y }
    return diff == 0
  }
}
