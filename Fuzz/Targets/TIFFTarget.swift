import Foundation

/// A TIFF file: the bytes written to a file and opened as `convert` would (see ``TIFFExercise``).
enum TIFFTarget {
  static let path = TIFFExercise.directory + "/input.tif"

  @Sendable static func run(_ bytes: [UInt8]) {
    guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { return }
    TIFFExercise.run(path: path)
  }
}
