import Foundation

/// A one-node Slurm cluster on loopback for tests (`slurm_cluster.sh` beside this file), with the state,
/// spool, logs, PID files and the generated `slurm.conf` in a temporary directory of its own.
///
///     let cluster = try SlurmCluster()
///     defer { cluster.stop() }
///     let array = try cluster.submit(wrap: "echo $SLURM_ARRAY_TASK_ID", options: ["--array=0-3"], directory: dir)
///     let jobs = try cluster.wait(jobs: [array], timeout: 30)   // [array: the four tasks' final states]
///
/// Starting one needs the Debian packages slurmctld, slurmd, slurm-client and munge (`scripts/setup --venv`
/// installs them) and root, or sudo without a password (``unavailableReason``). Every Slurm command and
/// daemon reads the generated configuration through `SLURM_CONF`: a `/etc/slurm/slurm.conf` of the
/// machine is never read or written. munge runs as the munge user with a socket of its own, the daemons
/// listen on free ports, and ``stop()`` (or deinit) cancels the jobs and ends the daemons by their PIDs.
public final class SlurmCluster: @unchecked Sendable {
  /// The directory of the configuration, state, spool, logs (`log/`) and PID files.
  public let directory: URL
  /// The generated `slurm.conf` (what `SLURM_CONF` names for every command run through the cluster).
  public let configuration: String
  /// How long starting took, until `sinfo` said the node was idle (seconds).
  public let startupTime: TimeInterval
  /// Whether the daemons are started (and stopped) through `sudo -n`, because this process is not root.
  public let usesSudo: Bool

  private let lock = NSLock()
  private var stopped = false

  /// Why a cluster cannot be started here, or nil when it can: slurmd starts every job as the user
  /// who submitted it, so the daemons need root, directly or through sudo without a password.
  public static var unavailableReason: String? {
    if getuid() == 0 { return nil }
    let sudo = try? runProcess("/usr/bin/env", ["sudo", "-n", "true"])
    if sudo?.status == 0 { return nil }
    return "a Slurm cluster needs root, or sudo without a password, to start slurmd (uid \(getuid()), no sudo -n)"
  }

  /// The script that starts and stops a cluster.
  public static var script: String { packageRoot.appendingPathComponent("Tests/TestSupport/slurm_cluster.sh").path }

  /// Starts a cluster in a new temporary directory and waits until its node is idle.
  /// - Throws: ``SlurmClusterError`` when it cannot be started (``unavailableReason``, missing packages,
  ///   daemons that do not come up: the message has the script's output and names the logs).
  public init() throws {
    if let reason = Self.unavailableReason { throw SlurmClusterError(message: reason) }
    directory = try makeTemporaryDirectory("slurm")
    configuration = directory.appendingPathComponent("slurm.conf").path
    usesSudo = getuid() != 0
    let start = Date()
    let r = try Self.control("start", directory: directory, sudo: usesSudo)
    startupTime = Date().timeIntervalSince(start)
    guard r.status == 0, r.stdoutText.contains("SLURM_CONF=") else {
      throw SlurmClusterError(message: "the Slurm cluster did not start (exit \(r.status)): \(r.stderrText)"
        + " (logs in \(directory.path)/log)")
    }
  }

  deinit { stop() }

  /// Cancels every job of the cluster and stops its daemons by PID (slurmd, slurmctld, then munged);
  /// waits until they have ended. Calling it again does nothing.
  public func stop() {
    lock.lock()
    defer { lock.unlock() }
    guard !stopped else { return }
    stopped = true
    _ = try? Self.control("stop", directory: directory, sudo: usesSudo)
  }

  /// The PIDs of the cluster's daemons that are running now, by name (`slurmctld`, `slurmd`, `munged`).
  public var runningDaemons: [String: Int32] {
    let files = ["slurmctld": "slurmctld.pid", "slurmd": "slurmd.pid", "munged": "munge/munged.pid"]
    var out: [String: Int32] = [:]
    for (name, file) in files {
      let url = directory.appendingPathComponent(file)
      guard let text = try? String(contentsOf: url, encoding: .utf8),
        let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0
      else { continue }
      // Running: /proc has it, and not as a zombie (an init that does not reap orphans leaves those).
      guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
      else { continue }
      let state = stat[stat.index(after: close)...].split(separator: " ").first
      if state != "Z" { out[name] = pid }
    }
    return out
  }

  /// The environment for a command that uses the cluster: `base` without the `SLURM_*` and `SBATCH_*`
  /// variables of any job this process may run in, plus `SLURM_CONF`, plus `extra`.
  public func environment(_ base: [String: String] = ProcessInfo.processInfo.environment,
                          extra: [String: String] = [:]) -> [String: String] {
    var env = base.filter { !$0.key.hasPrefix("SLURM_") && !$0.key.hasPrefix("SBATCH_") }
    env["SLURM_CONF"] = configuration
    return env.merging(extra) { _, new in new }
  }

  /// Runs `executable` (a Slurm command, or a script that calls them, such as a recipe's submit.sh)
  /// with ``environment(_:extra:)`` in `directory` (default: this process's current directory).
  public func run(_ executable: String, _ arguments: [String], extra: [String: String] = [:],
                  directory: URL? = nil) throws -> ProcessResult {
    try runProcess(executable, arguments, environment: environment(extra: extra), directory: directory)
  }

  /// Submits a batch script, `sbatch --parsable OPTIONS SCRIPT ARGUMENTS`, from `directory` (where the
  /// job runs and its output goes; default: this process's current directory) with
  /// ``environment(_:extra:)`` plus `environment` (sbatch passes its environment on to the job).
  /// - Returns: the job id (of an array job: the array's).
  /// - Throws: ``SlurmClusterError`` with sbatch's message when sbatch fails.
  public func submit(script: String, arguments: [String] = [], options: [String] = [],
                     environment: [String: String] = [:], directory: URL? = nil) throws -> Int {
    try sbatch(options + [script] + arguments, environment: environment, directory: directory)
  }

  /// Submits a shell command as a job, `sbatch --parsable OPTIONS --wrap COMMAND` (see
  /// ``submit(script:arguments:options:environment:directory:)``).
  /// - Returns: the job id (of an array job: the array's).
  public func submit(wrap command: String, options: [String] = [], environment: [String: String] = [:],
                     directory: URL? = nil) throws -> Int {
    try sbatch(options + ["--wrap", command], environment: environment, directory: directory)
  }

  private func sbatch(_ arguments: [String], environment: [String: String], directory: URL?) throws -> Int {
    let r = try run("/usr/bin/env", ["sbatch", "--parsable"] + arguments, extra: environment, directory: directory)
    // --parsable prints "<id>" or "<id>;<cluster>".
    let text = r.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    guard r.status == 0, let id = Int(text.split(separator: ";").first ?? "") else {
      throw SlurmClusterError(message: "sbatch \(arguments.joined(separator: " ")) failed (exit \(r.status)): "
        + r.stderrText + text)
    }
    return id
  }

  /// What `scontrol show job` says about job `id` now: one record, or one per array task (an array's
  /// pending tasks may share one record, `arrayTaskID` "0-3"), sorted by array task.
  /// - Throws: ``SlurmClusterError`` when scontrol fails, e.g. for a job that ended longer than
  ///   `MinJobAge` (300 s) ago.
  public func jobs(_ id: Int) throws -> [SlurmJob] {
    let r = try run("/usr/bin/env", ["scontrol", "show", "job", "--oneliner", String(id)])
    guard r.status == 0 else {
      throw SlurmClusterError(message: "scontrol show job \(id) failed (exit \(r.status)): \(r.stderrText)")
    }
    let records = r.stdoutText.split(separator: "\n").compactMap { SlurmJob(scontrolLine: String($0)) }
    let order = { (job: SlurmJob) in (job.arrayTaskID.flatMap { Int($0) } ?? -1, job.id) }
    return records.sorted { order($0) < order($1) }
  }

  /// Polls `scontrol show job` every 0.2 s until every job in `jobs` (and every task of an array) has
  /// ended, and returns each job's final records (``jobs(_:)``) by the id it was submitted as.
  /// - Throws: ``SlurmClusterError`` after `timeout` seconds, with the states so far and the slurmctld log's end.
  public func wait(jobs ids: [Int], timeout: TimeInterval) throws -> [Int: [SlurmJob]] {
    let deadline = Date().addingTimeInterval(timeout)
    while true {
      var states: [Int: [SlurmJob]] = [:]
      for id in ids { states[id] = try jobs(id) }
      if states.values.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isFinished) }) { return states }
      if Date() >= deadline {
        let summary = ids.map { id in
          "\(id): " + (states[id] ?? []).map { "\($0.id)[\($0.arrayTaskID ?? "-")] \($0.state) \($0.reason)" }
            .joined(separator: ", ")
        }.joined(separator: "; ")
        throw SlurmClusterError(message: "jobs not done after \(timeout) s: \(summary)\n" + logTail("slurmctld.log"))
      }
      usleep(200_000)
    }
  }

  /// The last lines of a log of the cluster (`slurmctld.log`, `slurmd.log`), for messages.
  public func logTail(_ name: String, lines: Int = 20) -> String {
    let url = directory.appendingPathComponent("log").appendingPathComponent(name)
    guard let text = try? String(contentsOf: url, encoding: .utf8) else { return "(no \(url.path))" }
    return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
  }

  /// Runs `slurm_cluster.sh ACTION DIRECTORY`, through `sudo -n` when `sudo`.
  private static func control(_ action: String, directory: URL, sudo: Bool) throws -> ProcessResult {
    let command = ["bash", script, action, directory.path]
    return try runProcess("/usr/bin/env", sudo ? ["sudo", "-n"] + command : command)
  }
}

/// One job, or one array task, as `scontrol show job --oneliner` describes it.
public struct SlurmJob: Sendable, Equatable {
  /// The job id (of an array task: the task's own id; the array's last task has the array's id).
  public var id: Int
  /// The array's job id, for an array task.
  public var arrayJobID: Int?
  /// The array task id ("3"), or the range of an array's tasks that are still pending together ("0-3").
  public var arrayTaskID: String?
  /// `JobState`: PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, TIMEOUT, ...
  public var state: String
  /// `Reason`: None, NonZeroExitCode, Dependency, DependencyNeverSatisfied, ...
  public var reason: String
  /// The exit code of the job's script (the first number of `ExitCode`).
  public var exitCode: Int32
  /// The signal that ended it, or 0 (the second number of `ExitCode`).
  public var signal: Int32

  /// The states a job does not leave.
  public static let finalStates: Set<String> = [
    "COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "PREEMPTED", "BOOT_FAIL", "DEADLINE",
  ]

  /// Whether the job has ended (its state is one of ``finalStates``).
  public var isFinished: Bool { Self.finalStates.contains(state) }

  /// A job with these fields.
  public init(id: Int, arrayJobID: Int? = nil, arrayTaskID: String? = nil, state: String, reason: String,
              exitCode: Int32 = 0, signal: Int32 = 0) {
    self.id = id
    self.arrayJobID = arrayJobID
    self.arrayTaskID = arrayTaskID
    self.state = state
    self.reason = reason
    self.exitCode = exitCode
    self.signal = signal
  }

  /// Parses one line of `scontrol show job --oneliner` (space-separated `Key=Value` fields; the first
  /// field of each key counts), or returns nil when it has no `JobId` or `JobState`.
  public init?(scontrolLine line: String) {
    var fields: [String: String] = [:]
    for token in line.split(separator: " ") {
      guard let eq = token.firstIndex(of: "=") else { continue }
      let key = String(token[..<eq])
      if fields[key] == nil { fields[key] = String(token[token.index(after: eq)...]) }
    }
    guard let id = fields["JobId"].flatMap({ Int($0) }), let state = fields["JobState"] else { return nil }
    let exit = (fields["ExitCode"] ?? "0:0").split(separator: ":").map { Int32($0) ?? 0 }
    self.init(id: id, arrayJobID: fields["ArrayJobId"].flatMap { Int($0) }, arrayTaskID: fields["ArrayTaskId"],
              state: state, reason: fields["Reason"] ?? "", exitCode: exit.first ?? 0, signal: exit.count > 1 ? exit[1] : 0)
  }
}

/// A Slurm cluster that could not be started or used.
public struct SlurmClusterError: Error, CustomStringConvertible {
  /// What failed, with the command's message.
  public var message: String
  /// The message.
  public var description: String { message }
}
