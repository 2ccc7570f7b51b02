import Foundation
import OMEZarr
import ZarrIO

/// An existing Zarr array or OME-Zarr image (level 0), for re-encoding ("resave").
public final class ZarrSource: PlaneSource {
  /// The image's axes, shape, type, scale and channels.
  public let description: SourceDescription
  let array: ZarrArray

  /// Opens `path`: an OME-Zarr image (level 0, with its axes, scale and channels) or a Zarr array.
  public init(path: String) throws {
    let node = try OMENode.open(path: path)
    if let image = try node.image() {
      array = image.levels[0]
      description = SourceDescription(name: image.multiscale.name ?? (path as NSString).lastPathComponent,
        axes: image.axes, shape: array.shape, dataType: array.dataType,
        scale: image.scale(level: 0) ?? [Double](repeating: 1, count: array.shape.count),
        translation: image.translation(level: 0), channels: image.omero?.channels, files: [path])
    } else if case .array(let a) = node.zarr {
      array = a
      let names = a.metadata.dimensionNames?.compactMap { $0 }
      var axes = ImageOptions.defaultAxes(ndim: a.shape.count)
      if let names, names.count == a.shape.count {
        axes = names.map { n in
          ["x", "y", "z"].contains(n) ? .space(n, unit: nil) : n == "c" ? .channel() : n == "t" ? .time() : Axis(name: n)
        }
      }
      description = SourceDescription(name: (path as NSString).lastPathComponent, axes: axes, shape: a.shape,
        dataType: a.dataType, scale: [Double](repeating: 1, count: a.shape.count), files: [path])
    } else {
      throw ConvertError(.unsupported, "a \(node.kind) is not an image or array to convert", file: path)
    }
    guard array.shape.count >= 2 else { throw ConvertError(.unsupported, "arrays need at least 2 dimensions", file: path) }
  }

  /// Reads `rows` of the plane at `index` (the leading coordinates) into `buffer`.
  public func read(plane index: [Int], rows: Range<Int>, into buffer: UnsafeMutableRawBufferPointer) throws {
    guard let width = array.shape.last, let base = buffer.baseAddress else { return }
    let region = index.map { $0..<($0 + 1) } + [rows, 0..<width]
    try array.read(region, into: base)
  }
}
