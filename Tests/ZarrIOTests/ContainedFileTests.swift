import Foundation
import Testing
import TestSupport
@testable import ZarrIO

/// `FilesystemStore.openContained`: what a server may send from a directory, and nothing else.
@Suite("Files opened beneath a store's root")
struct ContainedFileTests {
  /// A store with `a/b` (5 bytes), a directory `d`, links in and out, and a FIFO.
  static func layout() throws -> (root: String, outside: String, store: FilesystemStore) {
    let base = try makeTemporaryDirectory("contained")
    let root = base.appendingPathComponent("root").path
    let outside = base.appendingPathComponent("secret").path
    let store = try FilesystemStore(root: root, create: true)
    try store.set("a/b", Array("hello".utf8))
    try store.set("d/x", [1])
    try Data("secret".utf8).write(to: URL(fileURLWithPath: outside))
    let fm = FileManager.default
    try fm.createSymbolicLink(atPath: root + "/inside-relative", withDestinationPath: "a/b")
    try fm.createSymbolicLink(atPath: root + "/inside-absolute", withDestinationPath: root + "/a/b")
    try fm.createSymbolicLink(atPath: root + "/out-relative", withDestinationPath: "../secret")
    try fm.createSymbolicLink(atPath: root + "/out-absolute", withDestinationPath: outside)
    try fm.createSymbolicLink(atPath: root + "/out-directory", withDestinationPath: base.path)
    #expect(mkfifo(root + "/fifo", 0o600) == 0)
    return (root, outside, store)
  }

  /// The bytes of an opened file (and closes it).
  static func contents(_ file: OpenedFile) -> [UInt8] {
    defer { close(file.descriptor) }
    var bytes = [UInt8](repeating: 0, count: file.size)
    let n = bytes.withUnsafeMutableBytes { pread(file.descriptor, $0.baseAddress, file.size, 0) }
    return n == file.size ? bytes : []
  }

  @Test func opensFilesAndLinksThatStayInside() throws {
    let (_, _, store) = try Self.layout()
    for key in ["a/b", "inside-relative", "inside-absolute"] {
      let file = try #require(try store.openContained(key), "\(key)")
      #expect(file.size == 5 && Self.contents(file) == Array("hello".utf8), "\(key)")
      #expect(file.modified > 1_700_000_000)
    }
  }

  @Test func refusesWhatLeavesTheRootOrIsNotARegularFile() throws {
    let (_, _, store) = try Self.layout()
    for key in ["out-relative", "out-absolute", "out-directory/secret", "d", "fifo", "missing", "a/b/c", "a/missing"] {
      #expect(try store.openContained(key) == nil, "\(key)")
    }
    for key in ["../secret", "a/../../secret", "/etc/passwd", "a/./b"] {
      #expect(throws: ZarrError.self, "\(key)") { try store.openContained(key) }
    }
  }

  @Test func keysThatStayInside() {
    for key in ["", "a", "a/b", "...", "a/.b", "a/..b", ".zattrs", "c/0/0"] {
      #expect(FilesystemStore.staysInside(key), "\(key)")
    }
    for key in ["/a", ".", "..", "a/.", "a/..", "./a", "../a", "a/./b", "a/../b"] {
      #expect(!FilesystemStore.staysInside(key), "\(key)")
    }
  }
}
