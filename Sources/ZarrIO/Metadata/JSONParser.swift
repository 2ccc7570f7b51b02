/// Parses and writes JSON text for ``JSONValue``.
///
/// The parser is strict RFC 8259 with one leniency that real Zarr v2 files need: the bare tokens
/// `NaN`, `Infinity` and `-Infinity` (written by old zarr-python versions) are read as doubles.
///
/// Parsing takes time linear in the size of the text. Documents larger than
/// ``ReadLimits/maxJSONBytes`` or nested deeper than ``ReadLimits/maxJSONDepth`` are refused.
extension JSONValue {
  /// Parses UTF-8 JSON text.
  /// - Throws: ``ZarrError`` with code `.invalidJSON` and the byte offset of the problem.
  public static func parse(_ bytes: some Collection<UInt8>) throws(ZarrError) -> JSONValue {
    try parse(bytes, maxBytes: ReadLimits.current.maxJSONBytes)
  }

  /// Parses UTF-8 JSON text of at most `limit` bytes.
  static func parse(_ bytes: some Collection<UInt8>, maxBytes limit: Int) throws(ZarrError) -> JSONValue {
    guard bytes.count <= limit else {
      throw ZarrError(.invalidJSON, "JSON document of \(bytes.count) bytes exceeds the limit of \(limit) bytes (ReadLimits.maxJSONBytes; ome2zarr --max-json-size)")
    }
    let text = Array(bytes)
    // The parser reads through a buffer pointer: indexing an array costs reference counting on
    // every byte in unoptimized builds, which made large documents several times slower.
    let result: Result<JSONValue, ZarrError> = text.withUnsafeBufferPointer { buffer in
      var parser = JSONTextParser(bytes: JSONText(buffer))
      do throws(ZarrError) {
        return .success(try parser.parseDocument())
      } catch {
        return .failure(error)
      }
    }
    return try result.get()
  }

  /// Parses a JSON string.
  public static func parse(_ text: String) throws(ZarrError) -> JSONValue {
    try parse(Array(text.utf8))
  }
}

/// The bytes of a JSON text during parsing: a buffer pointer (no reference counting per byte)
/// whose reads are bounds-checked in every build, as an array's are.
struct JSONText {
  let buffer: UnsafeBufferPointer<UInt8>

  init(_ buffer: UnsafeBufferPointer<UInt8>) { self.buffer = buffer }

  var count: Int { buffer.count }

  subscript(i: Int) -> UInt8 {
    precondition(i >= 0 && i < buffer.count, "JSON text index out of range")
    return buffer[i]
  }

  subscript(r: Range<Int>) -> Slice<UnsafeBufferPointer<UInt8>> {
    precondition(r.lowerBound >= 0 && r.upperBound <= buffer.count, "JSON text range out of range")
    return buffer[r]
  }

  func starts(with prefix: [UInt8]) -> Bool { buffer.starts(with: prefix) }
}

struct JSONTextParser {
  /// The text; valid while the parser runs (see ``JSONValue/parse(_:maxBytes:)``).
  let bytes: JSONText
  var pos = 0

  init(bytes: JSONText) {
    self.bytes = bytes
    // Skip a UTF-8 byte order mark.
    if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { pos = 3 }
  }

  func fail(_ what: String) -> ZarrError {
    ZarrError(.invalidJSON, "invalid JSON at byte \(pos): \(what)")
  }

  mutating func parseDocument() throws(ZarrError) -> JSONValue {
    skipWhitespace()
    let v = try parseValue()
    skipWhitespace()
    guard pos == bytes.count else { throw fail("unexpected trailing characters") }
    return v
  }

  mutating func skipWhitespace() {
    while pos < bytes.count {
      switch bytes[pos] {
      case 0x20, 0x0A, 0x0D, 0x09: pos += 1
      default: return
      }
    }
  }

  mutating func expectLiteral(_ lit: StaticString) -> Bool {
    let n = lit.utf8CodeUnitCount
    guard pos + n <= bytes.count else { return false }
    let p = lit.utf8Start
    for i in 0..<n where bytes[pos + i] != p[i] { return false }
    pos += n
    return true
  }

  /// Parses one value without recursion: open arrays and objects live on explicit stacks, so
  /// deep nesting costs heap, not thread stack, and is refused beyond ``ReadLimits/maxJSONDepth``.
  mutating func parseValue() throws(ZarrError) -> JSONValue {
    var isArray: [Bool] = []  // the open containers, innermost last
    var arrays: [[JSONValue]] = []  // elements so far of the open arrays
    var objects: [(object: JSONObject, key: String)] = []  // members so far of the open objects, and the next key
    while true {
      // A value starts here: a scalar completes it, `[` or `{` opens a container.
      skipWhitespace()
      guard pos < bytes.count else { throw fail("unexpected end of input") }
      var value: JSONValue
      let c = bytes[pos]
      if c == UInt8(ascii: "[") || c == UInt8(ascii: "{") {
        guard isArray.count < ReadLimits.maxJSONDepth else {
          throw fail("arrays and objects nested deeper than \(ReadLimits.maxJSONDepth) levels")
        }
        pos += 1
        skipWhitespace()
        if pos < bytes.count, bytes[pos] == (c == UInt8(ascii: "[") ? UInt8(ascii: "]") : UInt8(ascii: "}")) {
          pos += 1
          value = c == UInt8(ascii: "[") ? .array([]) : .object(JSONObject())
        } else if c == UInt8(ascii: "[") {
          isArray.append(true)
          arrays.append([])
          continue
        } else {
          isArray.append(false)
          objects.append((JSONObject(), try parseKey()))
          continue
        }
      } else {
        value = try parseScalar()
      }
      // Add the finished value to the innermost container, closing those that end here.
      attach: while true {
        guard let inArray = isArray.last else { return value }
        skipWhitespace()
        guard pos < bytes.count else { throw fail(inArray ? "unterminated array" : "unterminated object") }
        let next = bytes[pos]
        if inArray {
          arrays[arrays.count - 1].append(value)
          if next == UInt8(ascii: ",") {
            pos += 1
            break attach
          }
          guard next == UInt8(ascii: "]") else { throw fail("expected ',' or ']'") }
          pos += 1
          isArray.removeLast()
          value = .array(arrays.removeLast())
        } else {
          let top = objects.count - 1
          let key = objects[top].key
          guard objects[top].object[key] == nil else { throw fail("duplicate key \"\(key)\"") }
          objects[top].object[key] = value
          if next == UInt8(ascii: ",") {
            pos += 1
            objects[top].key = try parseKey()
            break attach
          }
          guard next == UInt8(ascii: "}") else { throw fail("expected ',' or '}'") }
          pos += 1
          isArray.removeLast()
          value = .object(objects.removeLast().object)
        }
      }
    }
  }

  /// Parses `"key" :` of an object member.
  mutating func parseKey() throws(ZarrError) -> String {
    skipWhitespace()
    guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else { throw fail("expected a key") }
    let key = try parseString()
    skipWhitespace()
    guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else { throw fail("expected ':'") }
    pos += 1
    return key
  }

  /// Parses a string, number or literal.
  mutating func parseScalar() throws(ZarrError) -> JSONValue {
    switch bytes[pos] {
    case UInt8(ascii: "\""): return .string(try parseString())
    case UInt8(ascii: "t"):
      if expectLiteral("true") { return .bool(true) }
    case UInt8(ascii: "f"):
      if expectLiteral("false") { return .bool(false) }
    case UInt8(ascii: "n"):
      if expectLiteral("null") { return .null }
    case UInt8(ascii: "N"):
      if expectLiteral("NaN") { return .double(.nan) }
    case UInt8(ascii: "I"):
      if expectLiteral("Infinity") { return .double(.infinity) }
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
      if expectLiteral("-Infinity") { return .double(-.infinity) }
      return try parseNumber()
    default: break
    }
    throw fail("unexpected character '\(Character(Unicode.Scalar(bytes[pos])))'")
  }

  mutating func parseHex4() throws(ZarrError) -> UInt32 {
    guard pos + 4 <= bytes.count else { throw fail("truncated \\u escape") }
    var v: UInt32 = 0
    for _ in 0..<4 {
      let c = bytes[pos]
      let d: UInt32
      switch c {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
      case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
      case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
      default: throw fail("bad \\u escape")
      }
      v = v * 16 + d
      pos += 1
    }
    return v
  }

  mutating func parseString() throws(ZarrError) -> String {
    pos += 1  // opening quote
    var out: [UInt8] = []
    var start = pos
    while true {
      guard pos < bytes.count else { throw fail("unterminated string") }
      let c = bytes[pos]
      if c == UInt8(ascii: "\"") {
        if out.isEmpty {
          // No escape: the string is the bytes as they stand, validated without a copy.
          guard let s = String(validating: bytes[start..<pos], as: UTF8.self) else { throw fail("string is not valid UTF-8") }
          pos += 1
          return s
        }
        out.append(contentsOf: bytes[start..<pos])
        pos += 1
        break
      }
      if c < 0x20 { throw fail("control character in string") }
      if c != UInt8(ascii: "\\") {
        pos += 1
        continue
      }
      out.append(contentsOf: bytes[start..<pos])
      pos += 1
      guard pos < bytes.count else { throw fail("unterminated escape") }
      let e = bytes[pos]
      pos += 1
      switch e {
      case UInt8(ascii: "\""): out.append(0x22)
      case UInt8(ascii: "\\"): out.append(0x5C)
      case UInt8(ascii: "/"): out.append(0x2F)
      case UInt8(ascii: "b"): out.append(0x08)
      case UInt8(ascii: "f"): out.append(0x0C)
      case UInt8(ascii: "n"): out.append(0x0A)
      case UInt8(ascii: "r"): out.append(0x0D)
      case UInt8(ascii: "t"): out.append(0x09)
      case UInt8(ascii: "u"):
        var scalar = try parseHex4()
        if (0xD800..<0xDC00).contains(scalar) {
          guard pos + 6 <= bytes.count, bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u")
          else { throw fail("unpaired surrogate") }
          pos += 2
          let low = try parseHex4()
          guard (0xDC00..<0xE000).contains(low) else { throw fail("unpaired surrogate") }
          scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00..<0xE000).contains(scalar) {
          throw fail("unpaired surrogate")
        }
        guard let u = Unicode.Scalar(scalar) else { throw fail("invalid code point") }
        out.append(contentsOf: Array(String(Character(u)).utf8))
      default: throw fail("invalid escape")
      }
      start = pos
    }
    guard let s = String(validating: out, as: UTF8.self) else { throw fail("string is not valid UTF-8") }
    return s
  }

  mutating func parseNumber() throws(ZarrError) -> JSONValue {
    let start = pos
    if bytes[pos] == UInt8(ascii: "-") { pos += 1 }
    func digits(_ p: inout Int, _ b: JSONText) -> Int {
      let s = p
      while p < b.count, b[p] >= UInt8(ascii: "0"), b[p] <= UInt8(ascii: "9") { p += 1 }
      return p - s
    }
    let intDigits = digits(&pos, bytes)
    guard intDigits > 0 else { throw fail("invalid number") }
    if intDigits > 1, bytes[pos - intDigits] == UInt8(ascii: "0") { throw fail("leading zero in number") }
    var isInteger = true
    if pos < bytes.count, bytes[pos] == UInt8(ascii: ".") {
      isInteger = false
      pos += 1
      guard digits(&pos, bytes) > 0 else { throw fail("invalid number") }
    }
    if pos < bytes.count, bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E") {
      isInteger = false
      pos += 1
      if pos < bytes.count, bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-") { pos += 1 }
      guard digits(&pos, bytes) > 0 else { throw fail("invalid number") }
    }
    let text = String(decoding: bytes[start..<pos], as: UTF8.self)
    if isInteger {
      if let v = Int64(text) { return .int(v) }
      if let v = UInt64(text) { return .uint(v) }
    }
    guard let d = Double(text) else { throw fail("invalid number") }
    return .double(d)
  }
}

extension JSONValue {
  /// JSON text: two-space indentation, arrays of scalars on one line, key order kept.
  ///
  /// Non-finite doubles are written as the strings `"NaN"`, `"Infinity"` and `"-Infinity"`.
  public func serialized(pretty: Bool = true) -> String {
    var out = ""
    write(to: &out, indent: pretty ? 0 : -1)
    return out
  }

  /// UTF-8 bytes of ``serialized(pretty:)`` followed by a newline when pretty.
  public func serializedBytes(pretty: Bool = true) -> [UInt8] {
    Array((serialized(pretty: pretty) + (pretty ? "\n" : "")).utf8)
  }

  private var isScalar: Bool {
    switch self {
    case .array, .object: return false
    default: return true
    }
  }

  private func write(to out: inout String, indent: Int) {
    let pretty = indent >= 0
    switch self {
    case .null: out += "null"
    case .bool(let b): out += b ? "true" : "false"
    case .int(let v): out += String(v)
    case .uint(let v): out += String(v)
    case .double(let d): out += JSONValue.format(d)
    case .string(let s): JSONValue.writeString(s, to: &out)
    case .array(let a):
      if a.isEmpty {
        out += "[]"
      } else if !pretty || a.allSatisfy(\.isScalar) {
        out += "["
        for (i, v) in a.enumerated() {
          if i > 0 { out += pretty ? ", " : "," }
          v.write(to: &out, indent: pretty ? indent : -1)
        }
        out += "]"
      } else {
        let pad = String(repeating: " ", count: indent + 2)
        out += "[\n"
        for (i, v) in a.enumerated() {
          out += pad
          v.write(to: &out, indent: indent + 2)
          out += i < a.count - 1 ? ",\n" : "\n"
        }
        out += String(repeating: " ", count: indent) + "]"
      }
    case .object(let o):
      if o.isEmpty {
        out += "{}"
        return
      }
      if !pretty {
        out += "{"
        for (i, e) in o.entries.enumerated() {
          if i > 0 { out += "," }
          JSONValue.writeString(e.key, to: &out)
          out += ":"
          e.value.write(to: &out, indent: -1)
        }
        out += "}"
        return
      }
      let pad = String(repeating: " ", count: indent + 2)
      out += "{\n"
      for (i, e) in o.entries.enumerated() {
        out += pad
        JSONValue.writeString(e.key, to: &out)
        out += ": "
        e.value.write(to: &out, indent: indent + 2)
        out += i < o.count - 1 ? ",\n" : "\n"
      }
      out += String(repeating: " ", count: indent) + "}"
    }
  }

  /// Shortest round-trip text of a double, always with a fraction or exponent.
  static func format(_ d: Double) -> String {
    if d.isNaN { return "\"NaN\"" }
    if d.isInfinite { return d > 0 ? "\"Infinity\"" : "\"-Infinity\"" }
    return d.description
  }

  static func writeString(_ s: String, to out: inout String) {
    out += "\""
    for u in s.unicodeScalars {
      switch u {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      default:
        if u.value < 0x20 {
          let hex = String(u.value, radix: 16)
          out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        } else {
          out.unicodeScalars.append(u)
        }
      }
    }
    out += "\""
  }
}

