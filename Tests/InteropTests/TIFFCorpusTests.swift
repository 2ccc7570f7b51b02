import Foundation
import OMEZarr
import OMEZarrConvert
import TestSupport
import Testing
import ZarrIO

@Suite("Converting TIFFs written by tifffile", .serialized)
struct TIFFCorpusTests {
  static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Python/tiff_corpus.py")

  @Test("every variant converts to the same values, axes and physical sizes; peers accept the output")
  func convertsTheCorpus() throws {
    let dir = try makeTemporaryDirectory("tiff-corpus")
    defer { try? FileManager.default.removeItem(at: dir) }
    let python = try #require(testPython, "no Python test venv: run scripts/test")
    let r = try runProcess(python, [Self.script.path, dir.path])
    try #require(r.status == 0, "tiff_corpus.py failed: \(r.stderrText.suffix(3000))")
    let manifest = try JSONValue.parse([UInt8](Data(contentsOf: dir.appendingPathComponent("manifest.json"))))
    let cases = manifest.arrayValue ?? []
    #expect(cases.count >= 25)
    var checks: [JSONValue] = []
    for c in cases {
      let name = c["name"]?.stringValue ?? "?"
      do {
        let source = try TIFFSource(path: dir.appendingPathComponent(c["path"]?.stringValue ?? "").path,
          series: c["series"]?.intValue ?? 0)
        let out = dir.appendingPathComponent(name + ".ome.zarr").path
        var options = ConvertOptions()
        options.chunkShape = nil
        try Converter.convert(source, to: try StoreLocation(out), options: options)
        let node = try OMENode.open(path: out)
        let image = try #require(try node.image(), "\(name)")
        let want = [UInt8](try Data(contentsOf: dir.appendingPathComponent(name + ".bin")))
        #expect(image.levels[0].shape == (c["shape"]?.arrayValue ?? []).compactMap(\.intValue), "\(name): shape")
        #expect(try image.levels[0].read().bytes == want, "\(name): level 0 values")
        #expect(image.axes.map(\.name) == (c["axes"]?.arrayValue ?? []).compactMap(\.stringValue), "\(name): axes")
        if let scale = c["scale"]?.arrayValue?.compactMap(\.doubleValue) {
          let got = image.scale(level: 0) ?? []
          #expect(got.count == scale.count && zip(got, scale).allSatisfy { abs($0 - $1) <= 1e-6 * max(1, abs($1)) },
            "\(name): scale \(got) != \(scale)")
        }
        if let units = c["units"]?.arrayValue {
          #expect(image.axes.map(\.unit) == units.map(\.stringValue), "\(name): units")
        }
        if let channels = c["channels"]?.arrayValue?.compactMap(\.stringValue) {
          #expect(image.omero?.channels.map(\.label) == channels, "\(name): channel names")
        }
        checks.append([
          "name": .string(name), "path": .string(name + ".ome.zarr"), "kind": "image", "version": "0.5",
          "levels": .int(Int64(image.levels.count)),
          "shapes": .array(image.levels.map { .array($0.shape.map { .int(Int64($0)) }) }),
          "dtype": .string(image.levels[0].dataType.v2Name(endian: .little)), "bin": .string(name + ".bin"),
        ])
      } catch {
        Issue.record("\(name): \(error)")
      }
    }
    // The CLI turns a multi-image OME-TIFF into a bioformats2raw-style collection.
    let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("ome2zarr").path
    let collection = dir.appendingPathComponent("series.zarr").path
    let run = try runProcess(binary, ["convert", dir.appendingPathComponent("ome_series.ome.tif").path, collection, "--quiet"])
    #expect(run.status == 0, "\(run.stderrText)")
    let root = try OMENode.open(path: collection)
    #expect(root.kind == .bioformats2raw)
    #expect(try root.child("OME").metadata.series == ["0", "1"])
    #expect(FileManager.default.fileExists(atPath: collection + "/OME/METADATA.ome.xml"))
    for i in 0..<2 {
      let want = [UInt8](try Data(contentsOf: dir.appendingPathComponent("ome_series_\(i).bin")))
      #expect(try root.child(String(i)).image()?.levels[0].read().bytes == want, "series \(i)")
    }
    // The same collection as one archive (its images written into it), valid without an RFC-9 finding.
    let zipped = dir.appendingPathComponent("series.ozx").path
    let zrun = try runProcess(binary, ["convert", dir.appendingPathComponent("ome_series.ome.tif").path, zipped, "--quiet"])
    #expect(zrun.status == 0, "\(zrun.stderrText)")
    let zroot = try OMENode.open(path: zipped)
    #expect(zroot.kind == .bioformats2raw)
    #expect(try zroot.child("OME").metadata.series == ["0", "1"])
    #expect(try ZipStore.open(try StoreLocation(zipped)).directory.entry("OME/METADATA.ome.xml") != nil)
    for i in 0..<2 {
      let want = [UInt8](try Data(contentsOf: dir.appendingPathComponent("ome_series_\(i).bin")))
      #expect(try zroot.child(String(i)).image()?.levels[0].read().bytes == want, "series \(i) in the archive")
    }
    let zreport = try Validator().validate(try StoreLocation(zipped))
    #expect(zreport.isValid && !zreport.findings.contains { $0.rule.hasPrefix("ozx.") }, "\(zreport.findings)")
    // ome-zarr-models, the 0.5 JSON schema and ome-zarr-py check a few outputs.
    let sample = checks.filter { ["stack_zlib_pred2", "ome_tczyx", "imagej", "rgb_planar", "format_float32", "single"].contains($0["name"]?.stringValue ?? "") }
    #expect(sample.count == 6)
    try Data(JSONValue.array(sample).serializedBytes()).write(to: dir.appendingPathComponent("manifest.json"))
    let report = try JSONValue.parse([UInt8](OMEPeers.run(["check", dir.path])))
    for e in sample {
      let name = e["name"]?.stringValue ?? "?"
      for (peer, outcome) in report[name]?.objectValue ?? [:] {
        #expect(outcome.stringValue?.hasPrefix("ok") == true, "\(peer) on \(name): \(outcome.stringValue ?? "?")")
      }
    }
  }
}
