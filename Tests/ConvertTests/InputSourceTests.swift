import Foundation
import OMEZarr
import TestSupport
import Testing
import ZarrIO
@testable import OMEZarrConvert

/// `InputSource`: what a list of inputs is, and the images it opens.
@Suite("InputSource")
struct InputSourceTests {
  @Test func kindsOfInputs() throws {
    let dir = try Corpus.dir()
    let planes = try Corpus.planes(3, 16, 20)
    let folder = dir.appendingPathComponent("planes#2")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    for (i, p) in planes.enumerated() { try Corpus.write(folder.appendingPathComponent("z\(i + 1).tif").path, [p]) }
    let stackPath = dir.appendingPathComponent("s#1.tif").path
    try Corpus.write(stackPath, planes)

    #expect(try InputSource.kind(of: [folder.path]) == .planeFolder)
    #expect(try InputSource.kind(of: [stackPath]) == .tiff)
    let files = (1...3).map { folder.appendingPathComponent("z\($0).tif").path }
    #expect(try InputSource.kind(of: files.reversed()) == .planeFiles)

    let fromFolder = try InputSource.open([folder.path])
    #expect(fromFolder.map(\.name) == ["0"])
    #expect(try fromFolder[0].source.readRegion([0..<3, 0..<16, 0..<20]) == (try Corpus.stack(planes)))
    let fromFiles = try InputSource.open(files.reversed())
    #expect(try fromFiles[0].source.readRegion([0..<3, 0..<16, 0..<20]) == (try Corpus.stack(planes)))
    let fromStack = try InputSource.open([stackPath])
    #expect(fromStack[0].source.description.shape == [3, 16, 20])
    #expect(try fromStack[0].source.readRegion([0..<3, 0..<16, 0..<20]) == (try Corpus.stack(planes)))

    // An OME-Zarr image is a Zarr input (re-encoded).
    let out = dir.appendingPathComponent("img.ome.zarr").path
    _ = try ImageWriter.write(try Corpus.stack(planes), to: try FilesystemStore(root: out, create: true),
      options: ImageOptions(axes: [.space("z"), .space("y"), .space("x")]))
    #expect(try InputSource.kind(of: [out]) == .zarr)
    #expect(try InputSource.open([out])[0].source.readRegion([0..<3, 0..<16, 0..<20]) == (try Corpus.stack(planes)))
  }

  @Test func missingInputsAreUnreadable() throws {
    let missing = try Corpus.dir().appendingPathComponent("nope.tif").path
    #expect(throws: ConvertError(.unreadable, "no such file or directory", file: missing)) { try InputSource.kind(of: [missing]) }
    #expect(throws: ConvertError.self) { try InputSource.open([]) }
  }
}
