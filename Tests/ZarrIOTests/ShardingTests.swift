import Synchronization
import Testing
@testable import ZarrIO

/// A store that counts the bytes read through it.
final class CountingStore: Store {
  let base = MemoryStore()
  let bytesRead = Atomic<Int>(0)
  let wholeReads = Atomic<Int>(0)
  /// Ranged read requests (each `get(_:ranges:)` call, however many ranges it asks for).
  let rangedReads = Atomic<Int>(0)

  /// Sets every counter to zero.
  func resetCounts() {
    bytesRead.store(0, ordering: .relaxed)
    wholeReads.store(0, ordering: .relaxed)
    rangedReads.store(0, ordering: .relaxed)
  }

  func get(_ key: String) throws -> [UInt8]? {
    let v = try base.get(key)
    // Count data objects only (metadata documents are read whole by design).
    if !key.hasSuffix("zarr.json") {
      bytesRead.wrappingAdd(v?.count ?? 0, ordering: .relaxed)
      wholeReads.wrappingAdd(1, ordering: .relaxed)
    }
    return v
  }
  func get(_ key: String, ranges: [ByteRange]) throws -> (parts: [[UInt8]], size: Int)? {
    let v = try base.get(key, ranges: ranges)
    bytesRead.wrappingAdd(v?.parts.reduce(0) { $0 + $1.count } ?? 0, ordering: .relaxed)
    rangedReads.wrappingAdd(1, ordering: .relaxed)
    return v
  }
  func size(of key: String) throws -> Int? { try base.size(of: key) }
  func set(_ key: String, _ value: [UInt8]) throws { try base.set(key, value) }
  func delete(_ key: String) throws { try base.delete(key) }
  func deletePrefix(_ prefix: String) throws { try base.deletePrefix(prefix) }
  func list(prefix: String) throws -> [String] { try base.list(prefix: prefix) }
  func listDirectory(_ prefix: String) throws -> (keys: [String], prefixes: [String]) { try base.listDirectory(prefix) }
}

@Suite("Sharding")
struct ShardingTests {
  static let layouts: [(String, [NamedConfiguration])] = [
    ("end+crc32c", [Codecs.sharding(innerChunkShape: [4, 5, 3])]),
    ("start+crc32c", [Codecs.sharding(innerChunkShape: [4, 5, 3], indexLocation: .start)]),
    ("end, no crc", [Codecs.sharding(innerChunkShape: [4, 5, 3], indexCodecs: [Codecs.bytes()])]),
    ("start, big-endian index", [Codecs.sharding(innerChunkShape: [4, 5, 3], indexCodecs: [Codecs.bytes(endian: .big)], indexLocation: .start)]),
    ("blosc inner", [Codecs.sharding(innerChunkShape: [4, 5, 3], codecs: [Codecs.bytes(), Codecs.blosc(cname: "lz4", typesize: 4)])]),
    ("transpose inner", [Codecs.sharding(innerChunkShape: [4, 5, 3], codecs: [Codecs.transpose(order: [2, 1, 0]), Codecs.bytes(endian: .big), Codecs.gzip(level: 1)])]),
    ("nested", [Codecs.sharding(innerChunkShape: [4, 5, 6], codecs: [Codecs.sharding(innerChunkShape: [2, 5, 3], codecs: [Codecs.bytes(), Codecs.zstd(level: 1)])])]),
    ("transpose outside", [Codecs.transpose(order: [1, 0, 2]), Codecs.sharding(innerChunkShape: [5, 4, 3])]),
    ("crc32c outside", [Codecs.sharding(innerChunkShape: [4, 5, 3]), Codecs.crc32c()]),
  ]

  @Test(arguments: 0..<layouts.count)
  func roundTripsWithRaggedShardsAndPartialWrites(_ layout: Int) throws {
    let (name, codecs) = Self.layouts[layout]
    let store = MemoryStore()
    let meta = ArrayMetadata(shape: [13, 22, 14], dataType: .int32, chunkShape: [8, 10, 6], fillValue: FillValue(Int32(-7)), codecs: codecs)
    let a = try ZarrArray.create(in: store, path: "s", metadata: meta)
    let all = (0..<(13 * 22 * 14)).map { Int32($0) }
    try a.write(all, region: a.fullRegion)
    #expect(try a.read(as: Int32.self) == all, "\(name)")
    let fresh = try ZarrArray.open(in: store, path: "s")
    #expect(try fresh.read([2..<11, 3..<19, 1..<13], as: Int32.self) == subregion(all, [13, 22, 14], [2..<11, 3..<19, 1..<13]), "\(name)")
    // Partial update inside one shard and across shards.
    try a.write([Int32](repeating: 5, count: 3 * 4 * 5), region: [6..<9, 8..<12, 4..<9])
    var want = all
    for z in 6..<9 { for y in 8..<12 { for x in 4..<9 { want[(z * 22 + y) * 14 + x] = 5 } } }
    #expect(try a.read(as: Int32.self) == want, "\(name)")
    #expect(try ZarrArray.open(in: store, path: "s").read(as: Int32.self) == want, "\(name)")
    // Erasing everything deletes every shard.
    try a.erase()
    #expect(try store.list(prefix: "s") == ["s/zarr.json"], "\(name)")
    #expect(try a.read(as: Int32.self).allSatisfy { $0 == -7 })
  }

  func subregion<T>(_ all: [T], _ shape: [Int], _ r: [Range<Int>]) -> [T] {
    var out: [T] = []
    for z in r[0] { for y in r[1] { for x in r[2] { out.append(all[(z * shape[1] + y) * shape[2] + x]) } } }
    return out
  }

  @Test func emptyInnerChunksAreLeftOutOfTheIndex() throws {
    let store = MemoryStore()
    let meta = ArrayMetadata.sharded(shape: [16, 16], dataType: .uint8, shardShape: [16, 16], innerChunkShape: [4, 4], compressor: .none)
    let a = try ZarrArray.create(in: store, path: "", metadata: meta)
    try a.write([UInt8](repeating: 1, count: 16), region: [4..<8, 8..<12])
    let shard = try #require(try store.get("c/0/0"))
    let codec = try #require(a.codecChain.arrayToBytes as? ShardingCodec)
    #expect(shard.count == 16 + 16 * 16 + 4)  // one chunk + index + crc
    let index = try codec.decodeIndex(Array(shard.suffix(codec.indexSize)), shardSize: shard.count)
    #expect((0..<16).filter { index.range($0) != nil } == [6])
    #expect(index.range(6) == 0..<16)
  }

  @Test func partialReadsTouchOnlyTheIndexAndTheNeededChunks() throws {
    let store = CountingStore()
    let meta = ArrayMetadata.sharded(shape: [64, 256, 256], dataType: .uint16, shardShape: [64, 256, 256], innerChunkShape: [32, 32, 32], compressor: .none)
    let a = try ZarrArray.create(in: store, path: "", metadata: meta)
    try a.write((0..<(64 * 256 * 256)).map { UInt16(truncatingIfNeeded: $0) }, region: a.fullRegion)
    let shardSize = try #require(try store.size(of: "c/0/0/0"))
    #expect(shardSize > 8 << 20)
    let reader = try ZarrArray.open(in: store)
    store.bytesRead.store(0, ordering: .relaxed)
    _ = try reader.read([32..<64, 64..<96, 224..<256])
    let indexBytes = 2 * 8 * 8 * 16 + 4
    #expect(store.bytesRead.load(ordering: .relaxed) == indexBytes + 32 * 32 * 32 * 2)
    // The index is cached: a second chunk costs only its bytes.
    store.bytesRead.store(0, ordering: .relaxed)
    _ = try reader.read([0..<1, 0..<1, 0..<1])
    #expect(store.bytesRead.load(ordering: .relaxed) == 32 * 32 * 32 * 2)
    #expect(store.wholeReads.load(ordering: .relaxed) == 0)
  }

  @Test func aTransposeBeforeShardingStillReadsOnlyTheNeededInnerChunk() throws {
    // [transpose, sharding_indexed]: the shard holds inner chunks of the transposed array.
    let store = CountingStore()
    let meta = ArrayMetadata(shape: [16, 32, 24], dataType: .uint16, chunkShape: [16, 32, 24],
      codecs: [Codecs.transpose(order: [2, 0, 1]), Codecs.sharding(innerChunkShape: [8, 8, 16], codecs: [Codecs.bytes()])])
    #expect(meta.innerChunkShape == [8, 16, 8])
    #expect(meta.shardShape == [16, 32, 24])
    let a = try ZarrArray.create(in: store, path: "", metadata: meta)
    let values: [UInt16] = (0..<(16 * 32 * 24)).map { UInt16($0) }
    try a.write(values, region: a.fullRegion)
    let whole = try ZarrArray.open(in: store).read(as: UInt16.self)
    #expect(whole == values)

    let reader = try ZarrArray.open(in: store)
    store.resetCounts()
    // One inner chunk in array order: [8, 16, 8] at (8, 16, 8), i.e. [8, 8, 16] at (8, 8, 16) transposed.
    let region = [8..<16, 16..<32, 8..<16]
    let part = try reader.read(region, as: UInt16.self)
    let indexBytes = (3 * 2 * 2) * 16 + 4
    let chunkBytes = 8 * 16 * 8 * 2
    #expect(store.bytesRead.load(ordering: .relaxed) == indexBytes + chunkBytes)
    #expect(store.rangedReads.load(ordering: .relaxed) == 2)  // the index, then the chunk
    #expect(store.wholeReads.load(ordering: .relaxed) == 0)
    #expect(part == subregion(whole, [16, 32, 24], region))
    // Any region reads what a full read gives, with the index cached.
    store.resetCounts()
    let odd = [3..<13, 5..<30, 1..<23]
    #expect(try reader.read(odd, as: UInt16.self) == subregion(whole, [16, 32, 24], odd))
    #expect(store.wholeReads.load(ordering: .relaxed) == 0)
  }

  @Test func wholeShardWritesDoNotReadTheShard() throws {
    let store = CountingStore()
    let meta = ArrayMetadata.sharded(shape: [32, 32], dataType: .float32, shardShape: [16, 16], innerChunkShape: [8, 8])
    let a = try ZarrArray.create(in: store, path: "", metadata: meta)
    store.bytesRead.store(0, ordering: .relaxed)
    try a.write([Float](repeating: 2, count: 32 * 16), region: [0..<32, 0..<16])
    try a.write([Float](repeating: 3, count: 32 * 16), region: [0..<32, 16..<32])
    #expect(store.wholeReads.load(ordering: .relaxed) == 0)
    #expect(store.bytesRead.load(ordering: .relaxed) == 0)
  }

  @Test func concurrentPartialWritesToOneShardLoseNothing() async throws {
    let store = MemoryStore()
    let meta = ArrayMetadata.sharded(shape: [32, 64], dataType: .uint32, shardShape: [32, 64], innerChunkShape: [8, 8])
    let a = try ZarrArray.create(in: store, path: "", metadata: meta)
    try await withThrowingTaskGroup(of: Void.self) { group in
      for row in 0..<32 {
        for half in 0..<2 {
          group.addTask {
            try a.write([UInt32](repeating: UInt32(row * 2 + half + 1), count: 32), region: [row..<(row + 1), (half * 32)..<(half * 32 + 32)])
          }
        }
      }
      try await group.waitForAll()
    }
    let v = try ZarrArray.open(in: store).read(as: UInt32.self)
    for row in 0..<32 {
      for x in 0..<64 { #expect(v[row * 64 + x] == UInt32(row * 2 + x / 32 + 1), "row \(row) x \(x)") }
    }
  }

  @Test func defaultsAreSensible() {
    #expect(ArrayMetadata.defaultChunkShape(shape: [2, 3, 500, 2048, 2048], dataType: .uint16) == [1, 1, 64, 64, 64])
    #expect(ArrayMetadata.defaultChunkShape(shape: [10000, 10000], dataType: .uint8) == [512, 512])
    #expect(ArrayMetadata.defaultChunkShape(shape: [20, 30], dataType: .float64) == [20, 30])
    let shard = ArrayMetadata.defaultShardShape(shape: [500, 2048, 2048], chunkShape: [64, 64, 64], dataType: .uint16)
    #expect(shard.reduce(2, *) <= 64 << 20 && shard.reduce(2, *) >= 16 << 20)
    #expect(zip(shard, [64, 64, 64]).allSatisfy { $0 % $1 == 0 })
    #expect(ArrayMetadata.defaultShardShape(shape: [100, 100], chunkShape: [64, 64], dataType: .uint8) == [128, 128])
  }

  @Test func innerChunkShapeMustDivideTheShard() {
    let meta = ArrayMetadata(shape: [10], dataType: .int8, chunkShape: [10], codecs: [Codecs.sharding(innerChunkShape: [3])])
    do {
      _ = try ZarrArray(store: MemoryStore(), path: "", metadata: meta)
      Issue.record("accepted")
    } catch {
      #expect(error.pointer == "/codecs/0/configuration/chunk_shape/0")
    }
  }
}

@Suite("Corrupt shards")
struct CorruptShardTests {
  func sharded(_ indexCodecs: [NamedConfiguration] = [Codecs.bytes(), Codecs.crc32c()]) throws -> (MemoryStore, ZarrArray, ShardingCodec) {
    let store = MemoryStore()
    let meta = ArrayMetadata(shape: [8, 8], dataType: .uint16, chunkShape: [8, 8],
      codecs: [Codecs.sharding(innerChunkShape: [4, 4], codecs: [Codecs.bytes()], indexCodecs: indexCodecs)])
    let a = try ZarrArray.create(in: store, path: "img", metadata: meta)
    try a.write((0..<64).map { UInt16($0 + 1) }, region: a.fullRegion)
    return (store, try ZarrArray.open(in: store, path: "img"), try #require(a.codecChain.arrayToBytes as? ShardingCodec))
  }

  func expectCorrupt(_ a: ZarrArray, _ what: String) {
    do {
      _ = try a.read()
      Issue.record("\(what): read succeeded")
    } catch let e as ZarrError {
      #expect(e.code == .corruptData, "\(what): \(e)")
      #expect(e.key == "img/c/0/0", "\(what): \(e)")
    } catch {
      Issue.record("\(what): untyped \(error)")
    }
  }

  /// Rewrites the index of the stored shard with `edit` (keeping a valid crc32c when `fixCRC`).
  func editIndex(_ store: MemoryStore, _ codec: ShardingCodec, fixCRC: Bool = true, _ edit: (inout [UInt64]) -> Void) throws {
    var shard = try store.get("img/c/0/0")!
    let n = codec.chunkCount * 2
    let start = shard.count - codec.indexSize
    var entries = (0..<n).map { i in shard.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: start + 8 * i, as: UInt64.self) } }
    edit(&entries)
    var bytes = entries.withUnsafeBytes { Array($0) }
    if fixCRC { bytes = try Crc32cCodec().encode(bytes) } else { bytes += Array(shard.suffix(4)) }
    shard.replaceSubrange(start..<shard.count, with: bytes)
    try store.set("img/c/0/0", shard)
  }

  @Test func indexChecksumWrong() throws {
    let (store, a, codec) = try sharded()
    try editIndex(store, codec, fixCRC: false) { $0[1] -= 1 }
    expectCorrupt(a, "checksum")
  }

  @Test func offsetPastTheEnd() throws {
    let (store, a, codec) = try sharded()
    try editIndex(store, codec) { $0[4] = 10_000 }
    expectCorrupt(a, "offset")
    let (store2, b, codec2) = try sharded([Codecs.bytes()])
    try editIndex(store2, codec2, fixCRC: false) { $0[5] = UInt64.max - 3 }
    _ = store2
    expectCorrupt(b, "length overflow")
  }

  @Test func overlappingRanges() throws {
    let (store, a, codec) = try sharded()
    try editIndex(store, codec) { $0[2] = $0[0] + 8 }
    expectCorrupt(a, "overlap")
  }

  @Test func truncatedObject() throws {
    let (store, a, _) = try sharded()
    try store.set("img/c/0/0", Array(try store.get("img/c/0/0")!.prefix(40)))
    expectCorrupt(a, "truncated")
    try store.set("img/c/0/0", [1, 2, 3])
    expectCorrupt(a, "tiny")
  }
}
