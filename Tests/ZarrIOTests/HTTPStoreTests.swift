import Foundation
import Testing
import TestSupport
import ZarrIO

/// The HTTP store against a local server (standard-library Python): with and without byte ranges.
@Suite("HTTP store", .serialized)
struct HTTPStoreTests {
  /// A sharded uint16 volume (two shards along z, missing chunks left to the fill value) and a v2 array.
  static func makeData() throws -> (URL, [UInt16]) {
    let dir = try makeTemporaryDirectory("http")
    let store = try FilesystemStore(root: dir.appendingPathComponent("data.zarr").path, create: true)
    _ = try ZarrGroup.create(in: store, attributes: ["title": "served"])
    let meta = ArrayMetadata.sharded(shape: [20, 40, 36], dataType: .uint16, shardShape: [10, 40, 36], innerChunkShape: [5, 8, 9],
      compressor: .zstd(level: 1), fillValue: FillValue(UInt16(7)))
    let a = try ZarrArray.create(in: store, path: "vol", metadata: meta)
    var all = (0..<(20 * 40 * 36)).map { UInt16(truncatingIfNeeded: $0 &* 2654435761 >> 7) }
    try a.write(all, region: a.fullRegion)
    // Wipe one inner chunk to fill (written as a region of fill values, so the shard drops it).
    try a.write([UInt16](repeating: 7, count: 5 * 8 * 9), region: [10..<15, 0..<8, 0..<9])
    for z in 10..<15 { for y in 0..<8 { for x in 0..<9 { all[(z * 40 + y) * 36 + x] = 7 } } }
    return (dir, all)
  }

  static func subregion(_ all: [UInt16], _ r: [Range<Int>]) -> [UInt16] {
    var out: [UInt16] = []
    for z in r[0] { for y in r[1] { for x in r[2] { out.append(all[(z * 40 + y) * 36 + x]) } } }
    return out
  }

  @Test(arguments: [true, false])
  func readsShardedArraysOverHTTP(_ ranges: Bool) throws {
    let (dir, all) = try Self.makeData()
    defer { try? FileManager.default.removeItem(at: dir) }
    let server = try HTTPServer(serving: dir, ranges: ranges)
    defer { server.stop() }
    let store = try HTTPStore(url: server.url + "/data.zarr/")
    let group = try ZarrGroup.open(in: store)
    #expect(group.attributes["title"] == "served")
    let a = try ZarrArray.open(in: store, path: "vol")
    #expect(a.shape == [20, 40, 36])
    #expect(try a.read(as: UInt16.self) == all)
    let region = [3..<14, 5..<31, 2..<20]
    #expect(try a.read(region, as: UInt16.self) == Self.subregion(all, region))
    // A missing shard reads as the fill value; a missing key is nil; absent nodes are notFound.
    #expect(try store.get("vol/c/9/0/0") == nil)
    #expect(try store.size(of: "nothing/here") == nil)
    #expect(try store.get("vol/zarr.json", range: .suffix(length: 4)) == Array(try #require(try store.get("vol/zarr.json")).suffix(4)))
    #expect(throws: ZarrError.self) { try ZarrArray.open(in: store, path: "absent") }
    #expect(throws: ZarrError.self) { try store.get("vol/zarr.json", range: .range(offset: 1 << 20, length: 4)) }
    // Read-only, and no listing.
    #expect { try store.set("x", [1]) } throws: { ($0 as? ZarrError)?.code == .unsupported }
    #expect { try store.list(prefix: "") } throws: { ($0 as? ZarrError)?.code == .unsupported }
  }

  @Test func oneInnerChunkCostsFewSmallRequests() throws {
    let (dir, all) = try Self.makeData()
    defer { try? FileManager.default.removeItem(at: dir) }
    let server = try HTTPServer(serving: dir)
    defer { server.stop() }
    let store = try HTTPStore(url: server.url + "/data.zarr")
    let a = try ZarrArray.open(in: store, path: "vol")
    let shardSize = try #require(try store.size(of: "vol/c/0/0/0"))
    let before = try server.statistics()
    // One inner chunk: the shard index (suffix range) and the chunk (one range).
    let region = [0..<5, 8..<16, 9..<18]
    #expect(try a.read(region, as: UInt16.self) == Self.subregion(all, region))
    let after = try server.statistics()
    #expect(after.requests - before.requests <= 2, "requests for one inner chunk: \(after.requests - before.requests)")
    // 40 chunks of 720 bytes in a shard: one chunk and the 644-byte index, not the whole shard.
    #expect(after.bytes - before.bytes < 1_500, "bytes for one inner chunk: \(after.bytes - before.bytes) of a \(shardSize)-byte shard")
    #expect(after.requests == store.requestCount)
  }

  @Test func refusesOtherSchemesAndServerErrors() throws {
    #expect(throws: ZarrError.self) { try HTTPStore(url: "ftp://example.org/x") }
    #expect(throws: ZarrError.self) { try HTTPStore(url: "not a url") }
    #expect(try StoreLocation("/tmp").openStore() is FilesystemStore)
    #expect(try StoreLocation("file:///tmp").openStore() is FilesystemStore)
    // Nothing listens on port 9 of localhost: a store failure naming the key, after the retries.
    let dead = try HTTPStore(url: "http://127.0.0.1:9/x", retries: 1)
    #expect { try dead.get("zarr.json") } throws: { ($0 as? ZarrError)?.code == .storeFailure && ($0 as? ZarrError)?.key == "zarr.json" }
  }
}
