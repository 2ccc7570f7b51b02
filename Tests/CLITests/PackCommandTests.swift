import Foundation
import OMEZarr
import TestSupport
import Testing
import ZarrIO

/// `pack`, `unpack` and `convert` to `.ozx`: the same bytes back, reproducible archives that follow
/// RFC-9 without a warning, and the usual refusals (existing outputs, Zarr v2, split conversions).
@Suite("ome2zarr pack, unpack and .ozx outputs", .serialized)
struct PackCommandTests {
  /// A converted image in a fresh directory, and the TIFF it came from.
  static func image() throws -> (dir: URL, tiff: String, zarr: String) {
    let dir = try CLI.temporaryDirectory()
    let tiff = dir.appendingPathComponent("in.ome.tif").path
    try ConvertCommandTests.makeStack(tiff, planes: 24, size: 200)
    let zarr = dir.appendingPathComponent("img.ome.zarr").path
    let r = try CLI.ome2zarr("convert", tiff, zarr, "--quiet", "--chunks", "8,64,64", "--shards", "8,128,128")
    try #require(r.status == 0, "\(r.stderr)")
    return (dir, tiff, zarr)
  }

  @Test func packThenUnpackGivesTheSameBytesAndPackingIsReproducible() throws {
    let (dir, _, zarr) = try Self.image()
    let a = dir.appendingPathComponent("a.ozx").path, b = dir.appendingPathComponent("b.ozx").path
    let r = try CLI.ome2zarr("pack", zarr, a, "--json")
    #expect(r.status == 0, "\(r.stderr)")
    let tree = try fileTree(zarr)
    let summary = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
    #expect(summary?["entries"] as? Int == tree.count)
    #expect(summary?["bytes"] as? Int == tree.values.reduce(0) { $0 + $1.count })
    #expect(summary?["outputBytes"] as? Int == (try FileManager.default.attributesOfItem(atPath: a)[.size] as? Int))
    #expect(try CLI.ome2zarr("pack", zarr, b).status == 0)
    #expect(try Data(contentsOf: URL(fileURLWithPath: a)) == Data(contentsOf: URL(fileURLWithPath: b)), "packing twice differs")
    // RFC-9 without a single finding, and Info-ZIP agrees.
    let v = try CLI.ome2zarr("validate", a, "--json", "--data")
    #expect(v.status == 0, "\(v.stdout)")
    #expect(!v.stdout.contains("\"ozx."), "\(v.stdout)")
    let unzip = try runProcess("/usr/bin/unzip", ["-tq", a])
    #expect(unzip.status == 0 && unzip.stdoutText.contains("No errors detected"), "\(unzip.stdoutText)")
    // Unpacked, the same files with the same bytes.
    let out = dir.appendingPathComponent("back.ome.zarr").path
    let u = try CLI.ome2zarr("unpack", a, out, "--json")
    #expect(u.status == 0, "\(u.stderr)")
    #expect(try fileTree(out) == tree)
    // An archive packs into the same archive (its entries in the same order).
    let c = dir.appendingPathComponent("c.ozx").path
    #expect(try CLI.ome2zarr("pack", a, c).status == 0)
    #expect(try Data(contentsOf: URL(fileURLWithPath: c)) == Data(contentsOf: URL(fileURLWithPath: a)))
  }

  @Test func packAndUnpackRefuseWhatTheyCannotDo() throws {
    let (dir, _, zarr) = try Self.image()
    let a = dir.appendingPathComponent("a.ozx").path
    #expect(try CLI.ome2zarr("pack", zarr, a).status == 0)
    let before = try Data(contentsOf: URL(fileURLWithPath: a))
    // An existing archive is kept unless --overwrite.
    let again = try CLI.ome2zarr("pack", zarr, a)
    #expect(again.status == 2 && again.stderr.contains("already exists; use --overwrite"), "\(again.stderr)")
    #expect(try Data(contentsOf: URL(fileURLWithPath: a)) == before)
    #expect(try CLI.ome2zarr("pack", zarr, a, "--overwrite").status == 0)
    // The output must be an archive; the input must exist and be Zarr v3.
    let notArchive = try CLI.ome2zarr("pack", zarr, dir.appendingPathComponent("x.ome.zarr").path)
    #expect(notArchive.status == 2 && notArchive.stderr.contains("must name an archive ending in .ozx"), "\(notArchive.stderr)")
    #expect(try CLI.ome2zarr("pack", dir.appendingPathComponent("none").path, a, "--overwrite").status == 2)
    let v2 = dir.appendingPathComponent("v2.ome.zarr").path
    let tiff = dir.appendingPathComponent("in.ome.tif").path
    #expect(try CLI.ome2zarr("convert", tiff, v2, "--quiet", "--version", "0.4").status == 0)
    let refused = try CLI.ome2zarr("pack", v2, dir.appendingPathComponent("v2.ozx").path)
    #expect(refused.status == 1 && refused.stderr.contains("is Zarr v2 (OME-Zarr 0.4)"), "\(refused.stderr)")
    // Unpack refuses a non-empty output and an archive as output; nothing left behind.
    let full = try CLI.ome2zarr("unpack", a, zarr)
    #expect(full.status == 2 && full.stderr.contains("is not empty; use --overwrite"), "\(full.stderr)")
    let toArchive = try CLI.ome2zarr("unpack", a, dir.appendingPathComponent("y.ozx").path)
    #expect(toArchive.status == 2 && toArchive.stderr.contains("is an archive"), "\(toArchive.stderr)")
    let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
    #expect(names == ["a.ozx", "img.ome.zarr", "in.ome.tif", "v2.ome.zarr"], "\(names)")
  }

  @Test func convertToAnArchiveEqualsConvertToADirectoryAndRefusesSplitsAndResume() throws {
    let (dir, tiff, zarr) = try Self.image()
    let out = dir.appendingPathComponent("img.ozx").path
    let r = try CLI.ome2zarr("convert", tiff, out, "--quiet", "--chunks", "8,64,64", "--shards", "8,128,128")
    #expect(r.status == 0, "\(r.stderr)")
    // Every chunk and shard as in the directory; metadata equal as JSON (the root is padded).
    let archive = try ZipStore.open(try StoreLocation(out))
    let tree = try fileTree(zarr)
    #expect(try archive.list(prefix: "") == tree.keys.sorted())
    for (key, bytes) in tree {
      let stored = try #require(try archive.get(key))
      if key.hasSuffix("zarr.json") {
        #expect(try JSONValue.parse(stored) == JSONValue.parse([UInt8](bytes)), "\(key)")
      } else {
        #expect(Data(stored) == bytes, "\(key)")
      }
    }
    #expect(archive.directory.entries.first?.name == "zarr.json" && archive.directory.entries.first?.localHeaderOffset == 0)
    #expect(try CLI.ome2zarr("verify", tiff, out).status == 0)
    // Refusals: an existing archive without --overwrite, parts, finalize, resume, Zarr v2.
    let cases: [([String], String)] = [
      ([], "already exists; use --overwrite"),
      (["--part", "1/2"], "--part needs a directory or bucket output"),
      (["--finalize"], "--finalize needs a directory or bucket output"),
      (["--resume"], "cannot be resumed"),
      (["--overwrite", "--version", "0.4"], "holds Zarr v3: --version 0.5 or later, not 0.4"),
    ]
    let before = try Data(contentsOf: URL(fileURLWithPath: out))
    for (extra, says) in cases {
      let refused = try CLI.ome2zarr(["convert", tiff, out, "--quiet"] + extra)
      #expect(refused.status == 2 && refused.stderr.contains(says), "\(extra): \(refused.status) \(refused.stderr)")
    }
    #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == before)
    // An archive is never changed in place: not by a conversion into a node inside it, not by a collection.
    let inside = try CLI.ome2zarr("convert", tiff, out + "/sub", "--quiet")
    #expect(inside.status == 2 && inside.stderr.contains("lies inside an archive"), "\(inside.stderr)")
    for target in [out, out + "/col.json"] {
      let collection = try CLI.ome2zarr("collection", "create", target, zarr, "--overwrite", "--allow-outside")
      #expect(collection.status == 1 && collection.stderr.contains("write a directory, then pack it"), "\(collection.stderr)")
    }
    #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == before)
    #expect(!(try FileManager.default.contentsOfDirectory(atPath: dir.path)).contains { $0.hasPrefix("__tmp.") })
  }

  @Test func archivesInABucketConvertPackAndUnpack() throws {
    let server = try S3TestServer(authenticated: true)
    defer { server.stop() }
    try server.createBucket("lab")
    let (dir, tiff, zarr) = try Self.image()
    func run(_ arguments: String...) throws -> CLI.Result {
      let r = try server.run(CLI.binary, arguments)
      return CLI.Result(status: r.status, stdout: r.stdoutText, stderr: r.stderrText)
    }
    let local = dir.appendingPathComponent("local.ozx").path
    #expect(try CLI.ome2zarr("convert", tiff, local, "--quiet", "--chunks", "8,64,64", "--shards", "8,128,128").status == 0)
    let c = try run("convert", tiff, "s3://lab/x/img.ozx", "--quiet", "--chunks", "8,64,64", "--shards", "8,128,128")
    #expect(c.status == 0, "\(c.stderr)")
    let p = try run("pack", zarr, "s3://lab/x/packed.ozx")
    #expect(p.status == 0, "\(p.stderr)")
    let downloaded = dir.appendingPathComponent("download")
    _ = try server.download(bucket: "lab", prefix: "x/", to: downloaded)
    #expect(try Data(contentsOf: downloaded.appendingPathComponent("img.ozx")) == Data(contentsOf: URL(fileURLWithPath: local)))
    #expect(try run("verify", tiff, "s3://lab/x/img.ozx").status == 0)
    let u = try run("unpack", "s3://lab/x/packed.ozx", "s3://lab/unpacked")
    #expect(u.status == 0, "\(u.stderr)")
    let back = dir.appendingPathComponent("back")
    _ = try server.download(bucket: "lab", prefix: "unpacked/", to: back)
    #expect(try fileTree(back.path) == fileTree(zarr))
  }
}
