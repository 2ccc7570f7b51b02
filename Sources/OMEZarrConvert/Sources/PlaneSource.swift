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
  /// The channel axis holds the samples of colour pixels (3: RGB, 4: RGBA): a TIFF with
  /// `Photometric` RGB. `convert` records it and `export` writes such images interleaved again.
  public var rgb: Int? = nil
  /// Files the data comes from (for messages and summaries).
  public var files: [String]
  /// What the source repaired in the input's metadata (shown to the user).
  public var warnings: [ConvertWarning] = []

  /// The shape of one plane: `[height, width]`.
  public var planeShape: [Int] { Array(shape.suffix(2)) }
  /// The shape of the axes before y and x (empty for a single plane).
  public var leadingShape: [Int] { Array(shape.dropLast(2)) }
  /// The number of planes: the product of ``leadingShape``.
  public var planeCount: Int { CheckedArithmetic.product(leadingShape) ?? Int.max }
  /// The size of the whole image in bytes (at most ``ConvertLimits/maxImageBytes`` once ``check(file:)`` passed).
  public var byteCount: Int { CheckedArithmetic.product(shape, times: dataType.size) ?? Int.max }

  /// Throws unless the image can be converted: 2 to 5 dimensions, every one at least 1, as many
  /// axes and scale values as dimensions, at most ``ConvertLimits/maxPlanes`` planes and
  /// ``ConvertLimits/maxImageBytes`` bytes (checked arithmetic, so huge shapes cannot overflow).
  public func check(file: String?) throws(ConvertError) {
    guard (2...5).contains(shape.count) else {
      throw ConvertError(.unsupported, "the image has \(shape.count) dimensions \(shape); OME-Zarr images have 2 to 5", file: file)
    }
    guard shape.allSatisfy({ $0 >= 1 }) else {
      throw ConvertError(.unsupported, "the image shape \(shape) has an empty dimension; there is nothing to convert", file: file)
    }
    guard axes.count == shape.count, scale.count == shape.count, translation.map({ $0.count == shape.count }) ?? true else {
      throw ConvertError(.invalidArgument, "\(axes.count) axes and \(scale.count) scale values for an image of \(shape.count) dimensions", file: file)
    }
    guard let planes = CheckedArithmetic.product(leadingShape), planes <= ConvertLimits.maxPlanes else {
      throw ConvertError(.unsupported, "the image shape \(shape) has more than \(ConvertLimits.maxPlanes) planes", file: file)
    }
    guard let bytes = CheckedArithmetic.product(shape, times: dataType.size), bytes <= ConvertLimits.maxImageBytes else {
      throw ConvertError(.unsupported, "the image shape \(shape) of \(dataType) is larger than 2^60 bytes", file: file)
    }
  }
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
