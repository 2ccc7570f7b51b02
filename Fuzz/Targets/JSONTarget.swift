import ZarrIO

/// JSON text: parsed, written (pretty and compact) and parsed again; the round trip must give an
/// equal value.
enum JSONTarget {
  @Sendable static func run(_ bytes: [UInt8]) {
    guard let value = try? JSONValue.parse(bytes) else { return }
    for pretty in [true, false] {
      let text = value.serializedBytes(pretty: pretty)
      guard let again = try? JSONValue.parse(text) else {
        fuzzFailure("our own JSON output does not parse: \(String(decoding: text.prefix(200), as: UTF8.self))")
      }
      if again != value {
        fuzzFailure("JSON round trip changed the value: \(String(decoding: text.prefix(200), as: UTF8.self))")
      }
    }
  }
}
