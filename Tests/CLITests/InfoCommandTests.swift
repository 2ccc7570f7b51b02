import Foundation
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

  static func ome2zarr(_ arguments: String...) throws -> Result {
    let r = try runProcess(binary, arguments)
    return Result(status: r.status, stdout: r.stdoutText, stderr: r.stderrText)
  }

  static func temporaryDirectory() throws -> URL { try makeTemporaryDirectory("cli") }

  /// A hierarchy with a v3 group, a v3 array, a v2 group with a v2 array.
  static func sampleHierarchy() throws -> URL {
    let dir = try temporaryDirectory().appendingPathComponent("h.zarr")
    let store = try FilesystemStore(root: dir.path, create: true)
    _ = try ZarrGroup.create(in: store, attributes: ["ome": ["version": "0.5", "multiscales": []]])
    let a = try ZarrArray.create(in: store, path: "raw", metadata: ArrayMetadata(
      shape: [10, 20], dataType: .float32, chunkShape: [5, 5], fillValue: FillValue(Float.nan),
      codecs: [Codecs.bytes(), Codecs.blosc(cname: "zstd", typesize: 4)], dimensionNames: ["y", nil]))
    try a.write([Float](repeating: 1, count: 25), region: [0..<5, 0..<5])
    let sharded = try ZarrArray.create(in: store, path: "labels/seg", metadata: .sharded(
      shape: [40, 40], dataType: .uint32, shardShape: [32, 32], chunkShape: [16, 16]))
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
    #expect(r.stdout.contains("OME-NGFF 0.5"))
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
    // Validate against Schemas/info.schema.json with Python's jsonschema (in the test venv).
    let python = try #require(testPython, "no Python test venv: run scripts/test")
    let out = dir.deletingLastPathComponent().appendingPathComponent("info.json")
    try Data(r.stdout.utf8).write(to: out)
    let check = try runProcess(python, ["-c", """
      import json, sys, jsonschema
      schema = json.load(open(sys.argv[1]))
      jsonschema.Draft202012Validator.check_schema(schema)
      jsonschema.Draft202012Validator(schema).validate(json.load(open(sys.argv[2])))
      """, packageRoot.appendingPathComponent("Schemas/info.schema.json").path, out.path])
    #expect(check.status == 0, "\(check.stderrText)")
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
