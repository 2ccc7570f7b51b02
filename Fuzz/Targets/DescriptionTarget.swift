import Foundation
import OMEZarrConvert
import ZarrIO

/// Image descriptions: the bytes as OME-XML or an ImageJ description, parsed, then written as the
/// description of a small valid TIFF (six 8×16 uint16 pages) that is opened as `convert` would.
enum DescriptionTarget {
  @Sendable static func runOMEXML(_ bytes: [UInt8]) {
    let text = String(decoding: bytes, as: UTF8.self)
    _ = try? OMEXMLMetadata.parse(text)
    exercise(description: text, path: TIFFExercise.directory + "/described.ome.tif")
  }

  @Sendable static func runImageJ(_ bytes: [UInt8]) {
    let text = String(decoding: bytes, as: UTF8.self)
    _ = ImageJMetadata(description: text)
    exercise(description: text, path: TIFFExercise.directory + "/described.tif")
  }

  /// Six pages of 8×16 uint16, each filled with its index.
  static let pages: [ArrayBuffer] = (0..<6).compactMap {
    try? ArrayBuffer(shape: [8, 16], dataType: .uint16, elements: [UInt16](repeating: UInt16($0), count: 128))
  }

  static func exercise(description: String, path: String) {
    // libtiff writes the description as a C string: it ends at the first NUL.
    var options = TIFFWriter.Options()
    options.description = description
    do {
      let writer = try TIFFWriter(path: path, options: options)
      for page in pages { try writer.append(page) }
    } catch {
      return
    }
    TIFFExercise.run(path: path)
  }
}
