import Foundation
import TestSupport
import Testing
import ZarrIO

/// `ome2zarr transform` against the public RFC-5 conformance suite (`oztc`, PyPI
/// ome-zarr-transformations-conformance) and against cases it has never seen
/// (`Python/rfc5_cases.py`: scenes with sub-images, fields written by zarr-python with expectations
/// from scipy, parameters in arrays, rc0 forms, errors), run through the same runner.
@Suite struct TransformCommandTests {
  /// Runs `oztc` over `cases` (or its built-in cases) against `ome2zarr transform`; name -> status.
  static func conformance(cases: URL? = nil) throws -> [String: String] {
    let oztc = try #require(testOZTC, "no oztc: run scripts/test (it creates .venv-rfc5)")
    var args = ["--no-exit-code"]
    if let cases { args += ["--no-builtin", cases.path] }
    let r = try runProcess(oztc, args + ["--", CLI.binary, "transform"])
    #expect(r.status == 0, "oztc: \(r.stderrText)")
    var results: [String: String] = [:]
    for line in r.stdoutText.split(separator: "\n") {
      let f = line.split(separator: "\t").map(String.init)
      if f.count == 2 { results[f[0]] = f[1] }
    }
    return results
  }

  @Test func publicConformanceSuitePasses() throws {
    let results = try Self.conformance()
    // 0.1.2 ships 24 cases: 10 types each forward and inverse, bijection both ways, unknown systems.
    #expect(results.count >= 24, "\(results)")
    for (name, status) in results.sorted(by: { $0.key < $1.key }) { #expect(status == "pass", "\(name): \(status)") }
  }

  @Test func unseenCasesPass() throws {
    let python = try #require(testPython, "no Python test venv: run scripts/test")
    let dir = try CLI.temporaryDirectory()
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Python/rfc5_cases.py")
    let gen = try runProcess(python, [script.path, dir.path])
    try #require(gen.status == 0, "rfc5_cases.py: \(gen.stderrText)")
    let expected = try JSONSerialization.jsonObject(with: gen.stdout) as? [String] ?? []
    #expect(expected.count == 17)
    let results = try Self.conformance(cases: dir)
    #expect(Set(results.keys) == Set(expected))
    for (name, status) in results.sorted(by: { $0.key < $1.key }) { #expect(status == "pass", "\(name): \(status)") }
  }

  /// A scene group with one 2-D image `img` (level `s0`, scale 2) and a `world` system.
  static func scene() throws -> URL {
    let dir = try CLI.temporaryDirectory().appendingPathComponent("scene.zarr")
    let store = try FilesystemStore(root: dir.path, create: true)
    let axes: JSONValue = [["name": "y", "type": "space"], ["name": "x", "type": "space"]]
    _ = try ZarrGroup.create(in: store, attributes: ["ome": ["version": "0.6rc0", "scene": [
      "coordinateSystems": [["name": "world", "axes": axes]],
      "coordinateTransformations": [[
        "type": "translation", "translation": [10, 20], "input": ["path": "img", "name": "physical"], "output": ["name": "world"]]],
    ]]])
    _ = try ZarrGroup.create(in: store, path: "img", attributes: ["ome": ["version": "0.6rc0", "multiscales": [[
      "coordinateSystems": [["name": "physical", "axes": axes]],
      "datasets": [["path": "s0", "coordinateTransformations": [[
        "type": "scale", "scale": [2, 2], "input": ["path": "s0"], "output": ["name": "physical"]]]]],
    ]]]])
    _ = try ZarrArray.create(in: store, path: "img/s0", metadata: ArrayMetadata(shape: [4, 4], dataType: .uint8, chunkShape: [4, 4]))
    return dir
  }

  @Test func matrixAndExplain() throws {
    let dir = try Self.scene()
    let r = try CLI.ome2zarr("transform", dir.path, "img/s0", "world", "[[1, 1]]", "--matrix", "--explain")
    #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
    let out = try JSONValue.parse(r.stdout)
    #expect(out["coordinates"] == [[12, 22]])
    #expect(out["matrix"] == [[2, 0, 10], [0, 2, 20], [0, 0, 1]])
    #expect(out["path"]?.arrayValue?.count == 2)
    let back = try CLI.ome2zarr("transform", dir.path, "world", "img/s0", "[12, 22]")
    #expect(try JSONValue.parse(back.stdout)["coordinates"] == [[1, 1]])
  }

  @Test func errorsAreJSONMessagesWithNonZeroExit() throws {
    let dir = try Self.scene()
    for (args, code) in [
      (["/nonexistent/x.zarr", "a", "b", "[[1]]"], Int32(2)),
      ([dir.path, "img/s0", "world", "not json"], 2),
      ([dir.path, "img/s0", "world", "[[1, \"a\"]]"], 2),
      ([dir.path, "img/s0", "world", "[[1, 2, 3]]"], 1),
      ([dir.path, "nowhere", "world", "[[1, 2]]"], 1),
    ] {
      let r = try CLI.ome2zarr(["transform"] + args)
      #expect(r.status == code, "\(args): \(r.stdout)")
      let message = try JSONValue.parse(r.stdout)["message"]?.stringValue
      #expect(message?.isEmpty == false, "\(args): \(r.stdout)")
    }
  }

  @Test func rfc8CollectionDocuments() throws {
    let dir = try CLI.temporaryDirectory()
    let doc = dir.appendingPathComponent("scene.json")
    try Data("""
      {"ome": {"version": "0.9.dev3", "type": "collection", "name": "scene", "nodes": [],
        "attributes": {"scene": {
          "coordinateSystems": [{"id": "a", "axes": ["y", "x"]}, {"id": "b", "axes": ["y", "x"]}],
          "coordinateTransformations": [
            {"type": "affine", "affine": [[0, 2, 1], [3, 0, 0]], "input": {"id": "a"}, "output": {"id": "b"}}]}}}}
      """.utf8).write(to: doc)
    let r = try CLI.ome2zarr("transform", doc.path, "a", "b", "[[1, 2]]")
    #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    #expect(try JSONValue.parse(r.stdout)["coordinates"] == [[5, 3]])
    let back = try CLI.ome2zarr("transform", doc.path, "b", "a", "[[5, 3]]")
    #expect(try JSONValue.parse(back.stdout)["coordinates"] == [[1, 2]])
    let unknown = try CLI.ome2zarr("transform", doc.path, "a", "c", "[[1, 2]]")
    #expect(unknown.status == 1 && unknown.stdout.contains("unknown coordinate system 'c'"))
  }
}
