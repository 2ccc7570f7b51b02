import Foundation
import TestSupport
import Testing
import ZarrIO

@Suite("Store locations")
struct StoreLocationTests {
  @Test func parsesPathsAndURLs() throws {
    let cwd = FileManager.default.currentDirectoryPath
    #expect(try StoreLocation("data/./a/../image.ome.zarr/").description == cwd + "/data/image.ome.zarr")
    #expect(try StoreLocation("/x/run#1/a.tif").description == "/x/run#1/a.tif")
    #expect(try StoreLocation("/x/run#1/a.tif").name == "a.tif")
    #expect(try StoreLocation("file:///tmp/a%20b/c.zarr") == StoreLocation("/tmp/a b/c.zarr"))
    let http = try StoreLocation("HTTPS://example.org:8443/data/a%20b/image.ome.zarr/")
    #expect(http.scheme == "https" && http.authority == "example.org:8443")
    #expect(http.components == ["data", "a b", "image.ome.zarr"])
    #expect(http.description == "https://example.org:8443/data/a%20b/image.ome.zarr")
    #expect(try StoreLocation("s3://bucket/key/x.ome.zarr").components == ["key", "x.ome.zarr"])
    #expect(StoreLocation.scheme(of: "s3://bucket") == "s3")
    #expect(StoreLocation.scheme(of: "run#1/a:b.tif") == nil)
    #expect(StoreLocation.scheme(of: "C:/x") == nil)
    #expect(throws: ZarrError.self) { try StoreLocation("") }
    #expect(throws: ZarrError.self) { try StoreLocation("http:///nohost") }
    #expect(throws: ZarrError.self) { try StoreLocation("https://example.org/x.zarr?token=1") }
    #expect(try StoreLocation("https://example.org/run%231/x%3F.zarr").components == ["run#1", "x?.zarr"])
  }

  @Test func resolvesReferencesAndContainment() throws {
    let base = try StoreLocation("https://example.org/data/study")
    #expect(try base.resolving("../raw.ome.zarr").description == "https://example.org/data/raw.ome.zarr")
    #expect(try base.resolving("/top.json").description == "https://example.org/top.json")
    #expect(try base.resolving("../../../../x").description == "https://example.org/x")
    #expect(try base.resolving("file:///etc/passwd").isFile)
    #expect(base.parent.contains(try base.resolving("./a/b")))
    #expect(!base.contains(try base.resolving("../b")))
    #expect(!base.contains(try StoreLocation("https://example.org.evil/data/study/a")))
    #expect(!base.contains(try StoreLocation("/data/study/a")))
    #expect(base.key(of: base.appending("a/b/zarr.json")) == "a/b/zarr.json")
    #expect(base.key(of: base.parent) == nil)
    let dir = try StoreLocation("/data/collections")
    #expect(dir.relativeReference(to: try StoreLocation("/data/collections/raw.ome.zarr")) == "./raw.ome.zarr")
    #expect(dir.relativeReference(to: try StoreLocation("/data/images/raw.ome.zarr")) == "../images/raw.ome.zarr")
    #expect(dir.relativeReference(to: dir) == ".")
    #expect(dir.relativeReference(to: base) == "https://example.org/data/study")
  }

  @Test func pathAlgebra() {
    #expect(StorePath.resolve("../../labels/x", from: "a/b/c") == "a/labels/x")
    #expect(StorePath.resolve("/s0", from: "a/b") == "s0")
    #expect(StorePath.resolve("../../../..", from: "a") == "")
    #expect(StorePath.relative(from: "a/b", to: "a/c/d") == "../c/d")
    #expect(StorePath.parent("a/b/c") == "a/b")
    #expect(StorePath.parent("a") == "")
    #expect(joinKey("", "a", "", "zarr.json") == "a/zarr.json")
  }

  @Test func opensStoresThroughTheRegistry() throws {
    let dir = try makeTemporaryDirectory("location")
    let location = try StoreLocation(dir.appendingPathComponent("new/image.zarr").path)
    #expect(location.entry() == .absent)
    let store = try location.openStore(create: true)
    #expect(store is FilesystemStore)
    #expect(location.entry() == .prefix)
    #expect(store.location == location)
    try location.appending("doc.json").write(Array("{}".utf8))
    #expect(location.appending("doc.json").entry() == .object)
    #expect(try location.appending("doc.json").read() == Array("{}".utf8))
    #expect(try location.appending("none.json").read() == nil)
    #expect(location.appending("doc.json").objectInfo()?.size == 2)
    #expect((location.appending("doc.json").objectInfo()?.modified ?? 0) > 1_700_000_000)
    #expect(location.objectInfo() == nil && location.appending("none.json").objectInfo() == nil)
    #expect(store.isSame(as: try FilesystemStore(root: location.path)))
    #expect(!store.isSame(as: MemoryStore()))
    #expect(try StoreLocation("http://127.0.0.1:9/x").openStore() is HTTPStore)
    #expect(try StoreLocation("http://127.0.0.1:9/x").entry() == nil)
    // A symbolic link into the directory is inside it once links are resolved.
    let link = dir.appendingPathComponent("alias").path
    try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: location.path)
    #expect(try StoreLocation(link).canonical == location.canonical)
    #expect(location.canonical.contains(try StoreLocation(link + "/a/b").canonical))
  }

  @Test func unsupportedSchemesAreUsageErrorsThatCreateNothing() throws {
    let dir = try makeTemporaryDirectory("location")
    for text in ["gs://bucket/x.ome.zarr", "az://container/x", "https://example.org/x.ozx"] {
      let location = try StoreLocation(text)
      #expect { try location.openStore(create: true) } throws: { error in
        guard let e = error as? ZarrError, e.code == .invalidArgument else { return false }
        return e.message.contains(location.parent.description) && (e.message.contains("not supported") || e.message.contains("read-only"))
      }
    }
    // Local archives are written, and nothing is there until the writer finishes.
    for name in ["out.ozx", "archive.ZIP"] {
      #expect(try StoreLocation(dir.appendingPathComponent(name).path).openStore(create: true) is ZipWriter)
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == [])
    #expect(throws: ZarrError.self) { try StoreLocation("http://example.org/x").openStore(create: true) }
  }
}

@Suite("Archive locations")
struct ArchiveLocationTests {
  /// A directory named like an archive stays a directory (read and written as one).
  @Test func aDirectoryNamedLikeAnArchiveIsADirectory() throws {
    let dir = try makeTemporaryDirectory("archive-named-dir")
    defer { try? FileManager.default.removeItem(at: dir) }
    let location = try StoreLocation(dir.appendingPathComponent("data.zip").path)
    try FileManager.default.createDirectory(atPath: location.path, withIntermediateDirectories: false)
    let store = try location.openStore(create: true)
    #expect(store is FilesystemStore)
    try store.set("a/zarr.json", Array("{}".utf8))
    #expect(location.entry() == .prefix)
    #expect(location.appending("a/zarr.json").entry() == .object)
    #expect(try location.openStore().get("a/zarr.json") == Array("{}".utf8))
    #expect(try location.appending("a").openStore().get("zarr.json") == Array("{}".utf8))
  }
}
