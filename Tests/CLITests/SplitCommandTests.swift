import Foundation
import TestSupport
import Testing

/// `ome2zarr convert --part I/N`, `--part auto`, `--finalize` and `--plan` as separate processes.
@Suite("ome2zarr convert split into parts", .serialized)
struct SplitCommandTests {
  /// Options giving several shards per level.
  static let options = ["--quiet", "--chunks", "8,64,64", "--shards", "8,128,128"]

  /// Starts `ome2zarr` with `arguments` without waiting (output discarded).
  static func start(_ arguments: [String]) throws -> Process { try startProcess(CLI.binary, arguments) }

  /// A stack and its whole conversion: the reference every split one must equal.
  static func stackAndReference(planes: Int, size: Int) throws -> (dir: URL, tiff: String, reference: [String: Data]) {
    let dir = try CLI.temporaryDirectory()
    let tiff = dir.appendingPathComponent("stack.ome.tif").path
    try ConvertCommandTests.makeStack(tiff, planes: planes, size: size)
    let whole = dir.appendingPathComponent("whole.ome.zarr").path
    let r = try CLI.ome2zarr(["convert", tiff, whole] + options)
    try #require(r.status == 0, "\(r.stderr)")
    return (dir, tiff, try fileTree(whole))
  }

  @Test func eightConcurrentPartsInRandomOrderWithOneKilledThenFinalizeEqualAWholeRun() throws {
    let (dir, tiff, reference) = try Self.stackAndReference(planes: 128, size: 512)
    let out = dir.appendingPathComponent("split.ome.zarr").path
    // Part 5 starts alone on one thread and is killed (SIGKILL) once it has stored shards.
    let victim = try Self.start(["convert", tiff, out, "--part", "5/8", "--threads", "1"] + Self.options)
    let level0 = URL(fileURLWithPath: out).appendingPathComponent("0/c").path
    let deadline = Date().addingTimeInterval(60)
    while victim.isRunning, Date() < deadline, ((try? FileManager.default.subpathsOfDirectory(atPath: level0)) ?? []).count < 4 {
      usleep(2000)
    }
    kill(victim.processIdentifier, SIGKILL)
    victim.waitUntilExit()
    #expect(victim.terminationReason == .uncaughtSignal, "part 5 was killed midway (it had not finished)")
    #expect(!FileManager.default.fileExists(atPath: out + "/.ome2zarr-parts/5-of-8.json"))
    // All eight (part 5 again) at once, in random order: more processes than cores.
    var order = Array(0..<8)
    order.shuffle()
    let parts = try order.map { try Self.start(["convert", tiff, out, "--part", "\($0)/8"] + Self.options) }
    for p in parts { p.waitUntilExit() }
    #expect(parts.map(\.terminationStatus) == [Int32](repeating: 0, count: 8))
    let finalize = try CLI.ome2zarr(["convert", tiff, out, "--finalize", "--json"] + Self.options.dropFirst())
    #expect(finalize.status == 0, "\(finalize.stderr)")
    let summary = try JSONSerialization.jsonObject(with: Data(finalize.stdout.utf8)) as? [String: Any]
    #expect(summary?["stage"] as? String == "finalize")
    let result = try fileTree(out)
    #expect(differingKeys(result, reference) == [], "the split conversion differs from the whole one")
  }

  @Test func finalizeWithAMissingPartExits1NamingIt() throws {
    let (dir, tiff, _) = try Self.stackAndReference(planes: 48, size: 256)
    let out = dir.appendingPathComponent("split.ome.zarr").path
    for i in [0, 2] { #expect(try CLI.ome2zarr(["convert", tiff, out, "--part", "\(i)/3"] + Self.options).status == 0) }
    let r = try CLI.ome2zarr(["convert", tiff, out, "--finalize"] + Self.options)
    #expect(r.status == 1)
    #expect(r.stderr == "ome2zarr: error: 1 of 3 parts of '\(out)' have not finished: part 1; run it (--part 1/3 ...) before --finalize\n")
    let root = try #require(FileManager.default.contents(atPath: out + "/zarr.json"))
    #expect(!String(decoding: root, as: UTF8.self).contains("multiscales"), "no image metadata before finalize")
    // A finished part run again says so and exits 0.
    let again = try CLI.ome2zarr(["convert", tiff, out, "--part", "2/3"] + Self.options.dropFirst())
    #expect(again.status == 0 && again.stdout == "\(out): part 2/3 had already finished\n", "\(again.stdout)\(again.stderr)")
  }

  @Test func partAutoTakesTheArrayTaskFromTheEngine() throws {
    let (dir, tiff, reference) = try Self.stackAndReference(planes: 48, size: 256)
    let out = dir.appendingPathComponent("split.ome.zarr").path
    var env = ProcessInfo.processInfo.environment
    for name in ["SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX", "BATCH_TASK_INDEX", "LSB_JOBINDEX",
      "SGE_TASK_ID"] { env[name] = nil }
    let none = try runProcess(CLI.binary, ["convert", tiff, out, "--part", "auto"] + Self.options, environment: env)
    #expect(none.status == 2)
    #expect(none.stderrText.contains("--part auto: no array-task variable is set (looked for SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX"))
    // Slurm with --array=1-5:2 (ids 1, 3, 5), Kubernetes with the count given, AWS Batch.
    let engines: [[String: String]] = [
      ["SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": "5", "SLURM_ARRAY_TASK_STEP": "2",
       "SLURM_ARRAY_TASK_COUNT": "3"],
      ["JOB_COMPLETION_INDEX": "0"],
      ["AWS_BATCH_JOB_ARRAY_INDEX": "2", "AWS_BATCH_JOB_ARRAY_SIZE": "3"],
    ]
    for (i, engine) in engines.enumerated() {
      let r = try runProcess(CLI.binary, ["convert", tiff, out, "--part", i == 1 ? "auto/3" : "auto"] + Self.options,
        environment: env.merging(engine) { $1 })
      #expect(r.status == 0, "\(engine): \(r.stderrText)")
    }
    #expect(try CLI.ome2zarr(["convert", tiff, out, "--finalize"] + Self.options).status == 0)
    #expect(differingKeys(try fileTree(out), reference) == [])
  }

  @Test func planShowsThePartsAndRejectedCombinationsAreUsageErrors() throws {
    let (dir, tiff, _) = try Self.stackAndReference(planes: 48, size: 256)
    let out = dir.appendingPathComponent("split.ome.zarr").path
    let plan = try CLI.ome2zarr(["convert", tiff, out, "--plan", "--parts", "3", "--json"] + Self.options.dropFirst())
    #expect(plan.status == 0, "\(plan.stderr)")
    let doc = try #require(try JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as? [String: Any])
    #expect(doc["parts"] as? Int == 3 && doc["axis"] as? String == "z" && doc["owned_levels"] as? Int == 3)
    let tasks = try #require(doc["tasks"] as? [[String: Any]])
    #expect(tasks.map { ($0["planes"] as? [[String: Any]])?.first?["planes"] as? [Int] ?? [] } == [[0, 16], [16, 32], [32, 48]])
    #expect(tasks.map { $0["bytes_read"] as? Int } == [16, 16, 16].map { $0 * 256 * 256 * 2 })
    #expect(!FileManager.default.fileExists(atPath: out), "--plan writes nothing")
    let text = try CLI.ome2zarr(["convert", tiff, out, "--plan"] + Self.options.dropFirst())
    #expect(text.status == 0 && text.stdout.contains("parts  levels by parts  most read by a part"), "\(text.stdout)")
    for (args, message) in [
      (["--part", "0/2", "--overwrite"], "--part cannot be combined with --overwrite; delete the output first"),
      (["--finalize", "--resume"], "--finalize cannot be combined with --resume: parts and --finalize always resume"),
      (["--part", "0/2", "--finalize"], "--part and --finalize exclude each other"),
      (["--parts", "4"], "--parts goes with --plan; parts are given as --part I/N"),
      (["--part", "2/2"], "--part: part 2 does not exist; parts are numbered 0 to 1"),
    ] {
      let r = try CLI.ome2zarr(["convert", tiff, out] + args + Self.options)
      #expect(r.status == 2 && r.stderr.contains(message), "\(args): \(r.stderr)")
    }
  }
}
