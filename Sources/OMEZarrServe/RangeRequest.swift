import Foundation

/// What a `Range` header asks of a value of a known size (RFC 9110 §14), as viewers send it.
public enum RangeRequest: Sendable, Hashable {
  /// No usable range: the whole value (no header, another unit, several ranges, or a malformed one).
  case whole
  /// One satisfiable range, clamped to the value.
  case part(Range<Int>)
  /// A range that lies entirely past the end (or any range of an empty value): 416.
  case unsatisfiable

  /// The request for `header` on a value of `size` bytes: `bytes=a-b` (b may lie past the end),
  /// `bytes=a-` and the suffix `bytes=-n` (the last n bytes, all of them when n ≥ size).
  public init(header: String?, size: Int) {
    guard let header = header?.trimmingCharacters(in: .whitespaces), header.lowercased().hasPrefix("bytes=") else {
      self = .whole
      return
    }
    let spec = header.dropFirst(6).trimmingCharacters(in: .whitespaces)
    // Several ranges are answered with the whole value (allowed, and what viewers never ask).
    guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else {
      self = .whole
      return
    }
    let first = spec[..<dash].trimmingCharacters(in: .whitespaces)
    let last = spec[spec.index(after: dash)...].trimmingCharacters(in: .whitespaces)
    func number(_ s: String) -> Int? {
      guard !s.isEmpty, s.count <= 18, s.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
      return Int(s)
    }
    if first.isEmpty {
      guard let n = number(last) else { self = .whole; return }
      guard n > 0, size > 0 else { self = .unsatisfiable; return }
      self = .part(max(0, size - n)..<size)
      return
    }
    guard let a = number(first) else { self = .whole; return }
    var end = size
    if !last.isEmpty {
      guard let b = number(last), b >= a else { self = .whole; return }
      end = min(size, b + 1)
    }
    guard a < size else { self = .unsatisfiable; return }
    self = .part(a..<end)
  }
}
