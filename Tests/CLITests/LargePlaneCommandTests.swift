import Foundation
import TestSupport
import Testing

/// Planes larger than `--memory-limit` convert in bands of rows, with bounded memory and the bytes
/// of a run that holds whole planes. (The full-size check, 20,000² planes under 256 MiB, is in
/// `Benchmarks/`: a debug build takes minutes for it.)
@Suite("ome2zarr convert of planes larger than the memory limit", .serialized)
struct LargePlaneCommandTests {
  @Test func planesLargerThanTheMemoryLimitConvertInBandsWithBoundedMemory() throws {
    let python = try #require(testPython, "no Python test venv: run scripts/test")
    let script = packageRoot.appendingPathComponent("Tests/CLITests/Python/large_planes.py").path
    let dir = try CLI.temporaryDirectory()
    let tiff = dir.appendingPathComponent("large.tif").path
    // A z-stack of three planes of 8,000 x 8,000 uint16 (122 MiB each), tiled: twice the 64 MiB limit.
    let made = try runProcess(python, [script, "tiff", tiff, "8000", "3"])
    try #require(made.status == 0, "\(made.stderrText)")
    let options = ["--quiet", "--chunks", "3,64,64", "--shards", "3,128,128"]
    let banded = dir.appendingPathComponent("banded.ome.zarr").path
    let run = try runProcess(python, [script, "rss", CLI.binary, "convert", tiff, banded, "--memory-limit", "64M"] + options)
    let fields = run.stdoutText.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    try #require(fields.count == 2, "\(run.stdoutText)\(run.stderrText)")
    #expect(fields[0] == 0, "\(run.stderrText)")
    // Holding whole planes took 610 MB here (the run with a 2G limit below); the bands keep the
    // process, runtime and allocator included, under two planes (about 160 MB in a debug build).
    #expect(fields[1] < 256 << 20, "peak RSS \(fields[1] >> 20) MiB for a 64 MiB limit")
    let whole = dir.appendingPathComponent("whole.ome.zarr").path
    let reference = try CLI.ome2zarr(["convert", tiff, whole, "--memory-limit", "2G"] + options)
    #expect(reference.status == 0, "\(reference.stderr)")
    let a = try fileTree(banded), b = try fileTree(whole)
    #expect(differingKeys(a, b) == [], "the banded conversion differs from the one holding whole planes")
  }
}
