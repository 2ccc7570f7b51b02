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
    guard var bytes = header.map({ Array($0.utf8)[...] }) else {
      self = .whole
      return
    }
    Self.trim(&bytes)
    let unit = Array("bytes=".utf8)
    guard bytes.count > unit.count, zip(bytes, unit).allSatisfy({ $0 | 0x20 == $1 | 0x20 }) else {
      self = .whole
      return
    }
    var spec = bytes.dropFirst(unit.count)
    Self.trim(&spec)
    // Several ranges are answered with the whole value (allowed, and what viewers never ask).
    guard !spec.contains(UInt8(ascii: ",")), let dash = spec.firstIndex(of: UInt8(ascii: "-")) else {
      self = .whole
      return
    }
    var first = spec[..<dash], last = spec[(dash + 1)...]
    Self.trim(&first)
    Self.trim(&last)
    if first.isEmpty {
      guard let n = Self.number(last) else { self = .whole; return }
      guard n > 0, size > 0 else { self = .unsatisfiable; return }
      self = .part(max(0, size - n)..<size)
      return
    }
    guard let a = Self.number(first) else { self = .whole; return }
    var end = size
    if !last.isEmpty {
      guard let b = Self.number(last), b >= a else { self = .whole; return }
      end = min(size, b + 1)
    }
    guard a < size else { self = .unsatisfiable; return }
    self = .part(a..<end)
  }

  /// A decimal number of at most 18 digits (no sign, no overflow).
  static func number(_ digits: ArraySlice<UInt8>) -> Int? {
    guard !digits.isEmpty, digits.count <= 18 else { return nil }
    var n = 0
    for d in digits {
      guard d >= UInt8(ascii: "0"), d <= UInt8(ascii: "9") else { return nil }
      n = n * 10 + Int(d - UInt8(ascii: "0"))
    }
    return n
  }

  /// Removes spaces and tabs at both ends.
  static func trim(_ bytes: inout ArraySlice<UInt8>) {
    while let b = bytes.first, b == 0x20 || b == 0x09 { bytes.removeFirst() }
    while let b = bytes.last, b == 0x20 || b == 0x09 { bytes.removeLast() }
  }
}
