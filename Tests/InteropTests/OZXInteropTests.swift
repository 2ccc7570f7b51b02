import Foundation
import OMEZarr
import OMEZarrConvert
import TestSupport
import Testing
import ZarrIO

/// Runs `Python/ozx_peers.py`.
enum OZXPeers {
  static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Python/ozx_peers.py")

  static func run(_ arguments: [String]) throws -> Data {
    guard let python = testPython else { throw PeerError(message: "no Python test venv: run scripts/test") }
    let r = try runProcess(python, [script.path] + arguments)
    guard r.status == 0 else {
      throw PeerError(message: "ozx_peers.py \(arguments.first ?? "") failed (\(r.status)):\n" + String(r.stderrText.suffix(4000)))
    }
    return r.stdout
  }

  /// The `ome2zarr` binary built beside the tests.
  static var ome2zarr: String {
    URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("ome2zarr").path
  }

  /// A 12-plane 80 x 64 uint16 TIFF stack (no OME-XML).
  static func tiff(_ path: String) throws {
    let writer = try TIFFWriter(path: path)
    for p in 0..<12 {
      let plane: [UInt16] = (0..<(80 * 64)).map { UInt16(truncatingIfNeeded: ($0 &* 13 &+ p &* 1009) % 65_521) }
      try writer.append(try ArrayBuffer(shape: [80, 64], dataType: .uint16, elements: plane))
    }
  }

  /// Converts `tiff` to `out` (an archive or a directory) with chunks and shards.
  static func convert(_ tiff: String, _ out: String) throws {
    let r = try runProcess(ome2zarr, ["convert", tiff, out, "--quiet", "--axes", "zyx", "--chunks", "4,16,16", "--shards", "8,32,32",
                                      "--scale", "2,0.5,0.5", "--units", "micrometer"])
    guard r.status == 0 else { throw PeerError(message: "ome2zarr convert \(out): \(r.stderrText)") }
  }
}

@Suite("zipped OME-Zarr (.ozx) interoperability (ngff-zarr, zarr-python, zipfile, unzip)", .serialized)
struct OZXInteropTests {
  /// Compares every node a peer described (`desc["nodes"]`) with what we read from `store`.
  static func expectNodes(_ desc: JSONValue, in store: any Store, bins dir: URL, _ label: String) throws {
    let nodes = try #require(desc["nodes"]?.objectValue, "\(label): no nodes")
    #expect(nodes.entries.count > 1, "\(label)")
    for (path, node) in nodes.entries {
      let raw = try #require(try store.get(path.isEmpty ? "zarr.json" : path + "/zarr.json"), "\(label): no \(path)/zarr.json")
      #expect(try JSONValue.parse(raw) == node["zarr_json"], "\(label) \(path): zarr.json")
      if node["node_type"] == "group" {
        let group = try ZarrGroup.open(in: store, path: path)
        #expect(JSONValue.object(group.attributes) == node["attributes"], "\(label) \(path): attributes")
      } else {
        let array = try ZarrArray.open(in: store, path: path)
        #expect(array.shape == node["shape"]?.arrayValue?.compactMap(\.intValue), "\(label) \(path): shape")
        #expect(JSONValue.object(array.attributes) == node["attributes"], "\(label) \(path): attributes")
        let want = [UInt8](try Data(contentsOf: dir.appendingPathComponent(node["bin"]?.stringValue ?? "")))
        #expect(try array.read().bytes == want, "\(label) \(path): values")
      }
    }
  }

  @Test("archives written by ngff-zarr (image, HCS plate, image with labels) read value for value")
  func weReadPeerArchives() throws {
    let dir = try makeTemporaryDirectory("ozx-peers")
    defer { try? FileManager.default.removeItem(at: dir) }
    _ = try OZXPeers.run(["write", dir.path])
    for name in ["image", "plate", "labels"] {
      let desc = try JSONValue.parse([UInt8](Data(contentsOf: dir.appendingPathComponent(name + ".json"))))
      let location = try StoreLocation(dir.appendingPathComponent(name + ".ozx").path)
      let store = try location.openStore()
      #expect(store is ZipStore, "\(name): \(type(of: store))")
      let zip = try #require(store as? ZipStore)
      #expect(try JSONValue.parse(zip.directory.comment) == desc["comment"], "\(name): comment")
      #expect(try JSONValue.parse(zip.directory.comment)["ome"]?["version"] == "0.5")
      try Self.expectNodes(desc, in: store, bins: dir, name)
      let root = try OMENode.open(location)
      switch name {
      case "image":
        #expect(root.kind == .image)
        let image = try #require(try root.image())
        // ngff-zarr reads the same levels, axes, scale and values.
        let ngff = try #require(desc["ngff"])
        #expect(image.levels.map(\.shape) == ngff["levels"]?.arrayValue?.map { $0.arrayValue?.compactMap(\.intValue) ?? [] })
        #expect(image.axes.map(\.name) == ["z", "y", "x"])
        #expect(image.scale(level: 0) == [3.0, 0.7, 0.7])
        #expect(image.translation(level: 0) == [10.0, 5.0, 0.0])
        for (i, level) in image.levels.enumerated() {
          let bin = ngff["bins"]?.arrayValue?[i].stringValue ?? ""
          #expect(try level.read().bytes == [UInt8](Data(contentsOf: dir.appendingPathComponent(bin))), "image level \(i)")
        }
        #expect(try image.levels[0].read().bytes == [UInt8](Data(contentsOf: dir.appendingPathComponent("image_source.bin"))))
        #expect(image.levels[0].metadata.shardShape != nil, "ngff-zarr shards .ozx arrays")
      case "plate":
        #expect(root.kind == .plate)
        let plate = try #require(root.metadata.plate)
        #expect(plate.wells.map(\.path) == ["A/1", "A/2"])
        #expect(plate.name == "ozx plate")
        for well in plate.wells {
          let field = try root.child(well.path).child("0")
          #expect(field.kind == .image)
          #expect(try field.image()?.levels.map(\.shape) == [[32, 32], [16, 16]])
        }
      default:
        #expect(root.kind == .image)
        #expect(try root.labelNames() == ["mask"])
        #expect(try root.child("labels/mask").kind == .labelImage)
        #expect(try root.child("labels/mask").image()?.levels.first?.shape == [1, 32, 40])
      }
    }
  }

  @Test("an archive written by ome2zarr convert reads in ngff-zarr and zarr-python value for value, and is RFC-9 shaped")
  func theyReadOurArchive() throws {
    let dir = try makeTemporaryDirectory("ozx-ours")
    defer { try? FileManager.default.removeItem(at: dir) }
    let tiff = dir.appendingPathComponent("in.tif").path
    try OZXPeers.tiff(tiff)
    let archive = dir.appendingPathComponent("ours.ozx")
    try OZXPeers.convert(tiff, archive.path)
    let out = dir.appendingPathComponent("read")
    _ = try OZXPeers.run(["read", archive.path, out.path])
    let read = try JSONValue.parse([UInt8](Data(contentsOf: out.appendingPathComponent("read.json"))))
    let store = try ZipStore.open(try StoreLocation(archive.path))
    try Self.expectNodes(read, in: store, bins: out, "ours")
    // ngff-zarr: the levels and their values.
    let image = try #require(try OMENode.open(in: store).image())
    let ngff = try #require(read["ngff"])
    #expect(image.levels.map(\.shape) == ngff["levels"]?.arrayValue?.map { $0.arrayValue?.compactMap(\.intValue) ?? [] })
    #expect(ngff["dims"] == ["z", "y", "x"])
    #expect(ngff["scale"] == ["z": 2.0, "y": 0.5, "x": 0.5])
    for (i, level) in image.levels.enumerated() {
      let bin = ngff["bins"]?.arrayValue?[i].stringValue ?? ""
      #expect(try level.read().bytes == [UInt8](Data(contentsOf: out.appendingPathComponent(bin))), "level \(i)")
    }
    #expect(image.levels[0].metadata.shardShape == [8, 32, 32])
    // The archive's structure: clean for zipfile and unzip, STORED, zarr.json first and breadth-first, ZIP64, comment.
    let s = try #require(read["structure"])
    #expect(s["testzip"] == .null)
    #expect(s["unzip_status"] == 0, "\(s["unzip_tail"] ?? .null)")
    #expect(s["unzip_tail"]?.stringValue?.hasPrefix("No errors detected in compressed data of") == true, "\(s["unzip_tail"] ?? .null)")
    #expect(s["first_central"] == "zarr.json")
    #expect(s["first_local"] == "zarr.json")
    #expect(s["first_local_offset"] == 0)
    #expect(s["json_first"] == true)
    #expect(s["json_breadth_first"] == true)
    #expect(s["all_stored"] == true)
    #expect(s["methods"] == [0])
    #expect(s["duplicates"] == false)
    #expect(s["eocd64"] == true)
    #expect(s["comment"]?["ome"]?["version"] == "0.5")
    #expect(s["comment"]?["ome"]?["zipFile"]?["centralDirectory"]?["jsonFirst"] == true)
    let order = s["central_order"]?.arrayValue?.compactMap(\.stringValue) ?? []
    #expect(order == store.directory.entries.map(\.name))
    #expect(Array(order.prefix(3)) == ["zarr.json", "0/zarr.json", "1/zarr.json"], "\(order.prefix(5))")
  }

  @Test("converting to .ozx twice gives the same bytes; a directory conversion holds the same values and metadata")
  func reproducibleAndLikeADirectory() throws {
    let dir = try makeTemporaryDirectory("ozx-repro")
    defer { try? FileManager.default.removeItem(at: dir) }
    let tiff = dir.appendingPathComponent("in.tif").path
    try OZXPeers.tiff(tiff)
    let a = dir.appendingPathComponent("a.ozx"), b = dir.appendingPathComponent("b.ozx"), zarr = dir.appendingPathComponent("c.ome.zarr")
    try OZXPeers.convert(tiff, a.path)
    try OZXPeers.convert(tiff, b.path)
    try OZXPeers.convert(tiff, zarr.path)
    let bytesA = try Data(contentsOf: a), bytesB = try Data(contentsOf: b)
    #expect(bytesA.count == bytesB.count)
    #expect(bytesA == bytesB, "the two archives differ")
    let archive = try ZipStore.open(try StoreLocation(a.path))
    let directory = try FilesystemStore(root: zarr.path)
    let keys = try directory.list(prefix: "")
    #expect(try archive.list(prefix: "") == keys)
    for key in keys where key.hasSuffix("zarr.json") {
      #expect(try JSONValue.parse(try #require(try archive.get(key))) == JSONValue.parse(try #require(try directory.get(key))), "\(key)")
    }
    let fromArchive = try #require(try OMENode.open(in: archive).image())
    let fromDirectory = try #require(try OMENode.open(in: directory).image())
    #expect(fromArchive.levels.count == fromDirectory.levels.count)
    #expect(fromArchive.levels.count >= 2)
    for (x, y) in zip(fromArchive.levels, fromDirectory.levels) {
      #expect(try x.read().bytes == y.read().bytes, "\(x.path)")
    }
  }
}
