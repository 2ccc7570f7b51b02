import Foundation
import OMEZarr
import TestSupport
import Testing
import ZarrIO

/// The RFC-9 rules `validate` checks on a zipped OME-Zarr: one archive per rule, each giving
/// exactly its `ozx.*` findings with the right severities.
@Suite("RFC-9 archive rules")
struct ArchiveRulesTests {
  static let root = #"{"zarr_format":3,"node_type":"group","attributes":{"ome":{"version":"0.5"}}}"#
  static let group = #"{"zarr_format":3,"node_type":"group","attributes":{}}"#
  static let comment = #"{"ome":{"version":"0.5","zipFile":{"centralDirectory":{"jsonFirst":true}}}}"#

  /// A well-formed archive: root, a group, a group below it, a chunk-like entry.
  static func good() -> ZipBuilder {
    var zip = ZipBuilder()
    zip.add("zarr.json", root)
    zip.add("a/zarr.json", group)
    zip.add("a/b/zarr.json", group)
    zip.add("a/b/data", [1, 2, 3])
    zip.comment = Array(comment.utf8)
    zip.zip64End = true
    return zip
  }

  /// The `ozx.*` findings of `zip` saved as `name`, as "severity rule" strings, sorted.
  static func findings(_ zip: ZipBuilder, name: String = "x.ozx", message: String? = nil, data: Bool = false) throws -> [String] {
    let dir = try makeTemporaryDirectory("ozx-rules")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent(name).path
    try zip.build().data.write(to: URL(fileURLWithPath: path))
    var options = Validator.Options()
    options.data = data
    let report = try Validator(options: options).validate(try StoreLocation(path))
    let ozx = report.findings.filter { $0.rule.hasPrefix("ozx.") }
    if let message { #expect(ozx.contains { $0.message.contains(message) }, "\(ozx.map(\.message))") }
    return ozx.map { "\($0.severity.rawValue) \($0.rule)" }.sorted()
  }

  @Test func aWellFormedArchiveHasNoFinding() throws {
    #expect(try Self.findings(Self.good()) == [])
  }

  @Test func extensionZip64AndCommentAreWarnings() throws {
    var zip = Self.good()
    zip.zip64End = false
    zip.comment = []
    #expect(try Self.findings(zip, name: "x.zip") == ["warning ozx.comment", "warning ozx.extension", "warning ozx.zip64"])
    zip = Self.good()
    zip.comment = Array("not json".utf8)
    #expect(try Self.findings(zip, message: "is not a JSON object") == ["warning ozx.comment"])
    zip.comment = Array(#"{"other":1}"#.utf8)
    #expect(try Self.findings(zip, message: "no \"ome\" object") == ["warning ozx.comment"])
    zip.comment = Array(#"{"ome":{}}"#.utf8)
    #expect(try Self.findings(zip, message: "no ome.version") == ["warning ozx.comment"])
    zip.comment = Array(#"{"ome":{"version":"0.6"}}"#.utf8)
    #expect(try Self.findings(zip, message: "gives version 0.6, the root zarr.json 0.5") == ["warning ozx.comment.version"])
  }

  @Test func orderRulesAndAMisleadingJSONFirst() throws {
    // A zarr.json after data: an error when the comment promises jsonFirst, else a warning.
    var zip = Self.good()
    zip.entries.swapAt(2, 3)
    #expect(try Self.findings(zip, message: "'a/b/zarr.json' follows other entries") == ["error ozx.order.json-first"])
    zip.comment = Array(#"{"ome":{"version":"0.5"}}"#.utf8)
    #expect(try Self.findings(zip) == ["warning ozx.order"])
    // The root not first; depth-first instead of breadth-first.
    zip = Self.good()
    zip.comment = Array(#"{"ome":{"version":"0.5"}}"#.utf8)
    zip.entries.swapAt(0, 1)
    #expect(try Self.findings(zip) == ["warning ozx.order", "warning ozx.order", "warning ozx.order"])  // CD, depth, file
    zip = Self.good()
    zip.entries.insert(ZipBuilder.Entry("c/zarr.json", Array(Self.group.utf8)), at: 3)
    zip.comment = Array(#"{"ome":{"version":"0.5"}}"#.utf8)
    #expect(try Self.findings(zip, message: "not breadth-first") == ["warning ozx.order"])
  }

  @Test func mustsAreErrors() throws {
    // No root zarr.json: the hierarchy sits in a folder (BioImage Archive style).
    var zip = ZipBuilder()
    zip.add("img/zarr.json", Self.root)
    zip.comment = Array(Self.comment.utf8)
    zip.zip64End = true
    #expect(try Self.findings(zip, message: "the folder 'img/'").contains("error ozx.root"))
    // An archive inside, Zarr v2 metadata, an encrypted entry.
    zip = Self.good()
    zip.add("a/b/inner.zip", [0])
    #expect(try Self.findings(zip) == ["error ozx.nested"])
    zip = Self.good()
    zip.add("a/.zgroup", #"{"zarr_format":2}"#)
    #expect(try Self.findings(zip) == ["error ozx.zarr-v2"])
    zip = Self.good()
    zip.entries[3].flags |= 1
    #expect(try Self.findings(zip) == ["error ozx.encryption"])
  }

  @Test func storedNoPrefixNoDuplicates() throws {
    var zip = Self.good()
    zip.entries[3].method = 8
    #expect(try Self.findings(zip, message: "method 8") == ["warning ozx.compression"])
    zip = Self.good()
    zip.add("a/b/data", [4, 5, 6])
    #expect(try Self.findings(zip, message: "'a/b/data' is listed more than once") == ["warning ozx.duplicate"])
    zip = Self.good()
    zip.prefix = Array(repeating: 0x4D, count: 100)
    #expect(try Self.findings(zip, message: "100 bytes before its first entry") == ["warning ozx.prefix"])
  }

  @Test func dataChecksEveryEntrysCRC() throws {
    var zip = Self.good()
    zip.entries[3].crc ^= 1
    #expect(try Self.findings(zip) == [])
    #expect(try Self.findings(zip, message: "'a/b/data'", data: true) == ["error ozx.crc"])
    var big = Self.good()
    big.entries[3] = ZipBuilder.Entry("a/b/data", Array(repeating: 7, count: (1 << 20) + 1))
    #expect(try Self.findings(big, data: true) == [])
    big.entries[3].crc ^= 1
    #expect(try Self.findings(big, message: "fails its CRC-32 check", data: true) == ["error ozx.crc"])
  }
}
