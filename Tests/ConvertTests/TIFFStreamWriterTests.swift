import Foundation
import TestSupport
import Testing
import ZarrIO
@testable import OMEZarrConvert

/// `TIFFStreamWriter`: segments first, then each plane's directories, streamed one plane at a time;
/// classic TIFF or BigTIFF decided when the file's size is known.
@Suite("TIFFStreamWriter")
struct TIFFStreamWriterTests {
  /// One strip of `width` x `height` uint8 pixels at `offset`.
  static func directory(width: Int, height: Int, offset: UInt64, reduced: Bool) -> TIFFIFD {
    var d = TIFFIFD()
    d.set(254, .longs([reduced ? 1 : 0]))
    d.set(256, .longs([UInt32(width)]))
    d.set(257, .longs([UInt32(height)]))
    d.set(258, .shorts([8]))
    d.set(259, .shorts([1]))
    d.set(262, .shorts([1]))
    d.set(273, .offsets([offset]))
    d.set(277, .shorts([1]))
    d.set(278, .longs([UInt32(height)]))
    d.set(279, .offsets([UInt64(width * height)]))
    return d
  }

  /// Three planes of 6 x 4 with a reduced resolution of 3 x 2 each; a low classic limit forces BigTIFF.
  @Test(arguments: [false, true])
  func planesAndTheirSubIFDsAsTifffileReadsThem(_ big: Bool) throws {
    let dir = try makeTemporaryDirectory("tiff-writer")
    let path = dir.appendingPathComponent("t.tif").path
    let file = try StagedFile(target: try StoreLocation(path))
    var writer = try TIFFStreamWriter(file: file)
    // Every offset lies far below the limit; the directories, written last, pass it.
    if big { writer.classicLimit = 200 }
    var offsets: [(full: UInt64, half: UInt64)] = []
    for plane in 0..<3 {
      let full = try [UInt8](repeating: UInt8(plane), count: 24).withUnsafeBytes { try writer.append($0) }
      let half = try [UInt8](repeating: UInt8(10 + plane), count: 6).withUnsafeBytes { try writer.append($0) }
      offsets.append((full, half))
    }
    var built = 0
    let isBig = try writer.finish(planes: 3) { i in
      built += 1
      var main = Self.directory(width: 6, height: 4, offset: offsets[i].full, reduced: false)
      main.set(330, .subIFDs(1))
      return (main, [Self.directory(width: 3, height: 2, offset: offsets[i].half, reduced: true)])
    }
    try file.commit()
    #expect(isBig == big)
    #expect(built == 6, "each plane's directories are built once to lay out and once to write")
    let python = try #require(testPython, "no Python test venv: run scripts/setup --venv")
    let script = """
      import json, sys, tifffile
      with tifffile.TiffFile(sys.argv[1]) as t:
          half = []
          for i, page in enumerate(t.pages):
              for offset in page.subifds or ():
                  t.filehandle.seek(offset)
                  sub = tifffile.TiffPage(t, index=(i, 0))
                  half.append([int(sub.asarray()[0, 0]), list(sub.shape)])
          print(json.dumps({"big": t.is_bigtiff, "pages": len(t.pages), "full": [int(p.asarray()[0, 0]) for p in t.pages],
                            "half": half}))
      """
    let r = try runProcess(python, ["-c", script, path])
    try #require(r.status == 0, "\(r.stderrText)")
    let report = try JSONValue.parse(Array(r.stdout))
    #expect(report["big"] == .bool(big) && report["pages"] == 3 && report["full"] == [0, 1, 2], "\(report.serialized())")
    #expect(report["half"] == [[10, [2, 3]], [11, [2, 3]], [12, [2, 3]]], "\(report.serialized())")
  }
}
