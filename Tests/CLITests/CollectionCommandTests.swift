import Foundation
import OMEZarr
import TestSupport
import Testing
import ZarrIO

/// `ome2zarr collection create/add/remove/list/from`, and collections in `info` and `validate`.
@Suite struct CollectionCommandTests {
  /// A folder with two 0.5 images.
  static func folder() throws -> URL {
    let dir = try CLI.temporaryDirectory()
    let store = try FilesystemStore(root: dir.path, create: true)
    let data = try ArrayBuffer(shape: [8, 8], dataType: .uint8, elements: [UInt8](repeating: 3, count: 64))
    for name in ["fibsem-uint8.ome.zarr", "endo_pred.ome.zarr"] {
      try ImageWriter.write(data, to: store, at: name, options: ImageOptions(axes: [.space("y"), .space("x")]))
    }
    return dir
  }

  @Test func createAddRemoveList() throws {
    let dir = try Self.folder()
    let doc = dir.appendingPathComponent("jrc.json").path
    let fib = dir.appendingPathComponent("fibsem-uint8.ome.zarr").path, pred = dir.appendingPathComponent("endo_pred.ome.zarr").path
    var r = try CLI.ome2zarr("collection", "create", doc, "--name", "jrc_hela-1", fib)
    #expect(r.status == 0, "\(r.stderr)")
    r = try CLI.ome2zarr("collection", "add", doc, pred, "--into", "predictions", "--attr", "example-viewer:settings={\"isDisabled\":true}")
    #expect(r.status == 0, "\(r.stderr)")
    // Same name twice in one collection, a missing image, an image outside the directory: refused.
    let twice = try CLI.ome2zarr("collection", "add", doc, pred, "--into", "predictions")
    #expect(twice.status == 2, "\(twice.stderr)")  // a usage error: "use --name"
    let nothing = try CLI.ome2zarr("collection", "add", doc, dir.appendingPathComponent("nothing.zarr").path)
    #expect(nothing.status == 2, "\(nothing.stderr)")
    let outside = try Self.folder().appendingPathComponent("endo_pred.ome.zarr").path
    #expect(try CLI.ome2zarr("collection", "add", doc, outside, "--name", "x").status == 2)

    let list = try CLI.ome2zarr("collection", "list", doc, "--json")
    #expect(list.status == 0, "\(list.stdout)")
    let tree = try JSONValue.parse(list.stdout)
    #expect(tree["name"] == "jrc_hela-1")
    #expect(tree["nodes"]?.arrayValue?[0]["status"] == "resolved")
    #expect(tree["nodes"]?.arrayValue?[0]["shape"] == [8, 8])
    #expect(tree["nodes"]?.arrayValue?[1]["nodes"]?.arrayValue?[0]["name"] == "endo_pred")
    let written = try CollectionDocument.read(path: doc)
    #expect(written.root.child(named: ["predictions", "endo_pred"])?.attributes?["example-viewer:settings"] == ["isDisabled": true])

    #expect(try CLI.ome2zarr("validate", doc).status == 0)
    let info = try CLI.ome2zarr("info", doc, "--json")
    #expect(info.status == 0)
    try CLI.expectMatchesSchema(info.stdout, "info.schema.json")

    #expect(try CLI.ome2zarr("collection", "remove", doc, "endo_pred", "--into", "predictions").status == 0)
    #expect(try CollectionDocument.read(path: doc).root.child(named: ["predictions"])?.nodes?.isEmpty == true)
    #expect(try CLI.ome2zarr("collection", "remove", doc, "endo_pred").status == 1)
  }

  @Test func groupCollectionsFromAFolder() throws {
    let dir = try Self.folder()
    let out = dir.appendingPathComponent("all.zarr").path
    let r = try CLI.ome2zarr("collection", "from", dir.path, out, "--json")
    #expect(r.status == 0, "\(r.stderr)")
    let tree = try JSONValue.parse(r.stdout)
    #expect(tree["nodes"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["endo_pred", "fibsem-uint8"])
    #expect(tree["nodes"]?.arrayValue?[0]["path"] == "../endo_pred.ome.zarr")
    // The group is an OME-Zarr node of kind collection; info shows the tree and the group.
    let info = try CLI.ome2zarr("info", out, "--json")
    try CLI.expectMatchesSchema(info.stdout, "info.schema.json")
    #expect(try JSONValue.parse(info.stdout)["root"] != nil)
    let text = try CLI.ome2zarr("info", out)
    #expect(text.stdout.contains("fibsem-uint8") && text.stdout.contains("-> image 0.5"))
    #expect(try CLI.ome2zarr("validate", out).status == 0)
  }

  @Test func brokenCollectionsFailListAndValidate() throws {
    let dir = try CLI.temporaryDirectory()
    let doc = dir.appendingPathComponent("c.json")
    let json: JSONValue = ["ome": ["version": "0.9.dev3", "type": "collection", "name": "c", "nodes": [
      ["type": "collection", "name": "self", "path": ["type": "json", "path": "./c.json"]],
      ["type": "multiscale", "name": "escape", "path": ["type": "zarr", "path": "../../../etc"]],
      ["type": "collection", "name": "remote", "path": ["type": "json", "path": "https://example.org/other/collection.json"]],
    ]]]
    try Data(json.serializedBytes()).write(to: doc)
    let list = try CLI.ome2zarr("collection", "list", doc.path, "--json")
    #expect(list.status == 1)
    let statuses = try JSONValue.parse(list.stdout)["nodes"]?.arrayValue?.compactMap { $0["status"]?.stringValue }
    #expect(statuses == ["cycle", "outside", "remote"])
    let v = try CLI.ome2zarr("validate", doc.path, "--json")
    #expect(v.status == 1)
    try CLI.expectMatchesSchema(v.stdout, "validate.schema.json")
    let rules = try JSONValue.parse(v.stdout)["findings"]?.arrayValue?.compactMap { $0["rule"]?.stringValue } ?? []
    #expect(Set(rules) == ["collection.cycle", "collection.outside", "collection.remote"])
  }

  @Test func remoteCollectionsOverHTTP() throws {
    let site = try Self.folder()
    let doc = site.appendingPathComponent("jrc.json").path
    #expect(try CLI.ome2zarr("collection", "create", doc, "--name", "jrc_hela-1",
      site.appendingPathComponent("fibsem-uint8.ome.zarr").path, site.appendingPathComponent("endo_pred.ome.zarr").path).status == 0)
    let server = try HTTPServer(serving: site)
    defer { server.stop() }
    // Given a URL, list, info and validate read the document and follow its own relative paths.
    let list = try CLI.ome2zarr("collection", "list", server.url + "/jrc.json", "--json")
    #expect(list.status == 0, "\(list.stdout)\(list.stderr)")
    let tree = try JSONValue.parse(list.stdout)
    #expect(tree["nodes"]?.arrayValue?.map { $0["status"] } == ["resolved", "resolved"])
    #expect(tree["nodes"]?.arrayValue?[0]["location"] == .string(server.url + "/fibsem-uint8.ome.zarr"))
    #expect(tree["nodes"]?.arrayValue?[0]["shape"] == [8, 8])
    let valid = try CLI.ome2zarr("validate", server.url + "/jrc.json", "--json")
    #expect(valid.status == 0, "\(valid.stdout)")
    let info = try CLI.ome2zarr("info", server.url + "/jrc.json", "--json")
    #expect(info.status == 0, "\(info.stderr)")
    try CLI.expectMatchesSchema(info.stdout, "info.schema.json")
    // A local collection naming the remote one: followed only with --allow-remote.
    let local = try CLI.temporaryDirectory().appendingPathComponent("mine.json").path
    #expect(try CLI.ome2zarr("collection", "create", local, "--name", "mine").status == 0)
    var mine = try CollectionDocument.read(path: local)
    mine.root.nodes = [CollectionNode(type: "collection", name: "theirs", path: PathReference(type: "json", path: server.url + "/jrc.json"))]
    try mine.write()
    let closed = try CLI.ome2zarr("collection", "list", local, "--json")
    #expect(closed.status == 1)
    #expect(try JSONValue.parse(closed.stdout)["nodes"]?.arrayValue?[0]["status"] == "remote")
    let open = try CLI.ome2zarr("collection", "list", local, "--json", "--allow-remote")
    #expect(open.status == 0, "\(open.stdout)")
    #expect(try JSONValue.parse(open.stdout)["nodes"]?.arrayValue?[0]["nodes"]?.arrayValue?.count == 2)
    #expect(try CLI.ome2zarr("validate", local, "--allow-remote").status == 0)
    #expect(try CLI.ome2zarr("validate", local).status == 0, "a remote reference not followed is a warning")
  }

  /// Schemas/rfc8-collection.schema.json accepts what `collection` writes and the current-form
  /// examples of the RFC and the example repositories, and rejects malformed nodes.
  @Test func collectionSchema() throws {
    let schema = "rfc8-collection.schema.json"
    let dir = try Self.folder()
    let doc = dir.appendingPathComponent("jrc.json").path
    #expect(try CLI.ome2zarr("collection", "create", doc, "--name", "jrc_hela-1", dir.appendingPathComponent("fibsem-uint8.ome.zarr").path).status == 0)
    #expect(try CLI.ome2zarr("collection", "add", doc, dir.appendingPathComponent("endo_pred.ome.zarr").path, "--into", "predictions",
      "--attr", "example-viewer:settings={\"isDisabled\":true}").status == 0)
    try CLI.expectMatchesSchema(String(decoding: try Data(contentsOf: URL(fileURLWithPath: doc)), as: UTF8.self), schema)
    let group = dir.appendingPathComponent("all.zarr")
    #expect(try CLI.ome2zarr("collection", "from", dir.path, group.path).status == 0)
    try CLI.expectMatchesSchema(String(decoding: try Data(contentsOf: group.appendingPathComponent("zarr.json")), as: UTF8.self), schema)

    let fixtures = packageRoot.appendingPathComponent("Tests/OMEZarrTests/Fixtures/rfc8")
    for file in ["v1-hcs-wide.json", "v1-hcs-tall.json", "v1-multiscale-single-level-s0-zarr.json",
                 "normanrz/plain/external_collection/parent_collection.json", "normanrz/plain/external_collection/child_collection.json",
                 "normanrz/plain/external_collection/resolved_collection.json",
                 "normanrz/scripts/gen_collections/basic_collection.zarr/zarr.json",
                 "normanrz/scripts/gen_multiscales/distributed_multiscale.zarr/zarr.json",
                 "normanrz/scripts/gen_multiscales/distributed_multiscale.zarr/0/zarr.json"] {
      try CLI.expectMatchesSchema(String(decoding: try Data(contentsOf: fixtures.appendingPathComponent(file)), as: UTF8.self), schema)
    }
    // Each of these breaks one rule.
    let bad: [String] = [
      #"{"ome": {"type": "collection", "name": "no version", "nodes": []}}"#,
      #"{"ome": {"version": "0.9.dev3", "type": "collection", "nodes": []}}"#,
      #"{"ome": {"version": "0.9.dev3", "type": "collection", "name": "both", "nodes": [], "path": {"type": "json", "path": "./x.json"}}}"#,
      #"{"ome": {"version": "0.9.dev3", "type": "collection", "name": "neither"}}"#,
      #"{"ome": {"version": "0.9.dev3", "type": "table", "name": "unprefixed custom type"}}"#,
      #"{"ome": {"version": "0.9.dev3", "type": "ome:table", "name": "reserved prefix"}}"#,
      #"{"ome": {"version": "0.9.dev3", "type": "collection", "name": "c", "id": "with space", "nodes": []}}"#,
      #"{"ome": {"version": "0.9.dev3", "type": "collection", "name": "c", "nodes": [{"type": "multiscale", "name": "m", "path": "./string-path"}]}}"#,
      #"{"ome": {"version": "0.9.dev3", "type": "multiscale", "name": "m", "nodes": [{"type": "collection", "name": "c", "nodes": []}]}}"#,
      #"{"ome": {"version": "0.9.dev3", "type": "multiscale", "name": "m", "attributes": {"coordinateSystems": [{"id": "p", "axes": []}]}}}"#,
      #"{"ome": {"version": "0.9.dev3", "type": "collection", "name": "p", "nodes": [], "attributes": {"plate": {"rows": [{"name": "A"}], "columns": [{"id": "1"}]}}}}"#,
    ]
    for text in bad { try CLI.expectMatchesSchema(text, schema, valid: false) }
  }

  @Test func setChangesAttributesAndNamesInPlace() throws {
    let dir = try Self.folder()
    let doc = dir.appendingPathComponent("jrc.json").path
    #expect(try CLI.ome2zarr("collection", "create", doc, "--name", "jrc_hela-1", dir.appendingPathComponent("fibsem-uint8.ome.zarr").path).status == 0)
    #expect(try CLI.ome2zarr("collection", "add", doc, dir.appendingPathComponent("endo_pred.ome.zarr").path, "--into", "predictions",
      "--attr", "example-viewer:settings={\"isDisabled\":true}", "--attr", "other-viewer:voxelType=intensities").status == 0)
    var r = try CLI.ome2zarr("collection", "set", doc, "endo_pred", "--into", "predictions",
      "--attr", "example-viewer:settings={\"isDisabled\":false}", "--unset", "other-viewer:voxelType", "--rename", "prediction")
    #expect(r.status == 0, "\(r.stderr)")
    var read = try CollectionDocument.read(path: doc)
    let member = try #require(read.root.child(named: ["predictions"])?.nodes?.first)
    #expect(member.name == "prediction")
    #expect(member.attributes == ["example-viewer:settings": ["isDisabled": false]])
    #expect(member.path?.path == "./endo_pred.ome.zarr")
    // The collection itself; errors change nothing.
    r = try CLI.ome2zarr("collection", "set", doc, "--attr", "mobie:grid=true")
    #expect(r.status == 0, "\(r.stderr)")
    read = try CollectionDocument.read(path: doc)
    #expect(read.root.attributes?["mobie:grid"] == true)
    let before = try Data(contentsOf: URL(fileURLWithPath: doc))
    #expect(try CLI.ome2zarr("collection", "set", doc, "nobody", "--attr", "a=1").status == 1)
    #expect(try CLI.ome2zarr("collection", "set", doc, "fibsem-uint8", "--unset", "absent").status == 1)
    #expect(try CLI.ome2zarr("collection", "set", doc, "fibsem-uint8", "--rename", "predictions").status == 2)
    #expect(try CLI.ome2zarr("collection", "set", doc, "fibsem-uint8").status == 2)
    #expect(try Data(contentsOf: URL(fileURLWithPath: doc)) == before)
  }
}
