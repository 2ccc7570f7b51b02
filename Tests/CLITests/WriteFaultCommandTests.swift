import Foundation
import OMEZarr
import TestSupport
import Testing

/// A small tmpfs as the output disk (needs the right to mount, as root in CI has).
enum SmallDisk {
  /// Whether a tmpfs can be mounted here.
  static let available: Bool = {
    guard let dir = try? CLI.temporaryDirectory().appendingPathComponent("probe").path,
      (try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)) != nil,
      let r = try? runProcess("/bin/mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir]), r.status == 0
    else { return false }
    _ = try? runProcess("/bin/umount", [dir])
    return true
  }()

  static func mount(_ dir: String, bytes: Int) throws {
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let r = try runProcess("/bin/mount", ["-t", "tmpfs", "-o", "size=\(bytes)", "tmpfs", dir])
    try #require(r.status == 0, "mount: \(r.stderrText)")
  }

  static func resize(_ dir: String, bytes: Int) throws {
    let r = try runProcess("/bin/mount", ["-o", "remount,size=\(bytes)", dir])
    try #require(r.status == 0, "remount: \(r.stderrText)")
  }

  static func unmount(_ dir: String) { _ = try? runProcess("/bin/umount", [dir]) }
}

@Suite("ome2zarr convert on a full disk", .enabled(if: SmallDisk.available, "needs the right to mount a tmpfs"))
struct FullDiskTests {
  @Test func aFullDiskFailsClearlyLeavesNothingCompleteAndResumeFinishesIdentically() throws {
    let dir = try CLI.temporaryDirectory()
    let tiff = dir.appendingPathComponent("stack.ome.tif").path
    try ConvertCommandTests.makeStack(tiff, planes: 48, size: 256)
    let options = ["--quiet", "--chunks", "16,64,64", "--compressor", "none"]
    let reference = dir.appendingPathComponent("ref.zarr").path
    #expect(try CLI.ome2zarr(["convert", tiff, reference] + options).status == 0)
    let expected = try fileTree(reference)
    let bytes = expected.values.reduce(0) { $0 + $1.count }

    let disk = dir.appendingPathComponent("disk").path
    try SmallDisk.mount(disk, bytes: bytes / 2)
    defer { SmallDisk.unmount(disk) }
    let out = disk + "/out.zarr"
    let full = try CLI.ome2zarr(["convert", tiff, out] + options)
    #expect(full.status == 2, "\(full.stderr)")
    #expect(full.stderr.contains("No space left on device"), "\(full.stderr)")
    #expect(full.stderr.contains(out), "the message names the output: \(full.stderr)")
    #expect((try? OMENode.open(path: out))?.kind != .image, "a conversion that ran out of space must not look complete")
    let leftovers = try FileManager.default.subpathsOfDirectory(atPath: out).filter { $0.contains("__tmp.") }
    #expect(leftovers.isEmpty, "temporary files left behind: \(leftovers)")

    try SmallDisk.resize(disk, bytes: bytes * 4)
    let resumed = try CLI.ome2zarr(["convert", tiff, out, "--resume"] + options)
    #expect(resumed.status == 0, "\(resumed.stderr)")
    #expect(try fileTree(out) == expected, "the resumed output differs from an uninterrupted run")
  }
}

@Suite("ome2zarr convert --resume over torn shards")
struct TornShardTests {
  /// The shard files of level 0 below `root`, sorted.
  static func shards(_ root: String) -> [String] {
    let level = root + "/0"
    let files = (try? FileManager.default.subpathsOfDirectory(atPath: level)) ?? []
    return files.filter { $0.hasPrefix("c/") && !$0.contains("__tmp.") }
      .filter { var d: ObjCBool = false; return FileManager.default.fileExists(atPath: level + "/" + $0, isDirectory: &d) && !d.boolValue }
      .sorted().map { level + "/" + $0 }
  }

  @Test func resumeRewritesTruncatedAndZeroedShardsAndGivesIdenticalBytes() throws {
    let dir = try CLI.temporaryDirectory()
    let tiff = dir.appendingPathComponent("stack.ome.tif").path
    try ConvertCommandTests.makeStack(tiff, planes: 96, size: 320)
    let options = ["--quiet", "--chunks", "16,64,64", "--threads", "1"]
    let reference = dir.appendingPathComponent("ref.zarr").path
    #expect(try CLI.ome2zarr(["convert", tiff, reference] + options).status == 0)
    let expected = try fileTree(reference)

    // Interrupt a conversion once a few level-0 shards are stored.
    let out = dir.appendingPathComponent("out.zarr").path
    let p = Process()
    p.executableURL = URL(fileURLWithPath: CLI.binary)
    p.arguments = ["convert", tiff, out] + options
    try p.run()
    let deadline = Date().addingTimeInterval(60)
    while Self.shards(out).count < 3 && p.isRunning && Date() < deadline { usleep(2_000) }
    kill(p.processIdentifier, SIGKILL)
    p.waitUntilExit()
    try #require(p.terminationReason == .uncaughtSignal, "the conversion finished before it could be interrupted")

    // A crash outside our control: one shard cut short, another with its tail (the index) zeroed.
    let stored = Self.shards(out)
    try #require(stored.count >= 2, "stored shards: \(stored)")
    let cut = try Data(contentsOf: URL(fileURLWithPath: stored[0]))
    try cut.prefix(cut.count / 2).write(to: URL(fileURLWithPath: stored[0]))
    var zeroed = try Data(contentsOf: URL(fileURLWithPath: stored[1]))
    zeroed.replaceSubrange((zeroed.count - 64)..<zeroed.count, with: Data(count: 64))
    try zeroed.write(to: URL(fileURLWithPath: stored[1]))

    let resumed = try CLI.ome2zarr(["convert", tiff, out, "--resume"] + options)
    #expect(resumed.status == 0, "\(resumed.stderr)")
    #expect(try fileTree(out) == expected, "the torn shards were not rewritten")
    #expect(try CLI.ome2zarr("validate", out, "--data").status == 0)
  }
}
