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
      guard let level0 = image.levels.first else { throw ConvertError(.unreadable, "the image has no levels", file: path) }
      array = level0
      let n = array.shape.count
      var warnings: [ConvertWarning] = []
      var axes = image.axes
      if axes.count != n {
        axes = ImageOptions.defaultAxes(ndim: n)
        warnings.append(ConvertWarning("\(image.axes.count) axes for \(n) dimensions; \(axes.map(\.name)) are used", file: path))
      }
      var scale = image.scale(level: 0) ?? [Double](repeating: 1, count: n)
      if scale.count != n {
        warnings.append(ConvertWarning("\(scale.count) scale values for \(n) dimensions; 1 is used", file: path))
        scale = [Double](repeating: 1, count: n)
      }
      var translation = image.translation(level: 0)
      if let t = translation, t.count != n {
        warnings.append(ConvertWarning("\(t.count) translation values for \(n) dimensions; left out", file: path))
        translation = nil
      }
      description = SourceDescription(name: image.multiscale.name ?? (path as NSString).lastPathComponent,
        axes: axes, shape: array.shape, dataType: array.dataType, scale: scale,
        translation: translation, channels: image.omero?.channels, files: [path], warnings: warnings)
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
    guard !array.dataType.isComplex, array.dataType != .bool, !array.dataType.isRaw else {
      throw ConvertError(.unsupported, "\(array.dataType) arrays cannot be converted to an image", file: path)
    }
    try description.check(file: path)
  }

  /// Reads `rows` of the plane at `index` (the leading coordinates) into `buffer`.
  public func read(plane index: [Int], rows: Range<Int>, into buffer: UnsafeMutableRawBufferPointer) throws {
    guard let width = array.shape.last, let base = buffer.baseAddress else { return }
    let region = index.map { $0..<($0 + 1) } + [rows, 0..<width]
    try array.read(region, into: base)
  }
}
