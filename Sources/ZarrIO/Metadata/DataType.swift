/// A Zarr v3 core data type.
///
/// Endianness is not part of the data type: in memory ZarrIO always holds elements in the host's
/// byte order (little-endian on every supported platform); the `bytes` codec maps to the stored order.
public enum DataType: Sendable, Hashable, CustomStringConvertible {
  /// A boolean, one byte (`0` or `1`).
  case bool
  /// Signed integers of 8, 16, 32 and 64 bits.
  case int8, int16, int32, int64
  /// Unsigned integers of 8, 16, 32 and 64 bits.
  case uint8, uint16, uint32, uint64
  /// IEEE 754 floats of half, single and double precision.
  case float16, float32, float64
  /// Complex numbers: a pair of `float32` or of `float64` (real part first).
  case complex64, complex128
  /// Raw bits (`r8`, `r16`, ...): opaque bytes, `bits` a multiple of 8.
  case raw(bits: Int)

  /// Every fixed core type (not `raw`).
  public static let allCore: [DataType] = [
    .bool, .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .uint64,
    .float16, .float32, .float64, .complex64, .complex128,
  ]

  /// Parses a v3 `data_type` name.
  public init?(name: String) {
    switch name {
    case "bool": self = .bool
    case "int8": self = .int8
    case "int16": self = .int16
    case "int32": self = .int32
    case "int64": self = .int64
    case "uint8": self = .uint8
    case "uint16": self = .uint16
    case "uint32": self = .uint32
    case "uint64": self = .uint64
    case "float16": self = .float16
    case "float32": self = .float32
    case "float64": self = .float64
    case "complex64": self = .complex64
    case "complex128": self = .complex128
    default:
      if name.hasPrefix("r"), let bits = Int(name.dropFirst()), bits > 0, bits % 8 == 0, bits <= ReadLimits.maxRawBits {
        self = .raw(bits: bits)
      } else {
        return nil
      }
    }
  }

  /// The v3 `data_type` name.
  public var name: String {
    switch self {
    case .bool: return "bool"
    case .int8: return "int8"
    case .int16: return "int16"
    case .int32: return "int32"
    case .int64: return "int64"
    case .uint8: return "uint8"
    case .uint16: return "uint16"
    case .uint32: return "uint32"
    case .uint64: return "uint64"
    case .float16: return "float16"
    case .float32: return "float32"
    case .float64: return "float64"
    case .complex64: return "complex64"
    case .complex128: return "complex128"
    case .raw(let bits): return "r\(bits)"
    }
  }

  /// The v3 `data_type` name.
  public var description: String { name }

  /// Bytes per element.
  public var size: Int {
    switch self {
    case .bool, .int8, .uint8: return 1
    case .int16, .uint16, .float16: return 2
    case .int32, .uint32, .float32: return 4
    case .int64, .uint64, .float64, .complex64: return 8
    case .complex128: return 16
    case .raw(let bits): return bits / 8
    }
  }

  /// The unit whose bytes are swapped for a byte-order change (a complex number swaps each part).
  public var swapUnit: Int {
    switch self {
    case .complex64: return 4
    case .complex128: return 8
    case .raw: return 1
    default: return size
    }
  }

  /// Whether the stored byte order matters (the `bytes` codec then needs `endian`).
  public var hasEndianness: Bool { swapUnit > 1 }

  /// Whether this is a signed or unsigned integer type.
  public var isInteger: Bool {
    switch self {
    case .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .uint64: return true
    default: return false
    }
  }
  /// Whether this is `float16`, `float32` or `float64`.
  public var isFloat: Bool { self == .float16 || self == .float32 || self == .float64 }
  /// Whether this is `complex64` or `complex128`.
  public var isComplex: Bool { self == .complex64 || self == .complex128 }
  /// Whether this is a raw bits type (`r8`, `r16`, ...).
  public var isRaw: Bool { if case .raw = self { return true } else { return false } }
  /// Whether this is a signed integer type (floats do not count).
  public var isSigned: Bool { [.int8, .int16, .int32, .int64].contains(self) }
}

/// Byte order of stored data.
public enum Endian: String, Sendable, Hashable {
  /// Least significant byte first, or most significant byte first.
  case little, big
  /// The byte order of this machine.
  public static var native: Endian { 1.littleEndian == 1 ? .little : .big }
}

extension DataType {
  /// Parses a Zarr v2 (numpy) dtype string such as `"<u2"`, `">f8"`, `"|b1"`, `"|u1"`, `"<c8"`, `"|V3"`.
  ///
  /// - Returns: the data type and its byte order (`nil` for single-byte types).
  public static func parseV2(_ s: String) -> (DataType, Endian?)? {
    var chars = Substring(s)
    var endian: Endian? = nil
    switch chars.first {
    case "<": endian = .little; chars = chars.dropFirst()
    case ">": endian = .big; chars = chars.dropFirst()
    case "|", "=": chars = chars.dropFirst()
    default: break
    }
    guard let kind = chars.first, let n = Int(chars.dropFirst()) else { return nil }
    let t: DataType
    switch (kind, n) {
    case ("b", 1): t = .bool
    case ("i", 1): t = .int8
    case ("i", 2): t = .int16
    case ("i", 4): t = .int32
    case ("i", 8): t = .int64
    case ("u", 1): t = .uint8
    case ("u", 2): t = .uint16
    case ("u", 4): t = .uint32
    case ("u", 8): t = .uint64
    case ("f", 2): t = .float16
    case ("f", 4): t = .float32
    case ("f", 8): t = .float64
    case ("c", 8): t = .complex64
    case ("c", 16): t = .complex128
    case ("V", let n) where n > 0 && n <= ReadLimits.maxRawBits / 8: t = .raw(bits: n * 8)
    default: return nil
    }
    if s.first == "=" { endian = .native }
    return (t, t.hasEndianness ? (endian ?? .native) : nil)
  }

  /// The Zarr v2 (numpy) dtype string for this type stored in `endian` order.
  public func v2Name(endian: Endian) -> String {
    let e = hasEndianness ? (endian == .little ? "<" : ">") : "|"
    switch self {
    case .bool: return "|b1"
    case .int8: return "|i1"
    case .uint8: return "|u1"
    case .int16, .int32, .int64: return "\(e)i\(size)"
    case .uint16, .uint32, .uint64: return "\(e)u\(size)"
    case .float16, .float32, .float64: return "\(e)f\(size)"
    case .complex64, .complex128: return "\(e)c\(size)"
    case .raw: return "|V\(size)"
    }
  }
}
