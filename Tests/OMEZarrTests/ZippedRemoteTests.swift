import Foundation
import Testing
import TestSupport
import ZarrIO
import OMEZarr

/// A zipped OME-Zarr (`.ozx`) read over HTTP and from S3 by byte ranges, with few requests: opening
/// is one suffix read (end records and central directory), all the metadata one more (the
/// `zarr.json` entries lie together), and one inner chunk of a shard the entry's local header, the
/// shard index and the chunk; another inner chunk of that shard the chunk only (the local header is
/// cached by the store, the shard index by the array). Values equal the local archive's.
@Suite("zipped OME-Zarr over HTTP and S3", .serialized)
struct ZippedRemoteTests {
  /// A sharded 3-level image packed into `<dir>/img.ozx`; returns the archive's path.
  static func archive(in dir: URL) throws -> String {
    let zarr = dir.appendingPathComponent("img.ome.zarr").path
    let store = try FilesystemStore(root: zarr, create: true)
    var options = ImageOptions(axes: [.space("z", unit: "micrometer"), .space("y", unit: "micrometer"), .space("x", unit: "micrometer")],
                               scale: [2, 0.5, 0.5])
    options.chunkShape = [2, 16, 16]
    options.shardShape = [4, 32, 32]
    options.levels = 3
    options.name = "remote"
    let n = 8 * 96 * 64
    let data = try ArrayBuffer(shape: [8, 96, 64], dataType: .uint16,
                               elements: (0..<n).map { UInt16(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) })
    _ = try ImageWriter.write(data, to: store, options: options)
    let ozx = dir.appendingPathComponent("img.ozx").path
    _ = try ZippedOMEZarr.pack(try StoreLocation(zarr), to: try StoreLocation(ozx))
    return ozx
  }

  /// What the three steps read, and the requests each took.
  struct Reads: Equatable {
    var levels: [[Int]]
    var attributes: JSONValue
    var chunk: [UInt8]
    var second: [UInt8]
  }

  /// Opens the archive at `location`, reads its metadata and two inner chunks of one shard; `count()`
  /// gives the requests so far.
  static func read(_ location: StoreLocation, count: () throws -> Int) throws -> (Reads, [Int]) {
    var steps: [Int] = []
    var last = try count()
    func step() throws {
      let now = try count()
      steps.append(now - last)
      last = now
    }
    let store = try location.openStore()
    #expect(store is ZipStore)
    try step()
    let node = try OMENode.open(in: store)
    let image = try #require(try node.image())
    let levels = image.levels.map(\.shape)
    try step()
    let chunk = try image.levels[0].read([0..<2, 0..<16, 0..<16]).bytes
    try step()
    let second = try image.levels[0].read([2..<4, 16..<32, 16..<32]).bytes
    try step()
    return (Reads(levels: levels, attributes: .object(node.zarr.attributes), chunk: chunk, second: second), steps)
  }

  @Test("over HTTP: open = 1 suffix read, metadata = 1, an inner chunk = 3, another of the same shard = 1")
  func overHTTP() throws {
    let dir = try makeTemporaryDirectory("ozx-http")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = try Self.archive(in: dir)
    let (local, localSteps) = try Self.read(try StoreLocation(path)) { 0 }
    #expect(localSteps == [0, 0, 0, 0])
    #expect(local.levels == [[8, 96, 64], [8, 48, 32], [8, 24, 16]])
    let server = try HTTPServer(serving: dir)
    defer { server.stop() }
    let (remote, steps) = try Self.read(try StoreLocation(server.url + "/img.ozx")) { try server.statistics().requests }
    #expect(remote == local)
    #expect(steps == [1, 1, 3, 1], "requests per step: \(steps)")
    // A node inside the archive, by URL: the archive open already is reused, its metadata too.
    let before = try server.statistics().requests
    let level = try ZarrArray.open(in: try StoreLocation(server.url + "/img.ozx/1").openStore())
    #expect(level.shape == [8, 48, 32])
    #expect(try server.statistics().requests - before == 0)
  }

  @Test("over HTTP: a damaged archive names its URL")
  func damagedOverHTTP() throws {
    let dir = try makeTemporaryDirectory("ozx-http")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = try Self.archive(in: dir)
    let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    try bytes.dropLast(5).write(to: dir.appendingPathComponent("cut.ozx"))
    try Data().write(to: dir.appendingPathComponent("empty.ozx"))
    let server = try HTTPServer(serving: dir)
    defer { server.stop() }
    for (name, says) in [("cut.ozx", "is not a zip archive, or is truncated"), ("empty.ozx", "is not a zip archive (0 bytes, too short for its end record)")] {
      let url = server.url + "/" + name
      #expect {
        try StoreLocation(url).openStore()
      } throws: { e in
        let e = e as? ZarrError
        return e?.code == .corruptData && e?.message.contains("'\(url)' \(says)") == true
      }
    }
    #expect {
      try StoreLocation(server.url + "/none.ozx").openStore()
    } throws: { ($0 as? ZarrError)?.code == .notFound }
  }

  @Test("from S3 (s3:// location): open = 1 suffix read, metadata = 1, an inner chunk = 3, another of the same shard = 1")
  func fromS3() throws {
    let dir = try makeTemporaryDirectory("ozx-s3")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = try Self.archive(in: dir)
    let (local, _) = try Self.read(try StoreLocation(path)) { 0 }
    let server = try S3TestServer()
    defer { server.stop() }
    try server.createBucket("ozx-remote")
    let key = "data/img-\(server.port).ozx"
    try server.put(bucket: "ozx-remote", key: key, data: try Data(contentsOf: URL(fileURLWithPath: path)))
    // s3:// locations take their credentials from the environment and the endpoint from the
    // process's remote settings: both set for this test, then restored.
    let saved = RemoteAccess.current
    let names = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]
    let savedEnvironment = names.map { getenv($0).map { String(cString: $0) } }
    defer {
      RemoteAccess.current = saved
      for (name, value) in zip(names, savedEnvironment) {
        if let value { setenv(name, value, 1) } else { unsetenv(name) }
      }
    }
    setenv("AWS_ACCESS_KEY_ID", server.accessKeyID, 1)
    setenv("AWS_SECRET_ACCESS_KEY", server.secretAccessKey, 1)
    var access = saved
    access.endpoint = server.endpoint
    access.region = S3TestServer.region
    RemoteAccess.current = access
    try server.clearStatistics()
    let (remote, steps) = try Self.read(try StoreLocation("s3://ozx-remote/" + key)) { try server.statistics().requests }
    #expect(remote == local)
    let log = try server.requestLog()
    #expect(steps == [1, 1, 3, 1], "requests per step: \(steps); \(log.map { "\($0.method) \($0.path) \($0.status)" })")
    #expect(log.allSatisfy { $0.method == "GET" && $0.status == 206 }, "\(log.map { "\($0.method) \($0.path) \($0.status)" })")
  }
}
