import ZarrIO

/// Something that provides any region of a full-resolution image, so a pyramid can be written
/// block by block: an in-memory buffer, a Zarr array, a TIFF reader.
public protocol LevelSource: Sendable {
  /// The image's shape, one length per axis.
  var shape: [Int] { get }
  /// The data type of the elements.
  var dataType: DataType { get }
  /// The elements of `region` (C order).
  func readRegion(_ region: [Range<Int>]) throws -> ArrayBuffer
}

extension ArrayBuffer: LevelSource {
  /// The elements of `region`, copied from the buffer (C order).
  public func readRegion(_ region: [Range<Int>]) throws -> ArrayBuffer { try self.region(region) }
}

extension ZarrArray: LevelSource {
  /// The elements of `region`, read from the array's chunks (C order).
  public func readRegion(_ region: [Range<Int>]) throws -> ArrayBuffer { try read(region) }
}

/// The boxes of a grid over `shape` with cell `cell`, clipped to the shape, in C order.
public func gridBoxes(shape: [Int], cell: [Int]) -> [[Range<Int>]] {
  let counts = zip(shape, cell).map { ($0 + $1 - 1) / $1 }
  if counts.contains(0) { return [] }
  var out: [[Range<Int>]] = []
  var index = [Int](repeating: 0, count: shape.count)
  while true {
    out.append((0..<shape.count).map { d in (index[d] * cell[d])..<min((index[d] + 1) * cell[d], shape[d]) })
    var k = shape.count - 1
    while k >= 0 {
      index[k] += 1
      if index[k] < counts[k] { break }
      index[k] = 0
      k -= 1
    }
    if k < 0 { return out }
  }
}
