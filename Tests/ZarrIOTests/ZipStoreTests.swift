import Foundation
import TestSupport
import Testing

@testable import ZarrIO

/// ZIP archives as stores: hostile and malformed archives are refused with a `ZarrError` naming
/// the archive (and the entry), never a crash; well-formed ones (ours, Python `zipfile`'s, with a
/// stub, ZIP64, directories, duplicates) read value for value.
@Suite("ZIP archives (ZipStore, ZipWriter)")
struct ZipStoreTests {
  // MARK: Fixtures

  static let chunk = (0..<100).map { UInt8($0) }

  /// Three stored entries: `zarr.json`, `a/b` (100 bytes), `a/c` ("hello").
  static func base(zip64: Bool = false) -> ZipBuilder {
    var zip = ZipBuilder()
    zip.add("zarr.json", #"{"zarr_format":3,"node_type":"group"}"#)
    zip.add("a/b", chunk)
    zip.add("a/c", "hello")
    zip.zip64End = zip64
    return zip
  }

  /// Raw DEFLATE of `bytes` (what a deflated entry stores).
  static func deflate(_ bytes: [UInt8]) throws -> [UInt8] {
    try Deflate.compress(bytes, level: 6, windowBits: -15, codec: "test")
  }

  /// Writes `bytes` as `<temp>/<name>` and returns its location (the directory is removed by `cleanup`).
  static func file(_ bytes: [UInt8], name: String = "bad.ozx") throws -> (StoreLocation, URL) {
    let dir = try makeTemporaryDirectory("zip")
    let url = dir.appendingPathComponent(name)
    try Data(bytes).write(to: url)
    return (try StoreLocation(url.path), dir)
  }

  // MARK: Hostile archives

  /// A damaged archive: how it is made, and the error opening it (or, with `read`, reading that key) gives.
  struct Hostile: Sendable, CustomTestStringConvertible {
    var name: String
    var make: @Sendable () throws -> [UInt8]
    var code: ZarrError.Code = .corruptData
    /// What the message says after `'<archive>' ` (or `'<archive>': ` for entry errors).
    var says: String
    /// The key the error names, if any.
    var key: String? = nil
    /// The key whose reading fails (opening succeeds), if any.
    var read: String? = nil
    var testDescription: String { name }
  }

  static let hostile: [Hostile] = {
    var cases: [Hostile] = []
    func add(_ name: String, code: ZarrError.Code = .corruptData, says: String, key: String? = nil, read: String? = nil,
             _ make: @escaping @Sendable () throws -> [UInt8]) {
      cases.append(Hostile(name: name, make: make, code: code, says: says, key: key, read: read))
    }
    add("empty file", says: "is not a zip archive (0 bytes, too short for its end record)") { [] }
    add("not a zip file", says: "is not a zip archive, or is truncated (no end of central directory record in its last 3000 bytes)") {
      Array(String(repeating: "not a zip ", count: 300).utf8)
    }
    add("truncated tail (no end record)", says: "is not a zip archive, or is truncated (no end of central directory record in its last 412 bytes)") {
      let a = base().build()
      return Array(a.bytes.dropLast(10))
    }
    add("end record whose comment length runs past the end", says: "is not a zip archive, or is truncated") {
      var a = base().build()
      a.put16(a.end + 20, 5)
      return a.bytes
    }
    add("central directory offset past the end", says: "has a central directory (153 bytes at offset 1247) that lies past the end of the archive") {
      var a = base().build()
      a.put32(a.end + 16, UInt32(a.centralDirectory + 1000))
      return a.bytes
    }
    add("central directory size past the end", says: "has a central directory (100000 bytes at offset 247) that lies past the end of the archive") {
      var a = base().build()
      a.put32(a.end + 12, 100_000)
      return a.bytes
    }
    add("absurd entry count", says: "claims 1000 entries in a central directory of only 153 bytes") {
      var a = base().build()
      a.put16(a.end + 8, 1000)
      a.put16(a.end + 10, 1000)
      return a.bytes
    }
    add("fewer entries than records", says: "has 49 bytes in its central directory after its 2 records") {
      var a = base().build()
      a.put16(a.end + 8, 2)
      a.put16(a.end + 10, 2)
      return a.bytes
    }
    add("damaged central record", says: "has a damaged central directory (record 2 of 3 at offset 302)") {
      var a = base().build()
      a.put32(a.central[1], 0x1234_5678)
      return a.bytes
    }
    add("ZIP64 and 32-bit entry counts disagree", says: "has end records that disagree on the number of entries (3 and 2)") {
      var a = base(zip64: true).build()
      a.put64(a.end64! + 24, 2)
      a.put64(a.end64! + 32, 2)
      return a.bytes
    }
    add("ZIP64 and 32-bit central directory offsets disagree", says: "has end records that disagree on the central directory offset (247 and 248)") {
      var a = base(zip64: true).build()
      a.put64(a.end64! + 48, 248)
      return a.bytes
    }
    add("ZIP64 counts on disk and in total disagree", says: "has a ZIP64 end record with impossible values (3 entries, central directory of 153 bytes at 247)") {
      var a = base(zip64: true).build()
      a.put64(a.end64! + 24, 4)
      return a.bytes
    }
    add("ZIP64 end record with impossible values", says: "has a ZIP64 end record with impossible values (1099511627776 entries, central directory of 153 bytes at 247)") {
      var a = base(zip64: true).build()
      a.put64(a.end64! + 32, 1 << 40)
      return a.bytes
    }
    add("ZIP64 locator pointing past the end", says: "has a ZIP64 locator pointing past its end records (offset 1000000)") {
      var a = base(zip64: true).build()
      a.put64(a.locator! + 8, 1_000_000)
      return a.bytes
    }
    add("ZIP64 locator pointing at no ZIP64 end record, and none before it", says: "has no ZIP64 end record where its locator points (offset 0)") {
      var a = base(zip64: true).build()
      a.put64(a.locator! + 8, 0)
      a.put32(a.end64!, 0x0606_4b51)
      return a.bytes
    }
    add("ZIP64 end record where the locator points, damaged", says: "has no ZIP64 end record where its locator points (offset 400)") {
      var a = base(zip64: true).build()
      a.put32(a.end64!, 0)
      return a.bytes
    }
    add("ZIP64 locator in a file too short for a ZIP64 end record", says: "has a ZIP64 locator pointing past its end records (offset 0)") {
      // A locator and an end record, nothing else (42 bytes).
      var a = ZipBuilder().build()
      a.bytes = [0x50, 0x4b, 0x06, 0x07, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 8) + [1, 0, 0, 0] + a.bytes
      return a.bytes
    }
    add("ZIP64 sentinels without a ZIP64 end record", says: "needs a ZIP64 end record (its end record holds ZIP64 sentinels) but has none") {
      var a = base().build()
      a.put32(a.end + 16, 0xFFFF_FFFF)
      return a.bytes
    }
    add("ZIP64 entry-count sentinel without a ZIP64 end record", says: "needs a ZIP64 end record (its end record holds ZIP64 sentinels) but has none") {
      var a = base().build()
      a.put16(a.end + 8, 0xFFFF)
      a.put16(a.end + 10, 0xFFFF)
      return a.bytes
    }
    add("multi-part: end record on disk 1", says: "is a multi-part (split) archive, which cannot be read as one file (disk 1 of the central directory 0)") {
      var a = base().build()
      a.put16(a.end + 4, 1)
      return a.bytes
    }
    add("multi-part: central directory on disk 2", says: "is a multi-part (split) archive, which cannot be read as one file (disk 0 of the central directory 2)") {
      var a = base().build()
      a.put16(a.end + 6, 2)
      return a.bytes
    }
    add("multi-part: entries on this disk differ from the total", says: "is a multi-part (split) archive, which cannot be read as one file (disk 0 of the central directory 0)") {
      var a = base().build()
      a.put16(a.end + 8, 2)
      return a.bytes
    }
    add("multi-part: ZIP64 locator counting 2 disks", says: "is a multi-part (split) archive (2 disks)") {
      var a = base(zip64: true).build()
      a.put32(a.locator! + 16, 2)
      return a.bytes
    }
    add("multi-part: ZIP64 end record on disk 1", says: "is a multi-part (split) archive (ZIP64 disk numbers)") {
      var a = base(zip64: true).build()
      a.put32(a.end64! + 16, 1)
      return a.bytes
    }
    add("multi-part: an entry on disk 1", says: "lies on another disk of a multi-part archive", key: "a/b") {
      var a = base().build()
      a.put16(a.central[1] + 34, 1)
      return a.bytes
    }
    for name in ["../x", "/abs/x", "a/../../b", "C:/x", "a\\b", "..\\x", "a//b", "./x", "a/./b", "x/../"] {
      add("entry name \(name)", says: "has an entry named '\(name)', which would lie outside the archive's root (absolute, '..', or not a plain relative path)", key: name) {
        var zip = ZipBuilder()
        zip.add("zarr.json", "{}")
        zip.add(name, "evil")
        return zip.build().bytes
      }
    }
    add("entry name that is not UTF-8", says: "has an entry name that is not UTF-8 (record 2)") {
      var a = base().build()
      a.bytes[a.central[1] + 46] = 0xFF
      return a.bytes
    }
    add("two central records for one local header (overlap bomb)", says: "has overlapping entries: ", key: nil) {
      var zip = base()
      zip.entries[2].local = false
      var a = zip.build()
      a.put32(a.central[2] + 42, UInt32(a.local[1]))
      return a.bytes
    }
    add("an entry whose bytes run into the next local header", says: "has overlapping entries: 'a/b' runs into 'a/c'", key: "a/b") {
      var a = base().build()
      a.put32(a.central[1] + 20, 110)
      a.put32(a.central[1] + 24, 110)
      return a.bytes
    }
    add("an entry whose bytes run into the central directory", says: "has an entry (300 bytes at offset 209) that lies past the entries' end", key: "a/c") {
      var a = base().build()
      a.put32(a.central[2] + 20, 300)
      a.put32(a.central[2] + 24, 300)
      return a.bytes
    }
    add("a stored entry whose sizes differ", says: "has a stored entry whose sizes differ (100 and 50)", key: "a/b") {
      var a = base().build()
      a.put32(a.central[1] + 24, 50)
      return a.bytes
    }
    add("ZIP64 sentinel in a central record without a ZIP64 extra field", says: "has ZIP64 sentinels but no ZIP64 extra field holding the values", key: "a/c") {
      var a = base().build()
      a.put32(a.central[2] + 42, 0xFFFF_FFFF)
      return a.bytes
    }
    add("ZIP64 extra field with an offset past the end", says: "has a ZIP64 offset of 4294967296, past the end of the 470-byte archive", key: "a/b") {
      var zip = base()
      zip.entries[1].zip64 = true
      var a = zip.build()
      let extra = a.central[1] + 46 + 3
      a.put64(extra + 4 + 16, 1 << 32)
      return a.bytes
    }
    add("extra field running past its record", says: "has an extra field running past its record", key: "a/b") {
      var zip = base()
      zip.entries[1].zip64 = true
      var a = zip.build()
      a.put16(a.central[1] + 46 + 3 + 2, 40)
      return a.bytes
    }
    // Damage found when an entry is read.
    add("a bad CRC-32", says: "the entry fails its CRC-32 check (damaged archive)", key: "a/b", read: "a/b") {
      var a = base().build()
      a.bytes[a.local[1] + 30 + 3 + 50] ^= 0xFF
      return a.bytes
    }
    add("a local header naming another entry", says: "the local header of the entry disagrees with the central directory (damaged archive)", key: "a/b", read: "a/b") {
      var a = base().build()
      a.bytes[a.local[1] + 30 + 2] = UInt8(ascii: "x")
      return a.bytes
    }
    add("a local header without its signature", says: "the local header of the entry disagrees with the central directory (damaged archive)", key: "a/c", read: "a/c") {
      var a = base().build()
      a.put32(a.local[2], 0)
      return a.bytes
    }
    add("a local extra field pushing the bytes into the next entry", says: "the entry's bytes run into the next entry (overlapping or damaged archive)", key: "a/b", read: "a/b") {
      var a = base().build()
      a.put16(a.local[1] + 28, 20)
      return a.bytes
    }
    add("an encrypted entry", code: .unsupported, says: "the entry is encrypted", key: "a/c", read: "a/c") {
      var zip = base()
      zip.entries[2].flags |= 1
      return zip.build().bytes
    }
    add("strong encryption flag", code: .unsupported, says: "the entry is encrypted", key: "a/c", read: "a/c") {
      var zip = base()
      zip.entries[2].flags |= 0x40
      return zip.build().bytes
    }
    add("an unknown compression method", code: .unsupported, says: "the entry uses compression method 12 (only stored and deflated are read)", key: "a/c", read: "a/c") {
      var zip = base()
      zip.entries[2].method = 12
      return zip.build().bytes
    }
    add("a deflated entry declaring more than maxChunkBytes (zip bomb)",
        says: "the entry inflates to 5368709120 bytes, more than the limit of \(ReadLimits.current.maxChunkBytes) (a zip bomb?)",
        key: "bomb", read: "bomb") {
      var zip = base()
      var bomb = ZipBuilder.Entry("bomb", try deflate([UInt8](repeating: 0, count: 100_000)), method: 8, crc: 0, size: 5 << 30)
      bomb.zip64 = true
      zip.entries.append(bomb)
      return zip.build().bytes
    }
    add("a deflated entry inflating to more than it declares", says: "the entry does not inflate to its declared 10 bytes", key: "more", read: "more") {
      var zip = base()
      let plain = [UInt8](repeating: 7, count: 100_000)
      zip.entries.append(ZipBuilder.Entry("more", try deflate(plain), method: 8, crc: ZipBuilder.crc32(plain), size: 10))
      return zip.build().bytes
    }
    add("a deflated entry inflating to less than it declares", says: "the entry does not inflate to its declared 5000 bytes", key: "less", read: "less") {
      var zip = base()
      let plain = [UInt8](repeating: 7, count: 1000)
      zip.entries.append(ZipBuilder.Entry("less", try deflate(plain), method: 8, crc: ZipBuilder.crc32(plain), size: 5000))
      return zip.build().bytes
    }
    add("a deflated entry that is not DEFLATE data", says: "the entry does not inflate to its declared 1000 bytes", key: "junk", read: "junk") {
      var zip = base()
      zip.entries.append(ZipBuilder.Entry("junk", [UInt8](repeating: 0xFF, count: 64), method: 8, crc: 0, size: 1000))
      return zip.build().bytes
    }
    return cases
  }()

  @Test("a hostile archive gives a ZarrError naming it, never a crash", arguments: hostile)
  func hostileArchive(_ c: Hostile) throws {
    let (location, dir) = try Self.file(try c.make())
    defer { try? FileManager.default.removeItem(at: dir) }
    let archive = location.description
    do {
      let store = try ZipStore.open(location)
      guard let key = c.read else {
        Issue.record("\(c.name): opened without an error")
        return
      }
      _ = try store.get(key)
      Issue.record("\(c.name): read '\(key)' without an error")
    } catch let e as ZarrError {
      #expect(e.code == c.code, "\(c.name): \(e)")
      let prefix = c.read == nil ? "'\(archive)' " : "'\(archive)': "
      #expect(e.message.hasPrefix(prefix + c.says), "\(c.name): \(e.message)")
      if let key = c.key { #expect(e.key == key, "\(c.name): \(e)") }
      if c.name.contains("overlap bomb") { #expect(e.key == "a/b" || e.key == "a/c", "\(e)") }
    }
  }

  @Test("the same damage read from another store names the archive's key")
  func hostileArchiveInAStore() throws {
    let memory = MemoryStore()
    var a = Self.base().build()
    try memory.set("x/truncated.ozx", Array(a.bytes.dropLast(1)))
    a.bytes[a.local[1] + 40] ^= 1
    try memory.set("x/crc.ozx", a.bytes)
    try memory.set("x/empty.ozx", [])
    #expect {
      try ZipStore(store: memory, key: "x/truncated.ozx")
    } throws: { e in
      let e = e as? ZarrError
      return e?.code == .corruptData && e?.message.hasPrefix("'x/truncated.ozx' is not a zip archive, or is truncated") == true
    }
    #expect {
      try ZipStore(store: memory, key: "x/empty.ozx")
    } throws: { e in
      (e as? ZarrError)?.message == "'x/empty.ozx' is not a zip archive (0 bytes, too short for its end record)"
    }
    let store = try ZipStore(store: memory, key: "x/crc.ozx")
    #expect(try store.get("a/c") == Array("hello".utf8))
    #expect {
      try store.get("a/b")
    } throws: { e in
      (e as? ZarrError)?.description == "'x/crc.ozx': the entry fails its CRC-32 check (damaged archive) (key 'a/b')"
    }
    #expect {
      try ZipStore(store: memory, key: "x/none.ozx")
    } throws: { ($0 as? ZarrError)?.code == .notFound }
  }

  @Test("a missing archive is notFound; a directory is not an archive")
  func missingArchive() throws {
    let dir = try makeTemporaryDirectory("zip")
    defer { try? FileManager.default.removeItem(at: dir) }
    let missing = try StoreLocation(dir.appendingPathComponent("none.ozx").path)
    #expect {
      try ZipStore.open(missing)
    } throws: { ($0 as? ZarrError)?.code == .notFound && ($0 as? ZarrError)?.message == "no such archive: '\(missing)'" }
    #expect {
      try ZipStore.open(try StoreLocation(dir.path))
    } throws: { ($0 as? ZarrError)?.code == .invalidArgument }
  }

  // MARK: Archives written by ZipWriter

  @Test("ZipWriter round trip: set, overwrite, delete, finish; ZipStore reads every value")
  func writerRoundTrip() throws {
    let dir = try makeTemporaryDirectory("zip")
    defer { try? FileManager.default.removeItem(at: dir) }
    let target = try StoreLocation(dir.appendingPathComponent("rt.ozx").path)
    let writer = try ZipWriter(target: target, room: .slack)
    #expect(!writer.replacesExisting)
    let root = Array(#"{"zarr_format":3,"node_type":"group","attributes":{"ome":{"version":"0.5"}}}"#.utf8)
    let array = Array(#"{"zarr_format":3,"node_type":"array"}"#.utf8)
    try writer.set("zarr.json", Array("{}".utf8))
    try writer.set("img/zarr.json", array)
    try writer.set("img/c/0/0", Self.chunk)
    try writer.set("img/c/0/1", [1, 2, 3])
    try writer.set("img/c/0/0", [9, 9])  // overwritten: the first bytes stay unused
    try writer.set("gone/c/0", [5])
    try writer.delete("gone/c/0")
    try writer.set("gone/zarr.json", array)
    try writer.delete("gone/zarr.json")
    try writer.set("zarr.json", root)  // metadata rewritten at the end, as a conversion does
    try writer.set("empty", [])
    // Before finishing: what was set reads back, and nothing is at the target.
    #expect(try writer.get("img/c/0/0") == [9, 9])
    #expect(try writer.get("gone/c/0") == nil)
    #expect(try writer.list(prefix: "") == ["empty", "img/c/0/0", "img/c/0/1", "img/zarr.json", "zarr.json"])
    #expect(try writer.size(of: "img/c/0/1") == 3)
    #expect(writer.deadBytes == (30 + 9 + 20 + 100) + (30 + 8 + 20 + 1))
    #expect(!FileManager.default.fileExists(atPath: target.path))
    let comment = Array(#"{"ome":{"version":"0.5"}}"#.utf8)
    try writer.finish(comment: comment)
    #expect(writer.isFinished)
    #expect(throws: ZarrError.self) { try writer.set("late", [1]) }

    let store = try ZipStore.open(target)
    #expect(store.directory.comment == comment)
    #expect(store.directory.hasZip64End)
    #expect(store.directory.prefixBytes == 0)
    #expect(store.directory.duplicateNames == [])
    // Metadata first in the central directory (root, then breadth-first), then the data in archive order.
    #expect(store.directory.entries.map(\.name) == ["zarr.json", "img/zarr.json", "img/c/0/1", "img/c/0/0", "empty"])
    #expect(store.directory.entries.allSatisfy { $0.method == 0 && !$0.isEncrypted })
    // The root is padded with spaces to fill the reserved room; it parses the same.
    let readRoot = try #require(try store.get("zarr.json"))
    #expect(readRoot.count > root.count && Array(readRoot.prefix(root.count)) == root)
    #expect(readRoot.dropFirst(root.count).allSatisfy { $0 == 0x20 })
    #expect(try JSONValue.parse(readRoot) == JSONValue.parse(root))
    #expect(try store.get("img/zarr.json") == array)
    #expect(try store.get("img/c/0/0") == [9, 9])
    #expect(try store.get("img/c/0/1") == [1, 2, 3])
    #expect(try store.get("empty") == [])
    #expect(try store.get("gone/c/0") == nil)
    #expect(try store.get("gone/zarr.json") == nil)
    #expect(try store.list(prefix: "") == ["empty", "img/c/0/0", "img/c/0/1", "img/zarr.json", "zarr.json"])
    // The metadata region lies before the first chunk (the root's local header at offset 0).
    let offsets = Dictionary(uniqueKeysWithValues: store.directory.entries.map { ($0.name, $0.localHeaderOffset) })
    #expect(offsets["zarr.json"] == 0)
    #expect(offsets["img/zarr.json"]! < offsets["img/c/0/1"]!)
    // Read-only.
    #expect { try store.set("x", [1]) } throws: { ($0 as? ZarrError)?.code == .unsupported }
    #expect { try store.delete("zarr.json") } throws: { ($0 as? ZarrError)?.code == .unsupported }
    // Python's zipfile agrees (when the test venv is there).
    if let python = testPython {
      let r = try runProcess(python, ["-c", """
        import sys, zipfile
        z = zipfile.ZipFile(sys.argv[1])
        assert z.testzip() is None
        print(",".join(i.filename for i in z.infolist()), z.read("img/c/0/0").hex(), z.comment.decode())
        """, target.path])
      #expect(r.status == 0, "\(r.stderrText)")
      #expect(r.stdoutText == "zarr.json,img/zarr.json,img/c/0/1,img/c/0/0,empty 0909 {\"ome\":{\"version\":\"0.5\"}}\n")
    }
  }

  @Test("ZipWriter: an archive of metadata only; an abandoned writer leaves nothing")
  func writerMetadataOnlyAndAbandon() throws {
    let dir = try makeTemporaryDirectory("zip")
    defer { try? FileManager.default.removeItem(at: dir) }
    let target = try StoreLocation(dir.appendingPathComponent("m.ozx").path)
    let writer = try ZipWriter(target: target, room: .exact)
    try writer.set("a/zarr.json", Array("{\"b\":1}".utf8))
    try writer.set("zarr.json", Array("{}".utf8))
    try writer.finish(comment: [])
    let store = try ZipStore.open(target)
    #expect(store.directory.entries.map(\.name) == ["zarr.json", "a/zarr.json"])
    #expect(try store.get("zarr.json") == Array("{}".utf8))
    #expect(try store.get("a/zarr.json") == Array("{\"b\":1}".utf8))

    let other = try StoreLocation(dir.appendingPathComponent("x.ozx").path)
    let abandoned = try ZipWriter(target: other, room: .slack)
    try abandoned.set("c/0", [1, 2, 3])
    abandoned.abandon()
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["m.ozx"])
    #expect(throws: ZarrError.self) { try ZipWriter(target: target, room: .slack).finish(comment: Array(repeating: 0x20, count: 65_536)) }
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["m.ozx"])
  }

  @Test("ranged reads of stored and deflated entries, and ranges outside an entry")
  func rangedReads() throws {
    var zip = Self.base()
    let plain = (0..<5000).map { UInt8(truncatingIfNeeded: $0 * 7) }
    zip.entries.append(ZipBuilder.Entry("d/z", try Self.deflate(plain), method: 8, crc: ZipBuilder.crc32(plain), size: plain.count))
    let (location, dir) = try Self.file(zip.build().bytes)
    defer { try? FileManager.default.removeItem(at: dir) }
    let store = try ZipStore.open(location)
    for key in ["a/b", "d/z"] {
      let all = key == "a/b" ? Self.chunk : plain
      #expect(try store.get(key) == all)
      #expect(try store.size(of: key) == all.count)
      #expect(try store.get(key, range: .range(offset: 10, length: 5)) == Array(all[10..<15]))
      #expect(try store.get(key, range: .from(offset: 90)) == Array(all[90...]))
      #expect(try store.get(key, range: .suffix(length: 7)) == Array(all.suffix(7)))
      let (parts, size) = try #require(try store.get(key, ranges: [.range(offset: 0, length: 2), .suffix(length: 3)]))
      #expect(parts == [Array(all[0..<2]), Array(all.suffix(3))] && size == all.count)
      var buffer = [UInt8](repeating: 0, count: 4)
      let total = try buffer.withUnsafeMutableBytes { try store.read(key, range: 20..<24, into: $0) }
      #expect(total == all.count && buffer == Array(all[20..<24]))
      for range in [ByteRange.range(offset: all.count - 2, length: 5), .suffix(length: all.count + 1), .from(offset: all.count + 1)] {
        #expect { try store.get(key, range: range) } throws: { ($0 as? ZarrError)?.code == .corruptData }
      }
      #expect {
        try buffer.withUnsafeMutableBytes { try store.read(key, range: (all.count - 2)..<(all.count + 2), into: $0) }
      } throws: { ($0 as? ZarrError)?.code == .corruptData }
    }
    #expect(try store.get("missing", range: .suffix(length: 1)) == nil)
    #expect(try store.get("missing", ranges: [.suffix(length: 1)]) == nil)
    #expect(try store.size(of: "missing") == nil)
  }

  @Test("list and listDirectory; directory entries are not keys; duplicate names: the last wins")
  func listingDirectoriesAndDuplicates() throws {
    var zip = Self.base()
    zip.add("a/", [])
    zip.add("a/d/", [])
    zip.add("a/d/e/f", "deep")
    zip.add("a/c", "second")
    zip.add("z", "top")
    let (location, dir) = try Self.file(zip.build().bytes)
    defer { try? FileManager.default.removeItem(at: dir) }
    let store = try ZipStore.open(location)
    #expect(try store.list(prefix: "") == ["a/b", "a/c", "a/d/e/f", "z", "zarr.json"])
    #expect(try store.list(prefix: "a") == ["a/b", "a/c", "a/d/e/f"])
    #expect(try store.list(prefix: "a/d") == ["a/d/e/f"])
    #expect(try store.list(prefix: "zz") == [])
    #expect(try store.listDirectory("").keys == ["z", "zarr.json"])
    #expect(try store.listDirectory("").prefixes == ["a"])
    #expect(try store.listDirectory("a").keys == ["b", "c"])
    #expect(try store.listDirectory("a").prefixes == ["d"])
    #expect(try store.get("a/") == nil)
    #expect(try store.get("a/d/") == nil)
    #expect(try store.exists("a/d/e/f"))
    #expect(try store.get("a/c") == Array("second".utf8))
    #expect(store.directory.duplicateNames == ["a/c"])
    #expect(try store.storedBytes(under: "a") == 100 + 6 + 4)
  }

  @Test("an archive after a self-extracting stub reads through the stub")
  func selfExtractingPrefix() throws {
    var zip = Self.base(zip64: true)
    zip.prefix = Array(String(repeating: "#!/bin/sh\nexit 0\n", count: 60).utf8)
    let (location, dir) = try Self.file(zip.build().bytes)
    defer { try? FileManager.default.removeItem(at: dir) }
    let store = try ZipStore.open(location)
    #expect(store.directory.prefixBytes == 1020)
    #expect(store.directory.entries.map(\.localHeaderOffset) == [1020, 1020 + 30 + 9 + 37, 1020 + 76 + 30 + 3 + 100])
    #expect(try store.get("a/b") == Self.chunk)
    #expect(try store.get("a/c") == Array("hello".utf8))
    #expect(try store.get("a/b", range: .suffix(length: 2)) == [98, 99])
  }

  @Test("ZIP64 end records holding sentinels, and ZIP64 extra fields in every record")
  func zip64Sentinels() throws {
    var zip = Self.base(zip64: true)
    zip.sentinels = true
    for i in zip.entries.indices { zip.entries[i].zip64 = true }
    let (location, dir) = try Self.file(zip.build().bytes)
    defer { try? FileManager.default.removeItem(at: dir) }
    let store = try ZipStore.open(location)
    #expect(store.directory.hasZip64End)
    #expect(store.directory.entries.allSatisfy { $0.hasZip64Extra })
    #expect(try store.get("a/b") == Self.chunk)
    #expect(try store.get("zarr.json") == Array(#"{"zarr_format":3,"node_type":"group"}"#.utf8))
  }

  // MARK: Archives written by Python's zipfile

  /// Runs a Python script (with `zipfile` imported) writing `out`.
  static func python(_ script: String, _ out: URL) throws {
    let python = try #require(testPython, "no Python test venv: run scripts/test (or set OME2ZARR_PYTHON)")
    let r = try runProcess(python, ["-c", "import sys, zipfile, warnings\nwarnings.simplefilter('ignore')\nout = sys.argv[1]\n" + script, out.path])
    try #require(r.status == 0, "python: \(r.stderrText)")
  }

  @Test("Python zipfile archives: DEFLATED entries, an empty deflated entry, a directory, duplicates")
  func pythonDeflated() throws {
    let dir = try makeTemporaryDirectory("zip")
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("py.zip")
    try Self.python("""
      with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
          z.writestr("zarr.json", '{"zarr_format": 3, "node_type": "group"}')
          z.writestr("a/", b"")
          z.writestr("a/big", bytes(range(256)) * 400)
          z.writestr("a/empty", b"")
          z.writestr("a/small", b"x", compress_type=zipfile.ZIP_STORED)
          z.writestr("a/dup", b"first")
          z.writestr("a/dup", b"second")
      """, url)
    let store = try ZipStore.open(try StoreLocation(url.path))
    #expect(store.directory.entries.map(\.method) == [8, 8, 8, 8, 0, 8, 8])  // zipfile deflates even its directory entry
    #expect(try store.list(prefix: "") == ["a/big", "a/dup", "a/empty", "a/small", "zarr.json"])
    #expect(try store.get("zarr.json") == Array(#"{"zarr_format": 3, "node_type": "group"}"#.utf8))
    let big = (0..<102_400).map { UInt8($0 % 256) }
    #expect(try store.get("a/big") == big)
    #expect(try store.get("a/big", range: .range(offset: 1000, length: 10)) == Array(big[1000..<1010]))
    #expect(try store.get("a/empty") == [])
    #expect(try store.get("a/small") == [UInt8(ascii: "x")])
    #expect(try store.get("a/dup") == Array("second".utf8))
    #expect(store.directory.duplicateNames == ["a/dup"])
  }

  @Test("Python zipfile with force_zip64: local ZIP64 extra fields longer than the central ones")
  func pythonForceZip64() throws {
    let dir = try makeTemporaryDirectory("zip")
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("py64.ozx")
    try Self.python("""
      with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as z:
          for name, data in (("zarr.json", b'{"zarr_format": 3, "node_type": "group"}'), ("0/c/0", bytes(range(200))),
                             ("0/c/1", b"deflated" * 50)):
              method = zipfile.ZIP_DEFLATED if name == "0/c/1" else zipfile.ZIP_STORED
              info = zipfile.ZipInfo(name)
              info.compress_type = method
              with z.open(info, "w", force_zip64=True) as f:
                  f.write(data)
      """, url)
    let store = try ZipStore.open(try StoreLocation(url.path))
    #expect(try store.get("zarr.json") == Array(#"{"zarr_format": 3, "node_type": "group"}"#.utf8))
    #expect(try store.get("0/c/0") == (0..<200).map { UInt8($0) })
    #expect(try store.get("0/c/0", range: .suffix(length: 3)) == [197, 198, 199])
    #expect(try store.get("0/c/1") == Array(String(repeating: "deflated", count: 50).utf8))
  }

  @Test("Python zipfile archive behind a stub (cat stub archive)")
  func pythonSelfExtracting() throws {
    let dir = try makeTemporaryDirectory("zip")
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("sfx.zip")
    try Self.python("""
      import io
      buf = io.BytesIO()
      with zipfile.ZipFile(buf, "w") as z:
          z.writestr("zarr.json", "{}")
          z.writestr("x/y", b"payload")
      open(out, "wb").write(b"MZ" + bytes(4094) + buf.getvalue())
      """, url)
    let store = try ZipStore.open(try StoreLocation(url.path))
    #expect(store.directory.prefixBytes == 4096)
    #expect(try store.get("x/y") == Array("payload".utf8))
    #expect(try store.get("zarr.json") == Array("{}".utf8))
  }
}

@Suite("Zip CRC-32") struct ZipCRCTests {
  /// The folded CRC equals zlib's for every length up to 300 and some large ones, at every
  /// alignment, and continues across calls.
  @Test func foldedCRCEqualsZlib() {
    var g = SystemRandomNumberGenerator()
    let data = (0..<(1 << 20) + 37).map { _ in UInt8.random(in: 0...255, using: &g) }
    data.withUnsafeBytes { all in
      for length in Array(0...300) + [1023, 4096, 65_536 + 15, (1 << 20) + 37 - 3] {
        for start in 0..<3 where start + length <= all.count {
          let part = UnsafeRawBufferPointer(rebasing: all[start..<(start + length)])
          #expect(ZipFormat.crc32(part) == ZipFormat.zlibCRC32(part), "length \(length) at \(start)")
        }
      }
      let whole = ZipFormat.zlibCRC32(all)
      let half = all.count / 2
      let first = ZipFormat.crc32(UnsafeRawBufferPointer(rebasing: all[..<half]))
      #expect(ZipFormat.crc32(UnsafeRawBufferPointer(rebasing: all[half...]), continuing: first) == whole)
    }
    #expect(ZipFormat.folds, "this x86-64 machine has PCLMULQDQ")
  }
}
