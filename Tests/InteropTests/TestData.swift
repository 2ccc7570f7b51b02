import ZarrIO

/// Deterministic sample elements of every data type (host byte order).
enum TestData {
  static func elements(_ type: DataType, count: Int, seed: UInt64) -> [UInt8] {
    var state = seed &+ 0x9E37_79B9_7F4A_7C15
    func next() -> UInt64 {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      return z ^ (z >> 31)
    }
    var out: [UInt8] = []
    out.reserveCapacity(count * type.size)
    func append<T>(_ v: T) { withUnsafeBytes(of: v) { out.append(contentsOf: $0) } }
    for i in 0..<count {
      let r = next()
      switch type {
      case .bool: out.append(UInt8(r & 1))
      case .float16: append(Float16(Double(Int64(bitPattern: r) % 60000) / 7).bitPattern)
      case .float32: append(i == 1 ? Float.nan : i == 2 ? -Float.infinity : Float(Int64(bitPattern: r) % 1_000_000) / 13)
      case .float64: append(i == 1 ? Double.nan : i == 2 ? Double.infinity : Double(Int64(bitPattern: r)) / 1e9)
      case .complex64:
        append(Float(Int32(truncatingIfNeeded: r)) / 7)
        append(Float(Int32(truncatingIfNeeded: r >> 32)) / 3)
      case .complex128:
        append(Double(Int32(truncatingIfNeeded: r)) / 7)
        append(i == 1 ? Double.nan : Double(Int32(truncatingIfNeeded: r >> 32)) / 3)
      default:
        // Integers and raw types: random bits.
        var v = r
        for _ in 0..<type.size {
          out.append(UInt8(truncatingIfNeeded: v))
          v >>= 8
        }
      }
    }
    return out
  }

  /// Elements as little-endian bytes (the `.bin` format of the peer driver).
  static func littleEndian(_ bytes: [UInt8], _ type: DataType) -> [UInt8] {
    guard Endian.native == .big, type.swapUnit > 1 else { return bytes }
    var out = bytes
    for i in stride(from: 0, to: out.count, by: type.swapUnit) { out[i..<(i + type.swapUnit)].reverse() }
    return out
  }

  /// The numpy dtype string of a type (little-endian).
  static func numpyDtype(_ type: DataType) -> String {
    switch type {
    case .bool: return "|b1"
    default: return type.v2Name(endian: .little)
    }
  }
}
