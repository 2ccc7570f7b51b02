import Foundation
import Testing
import TestSupport
import ZarrIO
@testable import OMEZarr

/// RFC-8 references over HTTP, against a local server: fetched only when allowed, relative paths
/// of a remote document resolved against its URL, and never to local files.
@Suite("Remote collections", .serialized)
struct RemoteCollectionTests {
  static func write(_ dir: URL, _ name: String, _ nodes: [JSONValue]) throws {
    let ome: JSONObject = ["version": "0.9.dev3", "type": "collection", "name": .string((name as NSString).lastPathComponent),
                           "nodes": .array(nodes)]
    let url = dir.appendingPathComponent(name)
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(JSONValue.object(["ome": .object(ome)]).serializedBytes()).write(to: url)
  }

  static func ref(_ name: String, _ type: String, _ path: String) -> JSONValue {
    ["type": .string(type == "json" ? "collection" : "multiscale"), "name": .string(name),
     "path": ["type": .string(type), "path": .string(path)]]
  }

  /// A served site: images, a collection of them with a nested document, and one with bad references.
  static func site() throws -> (URL, HTTPServer) {
    let dir = try makeTemporaryDirectory("remote-site")
    try CollectionTests.images(in: dir)
    try write(dir, "study.json", [ref("raw", "zarr", "./raw.ome.zarr"), ref("more", "json", "./nested/more.json")])
    try write(dir, "nested/more.json", [ref("seg", "zarr", "../seg.ome.zarr"), ref("cells", "zarr", "/raw.ome.zarr/labels/cells")])
    try write(dir, "bad.json", [ref("local", "zarr", "file:///etc"), ref("gone", "zarr", "./gone.ome.zarr"),
                                 ref("self", "json", "./bad.json"), ref("elsewhere", "json", "http://127.0.0.1:9/other.json")])
    return (dir, try HTTPServer(serving: dir))
  }

  @Test func remoteReferencesAreFetchedOnlyWhenAllowed() throws {
    let (site, server) = try Self.site()
    defer { server.stop(); try? FileManager.default.removeItem(at: site) }
    let local = try makeTemporaryDirectory("remote-local")
    defer { try? FileManager.default.removeItem(at: local) }
    try Self.write(local, "mine.json", [Self.ref("theirs", "json", server.url + "/study.json")])
    let doc = try CollectionDocument.read(path: local.appendingPathComponent("mine.json").path)

    // Not allowed: reported, and not one request sent.
    let before = try server.statistics().requests
    let closed = CollectionResolver.resolve(doc)
    #expect(closed.children.map(\.status) == [.remote])
    #expect(try server.statistics().requests == before)
    let report = Validator().validate(collection: doc)
    #expect(report.findings.map(\.rule) == ["collection.remote"])
    #expect(try server.statistics().requests == before)

    // Allowed: the nested documents and the images they name, relative to their own URLs.
    var options = CollectionResolver.Options()
    options.allowRemote = true
    let open = CollectionResolver.resolve(doc, options: options)
    let theirs = try #require(open.children.first)
    #expect(theirs.status == .resolved && theirs.location?.description == server.url + "/study.json")
    #expect(theirs.children.map(\.node.name) == ["raw", "more"])
    #expect(theirs.children[0].status == .resolved && theirs.children[0].kind == "image" && theirs.children[0].shape == [16, 16])
    #expect(theirs.children[0].location?.description == server.url + "/raw.ome.zarr")
    let more = theirs.children[1]
    #expect(more.children.map(\.status) == [.resolved, .resolved])
    #expect(more.children.map(\.location?.description) == [server.url + "/seg.ome.zarr", server.url + "/raw.ome.zarr/labels/cells"])
    #expect(more.children.map(\.kind) == ["image", "label-image"])
    let allowed = Validator().validate(collection: doc, resolution: options)
    #expect(allowed.isValid, "\(allowed.findings)")
    #expect(allowed.nodesChecked >= 6)
  }

  @Test func aRemoteDocumentFollowsItsOwnPathsButNeverLocalFiles() throws {
    let (site, server) = try Self.site()
    defer { server.stop(); try? FileManager.default.removeItem(at: site) }
    // Read from its URL: its relative paths are inside its root and followed without --allow-remote.
    let study = try CollectionDocument.read(path: server.url + "/study.json")
    #expect(study.isRemote && study.rootLocation.description == server.url)
    #expect(throws: OMEZarrError.self) { try study.write() }
    let tree = CollectionResolver.resolve(study)
    #expect(tree.all.map(\.status) == [.inline, .resolved, .resolved, .resolved, .resolved])

    let bad = try CollectionDocument.read(path: server.url + "/bad.json")
    let badTree = CollectionResolver.resolve(bad)
    // file:// from a remote document is refused; a 404 is missing; itself is a cycle; another host needs --allow-remote.
    #expect(badTree.children.map(\.status) == [.outside, .missing, .cycle, .remote])
    #expect(badTree.children[0].message?.contains("may not point at local files") == true)
    let report = Validator().validate(collection: bad)
    #expect(Set(report.findings.map(\.rule)) == ["collection.outside", "collection.path", "collection.cycle", "collection.remote"])
    #expect(report.findings.allSatisfy { $0.path == server.url + "/bad.json" })
    // Allowed, the other host is tried and found unreachable (an invalid reference, not a hang).
    var options = CollectionResolver.Options()
    options.allowRemote = true
    #expect(CollectionResolver.resolve(bad, options: options).children[3].status == .invalid)
    // Missing documents at a URL are an error naming it.
    #expect(throws: (any Error).self) { try CollectionDocument.read(path: server.url + "/none.json") }
  }
}
