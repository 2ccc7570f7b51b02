import Testing
@testable import ZarrIO

@Suite("Fill values")
struct FillValueTests {
  func roundTrip(_ json: JSONValue, _ type: DataType) throws -> JSONValue {
    try FillValue.parse(json, for: type).json(for: type)
  }

  @Test func integersAreExactOverTheFullRange() throws {
    #expect(try roundTrip(.uint(UInt64.max), .uint64) == .uint(UInt64.max))
    #expect(try FillValue.parse(.uint(UInt64.max), for: .uint64).value(as: UInt64.self) == UInt64.max)
    #expect(try roundTrip(.int(Int64.min), .int64) == .int(Int64.min))
    #expect(try FillValue.parse(.int(-128), for: .int8).value(as: Int8.self) == -128)
    #expect(try FillValue.parse(.int(-2), for: .int16).value(as: Int16.self) == -2)
    #expect(try roundTrip(.int(-2), .int32) == .int(-2))
    #expect(try roundTrip(.int(65535), .uint16) == .int(65535))
  }

  @Test(arguments: [
    (JSONValue.int(128), DataType.int8), (.int(-1), .uint8), (.int(65536), .uint16), (.uint(UInt64.max), .int64),
    (.int(-1), .uint64), (.double(1.5), .int32), (.string("1"), .int32), (.int(2), .bool), (.string("nan"), .float32),
    (.string("0x123456789"), .float32), (.array([1]), .complex64), (.bool(true), .float64),
  ])
  func rejectsValuesOutsideTheType(_ json: JSONValue, _ type: DataType) {
    do {
      _ = try FillValue.parse(json, for: type)
      Issue.record("\(json) accepted for \(type)")
    } catch {
      #expect(error.code == .invalidMetadata)
      #expect(error.pointer == "/fill_value")
    }
  }

  @Test func floatSpecialValues() throws {
    #expect(try FillValue.parse("NaN", for: .float32).bytes == [0x00, 0x00, 0xC0, 0x7F])
    #expect(try FillValue.parse("NaN", for: .float16).bytes == [0x00, 0x7E])
    #expect(try FillValue.parse("NaN", for: .float64).value(as: UInt64.self) == 0x7FF8_0000_0000_0000)
    #expect(try FillValue.parse("Infinity", for: .float64).value(as: Double.self) == .infinity)
    #expect(try FillValue.parse("-Infinity", for: .float32).value(as: Float.self) == -.infinity)
    #expect(try roundTrip("NaN", .float32) == "NaN")
    #expect(try roundTrip("-Infinity", .float16) == "-Infinity")
    // Non-canonical NaN payloads only survive as hex.
    #expect(try roundTrip("0x7fc00001", .float32) == "0x7fc00001")
    #expect(try FillValue.parse("0x3c00", for: .float16).json(for: .float16) == .double(1.0))
    #expect(try FillValue.parse("0x7fc00000", for: .float32).json(for: .float32) == "NaN")
  }

  @Test func floatNumbersRoundTrip() throws {
    #expect(try roundTrip(.double(0.1), .float32) == .double(0.1))
    #expect(try roundTrip(.double(-2.5), .float16) == .double(-2.5))
    #expect(try roundTrip(.int(3), .float64) == .double(3))
    #expect(try FillValue.parse(.double(0.1), for: .float32).value(as: Float.self) == Float(0.1))
    #expect(try FillValue.parse(.double(1e-300), for: .float64).value(as: Double.self) == 1e-300)
  }

  @Test func complexPairs() throws {
    let v = try FillValue.parse(["NaN", .double(-1.5)], for: .complex64)
    #expect(v.bytes.count == 8)
    #expect(v.json(for: .complex64) == ["NaN", .double(-1.5)])
    #expect(try roundTrip(["Infinity", "0x7ff8000000000001"], .complex128) == ["Infinity", "0x7ff8000000000001"])
  }

  @Test func boolAndRaw() throws {
    #expect(try FillValue.parse(true, for: .bool).bytes == [1])
    #expect(try roundTrip(false, .bool) == false)
    #expect(try roundTrip([1, 2, 255], .raw(bits: 24)) == [1, 2, 255])
  }
}
