import Foundation
import OMEZarr
import TestSupport
import Testing
import ZarrIO

@Suite("ome2zarr validate")
struct ValidateCommandTests {
  /// A 0.5 image with a label image, written by OMEZarr.
  static func image() throws -> URL {
    let dir = try CLI.temporaryDirectory().appendingPathComponent("img.ome.zarr")
    let store = try FilesystemStore(root: dir.path, create: true)
    var o = ImageOptions(axes: [.space("y"), .space("x")])
    o.chunkShape = [8, 8]
    o.name = "img"
    let data = try ArrayBuffer(shape: [32, 32], dataType: .uint8, elements: (0..<1024).map { UInt8($0 % 251) })
    let node = try ImageWriter.write(data, to: store, options: o)
    try ImageWriter.writeLabels(try ArrayBuffer(shape: [32, 32], dataType: .uint8, elements: [UInt8](repeating: 1, count: 1024)),
      name: "seg", of: node, colors: [ImageLabel.Color(labelValue: 1, rgba: [255, 0, 0, 255])])
    return dir
  }

  static func expectValidOutput(_ output: String) throws {
    try CLI.expectMatchesSchema(output, "validate.schema.json")
  }

  @Test func validImageExitsZero() throws {
    let dir = try Self.image()
    let r = try CLI.ome2zarr("validate", dir.path)
    #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    #expect(r.stdout.contains("valid: 0 error(s)"))
    let j = try CLI.ome2zarr("validate", dir.path, "--json", "--data", "--strict")
    #expect(j.status == 0)
    let report = try JSONValue.parse(j.stdout)
    #expect(report["valid"] == true)
    #expect(report["kind"] == "image")
    #expect(report["version"] == "0.5")
    try Self.expectValidOutput(j.stdout)
  }

  @Test func findingsNameRulePathAndPointer() throws {
    let dir = try Self.image()
    // Break the label image: a level too many in its metadata that has no array.
    let key = dir.appendingPathComponent("labels/seg/zarr.json")
    var doc = try JSONValue.parse([UInt8](Data(contentsOf: key)))
    if case .object(var o) = doc, case .object(var attrs)? = o["attributes"], case .object(var ome)? = attrs["ome"],
       case .array(var ms)? = ome["multiscales"], case .object(var m0) = ms[0] {
      m0["axes"] = [["name": "y", "type": "space"], ["name": "y", "type": "space"]]
      ms[0] = .object(m0)
      ome["multiscales"] = .array(ms)
      attrs["ome"] = .object(ome)
      o["attributes"] = .object(attrs)
      doc = .object(o)
    }
    try Data(doc.serializedBytes()).write(to: key)
    let r = try CLI.ome2zarr("validate", dir.path, "--json")
    #expect(r.status == 1)
    try Self.expectValidOutput(r.stdout)
    let report = try JSONValue.parse(r.stdout)
    let findings = report["findings"]?.arrayValue ?? []
    let dup = try #require(findings.first { $0["rule"] == "axes.unique-names" })
    #expect(dup["path"] == "labels/seg")
    #expect(dup["pointer"] == "/ome/multiscales/0/axes/1/name")
    #expect(dup["severity"] == "error")
    // Human output groups by node.
    let human = try CLI.ome2zarr("validate", dir.path)
    #expect(human.status == 1)
    #expect(human.stdout.contains("\nlabels/seg\n"))
    #expect(human.stdout.contains("axes.unique-names"))
    #expect(human.stdout.contains("INVALID"))
  }

  @Test func singleDocumentsAndExitCodes() throws {
    let dir = try CLI.temporaryDirectory()
    let good = dir.appendingPathComponent("zarr.json")
    try Data(#"{"zarr_format": 3, "node_type": "group", "attributes": {"ome": {"version": "0.5", "multiscales": [{"name": "a", "axes": [{"name": "y", "type": "space"}, {"name": "x", "type": "space"}], "datasets": [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1, 1]}]}]}]}}}"#.utf8).write(to: good)
    #expect(try CLI.ome2zarr("validate", good.path).status == 0)
    let zattrs = dir.appendingPathComponent(".zattrs")
    try Data(#"{"multiscales": [{"version": "0.4", "axes": [{"name": "x", "type": "space"}, {"name": "y", "type": "space"}], "datasets": [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1, 1, 1]}]}]}]}"#.utf8).write(to: zattrs)
    let bad = try CLI.ome2zarr("validate", zattrs.path, "--json")
    #expect(bad.status == 1)
    let rules = Set((try JSONValue.parse(bad.stdout)["findings"]?.arrayValue ?? []).compactMap { $0["rule"]?.stringValue })
    // The error, the xy order, and the SHOULDs a bare 0.4 document leaves out (name, type, metadata).
    #expect(rules == ["transforms.length", "axes.zyx", "multiscales.name", "multiscales.type", "multiscales.metadata"], "\(rules)")
    // Metadata-only hierarchy: the same document as a group without its arrays.
    let meta = dir.appendingPathComponent("meta.zarr")
    try FileManager.default.createDirectory(at: meta, withIntermediateDirectories: true)
    try FileManager.default.copyItem(at: good, to: meta.appendingPathComponent("zarr.json"))
    #expect(try CLI.ome2zarr("validate", meta.path).status == 1)
    #expect(try CLI.ome2zarr("validate", meta.path, "--metadata-only").status == 0)
    // Unreadable input: exit 2.
    #expect(try CLI.ome2zarr("validate", "/nonexistent/x.zarr").status == 2)
    let broken = dir.appendingPathComponent("broken.json")
    try Data("{ not json".utf8).write(to: broken)
    let b = try CLI.ome2zarr("validate", broken.path)
    #expect(b.status == 2)
    #expect(b.stderr.contains("broken.json"))
    let empty = try CLI.temporaryDirectory()
    #expect(try CLI.ome2zarr("validate", empty.path).status == 2)
    #expect(try CLI.ome2zarr("validate", "--help").stdout.contains("--metadata-only"))
  }

  /// Schemas/ngff-<version>.schema.json and the validator agree on every node document among the
  /// specification's examples (transformation fragments are not node attributes and are skipped).
  @Test func projectSchemasAgreeWithTheValidatorOnSpecExamples() throws {
    let python = try #require(testPython, "no Python test venv: run scripts/test")
    let root = packageRoot.appendingPathComponent("Tests/OMEZarrTests/Fixtures/spec")
    let r = try runProcess(python, ["-c", """
      import glob, json, os, sys, jsonschema
      root, schemas = sys.argv[1], sys.argv[2]
      out = {}
      for f in sorted(glob.glob(root + "/*/*/*.json") + glob.glob(root + "/*/*/*/*.json")):
          rel = os.path.relpath(f, root)
          text = "\\n".join(l for l in open(f).read().splitlines() if not l.strip().startswith("//"))
          try:
              d = json.loads(text)
          except ValueError:
              continue
          attrs = d.get("attributes", {}) if "zarr_format" in d else d
          keys = set(attrs.get("ome", attrs))
          if not keys & {"multiscales", "plate", "well", "labels", "image-label", "bioformats2raw.layout", "series"}:
              continue
          schema = json.load(open(os.path.join(schemas, "ngff-%s.schema.json" % rel.split("/")[0])))
          errors = list(jsonschema.Draft202012Validator(schema).iter_errors(attrs))
          out[rel] = "valid" if not errors else "invalid: " + errors[0].message[:200]
      print(json.dumps(out))
      """, root.path, packageRoot.appendingPathComponent("Schemas").path])
    #expect(r.status == 0, "\(r.stderrText)")
    let verdicts = try JSONValue.parse(r.stdoutText).objectValue ?? [:]
    #expect(verdicts.count >= 25)
    for (file, verdict) in verdicts {
      let text = try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8)
      let clean = text.split(separator: "\n", omittingEmptySubsequences: false)
        .filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("//") }.joined(separator: "\n")
      let report = Validator().validate(document: try JSONValue.parse(clean))
      let schemaValid = verdict.stringValue == "valid"
      #expect(report.isValid == schemaValid, "\(file): schema says \(verdict), validator \(report.errors)")
    }
  }
}
