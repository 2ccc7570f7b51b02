/// A JSON value that keeps object key order and exact integers.
///
/// Metadata documents are parsed into `JSONValue`, typed models read from it and keep every key they do
/// not model, so read -> write round-trips what they do not understand. Integers are kept exactly
/// (`Int64` and `UInt64` apart from `Double`); `1.0` stays a double.
public enum JSONValue: Sendable, Hashable {
  /// JSON `null`.
  case null
  /// `true` or `false`.
  case bool(Bool)
  /// An integer that fits `Int64`.
  case int(Int64)
  /// A non-negative integer above `Int64.max`.
  case uint(UInt64)
  /// A number written with a fraction or exponent, kept as `Double`.
  case double(Double)
  /// A string.
  case string(String)
  /// An array, in document order.
  case array([JSONValue])
  /// An object, with its key order kept.
  case object(JSONObject)
}

/// A JSON object: an ordered list of unique keys with their values.
///
/// Lookups, inserts and updates take constant time (a key-to-position table is kept beside the
/// ordered entries), so building or parsing an object with many keys is linear; removing a key is
/// linear in the number of keys after it. Equality ignores key order, as JSON semantics do.
public struct JSONObject: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
  /// The key-value pairs, in insertion order.
  public private(set) var entries: [(key: String, value: JSONValue)] = []
  /// The position of each key in `entries`.
  private var positions: [String: Int] = [:]

  /// An empty object.
  public init() {}
  /// An object from a literal; a repeated key keeps its first position and last value.
  public init(dictionaryLiteral elements: (String, JSONValue)...) {
    self.init(elements)
  }
  /// An object from key-value pairs in order; a repeated key keeps its first position and last value.
  public init(_ pairs: [(String, JSONValue)]) {
    entries.reserveCapacity(pairs.count)
    positions.reserveCapacity(pairs.count)
    for (k, v) in pairs { self[k] = v }
  }

  /// The number of keys.
  public var count: Int { entries.count }
  /// Whether the object has no keys.
  public var isEmpty: Bool { entries.isEmpty }
  /// The keys, in insertion order.
  public var keys: [String] { entries.map(\.key) }

  /// The value of `key`; setting `nil` removes the key, setting a new key appends it.
  public subscript(key: String) -> JSONValue? {
    get { positions[key].map { entries[$0].value } }
    set {
      if let i = positions[key] {
        if let newValue {
          entries[i].value = newValue
        } else {
          entries.remove(at: i)
          positions[key] = nil
          for j in i..<entries.count { positions[entries[j].key] = j }
        }
      } else if let newValue {
        positions[key] = entries.count
        entries.append((key, newValue))
      }
    }
  }

  /// Iterates the key-value pairs in insertion order.
  public func makeIterator() -> IndexingIterator<[(key: String, value: JSONValue)]> {
    entries.makeIterator()
  }

  /// Whether both objects have the same keys with equal values, in any order.
  public static func == (a: JSONObject, b: JSONObject) -> Bool {
    guard a.count == b.count else { return false }
    for (k, v) in a.entries where b[k] != v { return false }
    return true
  }

  /// Hashes the entries sorted by key, so that key order does not change the hash.
  public func hash(into hasher: inout Hasher) {
    for (k, v) in entries.sorted(by: { $0.key < $1.key }) {
      hasher.combine(k)
      hasher.combine(v)
    }
  }
}

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
  ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
  ExpressibleByDictionaryLiteral
{
  /// `nil` as JSON `null`.
  public init(nilLiteral: ()) { self = .null }
  /// A boolean literal as `.bool`.
  public init(booleanLiteral value: Bool) { self = .bool(value) }
  /// An integer literal as `.int`.
  public init(integerLiteral value: Int64) { self = .int(value) }
  /// A floating-point literal as `.double`.
  public init(floatLiteral value: Double) { self = .double(value) }
  /// A string literal as `.string`.
  public init(stringLiteral value: String) { self = .string(value) }
  /// An array literal as `.array`.
  public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
  /// A dictionary literal as `.object`, keeping the literal's key order.
  public init(dictionaryLiteral elements: (String, JSONValue)...) {
    self = .object(JSONObject(elements.map { ($0.0, $0.1) }))
  }
}

extension JSONValue {
  /// The integer value, if this is an integer that fits `Int` (also accepts `.uint` in range).
  public var intValue: Int? {
    switch self {
    case .int(let v): return Int(exactly: v)
    case .uint(let v): return Int(exactly: v)
    default: return nil
    }
  }
  /// A number as `Double` (integers converted).
  public var doubleValue: Double? {
    switch self {
    case .int(let v): return Double(v)
    case .uint(let v): return Double(v)
    case .double(let v): return v
    default: return nil
    }
  }
  /// The string, if this is a string.
  public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
  /// The boolean, if this is a boolean.
  public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }
  /// The elements, if this is an array.
  public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a } else { return nil } }
  /// The object, if this is an object.
  public var objectValue: JSONObject? { if case .object(let o) = self { return o } else { return nil } }
  /// Whether this is `null`.
  public var isNull: Bool { if case .null = self { return true } else { return false } }

  /// Member access for objects; `nil` for other values or missing keys.
  public subscript(key: String) -> JSONValue? { objectValue?[key] }

  /// A short name of the JSON type, for error messages.
  public var typeName: String {
    switch self {
    case .null: return "null"
    case .bool: return "boolean"
    case .int, .uint, .double: return "number"
    case .string: return "string"
    case .array: return "array"
    case .object: return "object"
    }
  }
}
