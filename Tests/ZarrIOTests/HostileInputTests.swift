import Foundation
import Testing
import TestSupport
@testable import ZarrIO

/// Files come from strangers: every number read from them is checked, large legal documents take
/// linear time, and nothing crashes, hangs or allocates what a header merely claims.
@Suite("Hostile input")
struct HostileInputTests {
  /// Runs `body` on a thread with a 512 KiB stack (the smallest a caller may give the parser).
  func onSmallStack<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T {
    let done = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var result: T? = nil
    let thread = Thread {
      result = body()
      done.signal()
    }
    thread.stackSize = 512 << 10
    thread.start()
    done.wait()
    return result!
  }

  func expectZarrError(
    _ code: ZarrError.Code, pointer: String? = nil, key: String? = nil, _ body: () throws -> Void,
    sourceLocation: SourceLocation = #_sourceLocation
  ) {
    do {
      try body()
      Issue.record("no error", sourceLocation: sourceLocation)
    } catch let e as ZarrError {
      #expect(e.code == code, "\(e)", sourceLocation: sourceLocation)
      if let pointer { #expect(e.pointer == pointer, "\(e)", sourceLocation: sourceLocation) }
      if let key { #expect(e.key == key, "\(e)", sourceLocation: sourceLocation) }
    } catch {
      Issue.record("untyped error \(error)", sourceLocation: sourceLocation)
    }
  }

  // MARK: JSON

  @Test(.timeLimit(.minutes(1))) func parsesAnObjectWith200000KeysInLinearTime() throws {
    let n = 200_000
    let text = "{" + (0..<n).map { "\"k\($0)\":\($0)" }.joined(separator: ",") + "}"
    let o = try #require(try JSONValue.parse(text).objectValue)
    #expect(o.count == n)
    #expect(o["k0"] == 0)
    #expect(o["k199999"] == 199_999)
    #expect(o.entries.last?.key == "k199999")
  }

  @Test(.timeLimit(.minutes(1))) func buildsAnObjectWith200000KeysInLinearTime() throws {
    var o = JSONObject()
    for i in 0..<200_000 { o["k\(i)"] = .int(Int64(i)) }
    for i in stride(from: 0, to: 200_000, by: 2) { o["k\(i)"] = .int(-1) }  // updates keep positions
    #expect(o.count == 200_000)
    #expect(o.entries[2].key == "k2")
    #expect(o["k2"] == -1)
    #expect(o["k3"] == 3)
    // Removal keeps order and lookups right.
    o["k1"] = nil
    #expect(o.count == 199_999)
    #expect(o.entries[1].key == "k2")
    #expect(o["k2"] == -1)
    #expect(o["k199999"] == 199_999)
    o["k1"] = "again"
    #expect(o.entries.last?.key == "k1")
    // Equality looks keys up too.
    var shuffled = JSONObject(o.entries.reversed().map { ($0.key, $0.value) })
    #expect(shuffled == o)
    shuffled["k5"] = 0
    #expect(shuffled != o)
  }

  @Test func repeatedLiteralKeysKeepFirstPositionLastValue() {
    let o = JSONObject([("a", 1), ("b", 2), ("a", 3)])
    #expect(o.keys == ["a", "b"])
    #expect(o["a"] == 3)
  }

  @Test func nestingUpToTheLimitParsesOnASmallStack() throws {
    let depth = ReadLimits.maxJSONDepth
    let ok = onSmallStack { () -> Bool in
      let arrays = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
      let objects = String(repeating: "{\"a\":", count: depth - 1) + "{}" + String(repeating: "}", count: depth - 1)
      guard let a = try? JSONValue.parse(arrays), let o = try? JSONValue.parse(objects) else { return false }
      // Serializing, comparing and hashing recurse: they must fit too.
      return a.serialized() != "" && o.serialized(pretty: false) != "" && a == a && o == o && a.hashValue != o.hashValue
    }
    #expect(ok)
  }

  @Test func nestingBeyondTheLimitIsRefusedWithTheOffset() {
    let message = onSmallStack { () -> String in
      do throws(ZarrError) {
        _ = try JSONValue.parse(String(repeating: "[", count: 1_000_000))
        return "parsed"
      } catch {
        return "\(error.code) \(error.message)"
      }
    }
    #expect(message == "invalidJSON invalid JSON at byte 128: arrays and objects nested deeper than 128 levels")
    #expect(ReadLimits.maxJSONDepth == 128)
  }

  @Test func documentsOverTheSizeLimitAreRefused() {
    expectZarrError(.invalidJSON) { _ = try JSONValue.parse(Array("[1, 2, 3]".utf8), maxBytes: 8) }
    #expect((try? JSONValue.parse(Array("[1, 2, 3]".utf8), maxBytes: 9)) == [1, 2, 3])
  }

  // MARK: Array metadata

  func v3(shape: String, chunks: String, dataType: String = "uint8", codecs: String = #"[{"name": "bytes"}]"#) -> JSONValue {
    try! JSONValue.parse("""
      {"zarr_format": 3, "node_type": "array", "shape": \(shape), "data_type": "\(dataType)",
       "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": \(chunks)}},
       "chunk_key_encoding": {"name": "default"}, "fill_value": 0, "codecs": \(codecs)}
      """)
  }

  @Test func shapesNearTwoToThe63AreRefusedWhenTheArrayOverflows() throws {
    let m = Int.max
    expectZarrError(.invalidMetadata, pointer: "/shape") { _ = try ArrayMetadata(v3: v3(shape: "[\(m), \(m)]", chunks: "[1, 1]")) }
    expectZarrError(.invalidMetadata, pointer: "/shape") { _ = try ArrayMetadata(v3: v3(shape: "[\(m)]", chunks: "[1]", dataType: "uint16")) }
    // One dimension of 2^63-1 single bytes is legal; its grid does not overflow.
    let a = try ArrayMetadata(v3: v3(shape: "[\(m)]", chunks: "[2]"))
    #expect(a.gridShape == [m / 2 + 1])
    #expect(ArrayMetadata(shape: [m], dataType: .uint8, chunkShape: [m]).gridShape == [1])
  }

  @Test func numbersBeyondInt64AreRefusedWithTheirPointer() {
    expectZarrError(.invalidMetadata, pointer: "/shape/0") { _ = try ArrayMetadata(v3: v3(shape: "[18446744073709551615]", chunks: "[1]")) }
    expectZarrError(.invalidMetadata, pointer: "/shape/1") { _ = try ArrayMetadata(v3: v3(shape: "[1, -5]", chunks: "[1, 1]")) }
  }

  @Test func hugeChunksAreRefused() {
    // 2^40 bytes: below the old 1 TiB guard, above the 4 GiB limit.
    expectZarrError(.invalidMetadata, pointer: "/chunk_grid/configuration/chunk_shape") {
      _ = try ArrayMetadata(v3: v3(shape: "[1048576, 1048576]", chunks: "[1048576, 1048576]"))
    }
    // A product that overflows.
    expectZarrError(.invalidMetadata, pointer: "/chunk_grid/configuration/chunk_shape") {
      _ = try ArrayMetadata(v3: v3(shape: "[1, 1]", chunks: "[4294967296, 4294967296]"))
    }
  }

  @Test func rankIsLimited() throws {
    let ones = "[" + Array(repeating: "1", count: 33).joined(separator: ", ") + "]"
    expectZarrError(.invalidMetadata, pointer: "/shape") { _ = try ArrayMetadata(v3: v3(shape: ones, chunks: ones)) }
    let ok = "[" + Array(repeating: "1", count: 32).joined(separator: ", ") + "]"
    #expect(try ArrayMetadata(v3: v3(shape: ok, chunks: ok)).shape.count == 32)
  }

  @Test func tooManyInnerChunksPerShardAreRefused() {
    let sharding = #"[{"name": "sharding_indexed", "configuration": {"chunk_shape": [1, 1], "codecs": [{"name": "bytes"}], "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}]}}]"#
    let store = MemoryStore()
    expectZarrError(.invalidMetadata, pointer: "/codecs/0/configuration/chunk_shape", key: "a/zarr.json") {
      let meta = try ArrayMetadata(v3: v3(shape: "[65536, 65536]", chunks: "[65536, 65536]", codecs: sharding))
      _ = try ZarrArray(store: store, path: "a", metadata: meta)
    }
  }

  @Test func innerChunkShapeIgnoresNonPositiveEntries() throws {
    var meta = ArrayMetadata(shape: [8, 8], dataType: .uint8, chunkShape: [4, 4])
    meta.codecs = [NamedConfiguration(name: "sharding_indexed", configuration: ["chunk_shape": [0, 2]])]
    #expect(meta.innerChunkShape == [4, 4])
  }

  @Test func badTransposeOrdersAreRefused() {
    let store = MemoryStore()
    for order in ["[0, 0]", "[0, 2]", "[1]", "[-1, 0]", #""X""#] {
      let codecs = #"[{"name": "transpose", "configuration": {"order": \#(order)}}, {"name": "bytes"}]"#
      expectZarrError(.invalidMetadata, pointer: "/codecs/0/configuration/order") {
        _ = try ZarrArray(store: store, path: "", metadata: try ArrayMetadata(v3: v3(shape: "[4, 4]", chunks: "[2, 2]", codecs: codecs)))
      }
    }
  }

  @Test func v2ArraysWithBogusNumbersAreRefused() {
    func zarray(_ fields: String) throws -> ArrayMetadata {
      try ArrayMetadata(v2: try JSONValue.parse(#"{"zarr_format": 2, "compressor": null, "fill_value": 0, "order": "C", "filters": null, "# + fields + "}"))
    }
    expectZarrError(.invalidMetadata, pointer: "/chunks/0") { _ = try zarray(#""shape": [10], "chunks": [0], "dtype": "<u2""#) }
    expectZarrError(.invalidMetadata, pointer: "/chunks") { _ = try zarray(#""shape": [10, 10], "chunks": [5], "dtype": "<u2""#) }
    expectZarrError(.invalidMetadata, pointer: "/chunks/0") { _ = try zarray(#""shape": [10], "chunks": [-3], "dtype": "<u2""#) }
    expectZarrError(.invalidMetadata, pointer: "/shape") {
      _ = try zarray(#""shape": [9223372036854775807, 9223372036854775807], "chunks": [1, 1], "dtype": "|u1""#)
    }
    expectZarrError(.invalidMetadata, pointer: "/chunks") {
      _ = try zarray(#""shape": [10], "chunks": [4611686018427387904], "dtype": "<u8""#)
    }
    // |V with a byte count whose bit count overflows, or absurdly large elements.
    expectZarrError(.unsupported, pointer: "/dtype") { _ = try zarray(#""shape": [10], "chunks": [5], "dtype": "|V1152921504606846976""#) }
    expectZarrError(.unsupported, pointer: "/dtype") { _ = try zarray(#""shape": [10], "chunks": [5], "dtype": "|V100000000000""#) }
    expectZarrError(.invalidMetadata, pointer: "/shape") {
      _ = try zarray(#""shape": ["# + Array(repeating: "1", count: 40).joined(separator: ",") + #"], "chunks": [1], "dtype": "|u1""#)
    }
    #expect(DataType(name: "r9223372036854775800") == nil)
  }

  // MARK: Decoding

  /// A sharded array of 8×8 uint16 in shards of 4×4 with inner chunks of 2×2 (four shards).
  func shardedArray(_ store: any Store, compressor: Compressor = .zstd(level: 1)) throws -> ZarrArray {
    let meta = ArrayMetadata.sharded(shape: [8, 8], dataType: .uint16, shardShape: [4, 4], innerChunkShape: [2, 2], compressor: compressor)
    return try ZarrArray.create(in: store, path: "img", metadata: meta)
  }
  let values = (0..<64).map { UInt16($0 * 3 + 1) }

  /// A shard index (without checksum codecs) of 4 inner chunks, with entry 0 replaced.
  func plainIndexArray(_ store: MemoryStore, entry0: (UInt64, UInt64)) throws -> ZarrArray {
    let meta = ArrayMetadata(shape: [4, 4], dataType: .uint8, chunkShape: [4, 4],
      codecs: [Codecs.sharding(innerChunkShape: [2, 2], codecs: [Codecs.bytes()], indexCodecs: [Codecs.bytes()])])
    let a = try ZarrArray.create(in: store, path: "img", metadata: meta)
    try a.write((0..<16).map { UInt8($0 + 1) }, region: a.fullRegion)
    var shard = try #require(try store.get("img/c/0/0"))
    let indexStart = shard.count - 64
    for (k, v) in [entry0.0, entry0.1].enumerated() {
      for b in 0..<8 { shard[indexStart + 8 * k + b] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(b))) }
    }
    try store.set("img/c/0/0", shard)
    return try ZarrArray.open(in: store, path: "img")
  }

  @Test func shardIndexEntriesOutsideTheShardAreCorruptData() throws {
    for entry in [(UInt64(1000), UInt64(4)), (UInt64(Int64.max), UInt64(Int64.max)), (UInt64.max - 1, 2), (0, UInt64.max), (UInt64.max, 4)] {
      let store = MemoryStore()
      let a = try plainIndexArray(store, entry0: entry)
      expectZarrError(.corruptData, key: "img/c/0/0") { _ = try a.read() }
      expectZarrError(.corruptData) { _ = try a.codecChain.decode(try store.get("img/c/0/0")!) }
    }
  }

  @Test func truncatedAndZeroedShardsAreCorruptData() throws {
    let store = MemoryStore()
    let a = try shardedArray(store)
    try a.write(values, region: a.fullRegion)
    let shard = try #require(try store.get("img/c/1/0"))
    try store.set("img/c/1/0", Array(shard.dropLast(7)))
    expectZarrError(.corruptData, key: "img/c/1/0") { _ = try ZarrArray.open(in: store, path: "img").read() }
    try store.set("img/c/1/0", Array(shard.dropLast(20)) + [UInt8](repeating: 0, count: 20))
    expectZarrError(.corruptData, key: "img/c/1/0") { _ = try ZarrArray.open(in: store, path: "img").read() }
    try store.set("img/c/1/0", [1, 2, 3])
    expectZarrError(.corruptData, key: "img/c/1/0") { _ = try ZarrArray.open(in: store, path: "img").read() }
  }

  /// A zstd frame that claims `claimed` bytes of content but holds 4.
  func lyingZstdFrame(claimed: UInt64) -> [UInt8] {
    var f: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD, 0xE0]  // magic; single segment, 8-byte content size
    for b in 0..<8 { f.append(UInt8(truncatingIfNeeded: claimed >> (8 * UInt64(b)))) }
    f += [0x21, 0x00, 0x00, 1, 2, 3, 4]  // last raw block of 4 bytes
    return f
  }

  @Test func aLyingZstdContentSizeIsNotAllocated() {
    let frame = lyingZstdFrame(claimed: 1 << 39)
    expectZarrError(.corruptData) { _ = try ZstdCodec(level: 1).decode(frame, expectedSize: nil) }
    expectZarrError(.corruptData) { _ = try ZstdCodec(level: 1).decode(frame, expectedSize: 8) }
    expectZarrError(.corruptData) { _ = try ZstdCodec(level: 1).decode(lyingZstdFrame(claimed: 8), expectedSize: nil) }
  }

  /// A zstd frame without content size of `blocks` RLE blocks of 128 KiB zeros.
  func zstdBomb(blocks: Int) -> [UInt8] {
    var f: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD, 0x00, 0x38]  // magic; no content size; 128 KiB window
    for i in 0..<blocks {
      let header = (128 << 10) << 3 | 1 << 1 | (i == blocks - 1 ? 1 : 0)
      f += [UInt8(header & 0xFF), UInt8(header >> 8 & 0xFF), UInt8(header >> 16 & 0xFF), 0]
    }
    return f
  }

  @Test func decompressionBombsStopAtTheLimit() throws {
    let bomb = zstdBomb(blocks: 64)  // 8 MiB from 262 bytes
    #expect(try ZstdCodec(level: 1).decode(bomb, expectedSize: nil, limit: 8 << 20).count == 8 << 20)
    expectZarrError(.corruptData) { _ = try ZstdCodec(level: 1).decode(bomb, expectedSize: nil, limit: 1 << 20) }
    expectZarrError(.corruptData) { _ = try ZstdCodec(level: 1).decode(bomb, expectedSize: 1 << 20) }
    let gz = try GzipCodec(level: 9).encode([UInt8](repeating: 0, count: 8 << 20))
    #expect(try Deflate.decompress(gz, windowBits: 15 + 32, expectedSize: nil, limit: 8 << 20, codec: "gzip").count == 8 << 20)
    expectZarrError(.corruptData) { _ = try Deflate.decompress(gz, windowBits: 15 + 32, expectedSize: nil, limit: 1 << 20, codec: "gzip") }
    expectZarrError(.corruptData) { _ = try GzipCodec(level: 9).decode(gz, expectedSize: 1 << 20) }
    // Exactly the expected size decodes.
    #expect(try GzipCodec(level: 9).decode(gz, expectedSize: 8 << 20).count == 8 << 20)
  }

  @Test func truncatedCompressedChunksAreCorruptData() throws {
    let data = (0..<4096).map { UInt8(truncatingIfNeeded: $0 * 7) }
    let z = try ZstdCodec(level: 3).encode(data)
    let g = try GzipCodec(level: 5).encode(data)
    for n in [1, 5, z.count / 2] {
      expectZarrError(.corruptData) { _ = try ZstdCodec(level: 3).decode(Array(z.dropLast(n)), expectedSize: nil) }
      expectZarrError(.corruptData) { _ = try ZstdCodec(level: 3).decode(Array(z.dropLast(n)), expectedSize: 4096) }
    }
    for n in [1, 9, g.count / 2] {
      expectZarrError(.corruptData) { _ = try GzipCodec(level: 5).decode(Array(g.dropLast(n)), expectedSize: nil) }
      expectZarrError(.corruptData) { _ = try GzipCodec(level: 5).decode(Array(g.dropLast(n)), expectedSize: 4096) }
    }
  }

  @Test func regionReadsCheckTheirSizeBeforeAllocating() throws {
    let store = MemoryStore()
    let a = try ZarrArray.create(in: store, path: "", metadata: ArrayMetadata(shape: [Int.max / 2], dataType: .uint16, chunkShape: [1024]))
    expectZarrError(.invalidArgument) { _ = try a.read() }
  }

  // MARK: Resume integrity

  /// Writes `values` with `skipStoredChunks` through a counting store; returns the keys written.
  func resumeWrite(_ base: MemoryStore) throws -> [String] {
    let store = FaultyStore(base)
    var a = try ZarrArray.open(in: store, path: "img")
    a.skipStoredChunks = true
    try a.write(values, region: a.fullRegion)
    return store.writtenKeys.sorted()
  }

  @Test(arguments: [Compressor.zstd(level: 1), .none])
  func resumedWritesRewriteTornShardsOnly(compressor: Compressor) throws {
    let reference = MemoryStore()
    let r = try shardedArray(reference, compressor: compressor)
    try r.write(values, region: r.fullRegion)
    let expected = reference.snapshot

    // Intact shards are not rewritten.
    let intact = MemoryStore()
    for (k, v) in expected { try intact.set(k, v) }
    #expect(try resumeWrite(intact) == [])

    // A truncated shard, a shard with a zeroed tail and a missing shard are rewritten.
    let torn = MemoryStore()
    for (k, v) in expected { try torn.set(k, v) }
    let s10 = expected["img/c/1/0"]!, s01 = expected["img/c/0/1"]!
    try torn.set("img/c/1/0", Array(s10.prefix(s10.count / 2)))
    try torn.set("img/c/0/1", Array(s01.dropLast(10)) + [UInt8](repeating: 0, count: 10))
    try torn.delete("img/c/1/1")
    #expect(try resumeWrite(torn) == ["img/c/0/1", "img/c/1/0", "img/c/1/1"])
    #expect(torn.snapshot == expected)
  }

  @Test func resumedWritesDetectAZeroedIndexWithoutChecksum() throws {
    let meta = ArrayMetadata(shape: [8, 8], dataType: .uint16, chunkShape: [4, 4],
      codecs: [Codecs.sharding(innerChunkShape: [2, 2], codecs: [Codecs.bytes()], indexCodecs: [Codecs.bytes()])])
    let reference = MemoryStore()
    let r = try ZarrArray.create(in: reference, path: "img", metadata: meta)
    try r.write(values, region: r.fullRegion)
    let expected = reference.snapshot
    let torn = MemoryStore()
    for (k, v) in expected { try torn.set(k, v) }
    let s = expected["img/c/0/0"]!
    try torn.set("img/c/0/0", Array(s.dropLast(64)) + [UInt8](repeating: 0, count: 64))
    #expect(try resumeWrite(torn) == ["img/c/0/0"])
    #expect(torn.snapshot == expected)
  }

  @Test func resumedWritesRewriteCorruptUnshardedChunks() throws {
    let meta = ArrayMetadata(shape: [8, 8], dataType: .uint16, chunkShape: [4, 4])
    let reference = MemoryStore()
    let r = try ZarrArray.create(in: reference, path: "img", metadata: meta)
    try r.write(values, region: r.fullRegion)
    let expected = reference.snapshot
    let torn = MemoryStore()
    for (k, v) in expected { try torn.set(k, v) }
    try torn.set("img/c/1/1", Array(expected["img/c/1/1"]!.dropLast(3)))
    #expect(try resumeWrite(torn) == ["img/c/1/1"])
    #expect(torn.snapshot == expected)
  }

  // MARK: Store failures

  @Test func aWriteThatFailsPartWayThrowsAndLeavesNoMetadata() throws {
    // The pattern that never shows an incomplete array: chunks first, metadata last.
    for n in 1...4 {
      let base = MemoryStore()
      let store = FaultyStore(base, failingWrite: n)
      var a = try ZarrArray(store: store, path: "img", metadata: .sharded(shape: [8, 8], dataType: .uint16, shardShape: [4, 4], innerChunkShape: [2, 2]))
      a.concurrency = 1
      expectZarrError(.storeFailure) {
        try a.write(values, region: a.fullRegion)
        try a.writeMetadata()
      }
      #expect(try base.get("img/zarr.json") == nil, "failing write \(n)")
      #expect(store.failures == 1)
    }
    // Random failures with a fixed seed repeat exactly.
    func run() -> (Int, Int) {
      let store = FaultyStore(MemoryStore(), seed: 7, writeFailureRate: 0.3)
      var a = try! ZarrArray(store: store, path: "img", metadata: ArrayMetadata(shape: [8, 8], dataType: .uint16, chunkShape: [2, 2]))
      a.concurrency = 1
      _ = try? a.write(values, region: a.fullRegion)
      return (store.writes, store.failures)
    }
    #expect(run() == run())
    #expect(run().1 == 1)
  }

  @Test func readFailuresNameTheKey() throws {
    let base = MemoryStore()
    let a = try shardedArray(base)
    try a.write(values, region: a.fullRegion)
    let store = FaultyStore(base, failingRead: 2, persistent: true)
    let b = try ZarrArray.open(in: store, path: "img")  // read 1: zarr.json
    expectZarrError(.storeFailure) { _ = try b.read() }
    #expect(store.failures >= 1)
  }
}
