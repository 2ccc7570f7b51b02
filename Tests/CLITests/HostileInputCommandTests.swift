import Foundation
import OMEZarrConvert
import Testing
import ZarrIO

/// The read-side commands on hostile metadata: a clear message and the right exit code, never a
/// crash, and walks bounded by `--max-nodes`.
@Suite("hostile input (CLI)")
struct HostileInputCommandTests {
  /// Writes `json` as `<dir>/<path>/zarr.json`.
  static func write(_ json: JSONValue, _ dir: URL, _ path: String = "") throws {
    let folder = path.isEmpty ? dir : dir.appendingPathComponent(path)
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    try Data(json.serializedBytes()).write(to: folder.appendingPathComponent("zarr.json"))
  }

  static func group(_ attributes: JSONValue = [:]) -> JSONValue {
    ["zarr_format": 3, "node_type": "group", "attributes": attributes]
  }

  static let twoAxes: JSONValue = [["name": "y", "type": "space"], ["name": "x", "type": "space"]]

  @Test("info --max-nodes refuses a larger hierarchy, naming the limit and the option")
  func infoMaxNodes() throws {
    let dir = try CLI.temporaryDirectory().appendingPathComponent("h.zarr")
    try Self.write(Self.group(), dir)
    for i in 0..<5 { try Self.write(Self.group(), dir, "g\(i)") }
    let r = try CLI.ome2zarr("info", dir.path, "--max-nodes", "3")
    #expect(r.status == 1)
    #expect(r.stderr.contains("the hierarchy has more than 3 nodes; info stops there (raise the limit with --max-nodes)"), "\(r.stderr)")
    #expect(try CLI.ome2zarr("info", dir.path, "--max-nodes", "6").status == 0)
  }

  @Test("--max-json-size refuses a larger document on every reading command, naming the limit")
  func maxJSONSize() throws {
    let dir = try CLI.temporaryDirectory().appendingPathComponent("h.zarr")
    try Self.write(Self.group(["padding": .string(String(repeating: "x", count: 3000))]), dir)
    for command in [["info"], ["validate"], ["collection", "list"]] {
      let r = try CLI.ome2zarr(command + [dir.path, "--max-json-size", "2K"])
      #expect(r.status == 1, "\(command): \(r.stderr) \(r.stdout)")
      #expect((r.stderr + r.stdout).contains("exceeds the limit of 2048 bytes"), "\(command): \(r.stderr) \(r.stdout)")
      let within = try CLI.ome2zarr(command + [dir.path, "--max-json-size", "4KiB"])
      #expect(!(within.stderr + within.stdout).contains("exceeds the limit"), "\(command): \(within.stderr)")
    }
    #expect(try CLI.ome2zarr("info", dir.path, "--max-json-size", "4KiB").status == 0)
    let bad = try CLI.ome2zarr("info", dir.path, "--max-json-size", "12X")
    #expect(bad.status == 2)
  }

  @Test("--max-nodes must be positive", arguments: [["info"], ["validate"], ["collection", "list"]])
  func maxNodesPositive(_ command: [String]) throws {
    let dir = try CLI.temporaryDirectory().appendingPathComponent("h.zarr")
    try Self.write(Self.group(), dir)
    let r = try CLI.ome2zarr(command + [dir.path, "--max-nodes", "0"])
    #expect(r.status == 2)
    #expect(r.stderr.contains("--max-nodes must be positive, not 0"), "\(r.stderr)")
  }

  @Test("validate --max-nodes stops a plate walk with a walk.limit error (exit 1)")
  func validateMaxNodes() throws {
    let dir = try CLI.temporaryDirectory().appendingPathComponent("plate.zarr")
    let wells = (0..<8).map { i -> JSONValue in ["path": .string("A/\(i + 1)"), "rowIndex": 0, "columnIndex": .int(Int64(i))] }
    try Self.write(Self.group(["ome": ["version": "0.5", "plate": [
      "name": "p", "field_count": 1, "rows": [["name": "A"]],
      "columns": .array((0..<8).map { ["name": .string("\($0 + 1)")] }), "wells": .array(wells),
    ]]]), dir)
    for i in 0..<8 {
      try Self.write(Self.group(["ome": ["version": "0.5", "well": ["images": [["path": "0"]]]]]), dir, "A/\(i + 1)")
    }
    let r = try CLI.ome2zarr("validate", dir.path, "--metadata-only", "--json", "--max-nodes", "4")
    #expect(r.status == 1)
    let report = try JSONValue.parse(r.stdout)
    let limits = (report["findings"]?.arrayValue ?? []).filter { $0["rule"] == "walk.limit" }
    #expect(limits.count == 1)
    #expect(limits.first?["message"]?.stringValue
      == "the hierarchy has more than 4 nodes; the rest was not checked (raise the limit with --max-nodes)")
    #expect(report["nodes_checked"] == 4)
  }

  @Test("collection list: documents referencing each other many times over stop at --max-nodes (exit 1)")
  func collectionDiamonds() throws {
    let dir = try CLI.temporaryDirectory()
    for k in 0..<11 {
      let nodes: [JSONValue] = k < 10
        ? (0..<8).map { j in ["type": "collection", "name": .string("r\(j)"), "path": ["type": "json", "path": .string("d\(k + 1).json")]] }
        : []
      let doc: JSONValue = ["ome": ["version": "0.9.dev0", "type": "collection", "name": .string("d\(k)"), "nodes": .array(nodes)]]
      try Data(doc.serializedBytes()).write(to: dir.appendingPathComponent("d\(k).json"))
    }
    let d0 = dir.appendingPathComponent("d0.json").path
    let r = try CLI.ome2zarr("collection", "list", d0, "--max-nodes", "200", "--json")
    #expect(r.status == 1)
    #expect(r.stdout.contains("\"status\":\"too-many\"") || r.stdout.contains("\"status\": \"too-many\""), "\(r.stdout.prefix(300))")
    #expect(r.stdout.contains("the collection has more than 200 nodes (raise the limit with --max-nodes)"))
    try CLI.expectMatchesSchema(try CLI.ome2zarr("info", d0, "--max-nodes", "200", "--json").stdout, "info.schema.json")
    let v = try CLI.ome2zarr("validate", d0, "--max-nodes", "200")
    #expect(v.status == 1)
    #expect(v.stdout.contains("walk.limit: not followed: the collection has more than 200 nodes"), "\(v.stdout)")
  }

  @Test("info --stats on an array whose size overflows an Int: exit 1 naming /shape, not a crash")
  func infoStatsHugeGrid() throws {
    let dir = try CLI.temporaryDirectory().appendingPathComponent("big.zarr")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let doc: JSONValue = [
      "zarr_format": 3, "node_type": "array", "shape": [.int(1 << 62), .int(1 << 62)], "data_type": "uint8",
      "chunk_grid": ["name": "regular", "configuration": ["chunk_shape": [1, 1]]],
      "chunk_key_encoding": ["name": "default"], "fill_value": 0, "codecs": [["name": "bytes"]],
    ]
    try Data(doc.serializedBytes()).write(to: dir.appendingPathComponent("zarr.json"))
    let r = try CLI.ome2zarr("info", dir.path, "--stats")
    #expect(r.status == 1, "\(r.stderr)")
    #expect(r.stderr.contains("has more than 9223372036854775807 bytes"), "\(r.stderr)")
    #expect(r.stderr.contains("at /shape"), "\(r.stderr)")
  }

  @Test("transform through a byDimension with an axis index near 2^63: exit 1 with a message, not a crash")
  func transformHugeAxisIndex() throws {
    let dir = try CLI.temporaryDirectory().appendingPathComponent("scene.zarr")
    try Self.write(Self.group(["ome": ["version": "0.6", "scene": [
      "coordinateSystems": [["name": "a", "axes": Self.twoAxes]],
      "coordinateTransformations": [["type": "sequence", "input": ["name": "a"], "output": ["name": "b"], "transformations": [
        ["type": "byDimension", "transformations": [["type": "identity", "inputAxes": [0], "outputAxes": [.int(Int64.max)]]]],
      ]]],
    ]]]), dir)
    let r = try CLI.ome2zarr("transform", dir.path, "a", "b", "[[1,2]]")
    #expect(r.status == 1)
    let message = try JSONValue.parse(r.stdout)["message"]?.stringValue ?? ""
    #expect(message.contains("byDimension has 65 dimensions; at most 64 are supported"), "\(message)")
  }

  @Test("transform --matrix of an affine holding 1e400: exit 1, not a matrix with Infinity")
  func transformInfiniteMatrix() throws {
    let dir = try CLI.temporaryDirectory().appendingPathComponent("scene.zarr")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    try Data(#"""
      {"zarr_format": 3, "node_type": "group", "attributes": {"ome": {"version": "0.6", "scene": {
        "coordinateSystems": [{"name": "a", "axes": [{"name": "y", "type": "space"}, {"name": "x", "type": "space"}]},
                              {"name": "b", "axes": [{"name": "y", "type": "space"}, {"name": "x", "type": "space"}]}],
        "coordinateTransformations": [{"type": "affine", "affine": [[1e400, 0, 0], [0, 1, 0]], "input": {"name": "a"}, "output": {"name": "b"}}]}}}}
      """#.utf8).write(to: dir.appendingPathComponent("zarr.json"))
    let r = try CLI.ome2zarr("transform", dir.path, "a", "b", "--matrix")
    #expect(r.status == 1)
    #expect(r.stdout.hasPrefix(#"{"message":"the matrix of the mapping from 'a' to 'b' has a non-finite entry"#), "\(r.stdout)")
  }

  @Test("convert refuses option values that would overflow or exhaust memory (exit 2), before reading anything",
    arguments: [
      (["--threads", "2147483648"], "--threads must be between 1 and 4096, not 2147483648"),
      (["--threads", "0"], "--threads must be between 1 and 4096, not 0"),
      (["--memory-limit", "18446744073709551615"], "--memory-limit"),
      (["--memory-limit", "1e400"], "--memory-limit"),
      (["--levels", "100000"], "--levels must be between 1 and 64, not 100000"),
      (["--compressor", "gzip", "--compression-level", "99"], "--compression-level for gzip must be between 0 and 9, not 99"),
    ])
  func convertOptionRanges(_ options: [String], _ message: String) throws {
    let dir = try CLI.temporaryDirectory()
    let tiff = dir.appendingPathComponent("in.tif").path
    try ConventionsTests.writeTIFF(tiff)
    let out = dir.appendingPathComponent("out.zarr").path
    let r = try CLI.ome2zarr(["convert", tiff, out] + options)
    #expect(r.status == 2, "\(options): \(r.stderr)")
    #expect(r.stderr.contains(message), "\(options): \(r.stderr)")
    #expect(!FileManager.default.fileExists(atPath: out))
  }

  @Test("an OME-XML description that is not XML: exit 2 naming the file, the line and column")
  func brokenOMEXML() throws {
    let dir = try CLI.temporaryDirectory()
    let tiff = dir.appendingPathComponent("broken.ome.tif").path
    var options = TIFFWriter.Options()
    options.description = #"<?xml version="1.0"?><OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06"><Image ID="Image:0"><Pixels <<garbage"#
    let writer = try TIFFWriter(path: tiff, options: options)
    try writer.append(try ArrayBuffer(shape: [8, 8], dataType: .uint8, elements: [UInt8](repeating: 1, count: 64)))
    let r = try CLI.ome2zarr("convert", tiff, dir.appendingPathComponent("out.zarr").path)
    #expect(r.status == 2, "\(r.stderr)")
    #expect(r.stderr.contains("invalid OME-XML at line 1, column "), "\(r.stderr)")
    #expect(r.stderr.contains("broken.ome.tif"), "\(r.stderr)")
    #expect(!r.stderr.contains("(null)"), "\(r.stderr)")
  }
}
