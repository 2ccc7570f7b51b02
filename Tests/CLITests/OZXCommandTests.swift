import Foundation
import OMEZarr
import TestSupport
import Testing
import ZarrIO

/// The reading commands on zipped OME-Zarr (`.ozx`): a good archive reads like its directory; a
/// damaged or hostile one ends the command with exit 1 (invalid data) and a message naming the
/// archive (and the entry), never a crash; a missing one with exit 2.
@Suite("ome2zarr on .ozx archives", .serialized)
struct OZXCommandTests {
  /// A converted image (a directory) and an archive of it built entry by entry: `zarr.json` files
  /// first (root, then breadth-first), then the rest sorted.
  static func image() throws -> (dir: URL, zarr: URL, zip: ZipBuilder) {
    let dir = try CLI.temporaryDirectory()
    let tiff = dir.appendingPathComponent("in.tif").path
    try ConventionsTests.writeTIFF(tiff)
    let zarr = dir.appendingPathComponent("img.ome.zarr")
    let r = try CLI.ome2zarr("convert", tiff, zarr.path, "--quiet")
    try #require(r.status == 0, "convert: \(r.stderr)")
    let tree = try fileTree(zarr.path)
    func rank(_ k: String) -> (Int, Int, String) {
      (k == "zarr.json" ? 0 : k.hasSuffix("/zarr.json") ? 1 : 2, k.split(separator: "/").count, k)
    }
    var zip = ZipBuilder()
    for key in tree.keys.sorted(by: { rank($0) < rank($1) }) { zip.add(key, [UInt8](tree[key]!)) }
    zip.zip64End = true
    return (dir, zarr, zip)
  }

  /// Runs `info` and `validate` on `bytes` saved as `name`; both must exit 1 (invalid data) with
  /// `says` in their message, which names the archive.
  ///
  /// `validate` reports an archive it cannot open as an `ozx.zip` error; an entry it cannot read
  /// (a bad CRC, an encrypted or oversized entry) ends it as invalid data, as it ends `info`.
  static func expectRefused(_ bytes: [UInt8], _ says: String, in dir: URL, name: String = "bad.ozx",
                            sourceLocation: SourceLocation = #_sourceLocation) throws {
    let path = dir.appendingPathComponent(name).path
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    for command in ["info", "validate"] {
      let r = try CLI.ome2zarr(command, path)
      let output = r.stderr + r.stdout
      #expect(r.status == 1, "\(command) \(name): \(r.status) \(output)", sourceLocation: sourceLocation)
      #expect(output.contains("'\(path)'"), "\(command) \(name) does not name the archive: \(output)", sourceLocation: sourceLocation)
      #expect(output.contains(says), "\(command) \(name): \(output)", sourceLocation: sourceLocation)
      #expect(!output.contains("Fatal error"), "\(command) \(name) crashed: \(output)", sourceLocation: sourceLocation)
    }
  }

  @Test("a good archive: info and validate succeed, also on a node inside it")
  func goodArchive() throws {
    let (dir, zarr, zip) = try Self.image()
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("good.ozx").path
    try zip.build().data.write(to: URL(fileURLWithPath: path))
    let info = try CLI.ome2zarr("info", path, "--json", "--stats")
    #expect(info.status == 0, "\(info.stderr)")
    let fromDir = try CLI.ome2zarr("info", zarr.path, "--json", "--stats")
    // The same tree as the directory's, apart from the name (the path given).
    var fromArchive = try #require(try JSONValue.parse(info.stdout)["root"]?.objectValue)
    var fromDirectory = try #require(try JSONValue.parse(fromDir.stdout)["root"]?.objectValue)
    #expect(fromArchive["name"] == .string(path) && fromDirectory["name"] == .string(zarr.path))
    fromArchive["name"] = "x"
    fromDirectory["name"] = "x"
    #expect(fromArchive == fromDirectory)
    let level0 = fromArchive["ome"]?["image"]?["levels"]?.arrayValue?.first
    #expect(level0?["shape"] == [4, 32, 32] && level0?["stored_chunks"] == 1, "\(fromArchive)")
    let validate = try CLI.ome2zarr("validate", path)
    #expect(validate.status == 0, "\(validate.stdout) \(validate.stderr)")
    let level = try CLI.ome2zarr("info", path + "/0", "--json")
    #expect(level.status == 0, "\(level.stderr)")
    #expect(try JSONValue.parse(level.stdout)["root"]?["shape"] == [4, 32, 32])
  }

  @Test("damaged end records and central directories: exit 1 naming the archive")
  func damagedDirectory() throws {
    let (dir, _, zip) = try Self.image()
    defer { try? FileManager.default.removeItem(at: dir) }
    let good = zip.build()
    try Self.expectRefused([], "is not a zip archive (0 bytes, too short for its end record)", in: dir, name: "empty.ozx")
    try Self.expectRefused(Array("not an archive\n".utf8), "is not a zip archive (15 bytes, too short", in: dir, name: "text.ozx")
    try Self.expectRefused(Array(repeating: 0x41, count: 5000), "is not a zip archive, or is truncated", in: dir, name: "junk.ozx")
    try Self.expectRefused(Array(good.bytes.dropLast(40)), "is not a zip archive, or is truncated", in: dir, name: "truncated.ozx")
    var past = good
    past.put64(past.end64! + 48, UInt64(past.centralDirectory + 100_000))
    try Self.expectRefused(past.bytes, "has a ZIP64 end record with impossible values", in: dir, name: "past64.ozx")
    var plain = zip
    plain.zip64End = false
    var past32 = plain.build()
    past32.put32(past32.end + 16, UInt32(past32.centralDirectory + 10))
    try Self.expectRefused(past32.bytes, "that lies past the end of the archive", in: dir, name: "past.ozx")
    var lying = good
    lying.put64(lying.end64! + 40, UInt64(good.centralDirectorySize + 46))
    try Self.expectRefused(lying.bytes, "has end records that disagree on the central directory size", in: dir, name: "lying.ozx")
    var absurd = good
    absurd.put16(absurd.end + 8, 0xFFFE)
    absurd.put16(absurd.end + 10, 0xFFFE)
    try Self.expectRefused(absurd.bytes, "has end records that disagree on the number of entries (65534 and", in: dir, name: "count.ozx")
    var split = good
    split.put16(split.end + 4, 3)
    try Self.expectRefused(split.bytes, "is a multi-part (split) archive", in: dir, name: "split.ozx")
    // A ZIP64 locator and an end record only: the locator cannot point anywhere.
    let tiny: [UInt8] = [0x50, 0x4b, 0x06, 0x07] + [UInt8](repeating: 0, count: 12) + [1, 0, 0, 0]
      + [0x50, 0x4b, 0x05, 0x06] + [UInt8](repeating: 0, count: 18)
    try Self.expectRefused(tiny, "has a ZIP64 locator pointing past its end records (offset 0)", in: dir, name: "tiny.ozx")
  }

  @Test("hostile entries: names escaping the root, overlaps, bad CRC, encryption, zip bombs")
  func hostileEntries() throws {
    let (dir, _, zip) = try Self.image()
    defer { try? FileManager.default.removeItem(at: dir) }
    for name in ["../evil", "/etc/evil", "0/../../evil", "C:/evil", "0\\evil"] {
      var z = zip
      z.add(name, "x")
      try Self.expectRefused(z.build().bytes, "has an entry named '\(name)', which would lie outside the archive's root", in: dir)
    }
    // Two central records for the root's local header.
    var overlap = zip
    overlap.entries[1].local = false
    var o = overlap.build()
    o.put32(o.central[1] + 42, 0)
    try Self.expectRefused(o.bytes, "has overlapping entries: '", in: dir, name: "overlap.ozx")
    // The root zarr.json damaged: its CRC fails when info reads it.
    var crc = zip.build()
    crc.bytes[crc.local[0] + 30 + 9 + 2] ^= 0x01
    try Self.expectRefused(crc.bytes, "the entry fails its CRC-32 check (damaged archive) (key 'zarr.json')",
      in: dir, name: "crc.ozx")
    var local = zip.build()
    local.bytes[local.local[0] + 30] = UInt8(ascii: "Z")
    try Self.expectRefused(local.bytes, "the local header of the entry disagrees with the central directory (damaged archive) (key 'zarr.json')",
      in: dir, name: "local.ozx")
    var encrypted = zip
    encrypted.entries[0].flags |= 1
    try Self.expectRefused(encrypted.build().bytes, "the entry is encrypted (key 'zarr.json')",
      in: dir, name: "encrypted.ozx")
    // A deflated root zarr.json declaring 5 GiB.
    var bomb = zip
    bomb.entries[0].method = 8
    bomb.entries[0].size = 5 << 30
    bomb.entries[0].zip64 = true
    try Self.expectRefused(bomb.build().bytes, "the entry inflates to 5368709120 bytes, more than the limit of",
      in: dir, name: "bomb.ozx")
  }

  @Test("a multi-part archive made by zip -s is refused (exit 1)")
  func zipSplit() throws {
    let (dir, zarr, _) = try Self.image()
    defer { try? FileManager.default.removeItem(at: dir) }
    // Incompressible filler so that the archive needs several 64 KiB parts.
    var filler = [UInt8](repeating: 0, count: 200_000)
    var x: UInt32 = 12345
    for i in filler.indices { x = x &* 1_103_515_245 &+ 12345; filler[i] = UInt8(truncatingIfNeeded: x >> 16) }
    try Data(filler).write(to: zarr.appendingPathComponent("filler"))
    let r = try runProcess("/usr/bin/zip", ["-q", "-r", "-0", "-s", "64k", dir.appendingPathComponent("split.zip").path, "."],
      directory: zarr)
    try #require(r.status == 0, "zip: \(r.stderrText)")
    #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("split.z01").path))
    let last = try [UInt8](Data(contentsOf: dir.appendingPathComponent("split.zip")))
    try Self.expectRefused(last, "is a multi-part (split) archive", in: dir, name: "split.ozx")
  }

  @Test("a missing archive: exit 2 naming it")
  func missingArchive() throws {
    let dir = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("none.ozx").path
    for command in ["info", "validate"] {
      let r = try CLI.ome2zarr(command, path)
      #expect(r.status == 2, "\(command): \(r.stderr)")
      #expect(r.stderr.contains(path), "\(command): \(r.stderr)")
    }
  }
}
