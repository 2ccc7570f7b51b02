import Foundation

/// The store key a request path names, checked: the path is `/TOKEN/key` (or `/key` without a
/// token), each segment percent-decoded once, and nothing that could leave the store's root or
/// name something other than a key is accepted (`.`/`..` in any encoding, empty segments,
/// backslashes, NUL, an encoded `/`).
public enum RequestTarget: Sendable, Hashable {
  /// A key of the store (`""` is the root, which is never served).
  case key(String)
  /// No such thing (a wrong or missing token answers the same, so tokens cannot be probed).
  case notFound
  /// A path that tries to leave the root.
  case forbidden

  /// The target of the request path `raw` (its query ignored), under `token`.
  public init(path raw: String, token: String?) {
    let path = raw.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? raw
    guard path.hasPrefix("/") else {
      self = .notFound
      return
    }
    var segments = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map(String.init)
    if let token {
      guard let first = segments.first, RequestTarget.equal(first, token) else {
        self = .notFound
        return
      }
      segments.removeFirst()
    }
    var decoded: [String] = []
    for segment in segments {
      // Most segments have nothing encoded: no decoding to do.
      guard let d = segment.contains("%") ? segment.removingPercentEncoding : segment else {
        self = .forbidden
        return
      }
      if d == "." || d == ".." || d.contains("/") || d.contains("\\") || d.contains("\0") {
        self = .forbidden
        return
      }
      decoded.append(d)
    }
    // A trailing slash names a directory: never listed.
    if decoded.contains(where: \.isEmpty) {
      self = decoded.last == "" && !decoded.dropLast().contains(where: \.isEmpty) ? .key("") : .notFound
      return
    }
    self = .key(decoded.joined(separator: "/"))
  }

  /// Compares in time independent of where the strings differ.
  static func equal(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8), y = Array(b.utf8)
    guard x.count == y.count else { return false }
    var diff: UInt8 = 0
    for i in 0..<x.count { diff |= x[i] ^ y[i] }
    return diff == 0
  }
}
