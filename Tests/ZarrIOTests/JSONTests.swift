import Testing
@testable import ZarrIO

@Suite("JSON values")
struct JSONTests {
  @Test func parsesExactIntegers() throws {
    let v = try JSONValue.parse(#"{"a": 18446744073709551615, "b": -9223372036854775808, "c": 1.0, "d": 1e3}"#)
    #expect(v["a"] == .uint(UInt64.max))
    #expect(v["b"] == .int(Int64.min))
    #expect(v["c"] == .double(1.0))
    #expect(v["d"] == .double(1000))
  }
}
