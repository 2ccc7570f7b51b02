/// An N-dimensional block of elements in host byte order and C order.
///
/// This is what ``ZarrArray`` reads into and writes from. Typed access goes through
/// ``elements(as:)`` and ``init(shape:dataType:elements:)``.
public struct ArrayBuffer: Sendable, Hashable {
  /// The block's shape, in elements per dimension.
  public var shape: [Int]
  /// The data type of the elements.
  public var dataType: DataType
  /// `shape.product * dataType.size` bytes.
  public var bytes: [UInt8]

  /// A buffer filled with `fill` (zeros by default).
  public init(shape: [Int], dataType: DataType, fill: FillValue? = nil) {
    self.shape = shape
    self.dataType = dataType
    let n = shape.reduce(1, *) * dataType.size
    if let fill, !fill.isZero {
      bytes = [UInt8](unsafeUninitializedCapacity: n) { buf, initialized in
        ElementOps.fill(UnsafeMutableRawBufferPointer(buf), with: fill.bytes)
        initialized = n
      }
    } else {
      bytes = [UInt8](repeating: 0, count: n)
    }
  }

  /// A buffer whose contents are undefined, for data that will overwrite all of it.
  public init(uninitializedShape shape: [Int], dataType: DataType) {
    self.shape = shape
    self.dataType = dataType
    let n = shape.reduce(1, *) * dataType.size
    bytes = [UInt8](unsafeUninitializedCapacity: n) { buf, initialized in
      initialized = n
    }
  }

  /// A buffer over existing bytes.
  /// - Throws: `.invalidArgument` if the byte count does not match the shape.
  public init(shape: [Int], dataType: DataType, bytes: [UInt8]) throws(ZarrError) {
    let n = shape.reduce(1, *) * dataType.size
    guard bytes.count == n else {
      throw ZarrError(.invalidArgument, "buffer of \(bytes.count) bytes does not hold shape \(shape) of \(dataType) (\(n) bytes)")
    }
    self.shape = shape
    self.dataType = dataType
    self.bytes = bytes
  }

  /// A buffer from typed elements.
  /// - Throws: `.invalidArgument` if the count or element size does not match.
  public init<T: BitwiseCopyable>(shape: [Int], dataType: DataType, elements: [T]) throws(ZarrError) {
    guard MemoryLayout<T>.stride == dataType.size else {
      throw ZarrError(.invalidArgument, "\(T.self) has \(MemoryLayout<T>.stride) bytes but \(dataType) has \(dataType.size)")
    }
    guard elements.count == shape.reduce(1, *) else {
      throw ZarrError(.invalidArgument, "\(elements.count) elements do not fill shape \(shape)")
    }
    try self.init(shape: shape, dataType: dataType, bytes: elements.withUnsafeBytes { Array($0) })
  }

  /// Number of elements.
  public var count: Int { shape.reduce(1, *) }

  /// The elements as `T` (whose size must equal the data type's).
  public func elements<T: BitwiseCopyable>(as type: T.Type) throws(ZarrError) -> [T] {
    guard MemoryLayout<T>.stride == dataType.size else {
      throw ZarrError(.invalidArgument, "\(T.self) has \(MemoryLayout<T>.stride) bytes but \(dataType) has \(dataType.size)")
    }
    let n = count
    return [T](unsafeUninitializedCapacity: n) { buf, initialized in
      bytes.withUnsafeBytes { src in
        if n > 0 { UnsafeMutableRawPointer(buf.baseAddress!).copyMemory(from: src.baseAddress!, byteCount: n * dataType.size) }
      }
      initialized = n
    }
  }
}

extension ArrayBuffer {
  /// A copy of the box `region` of this buffer.
  public func region(_ region: [Range<Int>]) throws(ZarrError) -> ArrayBuffer {
    guard region.count == shape.count, zip(region, shape).allSatisfy({ $0.lowerBound >= 0 && $0.upperBound <= $1 }) else {
      throw ZarrError(.invalidArgument, "region \(region) lies outside the buffer shape \(shape)")
    }
    var out = ArrayBuffer(shape: region.map(\.count), dataType: dataType)
    guard out.count > 0 else { return out }
    let elementSize = dataType.size
    bytes.withUnsafeBytes { src in
      out.bytes.withUnsafeMutableBytes { dst in
        ElementOps.copyRegion(from: src.baseAddress!, shape: shape, origin: region.map(\.lowerBound),
          to: dst.baseAddress!, shape: out.shape, origin: [Int](repeating: 0, count: shape.count),
          extent: out.shape, elementSize: elementSize)
      }
    }
    return out
  }

  /// Copies `other` into this buffer with its first element at `origin`.
  public mutating func paste(_ other: ArrayBuffer, at origin: [Int]) throws(ZarrError) {
    guard other.dataType == dataType, origin.count == shape.count, other.shape.count == shape.count,
      (0..<shape.count).allSatisfy({ origin[$0] >= 0 && origin[$0] + other.shape[$0] <= shape[$0] })
    else {
      throw ZarrError(.invalidArgument, "a \(other.dataType) buffer of shape \(other.shape) does not fit at \(origin) in \(shape)")
    }
    guard other.count > 0 else { return }
    let elementSize = dataType.size
    let myShape = shape
    other.bytes.withUnsafeBytes { src in
      bytes.withUnsafeMutableBytes { dst in
        ElementOps.copyRegion(from: src.baseAddress!, shape: other.shape, origin: [Int](repeating: 0, count: myShape.count),
          to: dst.baseAddress!, shape: myShape, origin: origin, extent: other.shape, elementSize: elementSize)
      }
    }
  }
}

extension ArrayBuffer {
  /// The elements as doubles (for statistics and filters); `nil` for complex, raw and bool data.
  public func doubleValues() -> [Double]? {
    func map<T: BitwiseCopyable>(_: T.Type, _ f: (T) -> Double) -> [Double] {
      bytes.withUnsafeBytes { raw in raw.bindMemory(to: T.self).map(f) }
    }
    switch dataType {
    case .uint8: return map(UInt8.self) { Double($0) }
    case .int8: return map(Int8.self) { Double($0) }
    case .uint16: return map(UInt16.self) { Double($0) }
    case .int16: return map(Int16.self) { Double($0) }
    case .uint32: return map(UInt32.self) { Double($0) }
    case .int32: return map(Int32.self) { Double($0) }
    case .uint64: return map(UInt64.self) { Double($0) }
    case .int64: return map(Int64.self) { Double($0) }
    case .float32: return map(Float.self) { Double($0) }
    case .float64: return map(Double.self) { $0 }
    case .float16: return map(UInt16.self) { Float16Bits.toDouble($0) }
    default: return nil
    }
  }
}
