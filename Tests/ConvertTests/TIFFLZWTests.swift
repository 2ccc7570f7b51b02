import Foundation
import Testing
import TestSupport
@testable import OMEZarrConvert

@Suite("TIFF LZW")
struct TIFFLZWTests {
  /// Inputs that reach every path: nothing, one byte, long runs (long codes), noise (many clears).
  static func inputs() -> [String: [UInt8]] {
    var g = SystemRandomNumberGenerator()
    return [
      "empty": [], "one": [42], "two": [1, 2], "run": [UInt8](repeating: 7, count: 1 << 20),
      "noise": (0..<(1 << 20)).map { _ in UInt8.random(in: 0...255, using: &g) },
      "ramp": (0..<(512 * 512 * 2)).map { UInt8(truncatingIfNeeded: $0 / 3) },
      "few": (0..<300_000).map { _ in UInt8.random(in: 0...3, using: &g) },
    ]
  }

  @Test(.enabled(if: testPython != nil)) func imagecodecsDecodesWhatWeEncode() throws {
    let python = try #require(testPython)
    let dir = try makeTemporaryDirectory("lzw")
    defer { try? FileManager.default.removeItem(at: dir) }
    let encoder = TIFFLZW()
    for (name, input) in Self.inputs() {
      try Data(input).write(to: dir.appendingPathComponent(name + ".raw"))
      let encoded = input.withUnsafeBytes { encoder.encode($0) }
      try Data(encoded).write(to: dir.appendingPathComponent(name + ".lzw"))
    }
    let r = try runProcess(python, ["-c", """
      import glob, sys, imagecodecs
      bad = []
      for f in sorted(glob.glob(sys.argv[1] + "/*.lzw")):
          want = open(f[:-4] + ".raw", "rb").read()
          try:
              ok = imagecodecs.lzw_decode(open(f, "rb").read()) == want
          except Exception as e:
              ok = False
          if not ok:
              bad.append(f.rsplit("/", 1)[-1])
      print("bad:", bad)
      sys.exit(1 if bad else 0)
      """, dir.path])
    #expect(r.status == 0, "\(r.stdoutText) \(r.stderrText)")
  }

  @Test func compressesWhatRepeats() {
    let encoder = TIFFLZW()
    let run = [UInt8](repeating: 7, count: 1 << 20)
    let encoded = run.withUnsafeBytes { encoder.encode($0) }
    #expect(encoded.count < 20_000 && encoded.first == 0x80)  // Clear (256) in 9 bits: 1000 0000 0...
  }
}
