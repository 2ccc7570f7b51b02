import Foundation
import Testing
import TestSupport
@testable import ZarrIO

@Suite("Stores")
struct StoreTests {
  @Test(arguments: StoreKind.allCases)
  func getSetDeleteAndRanges(_ kind: StoreKind) throws {
    let s = try kind.make()
    #expect(try s.get("a/b") == nil)
    try s.set("a/b", Array(0..<100))
    #expect(try s.get("a/b") == Array(0..<100))
    #expect(try s.size(of: "a/b") == 100)
    #expect(try s.get("a/b", range: .range(offset: 10, length: 5)) == [10, 11, 12, 13, 14])
    #expect(try s.get("a/b", range: .suffix(length: 3)) == [97, 98, 99])
    #expect(try s.get("a/b", range: .from(offset: 98)) == [98, 99])
    #expect(try s.get("a/b", range: .range(offset: 0, length: 0)) == [])
    #expect(throws: ZarrError.self) { try s.get("a/b", range: .range(offset: 95, length: 10)) }
    #expect(throws: ZarrError.self) { try s.get("a/b", range: .suffix(length: 101)) }
    #expect(try s.get("missing", range: .suffix(length: 1)) == nil)
    try s.set("a/b", [1])
    #expect(try s.get("a/b") == [1])
    try s.delete("a/b")
    try s.delete("a/b")
    #expect(try s.get("a/b") == nil)
  }

  @Test(arguments: StoreKind.allCases)
  func createNeverReplacesAValueAndLeavesNothingBehind(_ kind: StoreKind) throws {
    let s = try kind.make()
    #expect(try s.create("a/marker", [1, 2]) == true)
    #expect(try s.create("a/marker", [3]) == false)
    #expect(try s.get("a/marker") == [1, 2])
    // Many at once: exactly one wins.
    let wins = ResultSlots<Bool>(count: 16)
    try Parallel.forEach(16, width: 16) { i in wins.set(i, try s.create("a/race", [UInt8(i)])) }
    #expect(wins.values.filter { $0 == true }.count == 1)
    // No temporary objects left beside them.
    #expect(try s.list(prefix: "") == ["a/marker", "a/race"])
    if let fs = s as? FilesystemStore {
      #expect(try FileManager.default.contentsOfDirectory(atPath: fs.root + "/a").sorted() == ["marker", "race"])
    }
  }

  @Test(arguments: StoreKind.allCases)
  func listing(_ kind: StoreKind) throws {
    let s = try kind.make()
    for k in ["zarr.json", "x/zarr.json", "x/c/0/0", "x/c/0/1", "y/.zgroup", "y/z/.zarray"] { try s.set(k, [0]) }
    #expect(try s.list(prefix: "") == ["x/c/0/0", "x/c/0/1", "x/zarr.json", "y/.zgroup", "y/z/.zarray", "zarr.json"])
    #expect(try s.list(prefix: "x") == ["x/c/0/0", "x/c/0/1", "x/zarr.json"])
    let d = try s.listDirectory("")
    #expect(d.keys == ["zarr.json"] && d.prefixes == ["x", "y"])
    #expect(try s.listDirectory("x").prefixes == ["c"])
    #expect(try s.listDirectory("nothing").keys.isEmpty)
    try s.deletePrefix("x")
    #expect(try s.list(prefix: "") == ["y/.zgroup", "y/z/.zarray", "zarr.json"])
  }

  @Test func largeValuesWrittenDirectlyReadBackExactly() throws {
    // Direct writes (O_DIRECT) for the aligned part, buffered for the tail; tmpfs refuses O_DIRECT.
    var roots = [FileManager.default.temporaryDirectory.appendingPathComponent("direct-\(UUID().uuidString)").path]
    if FileManager.default.fileExists(atPath: "/dev/shm") { roots.append("/dev/shm/direct-\(UUID().uuidString)") }
    for root in roots {
      defer { try? FileManager.default.removeItem(atPath: root) }
      let store = try FilesystemStore(root: root, create: true)
      for size in [DirectWrite.threshold - 1, DirectWrite.threshold, DirectWrite.threshold + 1, 5 * DirectWrite.bufferBytes / 4 + 123] {
        var state: UInt64 = UInt64(size)
        let value = (0..<size).map { _ in
          state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
          return UInt8(truncatingIfNeeded: state >> 33)
        }
        try store.set("v/\(size)", value)
        #expect(try store.get("v/\(size)") == value, "\(root) \(size)")
        // From an unaligned pointer into a larger buffer, through `set(_:bytes:)`.
        let padded = [UInt8](repeating: 7, count: 3) + value
        try padded.withUnsafeBytes { try store.set("w/\(size)", bytes: UnsafeRawBufferPointer(rebasing: $0[3...])) }
        #expect(try store.get("w/\(size)") == value, "\(root) \(size) unaligned")
        #expect(try store.create("v/\(size)", value) == false)
      }
      #expect(try store.list(prefix: "").count == 8, "no temporary file left")
    }
  }

  @Test func filesystemWritesAreAtomicAndKeysAreChecked() throws {
    let dir = try makeTemporaryDirectory("fs").path
    let s = try FilesystemStore(root: dir, create: true)
    try s.set("a/c/0", [UInt8](repeating: 1, count: 1 << 20))
    let names = try FileManager.default.contentsOfDirectory(atPath: dir + "/a/c")
    #expect(names == ["0"])  // no temporary file left behind
    #expect(throws: ZarrError.self) { try s.set("../escape", [1]) }
    #expect(throws: ZarrError.self) { try s.get("a/../../etc/passwd") }
    #expect(throws: ZarrError.self) { try s.set("/abs", [1]) }
    // A temporary file of an interrupted write is never listed as a key.
    _ = FileManager.default.createFile(atPath: dir + "/a/c/__tmp.1.123", contents: Data([1]))
    #expect(try s.list(prefix: "a") == ["a/c/0"])
  }
}

@Suite("Groups")
struct GroupTests {
  @Test func createsAncestorsAndListsChildren() throws {
    let store = MemoryStore()
    _ = try ZarrArray.create(in: store, path: "a/b/arr", metadata: ArrayMetadata(shape: [2], dataType: .int8, chunkShape: [2]))
    #expect(try store.exists("zarr.json") && store.exists("a/zarr.json") && store.exists("a/b/zarr.json"))
    let root = try ZarrGroup.open(in: store)
    #expect(try root.children().map(\.name) == ["a"])
    let b = try ZarrGroup.open(in: store, path: "a/b")
    #expect(try b.children().map { "\($0.name):\($0.kind)" } == ["arr:array"])
    _ = try b.createGroup("sub", attributes: ["k": "v"])
    #expect(try b.children().map(\.name) == ["arr", "sub"])
    guard case .group(let sub) = try b.node("sub") else {
      Issue.record("sub is not a group")
      return
    }
    #expect(sub.attributes["k"] == "v")
    let updated = try sub.setAttributes(["k": 2])
    #expect(try ZarrGroup.open(in: store, path: "a/b/sub").attributes == updated.attributes)
  }

  @Test func refusesToClobberOrNestInArrays() throws {
    let store = MemoryStore()
    let meta = ArrayMetadata(shape: [2], dataType: .int8, chunkShape: [2])
    _ = try ZarrArray.create(in: store, path: "x", metadata: meta)
    #expect(throws: ZarrError.self) { try ZarrArray.create(in: store, path: "x", metadata: meta) }
    #expect(throws: ZarrError.self) { try ZarrGroup.create(in: store, path: "x/inner") }
    #expect(throws: ZarrError.self) { try ZarrGroup.open(in: store, path: "x") }
    _ = try ZarrArray.create(in: store, path: "x", metadata: meta, overwrite: true)
  }

  @Test func v2Groups() throws {
    let store = MemoryStore()
    let g = try ZarrGroup.create(in: store, path: "root", attributes: ["multiscales": []], format: .v2)
    #expect(try store.exists("root/.zgroup") && store.exists("root/.zattrs"))
    let opened = try ZarrGroup.open(in: store, path: "root")
    #expect(opened.zarrFormat == .v2 && opened.attributes == g.attributes)
  }
}
