import ZarrIO

/// Reads the fields of one JSON object leniently and keeps the keys it did not read.
///
/// Every model type reads through one of these, so unknown keys survive read -> write.
struct ObjectReader {
  private var object: JSONObject
  let pointer: String
  private var used: Set<String> = []

  init(_ json: JSONValue, pointer: String, what: String) throws(OMEZarrError) {
    guard let o = json.objectValue else {
      throw OMEZarrError(.invalidMetadata, "\(what) must be a JSON object, not \(json.typeName)", pointer: pointer)
    }
    self.object = o
    self.pointer = pointer
  }

  func child(_ key: String) -> String { pointer + "/" + pointerToken(key) }

  func has(_ key: String) -> Bool { object[key] != nil }

  mutating func value(_ key: String) -> JSONValue? {
    used.insert(key)
    return object[key]
  }

  mutating func required(_ key: String, what: String) throws(OMEZarrError) -> JSONValue {
    guard let v = value(key) else {
      throw OMEZarrError(.invalidMetadata, "\(what) needs \"\(key)\"", pointer: pointer)
    }
    return v
  }

  mutating func string(_ key: String) throws(OMEZarrError) -> String? {
    guard let v = value(key), !v.isNull else { return nil }
    guard let s = v.stringValue else {
      throw OMEZarrError(.invalidMetadata, "\"\(key)\" must be a string, not \(v.typeName)", pointer: child(key))
    }
    return s
  }

  mutating func requiredString(_ key: String, what: String) throws(OMEZarrError) -> String {
    guard let s = try string(key) else {
      throw OMEZarrError(.invalidMetadata, "\(what) needs a string \"\(key)\"", pointer: pointer)
    }
    return s
  }

  mutating func int(_ key: String) throws(OMEZarrError) -> Int? {
    guard let v = value(key), !v.isNull else { return nil }
    if let n = v.intValue { return n }
    if let d = v.doubleValue, d.rounded() == d, abs(d) < 1e15 { return Int(d) }
    throw OMEZarrError(.invalidMetadata, "\"\(key)\" must be an integer", pointer: child(key))
  }

  mutating func double(_ key: String) throws(OMEZarrError) -> Double? {
    guard let v = value(key), !v.isNull else { return nil }
    guard let d = v.doubleValue else {
      throw OMEZarrError(.invalidMetadata, "\"\(key)\" must be a number", pointer: child(key))
    }
    return d
  }

  mutating func bool(_ key: String) throws(OMEZarrError) -> Bool? {
    guard let v = value(key), !v.isNull else { return nil }
    guard let b = v.boolValue else {
      throw OMEZarrError(.invalidMetadata, "\"\(key)\" must be true or false", pointer: child(key))
    }
    return b
  }

  mutating func array(_ key: String) throws(OMEZarrError) -> [JSONValue]? {
    guard let v = value(key), !v.isNull else { return nil }
    guard let a = v.arrayValue else {
      throw OMEZarrError(.invalidMetadata, "\"\(key)\" must be a list, not \(v.typeName)", pointer: child(key))
    }
    return a
  }

  /// Each element of list `key` read by `read(element, pointer)`.
  mutating func list<T>(_ key: String, _ read: (JSONValue, String) throws(OMEZarrError) -> T) throws(OMEZarrError) -> [T]? {
    guard let a = try array(key) else { return nil }
    var out: [T] = []
    out.reserveCapacity(a.count)
    for (i, v) in a.enumerated() { out.append(try read(v, child(key) + "/\(i)")) }
    return out
  }

  mutating func numbers(_ key: String) throws(OMEZarrError) -> [Double]? {
    try list(key) { (v, p) throws(OMEZarrError) -> Double in
      guard let d = v.doubleValue else { throw OMEZarrError(.invalidMetadata, "expected a number", pointer: p) }
      return d
    }
  }

  mutating func ints(_ key: String) throws(OMEZarrError) -> [Int]? {
    try list(key) { (v, p) throws(OMEZarrError) -> Int in
      guard let n = v.intValue else { throw OMEZarrError(.invalidMetadata, "expected an integer", pointer: p) }
      return n
    }
  }

  /// The keys not read, in their original order.
  var rest: JSONObject {
    JSONObject(object.entries.filter { !used.contains($0.key) }.map { ($0.key, $0.value) })
  }
}

/// Builds a JSON object in a fixed key order, skipping absent values, then appends extra keys.
struct ObjectWriter {
  var object = JSONObject()

  mutating func set(_ key: String, _ value: JSONValue?) {
    if let value { object[key] = value }
  }

  mutating func merge(_ extra: JSONObject) {
    for (k, v) in extra where object[k] == nil { object[k] = v }
  }

  var json: JSONValue { .object(object) }
}

extension JSONValue {
  static func numbers(_ values: [Double]) -> JSONValue { .array(values.map(JSONValue.number)) }
  static func ints(_ values: [Int]) -> JSONValue { .array(values.map { .int(Int64($0)) }) }

  /// A number written as an integer when it is one (1.0 -> 1.0 stays a double in JSON text).
  static func number(_ d: Double) -> JSONValue { .double(d) }
}
