import ZarrIO

/// JSON text: parsed, written (pretty and compact) and parsed again; the round trip must give an
/// equal value, except that a number beyond the range of `Double` (read as an infinity, as Python
/// reads it) is written as the string `"Infinity"`, the Zarr spelling, since JSON has no such number.
enum JSONTarget {
  @Sendable static func run(_ bytes: [UInt8]) {
    guard let value = try? JSONValue.parse(bytes) else { return }
    for pretty in [true, false] {
      let text = value.serializedBytes(pretty: pretty)
      guard let again = try? JSONValue.parse(text) else {
        fuzzFailure("our own JSON output does not parse: \(String(decoding: text.prefix(200), as: UTF8.self))")
      }
      if again != value, !hasNonFiniteNumber(value) {
        fuzzFailure("JSON round trip changed the value: \(String(decoding: text.prefix(200), as: UTF8.self))")
      }
    }
  }
}

/// Whether `value` holds a NaN or an infinity anywhere (iteratively: the parser allows deep nesting).
func hasNonFiniteNumber(_ value: JSONValue) -> Bool {
  var stack = [value]
  while let v = stack.popLast() {
    switch v {
    case .double(let d) where !d.isFinite: return true
    case .array(let a): stack.append(contentsOf: a)
    case .object(let o): stack.append(contentsOf: o.entries.map(\.value))
    default: continue
    }
  }
  return false
}
