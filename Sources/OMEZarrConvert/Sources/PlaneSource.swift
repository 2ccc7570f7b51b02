import OMEZarr
import ZarrIO

/// What a source provides: an image of `shape` whose last two axes are y and x.
public struct SourceDescription: Sendable {
  /// The image name, when the input gives one (else usually the file name).
  public var name: String?
  /// The axes, one per dimension; the last two are y and x.
  public var axes: [Axis]
  /// The image shape, in elements per axis.
  public var shape: [Int]
  /// The data type of the elements.
  public var dataType: DataType
  /// Physical pixel size per axis (1 where unknown).
  public var scale: [Double]
  /// Physical position of the first pixel per axis, in the axis units; `nil` when unknown.
  public var translation: [Double]?
  /// Channel names and colors, when the input says them.
  public var channels: [Omero.Channel]?
  /// Files the data comes from (for messages and summaries).
  public var files: [String]

  /// The shape of one plane: `[height, width]`.
  public var planeShape: [Int] { Array(shape.suffix(2)) }
  /// The shape of the axes before y and x (empty for a single plane).
  public var leadingShape: [Int] { Array(shape.dropLast(2)) }
  /// The number of planes: the product of ``leadingShape``.
  public var planeCount: Int { leadingShape.reduce(1, *) }
  /// The size of the whole image in bytes.
  public var byteCount: Int { shape.reduce(dataType.size, *) }
}

/// An image readable plane by plane (and row range by row range), from any thread.
public protocol PlaneSource: Sendable {
  /// The image this source provides.
  var description: SourceDescription { get }
  /// Reads rows `rows` of the plane at `index` (coordinates along the leading axes) into `buffer`,
  /// which holds `rows.count * width` elements.
  func read(plane index: [Int], rows: Range<Int>, into buffer: UnsafeMutableRawBufferPointer) throws
}

extension PlaneSource {
  /// A whole region as a buffer (for small reads and tests).
  public func readRegion(_ region: [Range<Int>]) throws -> ArrayBuffer {
    let d = description
    let n = d.shape.count
    var out = ArrayBuffer(shape: region.map(\.count), dataType: d.dataType)
    let lead = Array(region.prefix(n - 2))
    let rows = region[n - 2], cols = region[n - 1]
    let width = d.shape[n - 1]
    var plane = [UInt8](repeating: 0, count: rows.count * width * d.dataType.size)
    var idx = lead.map(\.lowerBound)
    var offset = 0
    let planeOut = rows.count * cols.count * d.dataType.size
    while true {
      try plane.withUnsafeMutableBytes { try read(plane: idx, rows: rows, into: $0) }
      let full = try ArrayBuffer(shape: [rows.count, width], dataType: d.dataType, bytes: plane)
      let cut = try full.region([0..<rows.count, cols])
      out.bytes.replaceSubrange(offset..<(offset + planeOut), with: cut.bytes)
      offset += planeOut
      var k = lead.count - 1
      while k >= 0 {
        idx[k] += 1
        if idx[k] < lead[k].upperBound { break }
        idx[k] = lead[k].lowerBound
        k -= 1
      }
      if k < 0 { break }
    }
    return out
  }
}
