import Foundation
import OMEZarr
import TestSupport
import Testing

/// The recipes of Examples/cluster, run as written: the Slurm scripts on a one-node cluster on this
/// machine, the Dask driver on a LocalCluster; the Kubernetes and AWS Batch definitions parsed (and the
/// AWS Batch submit script run against a stand-in `aws`). A split conversion must equal a single one.
@Suite("Cluster recipes", .serialized)
struct ClusterCommandTests {
  /// The conversion options of every test (small chunks and shards: several shards per level).
  static let options = ["--quiet", "--chunks", "16,64,64", "--shards", "16,128,128"]
  /// Examples/cluster.
  static let recipes = packageRoot.appendingPathComponent("Examples/cluster")

  /// Whether a Slurm cluster can be started; prints why not when it cannot (not root and no sudo).
  static var slurmUsable: Bool {
    guard let reason = SlurmCluster.unavailableReason else { return true }
    print("ClusterCommandTests: skipping the Slurm tests: \(reason)")
    return false
  }

  /// A directory with a 96-plane 256×256 stack, and the single-machine conversion of it to compare with.
  static func stackAndReference() throws -> (dir: URL, tiff: String, reference: [String: Data]) {
    let dir = try CLI.temporaryDirectory()
    let tiff = dir.appendingPathComponent("stack.ome.tif").path
    try ConvertCommandTests.makeStack(tiff, planes: 96, size: 256)
    let reference = dir.appendingPathComponent("single.ome.zarr").path
    let r = try CLI.ome2zarr(["convert", tiff, reference] + options)
    try #require(r.status == 0, "single conversion: \(r.stderr)")
    return (dir, tiff, try fileTree(reference))
  }

  /// The keys whose bytes differ between two file trees, or that only one has (short failure messages).
  static func differences(_ a: [String: Data], _ b: [String: Data]) -> [String] {
    Set(a.keys).union(b.keys).filter { a[$0] != b[$0] }.sorted()
  }

  /// The environment for jobs that run `ome2zarr`: the built one first on the PATH.
  static func pathWithBuiltCLI() -> [String: String] {
    let bin = URL(fileURLWithPath: CLI.binary).deletingLastPathComponent().path
    return ["PATH": bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")]
  }

  // MARK: Slurm

  @Test(.enabled(if: ClusterCommandTests.slurmUsable, "needs root or sudo without a password"))
  func slurmClusterRunsAnArrayAndADependentJob() throws {
    let cluster = try SlurmCluster()
    defer { cluster.stop() }
    print("ClusterCommandTests: Slurm cluster started in \(String(format: "%.2f", cluster.startupTime)) s")
    #expect(Set(cluster.runningDaemons.keys) == ["slurmctld", "slurmd", "munged"])
    let dir = try CLI.temporaryDirectory()
    let start = Date()
    let array = try cluster.submit(
      wrap: "echo $SLURM_ARRAY_TASK_ID $SLURM_ARRAY_TASK_COUNT > out_$SLURM_ARRAY_TASK_ID",
      options: ["--array=0-3", "--output=%A_%a.log"], directory: dir)
    let gather = try cluster.submit(
      wrap: "cat out_0 out_1 out_2 out_3 > all", options: ["--dependency=afterok:\(array)", "--kill-on-invalid-dep=yes"],
      directory: dir)
    let done = try cluster.wait(jobs: [array, gather], timeout: 30)
    let took = String(format: "%.2f", Date().timeIntervalSince(start))
    print("ClusterCommandTests: 4-task array and a dependent job ran in \(took) s")
    #expect(done[array]?.map(\.arrayTaskID) == ["0", "1", "2", "3"])
    #expect(done[array]?.map(\.state) == ["COMPLETED", "COMPLETED", "COMPLETED", "COMPLETED"])
    #expect(done[array]?.map(\.exitCode) == [0, 0, 0, 0])
    #expect(done[array]?.map(\.arrayJobID) == [array, array, array, array])
    #expect(done[gather]?.map(\.state) == ["COMPLETED"])
    let all = try String(contentsOf: dir.appendingPathComponent("all"), encoding: .utf8)
    #expect(all == "0 4\n1 4\n2 4\n3 4\n")
    let logs = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".log") }.sorted()
    #expect(logs == (0..<4).map { "\(array)_\($0).log" })

    // A failing task: the afterok dependant is cancelled, never run.
    let failing = try cluster.submit(wrap: "exit $(( SLURM_ARRAY_TASK_ID == 2 ? 3 : 0 ))",
      options: ["--array=0-3", "--output=/dev/null"], directory: dir)
    let never = try cluster.submit(wrap: "touch ran", options: ["--dependency=afterok:\(failing)", "--kill-on-invalid-dep=yes"],
      directory: dir)
    let failStart = Date()
    let failed = try cluster.wait(jobs: [failing, never], timeout: 30)
    print("ClusterCommandTests: failing array waited for in \(String(format: "%.2f", Date().timeIntervalSince(failStart))) s")
    #expect(failed[failing]?.map(\.state) == ["COMPLETED", "COMPLETED", "FAILED", "COMPLETED"])
    #expect(failed[failing]?.map(\.exitCode) == [0, 0, 3, 0])
    #expect(failed[failing]?[2].reason == "NonZeroExitCode")
    #expect(failed[never]?.map(\.state) == ["CANCELLED"])
    #expect(failed[never]?.map(\.reason) == ["DependencyNeverSatisfied"])
    #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("ran").path))

    let stopping = Date()
    cluster.stop()
    print("ClusterCommandTests: Slurm cluster stopped in \(String(format: "%.2f", Date().timeIntervalSince(stopping))) s")
    #expect(cluster.runningDaemons == [:])
  }

  @Test(.enabled(if: ClusterCommandTests.slurmUsable, "needs root or sudo without a password"))
  func slurmRecipeEqualsASingleConversion() throws {
    let (dir, tiff, reference) = try Self.stackAndReference()
    let cluster = try SlurmCluster()
    defer { cluster.stop() }
    let out = dir.appendingPathComponent("split.ome.zarr").path
    let submit = Self.recipes.appendingPathComponent("slurm/submit.sh").path
    let start = Date()
    let r = try cluster.run(submit, [tiff, out, "4"] + Self.options, extra: Self.pathWithBuiltCLI(), directory: dir)
    try #require(r.status == 0, "submit.sh: \(r.stderrText)")
    let ids = r.stdoutText.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
    try #require(ids.count == 2, "submit.sh printed \(r.stdoutText)")
    let (array, finalize) = (ids[0], ids[1])
    let done = try cluster.wait(jobs: [array, finalize], timeout: 50)
    print("ClusterCommandTests: 4 parts and finalize on Slurm in \(String(format: "%.2f", Date().timeIntervalSince(start))) s")
    let logs = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".log") }.sorted()
    let log = { (name: String) in (try? String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)) ?? "" }
    #expect(done[array]?.map(\.state) == ["COMPLETED", "COMPLETED", "COMPLETED", "COMPLETED"],
      "\(logs.map { "\($0): \(log($0))" })")
    #expect(done[finalize]?.map(\.state) == ["COMPLETED"], "\(log("\(finalize).log"))")
    #expect(logs == ((0..<4).map { "\(array)_\($0).log" } + ["\(finalize).log"]).sorted())
    let split = try fileTree(out)
    #expect(!split.isEmpty)
    #expect(Self.differences(split, reference) == [], "the split conversion's files differ from the single conversion's")
  }

  @Test(.enabled(if: ClusterCommandTests.slurmUsable, "needs root or sudo without a password"))
  func failingSlurmPartsCancelFinalizeAndLeaveNoImage() throws {
    let dir = try CLI.temporaryDirectory()
    let bad = dir.appendingPathComponent("bad.tif").path
    try Data("not a tiff".utf8).write(to: URL(fileURLWithPath: bad))
    let cluster = try SlurmCluster()
    defer { cluster.stop() }
    let out = dir.appendingPathComponent("bad.ome.zarr").path
    let submit = Self.recipes.appendingPathComponent("slurm/submit.sh").path
    let r = try cluster.run(submit, [bad, out, "2"] + Self.options, extra: Self.pathWithBuiltCLI(), directory: dir)
    try #require(r.status == 0, "submit.sh: \(r.stderrText)")
    let ids = r.stdoutText.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
    try #require(ids.count == 2, "submit.sh printed \(r.stdoutText)")
    let (array, finalize) = (ids[0], ids[1])
    let done = try cluster.wait(jobs: [array, finalize], timeout: 30)
    #expect(done[array]?.map(\.state) == ["FAILED", "FAILED"])
    // An unreadable input is an I/O error: exit 2, and the log names the input.
    #expect(done[array]?.map(\.exitCode) == [2, 2])
    let log = (try? String(contentsOf: dir.appendingPathComponent("\(array)_0.log"), encoding: .utf8)) ?? ""
    #expect(log.contains("bad.tif"), "\(log)")
    #expect(done[finalize]?.map(\.state) == ["CANCELLED"])
    #expect(done[finalize]?.map(\.reason) == ["DependencyNeverSatisfied"])
    #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("\(finalize).log").path))
    #expect((try? OMENode.open(path: out))?.kind != .image, "a failed split conversion must not look like an image")
  }

  // MARK: Dask

  @Test func daskRecipeEqualsASingleConversion() throws {
    let python = try #require(testPython, "no Python test venv: run scripts/setup --venv")
    let check = try runProcess(python, ["-c", "import dask.distributed"])
    try #require(check.status == 0, "\(python) has no dask.distributed: run scripts/setup --venv (Tests/requirements.txt)")
    let (dir, tiff, reference) = try Self.stackAndReference()
    let out = dir.appendingPathComponent("dask.ome.zarr").path
    let driver = Self.recipes.appendingPathComponent("dask/convert_dask.py").path
    var env = ProcessInfo.processInfo.environment
    env["OME2ZARR"] = CLI.binary
    let start = Date()
    let r = try runProcess(python, [driver, tiff, out, "--parts", "4", "--workers", "2", "--"] + Self.options,
      environment: env, directory: dir)
    print("ClusterCommandTests: 4 parts and finalize on Dask in \(String(format: "%.2f", Date().timeIntervalSince(start))) s")
    #expect(r.status == 0, "convert_dask.py: \(r.stderrText)")
    let split = try fileTree(out)
    #expect(!split.isEmpty)
    #expect(Self.differences(split, reference) == [], "the Dask conversion's files differ from the single conversion's")

    // A part that cannot succeed: exit 1, no finalize, no image.
    let bad = dir.appendingPathComponent("bad.tif").path
    try Data("not a tiff".utf8).write(to: URL(fileURLWithPath: bad))
    let badOut = dir.appendingPathComponent("bad.ome.zarr").path
    let failed = try runProcess(python, [driver, bad, badOut, "--parts", "2", "--retries", "0", "--"] + Self.options,
      environment: env, directory: dir)
    #expect(failed.status == 1, "\(failed.stderrText)")
    #expect(failed.stderrText.contains("2 of 2 parts failed (0, 1); not finalizing"), "\(failed.stderrText)")
    #expect((try? OMENode.open(path: badOut))?.kind != .image)
  }

  // MARK: Kubernetes and AWS Batch (no engine here: the definitions are parsed, submit.sh runs a stand-in aws)

  /// The documents of a YAML file as JSON values, through the test venv's PyYAML; nil without it.
  static func yamlDocuments(_ path: String) throws -> [Any]? {
    guard let python = testPython else { return nil }
    let code = "import json, sys, yaml; json.dump(list(yaml.safe_load_all(open(sys.argv[1]))), sys.stdout)"
    let r = try runProcess(python, ["-c", code, path])
    guard r.status == 0 else { return nil }
    return try JSONSerialization.jsonObject(with: r.stdout) as? [Any]
  }

  /// The container of a Job document's pod template, and its `command + args`.
  static func container(_ job: [String: Any]) -> (container: [String: Any], argv: [String]) {
    let spec = job["spec"] as? [String: Any], template = spec?["template"] as? [String: Any]
    let pod = template?["spec"] as? [String: Any]
    let container = (pod?["containers"] as? [[String: Any]])?.first ?? [:]
    return (container, (container["command"] as? [String] ?? []) + (container["args"] as? [String] ?? []))
  }

  @Test func kubernetesJobsRunThePartsByIndexThenFinalize() throws {
    let convertPath = Self.recipes.appendingPathComponent("kubernetes/convert-job.yaml").path
    let finalizePath = Self.recipes.appendingPathComponent("kubernetes/finalize-job.yaml").path
    guard let convertDocs = try Self.yamlDocuments(convertPath), let finalizeDocs = try Self.yamlDocuments(finalizePath) else {
      // No PyYAML: the lines that matter, as text.
      print("ClusterCommandTests: no PyYAML in the test venv; checking the Kubernetes YAML as text")
      let text = try String(contentsOfFile: convertPath, encoding: .utf8)
      for line in ["kind: Job", "completionMode: Indexed", "completions: 8", "restartPolicy: Never",
                   "backoffLimitPerIndex: 2", #""--part", "auto/8""#] {
        #expect(text.contains(line), "convert-job.yaml lacks \(line)")
      }
      #expect(try String(contentsOfFile: finalizePath, encoding: .utf8).contains(#""--finalize""#))
      return
    }
    try #require(convertDocs.count == 1 && finalizeDocs.count == 1)
    let convert = try #require(convertDocs[0] as? [String: Any]), finalize = try #require(finalizeDocs[0] as? [String: Any])
    #expect(convert["apiVersion"] as? String == "batch/v1" && convert["kind"] as? String == "Job")
    #expect(finalize["apiVersion"] as? String == "batch/v1" && finalize["kind"] as? String == "Job")
    let spec = try #require(convert["spec"] as? [String: Any])
    #expect(spec["completionMode"] as? String == "Indexed")
    #expect(spec["completions"] as? Int == 8)
    #expect(spec["parallelism"] as? Int == 4)
    #expect(spec["backoffLimitPerIndex"] as? Int == 2)
    #expect(spec["maxFailedIndexes"] as? Int == 0)
    let pod = ((spec["template"] as? [String: Any])?["spec"] as? [String: Any]) ?? [:]
    #expect(pod["restartPolicy"] as? String == "Never")

    let (container, argv) = Self.container(convert)
    #expect(argv == ["ome2zarr", "convert", "$(INPUT)", "$(OUTPUT)", "--part", "auto/8", "--chunks", "16,64,64"])
    // The count in auto/N is the Job's completions.
    let part = argv.firstIndex(of: "--part").map { argv[$0 + 1] }
    #expect(part == "auto/\(spec["completions"] as? Int ?? -1)")
    let (finalContainer, finalArgv) = Self.container(finalize)
    #expect(finalArgv == ["ome2zarr", "convert", "$(INPUT)", "$(OUTPUT)", "--finalize", "--chunks", "16,64,64"])
    // The same options, image and environment (INPUT, OUTPUT, credentials) for both.
    #expect(Array(argv.dropFirst(6)) == Array(finalArgv.dropFirst(5)))
    #expect(container["image"] as? String == finalContainer["image"] as? String)
    let env = (container["env"] as? [[String: Any]]) ?? []
    #expect(env.compactMap { $0["name"] as? String }
      == ["INPUT", "OUTPUT", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"])
    let secrets = env.compactMap { (($0["valueFrom"] as? [String: Any])?["secretKeyRef"] as? [String: Any])?["name"] as? String }
    #expect(secrets == ["ome2zarr-s3", "ome2zarr-s3"])
    #expect(NSDictionary(dictionary: ["env": env]) == NSDictionary(dictionary: ["env": finalContainer["env"] ?? []]))
  }

  @Test func awsBatchDefinitionAndSubmitScriptRunThePartsThenFinalize() throws {
    let url = Self.recipes.appendingPathComponent("aws-batch/job-definition.json")
    let definition = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    #expect(definition["type"] as? String == "container")
    let container = try #require(definition["containerProperties"] as? [String: Any])
    #expect(container["command"] as? [String] == ["ome2zarr", "convert", "Ref::input", "Ref::output", "--part", "auto"])
    #expect((definition["parameters"] as? [String: String])?.keys.sorted() == ["input", "output"])
    let retry = try #require(definition["retryStrategy"] as? [String: Any])
    #expect(retry["attempts"] as? Int == 3)
    #expect(retry["evaluateOnExit"] as? [[String: String]] == [["onExitCode": "1", "action": "EXIT"]])
    let secretNames = (container["secrets"] as? [[String: String]])?.map { $0["name"] ?? "" }
    #expect(secretNames == ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"])

    // submit.sh against a stand-in `aws` that records its arguments (one per line) and answers a job id.
    let dir = try CLI.temporaryDirectory()
    let bin = dir.appendingPathComponent("bin")
    try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
    let fake = bin.appendingPathComponent("aws")
    try Data("""
      #!/bin/sh
      n=$(ls "$CALLS" | wc -l)
      printf '%s\\n' "$@" > "$CALLS/$n"
      echo "job-$n"

      """.utf8).write(to: fake)
    try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: fake.path)
    let calls = dir.appendingPathComponent("calls")
    try FileManager.default.createDirectory(at: calls, withIntermediateDirectories: true)
    var env = ProcessInfo.processInfo.environment
    env["PATH"] = bin.path + ":" + (env["PATH"] ?? "/usr/bin:/bin")
    env["CALLS"] = calls.path
    let submit = Self.recipes.appendingPathComponent("aws-batch/submit.sh").path
    let (input, output) = ("/data/in \"1\".tif", "s3://lab/out.ome.zarr")
    let r = try runProcess(submit, [input, output, "16", "--chunks", "16,64,64"], environment: env)
    #expect(r.status == 0, "\(r.stderrText)")
    #expect(r.stdoutText == "job-0 job-1\n")
    let argv = try (0..<2).map { i in
      try String(contentsOf: calls.appendingPathComponent("\(i)"), encoding: .utf8).split(separator: "\n").map(String.init)
    }
    let value = { (call: [String], option: String) -> String? in call.firstIndex(of: option).map { call[$0 + 1] } }
    let command = { (call: [String]) -> [String]? in
      let overrides = value(call, "--container-overrides").flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) }
      return (overrides as? [String: Any])?["command"] as? [String]
    }
    #expect(Array(argv[0].prefix(2)) == ["batch", "submit-job"])
    #expect(value(argv[0], "--array-properties") == "size=16")
    #expect(command(argv[0]) == ["ome2zarr", "convert", input, output, "--part", "auto", "--chunks", "16,64,64"])
    #expect(value(argv[1], "--depends-on") == "jobId=job-0")
    #expect(value(argv[1], "--array-properties") == nil)
    #expect(command(argv[1]) == ["ome2zarr", "convert", input, output, "--finalize", "--chunks", "16,64,64"])
    let strategy = value(argv[0], "--retry-strategy").flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) }
    #expect((strategy as? [String: Any])?["evaluateOnExit"] as? [[String: String]] == [["onExitCode": "1", "action": "EXIT"]])
    #expect(value(argv[1], "--retry-strategy") == value(argv[0], "--retry-strategy"))

    // AWS Batch arrays have at least 2 children; the Slurm script takes 1 but not 0.
    let one = try runProcess(submit, ["in.tif", "s3://lab/out.ome.zarr", "1"], environment: env)
    #expect(one.status == 2 && one.stderrText.contains("2 to 10000"), "\(one.stderrText)")
    let zero = try runProcess(Self.recipes.appendingPathComponent("slurm/submit.sh").path, ["in.tif", "out.zarr", "0"])
    #expect(zero.status == 2 && zero.stderrText.contains("PARTS must be"), "\(zero.stderrText)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: calls.path).count == 2)
  }

  @Test func daskDriverHelpNeedsNoDask() throws {
    let system = FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") ? "/usr/bin/python3" : nil
    let python = try #require(testPython ?? system, "no Python")
    let r = try runProcess(python, [Self.recipes.appendingPathComponent("dask/convert_dask.py").path, "--help"])
    #expect(r.status == 0, "\(r.stderrText)")
    #expect(r.stdoutText.contains("--scheduler ADDRESS"))
  }
}
