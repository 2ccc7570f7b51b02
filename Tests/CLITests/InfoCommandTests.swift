import Foundation
import OMEZarr
import OMEZarrConvert
import TestSupport
import Testing
import ZarrIO

/// Runs the built `ome2zarr` binary (it sits beside the test bundle).
enum CLI {
  static var binary: String {
    URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("ome2zarr").path
  }

  struct Result {
    var status: Int32
    var stdout: String
    var stderr: String
  }

  static func ome2zarr(_ arguments: String...) throws -> Result { try ome2zarr(arguments) }

  static func ome2zarr(_ arguments: [String]) throws -> Result {
    let r = try runProcess(binary, arguments)
    return Result(status: r.status, stdout: r.stdoutText, stderr: r.stderrText)
  }

  static func temporaryDirectory() throws -> URL { try makeTemporaryDirectory("cli") }

  /// Checks `output` (a JSON document) against `Schemas/<schema>` with Python's jsonschema (draft 2020-12);
  /// with `valid: false`, that the schema rejects it.
  static func expectMatchesSchema(_ output: String, _ schema: String, valid: Bool = true,
                                  sourceLocation: SourceLocation = #_sourceLocation) throws {
    let python = try #require(testPython, "no Python test venv: run scripts/test")
    let out = try temporaryDirectory().appendingPathComponent("output.json")
    try Data(output.utf8).write(to: out)
    let check = try runProcess(python, ["-c", """
      import json, sys, jsonschema
      schema = json.load(open(sys.argv[1]))
      jsonschema.Draft202012Validator.check_schema(schema)
      jsonschema.Draft202012Validator(schema).validate(json.load(open(sys.argv[2])))
      """, packageRoot.appendingPathComponent("Schemas/" + schema).path, out.path])
    if valid {
      #expect(check.status == 0, "\(schema): \(check.stderrText)", sourceLocation: sourceLocation)
    } else {
      #expect(check.status == 1 && check.stderrText.contains("ValidationError"), "\(schema) accepted \(output)",
        sourceLocation: sourceLocation)
    }
  }

  /// A hierarchy with a v3 group, a v3 array, a v2 group with a v2 array.
  static func sampleHierarchy() throws -> URL {
    let dir = try temporaryDirectory().appendingPathComponent("h.zarr")
    let store = try FilesystemStore(root: dir.path, create: true)
    _ = try ZarrGroup.create(in: store, attributes: ["ome": ["version": "0.5"], "note": "plain"])
    let a = try ZarrArray.create(in: store, path: "raw", metadata: ArrayMetadata(
      shape: [10, 20], dataType: .float32, chunkShape: [5, 5], fillValue: FillValue(Float.nan),
      codecs: [Codecs.bytes(), Codecs.blosc(cname: "zstd", typesize: 4)], dimensionNames: ["y", nil]))
    try a.write([Float](repeating: 1, count: 25), region: [0..<5, 0..<5])
    let sharded = try ZarrArray.create(in: store, path: "labels/seg", metadata: .sharded(
      shape: [40, 40], dataType: .uint32, shardShape: [32, 32], innerChunkShape: [16, 16]))
    try sharded.write([UInt32](repeating: 3, count: 40 * 40), region: sharded.fullRegion)
    let legacy = try FilesystemStore(root: dir.appendingPathComponent("legacy").path, create: true)
    _ = try ZarrArray.create(in: legacy, path: "old", metadata: ArrayMetadata(
      shape: [4], dataType: .int16, chunkShape: [2], codecs: [Codecs.bytes(endian: .big)],
      chunkKeyEncoding: .v2(separator: .dot), zarrFormat: .v2))
    return dir
  }
}

@Suite("ome2zarr info")
struct InfoCommandTests {
  @Test func describesTheTree() throws {
    let dir = try CLI.sampleHierarchy()
    let r = try CLI.ome2zarr("info", dir.path, "--stats")
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("raw  array (Zarr v3) float32 [10, 20]"))
    #expect(r.stdout.contains("chunks [5, 5]"))
    #expect(r.stdout.contains("blosc("))
    #expect(r.stdout.contains("fill value \"NaN\""))
    #expect(r.stdout.contains("dimensions [y, null]"))
    #expect(r.stdout.contains("OME-Zarr 0.5 group"))
    #expect(r.stdout.contains("stored 1 of 8 objects"))
    // The v3 root has no zarr.json for "legacy", which is a v2 group: it is still listed.
    #expect(r.stdout.contains("old  array (Zarr v2) int16 [4]"))
    #expect(r.stdout.contains("chunks [16, 16]  shards [32, 32]"))
    #expect(r.stdout.contains("sharding_indexed[bytes(endian=\"little\") -> zstd(level=1, checksum=false)]"))
  }

  @Test func jsonOutputFollowsTheSchema() throws {
    let dir = try CLI.sampleHierarchy()
    let r = try CLI.ome2zarr("info", dir.path, "--json", "--stats")
    #expect(r.status == 0, "\(r.stderr)")
    let doc = try JSONValue.parse(r.stdout)
    let raw = doc["root"]?["children"]?.arrayValue?.first { $0["name"] == "raw" }
    #expect(raw?["shape"] == [10, 20])
    #expect(raw?["fill_value"] == "NaN")
    #expect(raw?["dimension_names"] == ["y", .null])
    #expect(raw?["stored_chunks"] == 1)
    #expect(doc["root"]?["attributes"]?["ome_version"] == "0.5")
    let seg = doc["root"]?["children"]?.arrayValue?.first { $0["name"] == "labels" }?["children"]?.arrayValue?.first
    #expect(seg?["chunk_shape"] == [16, 16] && seg?["shard_shape"] == [32, 32] && seg?["stored_chunks"] == 4)
    try Self.expectValidInfo(r.stdout, in: dir.deletingLastPathComponent())
  }

  /// Validates `info --json` output against Schemas/info.schema.json.
  static func expectValidInfo(_ output: String, in dir: URL) throws {
    try CLI.expectMatchesSchema(output, "info.schema.json")
  }

  @Test func describesOMEZarr() throws {
    let dir = try CLI.temporaryDirectory()
    let store = try FilesystemStore(root: dir.appendingPathComponent("img.ome.zarr").path, create: true)
    var options = ImageOptions(axes: [.channel(), .space("y", unit: "um"), .space("x", unit: "um")], scale: [1, 0.25, 0.25])
    options.chunkShape = [1, 32, 32]
    options.name = "cells"
    options.channels = [.init(label: "DAPI", color: "0000FF", window: .init(min: 0, max: 65535, start: 10, end: 900)),
                        .init(label: "GFP", color: "00FF00", window: .init(min: 0, max: 65535, start: 0, end: 4000))]
    let data = try ArrayBuffer(shape: [2, 100, 80], dataType: .uint16, elements: [UInt16](repeating: 5, count: 16000))
    let image = try ImageWriter.write(data, to: store, options: options)
    try ImageWriter.writeLabels(try ArrayBuffer(shape: [2, 100, 80], dataType: .uint8, elements: [UInt8](repeating: 1, count: 16000)),
      name: "nuclei", of: image)
    let text = try CLI.ome2zarr("info", dir.appendingPathComponent("img.ome.zarr").path)
    #expect(text.status == 0, "\(text.stderr)")
    #expect(text.stdout.contains("OME-Zarr 0.5 image \"cells\""))
    #expect(text.stdout.contains("axes c (channel), y (space, micrometer), x (space, micrometer)"))
    #expect(text.stdout.contains("level 1 '1'  [2, 50, 40] uint16  chunks [1, 32, 32] shards [1, 64, 64]  scale [1, 0.5, 0.5] translation [0, 0.125, 0.125]"))
    #expect(text.stdout.contains("channel 0 \"DAPI\" #0000FF  window [10, 900] of [0, 65535]"))
    #expect(text.stdout.contains("labels: nuclei"))
    #expect(text.stdout.contains("nuclei  OME-Zarr 0.5 label image"))
    let json = try CLI.ome2zarr("info", dir.appendingPathComponent("img.ome.zarr").path, "--json")
    #expect(json.status == 0)
    let doc = try JSONValue.parse(json.stdout)
    let ome = doc["root"]?["ome"]
    #expect(ome?["kind"] == "image" && ome?["version"] == "0.5")
    #expect(ome?["image"]?["levels"]?.arrayValue?.count == 3)
    #expect(ome?["image"]?["labels"] == ["nuclei"])
    #expect(ome?["image"]?["channels"]?.arrayValue?.first?["color"] == "0000FF")
    // Level arrays are summarised, not listed again as children.
    #expect(doc["root"]?["children"]?.arrayValue?.map { $0["name"] } == ["labels"])
    try Self.expectValidInfo(json.stdout, in: dir)

    // A plate.
    let pstore = try FilesystemStore(root: dir.appendingPathComponent("plate.zarr").path, create: true)
    var fopts = ImageOptions(axes: [.space("y"), .space("x")])
    fopts.chunkShape = [16, 16]
    try PlateWriter.write(to: pstore, name: "screen", rows: ["A", "B"], columns: ["1", "2"],
      fields: [PlateField(row: "B", column: "2", path: "0", image: try ArrayBuffer(shape: [20, 20], dataType: .uint8,
        elements: [UInt8](repeating: 0, count: 400)), options: fopts)])
    let plate = try CLI.ome2zarr("info", dir.appendingPathComponent("plate.zarr").path)
    #expect(plate.stdout.contains("OME-Zarr 0.5 plate \"screen\""))
    #expect(plate.stdout.contains("plate 2 rows x 2 columns, 1 wells, up to 1 fields per well"))
    let pjson = try CLI.ome2zarr("info", dir.appendingPathComponent("plate.zarr").path, "--json")
    #expect(try JSONValue.parse(pjson.stdout)["root"]?["ome"]?["plate"]?["wells"] == ["B/2"])
    try Self.expectValidInfo(pjson.stdout, in: dir)
  }

  @Test func exitCodes() throws {
    let missing = try CLI.ome2zarr("info", "/nonexistent/path.zarr")
    #expect(missing.status == 2)
    #expect(missing.stderr.contains("error"))
    let dir = try CLI.sampleHierarchy()
    try Data(#"{"zarr_format": 3, "node_type": "array", "shape": [1]}"#.utf8).write(to: dir.appendingPathComponent("raw/zarr.json"))
    let invalid = try CLI.ome2zarr("info", dir.path)
    #expect(invalid.status == 1)
    #expect(invalid.stderr.contains("raw/zarr.json"))
    let usage = try CLI.ome2zarr("info")
    #expect(usage.status == 2)
    let help = try CLI.ome2zarr("info", "--help")
    #expect(help.status == 0 && help.stdout.contains("--json"))
  }
}

@Suite("ome2zarr convert", .serialized)
struct ConvertCommandTests {
  static func makeStack(_ path: String, planes: Int, size: Int) throws {
    let r = try runProcess(CLI.binary.replacingOccurrences(of: "/ome2zarr", with: "/make-sample-tiff"),
      [path, "--planes", String(planes), "--size", "\(size)x\(size)"])
    try #require(r.status == 0, "make-sample-tiff: \(r.stderrText)")
  }

  @Test func shuffleChoosesHowBloscReordersBytes() throws {
    let dir = try CLI.temporaryDirectory()
    let tiff = dir.appendingPathComponent("s.ome.tif").path
    try Self.makeStack(tiff, planes: 4, size: 32)
    for (shuffle, stored) in [("bit", "bitshuffle"), ("none", "noshuffle"), ("byte", "shuffle")] {
      let out = dir.appendingPathComponent("\(shuffle).ome.zarr").path
      #expect(try CLI.ome2zarr("convert", tiff, out, "--quiet", "--shuffle", shuffle).status == 0)
      let meta = try String(contentsOfFile: out + "/0/zarr.json", encoding: .utf8)
      #expect(meta.contains("\"shuffle\": \"\(stored)\""), "\(shuffle)")
    }
    let r = try CLI.ome2zarr("convert", tiff, dir.appendingPathComponent("z.ome.zarr").path, "--compressor", "zstd", "--shuffle", "bit")
    #expect(r.status == 2 && r.stderr.contains("--shuffle goes with --compressor blosc-zstd or blosc-lz4"))
  }

  @Test func convertsAZarrInputOverHTTP() throws {
    let dir = try CLI.temporaryDirectory()
    let tiff = dir.appendingPathComponent("s.ome.tif").path
    try Self.makeStack(tiff, planes: 6, size: 48)
    let local = dir.appendingPathComponent("a.ome.zarr").path
    #expect(try CLI.ome2zarr("convert", tiff, local, "--quiet").status == 0)
    let server = try HTTPServer(serving: dir)
    defer { server.stop() }
    let copy = dir.appendingPathComponent("b.ome.zarr").path
    let r = try CLI.ome2zarr("convert", server.url + "/a.ome.zarr", copy, "--quiet", "--compressor", "zstd")
    #expect(r.status == 0, "\(r.stderr)")
    let a = try #require(try OMENode.open(path: local).image()), b = try #require(try OMENode.open(path: copy).image())
    #expect(b.levels.map(\.shape) == a.levels.map(\.shape))
    #expect(try b.levels[0].read().bytes == a.levels[0].read().bytes)
    #expect(try CLI.ome2zarr("verify", tiff, copy).status == 0)
    #expect(try server.statistics().requests > 0)
  }

  @Test func unsupportedDestinationsAreUsageErrorsAndWriteNothing() throws {
    let dir = try CLI.temporaryDirectory()
    let tiff = dir.appendingPathComponent("s.ome.tif").path
    try Self.makeStack(tiff, planes: 2, size: 32)
    let before = try FileManager.default.contentsOfDirectory(atPath: dir.path)
    for (destination, says) in [("gs://bucket/x.ome.zarr", "'gs://' is not supported"), ("http://127.0.0.1:9/out.ozx", "read-only")] {
      let r = try CLI.ome2zarr("convert", tiff, destination)
      #expect(r.status == 2, "\(destination): \(r.stderr)")
      #expect(r.stderr.contains(says), "\(r.stderr)")
      #expect(try CLI.ome2zarr("info", destination).status == 2)
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == before)
    #expect(!FileManager.default.fileExists(atPath: FileManager.default.currentDirectoryPath + "/s3:"))
  }

  @Test func convertsVerifiesAndDescribes() throws {
    let dir = try CLI.temporaryDirectory()
    let tiff = dir.appendingPathComponent("s.ome.tif").path, out = dir.appendingPathComponent("s.ome.zarr").path
    try Self.makeStack(tiff, planes: 20, size: 96)
    let r = try CLI.ome2zarr("convert", tiff, out, "--json")
    #expect(r.status == 0, "\(r.stderr)")
    let summary = try JSONValue.parse(r.stdout)
    #expect(summary["levels"]?.arrayValue?.first == [20, 96, 96])
    #expect(try CLI.ome2zarr("verify", tiff, out).status == 0)
    let again = try CLI.ome2zarr("convert", tiff, out)
    #expect(again.status == 2 && again.stderr.contains("--overwrite"), "\(again.status) \(again.stderr)")
    #expect(try CLI.ome2zarr("convert", tiff, out, "--overwrite", "--quiet", "--compressor", "blosc-lz4", "--method", "max").status == 0)
    let missing = try CLI.ome2zarr("convert", dir.appendingPathComponent("nope.tif").path, dir.appendingPathComponent("x.zarr").path)
    #expect(missing.status == 2 && missing.stderr.contains("nope.tif"))
    let bad = dir.appendingPathComponent("bad.tif").path
    try Data("not a tiff".utf8).write(to: URL(fileURLWithPath: bad))
    let badRun = try CLI.ome2zarr("convert", bad, dir.appendingPathComponent("bad.zarr").path)
    // An unreadable input is an I/O error (2), like a missing one.
    #expect(badRun.status == 2 && badRun.stderr.contains("bad.tif"), "\(badRun.status) \(badRun.stderr)")
    #expect(try CLI.ome2zarr("convert", tiff, dir.appendingPathComponent("y.zarr").path, "--method", "blur").status == 2)
    // Labels from another TIFF (12 cells in a grid), and a resave of the output as OME-Zarr 0.4.
    let labelTIFF = dir.appendingPathComponent("cells.tif").path
    let writer = try TIFFWriter(path: labelTIFF)
    var cells = [UInt16](repeating: 0, count: 96 * 96)
    for y in 0..<96 {
      for x in 0..<96 { cells[y * 96 + x] = UInt16((y / 24) * 3 + x / 32 + 1) }
    }
    for _ in 0..<20 { try writer.append(try ArrayBuffer(shape: [96, 96], dataType: .uint16, elements: cells)) }
    let labeled = dir.appendingPathComponent("labeled.ome.zarr").path
    let l = try CLI.ome2zarr("convert", tiff, labeled, "--quiet", "--label", "cells=\(labelTIFF)", "--name", "stack",
      "--channel-names", "DNA", "--channel-colors", "00ff00")
    #expect(l.status == 0, "\(l.stderr)")
    let node = try OMEZarr.OMENode.open(path: labeled)
    #expect(try node.labelNames() == ["cells"])
    #expect(try node.child("labels/cells").metadata.multiscales?.first?.type == "mode")
    #expect(try node.child("labels/cells").metadata.imageLabel?.colors?.map(\.labelValue) == Array(1...12))
    #expect(node.metadata.omero?.channels.first?.label == "DNA" && node.metadata.omero?.channels.first?.color == "00FF00")
    #expect(node.metadata.multiscales?.first?.name == "stack")
    let v04 = dir.appendingPathComponent("resaved.zarr").path
    #expect(try CLI.ome2zarr("convert", labeled, v04, "--quiet", "--version", "0.4").status == 0)
    let resaved = try OMEZarr.OMENode.open(path: v04)
    #expect(resaved.version?.description == "0.4")
    #expect(try resaved.image()?.levels[0].read() == (try node.image()?.levels[0].read()))
  }

  @Test func resumeAfterKillGivesIdenticalBytes() throws {
    let dir = try CLI.temporaryDirectory()
    let tiff = dir.appendingPathComponent("big.ome.tif").path
    try Self.makeStack(tiff, planes: 96, size: 320)
    let reference = dir.appendingPathComponent("ref.zarr").path
    #expect(try CLI.ome2zarr("convert", tiff, reference, "--quiet", "--chunks", "16,64,64").status == 0)
    let expected = try fileTree(reference)
    var killed = 0
    for trial in 0..<3 {
      let out = dir.appendingPathComponent("killed\(trial).zarr").path
      let p = Process()
      p.executableURL = URL(fileURLWithPath: CLI.binary)
      p.arguments = ["convert", tiff, out, "--quiet", "--chunks", "16,64,64"]
      try p.run()
      usleep(UInt32.random(in: 20_000...400_000))
      kill(p.processIdentifier, SIGKILL)
      p.waitUntilExit()
      if p.terminationReason == .uncaughtSignal {
        killed += 1
        #expect((try? OMEZarr.OMENode.open(path: out))?.kind != .image, "a killed conversion must not look complete")
      }
      let resumed = try CLI.ome2zarr("convert", tiff, out, "--quiet", "--chunks", "16,64,64", "--resume")
      if p.terminationReason == .uncaughtSignal {
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try fileTree(out) == expected, "trial \(trial): resumed output differs")
      }
    }
    #expect(killed > 0, "no conversion was interrupted: the test did not test resuming")
  }
}
