/// The fill value of an array: one element in host byte order.
///
/// Parsing and printing follow the v3 data-type spec exactly: integers are exact over the whole
/// `Int64`/`UInt64` range, floats accept numbers, `"NaN"`, `"Infinity"`, `"-Infinity"` and hex bit
/// patterns `"0x..."`, complex numbers are `[re, im]` pairs, raw types are byte arrays.
public struct FillValue: Sendable, Hashable {
  /// One element in host byte order; `bytes.count == dataType.size`.
  public var bytes: [UInt8]

  /// A fill value from one element's bytes in host byte order.
  public init(bytes: [UInt8]) { self.bytes = bytes }

  /// All-zero bytes: `false`, `0`, `0.0`.
  public static func zero(_ type: DataType) -> FillValue { FillValue(bytes: [UInt8](repeating: 0, count: type.size)) }

  /// Whether every byte is zero (lets buffers skip an explicit fill).
  public var isZero: Bool { bytes.allSatisfy { $0 == 0 } }

  /// A fill value from a typed scalar (host order); the size must match the data type.
  public init<T: BitwiseCopyable>(_ value: T) {
    bytes = withUnsafeBytes(of: value) { Array($0) }
  }

  /// Interprets the bytes as `T` (which must have the element size).
  public func value<T: BitwiseCopyable>(as: T.Type) -> T {
    bytes.withUnsafeBytes { $0.loadUnaligned(as: T.self) }
  }
}

extension FillValue {
  /// Parses a `fill_value` JSON value for `type`.
  /// - Throws: `.invalidMetadata` naming what is wrong; the caller adds the key and pointer.
  public static func parse(_ json: JSONValue, for type: DataType) throws(ZarrError) -> FillValue {
    func bad(_ why: String) -> ZarrError {
      ZarrError(.invalidMetadata, "fill_value \(json.serialized(pretty: false)) is not valid for \(type): \(why)",
        pointer: "/fill_value")
    }
    switch type {
    case .bool:
      switch json {
      case .bool(let b): return FillValue(bytes: [b ? 1 : 0])
      case .int(0), .int(1): return FillValue(bytes: [json == .int(1) ? 1 : 0])  // lenient: 0/1
      default: throw bad("expected true or false")
      }
    case .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .uint64:
      let (lo, hi): (Int64, UInt64)
      switch type {
      case .int8: (lo, hi) = (Int64(Int8.min), UInt64(Int8.max))
      case .int16: (lo, hi) = (Int64(Int16.min), UInt64(Int16.max))
      case .int32: (lo, hi) = (Int64(Int32.min), UInt64(Int32.max))
      case .int64: (lo, hi) = (Int64.min, UInt64(Int64.max))
      case .uint8: (lo, hi) = (0, UInt64(UInt8.max))
      case .uint16: (lo, hi) = (0, UInt64(UInt16.max))
      case .uint32: (lo, hi) = (0, UInt64(UInt32.max))
      default: (lo, hi) = (0, UInt64.max)
      }
      // Two's complement bits of the value, truncated to the element size (little-endian).
      let bits: UInt64
      switch json {
      case .int(let v):
        guard v >= lo, v < 0 || UInt64(v) <= hi else { throw bad("out of range") }
        bits = UInt64(bitPattern: v)
      case .uint(let v):
        guard v <= hi else { throw bad("out of range") }
        bits = v
      case .double(let d):
        // Lenient: an integral number written with a fraction ("0.0").
        guard d.rounded() == d, d.magnitude < 9.0e15 else { throw bad("not an integer") }
        let v = Int64(d)
        guard v >= lo, v < 0 || UInt64(v) <= hi else { throw bad("out of range") }
        bits = UInt64(bitPattern: v)
      default: throw bad("expected an integer")
      }
      return FillValue(bytes: littleEndianBytes(bits, count: type.size))
    case .float16, .float32, .float64:
      return FillValue(bytes: try parseFloat(json, size: type.size, bad: bad))
    case .complex64, .complex128:
      guard case .array(let parts) = json, parts.count == 2 else { throw bad("expected [real, imaginary]") }
      let half = type.size / 2
      return FillValue(bytes: try parseFloat(parts[0], size: half, bad: bad) + parseFloat(parts[1], size: half, bad: bad))
    case .raw(let bits):
      let n = bits / 8
      guard case .array(let items) = json, items.count == n || items.count == bits else {
        throw bad("expected an array of \(n) byte values")
      }
      var out: [UInt8] = []
      for item in items.prefix(n) {
        guard let v = item.intValue, (0...255).contains(v) else { throw bad("byte values must be 0...255") }
        out.append(UInt8(v))
      }
      return FillValue(bytes: out)
    }
  }

  static func littleEndianBytes(_ bits: UInt64, count: Int) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: count)
    for i in 0..<min(count, 8) { out[i] = UInt8(truncatingIfNeeded: bits >> (8 * UInt64(i))) }
    if Endian.native == .big { out.reverse() }
    return out
  }

  static func bitsOf(_ bytes: ArraySlice<UInt8>) -> UInt64 {
    var bits: UInt64 = 0
    let ordered = Endian.native == .little ? Array(bytes) : bytes.reversed()
    for (i, b) in ordered.enumerated() { bits |= UInt64(b) << (8 * UInt64(i)) }
    return bits
  }

  static func floatBits(_ d: Double, size: Int) -> UInt64 {
    switch size {
    case 2: return UInt64(Float16Bits.fromDouble(d))
    case 4: return UInt64(Float(d).bitPattern)
    default: return d.bitPattern
    }
  }

  static func parseFloat(
    _ json: JSONValue, size: Int, bad: (String) -> ZarrError
  ) throws(ZarrError) -> [UInt8] {
    let bits: UInt64
    switch json {
    case .int, .uint, .double:
      bits = floatBits(json.doubleValue ?? 0, size: size)
    case .string("NaN"):
      bits = size == 2 ? 0x7E00 : size == 4 ? 0x7FC0_0000 : 0x7FF8_0000_0000_0000
    case .string("Infinity"):
      bits = floatBits(.infinity, size: size)
    case .string("-Infinity"):
      bits = floatBits(-.infinity, size: size)
    case .string(let s) where s.hasPrefix("0x") || s.hasPrefix("0X"):
      let hex = s.dropFirst(2)
      guard !hex.isEmpty, hex.count <= size * 2, let v = UInt64(hex, radix: 16) else {
        throw bad("hex fill value must have at most \(size * 2) hex digits")
      }
      bits = v
    default: throw bad("expected a number, \"NaN\", \"Infinity\", \"-Infinity\" or \"0x...\"")
    }
    return littleEndianBytes(bits, count: size)
  }

  /// The canonical JSON form for `type`.
  public func json(for type: DataType) -> JSONValue {
    switch type {
    case .bool: return .bool(bytes.first == 1)
    case .int8, .int16, .int32, .int64:
      let bits = FillValue.bitsOf(bytes[...])
      let shift = UInt64(64 - 8 * type.size)
      return .int(Int64(bitPattern: bits << shift) >> Int64(shift))  // sign-extend
    case .uint8, .uint16, .uint32, .uint64:
      let v = FillValue.bitsOf(bytes[...])
      return v <= UInt64(Int64.max) ? .int(Int64(v)) : .uint(v)
    case .float16, .float32, .float64:
      return FillValue.floatJSON(bytes[...])
    case .complex64, .complex128:
      let h = type.size / 2
      return .array([FillValue.floatJSON(bytes[0..<h]), FillValue.floatJSON(bytes[h..<(2 * h)])])
    case .raw:
      return .array(bytes.map { .int(Int64($0)) })
    }
  }

  static func floatJSON(_ part: ArraySlice<UInt8>) -> JSONValue {
    let bits = FillValue.bitsOf(part)
    let d: Double
    let canonicalNaN: UInt64
    switch part.count {
    case 2:
      d = Float16Bits.toDouble(UInt16(bits))
      canonicalNaN = 0x7E00
    case 4:
      d = Double(Float(bitPattern: UInt32(bits)))
      canonicalNaN = 0x7FC0_0000
    default:
      d = Double(bitPattern: bits)
      canonicalNaN = 0x7FF8_0000_0000_0000
    }
    if d.isNaN {
      if bits == canonicalNaN { return .string("NaN") }
      let hex = String(bits, radix: 16)
      return .string("0x" + String(repeating: "0", count: part.count * 2 - hex.count) + hex)
    }
    if d.isInfinite { return .string(d > 0 ? "Infinity" : "-Infinity") }
    if part.count == 4 {
      // The shortest decimal that reads back as the same Float.
      return .double(Double(Float(bitPattern: UInt32(bits)).description) ?? d)
    }
    return .double(d)
  }
}

/// Portable IEEE half-precision conversions (used where `Float16` is unavailable, and for printing).
enum Float16Bits {
  static func toDouble(_ h: UInt16) -> Double {
    let sign: Double = (h & 0x8000) != 0 ? -1 : 1
    let exp = Int((h >> 10) & 0x1F)
    let frac = Double(h & 0x3FF)
    if exp == 0 { return sign * frac * 0x1p-24 }
    if exp == 31 { return frac == 0 ? sign * .infinity : .nan }
    return sign * (1 + frac / 1024) * Double(sign: .plus, exponent: exp - 15, significand: 1)
  }

  static func fromDouble(_ d: Double) -> UInt16 {
    #if arch(x86_64) || arch(arm64)
      return Float16(d).bitPattern
    #else
      // Round-to-nearest-even through Float; adequate for platforms without Float16.
      let f = Float(d).bitPattern
      let sign = UInt16((f >> 16) & 0x8000)
      let exp = Int((f >> 23) & 0xFF) - 127 + 15
      if d.isNaN { return sign | 0x7E00 }
      if exp >= 31 { return sign | 0x7C00 }
      if exp <= 0 { return sign }
      return sign | UInt16(exp << 10) | UInt16((f >> 13) & 0x3FF)
    #endif
  }
}
