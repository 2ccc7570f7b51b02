import Testing
@testable import ZarrIO

@Suite("JSON values")
struct JSONTests {
  @Test func parsesExactIntegers() throws {
    let v = try JSONValue.parse(#"{"a": 18446744073709551615, "b": -9223372036854775808, "c": 1.0, "d": 1e3, "e": 0}"#)
    #expect(v["a"] == .uint(UInt64.max))
    #expect(v["b"] == .int(Int64.min))
    #expect(v["c"] == .double(1.0))
    #expect(v["d"] == .double(1000))
    #expect(v["e"] == .int(0))
  }

  @Test func keepsKeyOrderAndRoundTrips() throws {
    let text = #"{"z":1,"a":[true,false,null],"m":{"x":"y\n\"q\"","u":"é😀"},"n":-0.5}"#
    let v = try JSONValue.parse(text)
    #expect(v.objectValue?.keys == ["z", "a", "m", "n"])
    #expect(v.serialized(pretty: false) == text)
    #expect(try JSONValue.parse(v.serialized(pretty: true)) == v)
  }

  @Test func decodesEscapes() throws {
    let v = try JSONValue.parse(#"["\u00e9\ud83d\ude00\/\t"]"#)
    #expect(v == ["é😀/\t"])
  }

  @Test func acceptsBareNaNTokensOfOldWriters() throws {
    let v = try JSONValue.parse(#"{"fill_value": NaN, "b": -Infinity, "c": Infinity}"#)
    #expect(v["fill_value"]?.doubleValue?.isNaN == true)
    #expect(v["b"] == .double(-.infinity))
  }

  @Test func objectEqualityIgnoresOrder() throws {
    #expect(try JSONValue.parse(#"{"a":1,"b":2}"#) == JSONValue.parse(#"{"b":2,"a":1}"#))
    #expect(try JSONValue.parse(#"{"a":1}"#) != JSONValue.parse(#"{"a":1.0}"#))
  }

  @Test(arguments: [
    "", "{", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "01", "1.", "\"abc", "tru", "[1] x", "{\"a\":1,\"a\":2}", "\"\u{01}\"",
    "\"\\ud800\"", "-", "1e",
  ])
  func rejectsInvalidJSON(_ text: String) {
    #expect(throws: ZarrError.self) { try JSONValue.parse(text) }
  }

  @Test func invalidJSONNamesTheOffset() {
    do {
      _ = try JSONValue.parse("{\"a\": [1, 2,, 3]}")
      Issue.record("expected an error")
    } catch {
      #expect(error.code == .invalidJSON)
      #expect(error.message.contains("byte 12"))
    }
  }

  @Test func writesNonFiniteDoublesAsSpecStrings() {
    #expect(JSONValue.double(.nan).serialized() == "\"NaN\"")
    #expect(JSONValue.double(-.infinity).serialized() == "\"-Infinity\"")
  }
}
