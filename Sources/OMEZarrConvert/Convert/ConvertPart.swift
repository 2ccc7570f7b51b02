import Foundation

/// One part of a conversion split into `count` independent parts (`--part I/N`, numbered from 0
/// as array task ids usually are), or the part a batch engine's array task stands for (`--part auto`).
public struct ConvertPart: Sendable, Hashable, CustomStringConvertible {
  /// The part's number, `0 ..< count`.
  public let index: Int
  /// How many parts the conversion is split into.
  public let count: Int
  /// Where the numbers came from: `--part` or the engine's variables (for messages).
  public let source: String

  /// Part `index` of `count`.
  /// - Throws: ``ConvertError`` (`.invalidArgument`) unless `0 <= index < count`.
  public init(index: Int, count: Int, source: String = "--part") throws(ConvertError) {
    guard count >= 1 else { throw ConvertError(.invalidArgument, "\(source): the number of parts must be at least 1, not \(count)") }
    guard (0..<count).contains(index) else {
      throw ConvertError(.invalidArgument, "\(source): part \(index) does not exist; parts are numbered 0 to \(count - 1)")
    }
    self.index = index
    self.count = count
    self.source = source
  }

  /// `index/count`.
  public var description: String { "\(index)/\(count)" }

  /// The same part (whatever the numbers' source).
  public static func == (a: ConvertPart, b: ConvertPart) -> Bool { a.index == b.index && a.count == b.count }

  /// Hashes the index and the count.
  public func hash(into hasher: inout Hasher) {
    hasher.combine(index)
    hasher.combine(count)
  }

  /// Parses `I/N`, `auto` or `auto/N` (`N` for engines that do not say how many tasks there are),
  /// taking `auto` from the array-task variables in `environment`.
  /// - Throws: ``ConvertError`` (`.invalidArgument`) for malformed text, numbers out of range, or
  ///   `auto` when no engine's variables are set (the message lists what is looked for).
  public static func parse(_ text: String, environment: [String: String]) throws(ConvertError) -> ConvertPart {
    let pieces = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
    if pieces.first == "auto" {
      guard pieces.count <= 2 else { throw malformed(text) }
      var given: Int? = nil
      if pieces.count == 2 {
        guard let n = Int(pieces[1]) else { throw malformed(text) }
        given = n
      }
      return try fromEngine(environment, count: given)
    }
    guard pieces.count == 2, let i = Int(pieces[0]), let n = Int(pieces[1]) else { throw malformed(text) }
    return try ConvertPart(index: i, count: n)
  }

  private static func malformed(_ text: String) -> ConvertError {
    ConvertError(.invalidArgument, "--part '\(text)': expected I/N (e.g. 0/8, numbered from 0), auto, or auto/N")
  }

  /// The variables each batch engine sets in an array task, in the order they are tried.
  public static let engineVariables = [
    "SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX", "BATCH_TASK_INDEX", "LSB_JOBINDEX",
    "SGE_TASK_ID",
  ]

  /// The part of the array task this process runs in, from the engine's variables; `count` is the
  /// number of parts when the engine does not tell it (Kubernetes, and LSF without an end index).
  /// - Throws: ``ConvertError`` (`.invalidArgument`) naming the variables when none is set, a value is
  ///   not a number, or the count is unknown or contradicts `count`.
  public static func fromEngine(_ env: [String: String], count given: Int?) throws(ConvertError) -> ConvertPart {
    func number(_ name: String) throws(ConvertError) -> Int? {
      guard let text = env[name]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
      guard let n = Int(text) else { throw ConvertError(.invalidArgument, "--part auto: \(name)='\(text)' is not a number") }
      return n
    }
    /// Index and count of ids `first, first + step, ... <= last` (1-based engines start at 1).
    func stepped(_ name: String, id: Int, first: Int, last: Int?, step: Int, engine: String) throws(ConvertError) -> ConvertPart {
      guard step >= 1 else { throw ConvertError(.invalidArgument, "--part auto: \(engine) array step \(step) is not positive") }
      guard id >= first, (id - first) % step == 0 else {
        throw ConvertError(.invalidArgument, "--part auto: \(name)=\(id) is not one of the array's ids (from \(first) by \(step))")
      }
      let count = last.map { ($0 - first) / step + 1 }
      return try resolve(index: (id - first) / step, count: count, engine: engine, variable: name)
    }
    func resolve(index: Int, count: Int?, engine: String, variable: String) throws(ConvertError) -> ConvertPart {
      let source = "--part auto (\(engine): \(variable))"
      switch (count, given) {
      case (let c?, let g?) where c != g:
        throw ConvertError(.invalidArgument, "\(source): the array has \(c) tasks but --part auto/\(g) says \(g) parts")
      case (let c?, _), (nil, let c?):
        return try ConvertPart(index: index, count: c, source: source)
      case (nil, nil):
        throw ConvertError(.invalidArgument, "\(source): \(engine) does not tell how many tasks the array has; use --part auto/N")
      }
    }

    if let id = try number("SLURM_ARRAY_TASK_ID") {
      // --array=0-31:2 gives ids 0, 2, ..., 30: 16 parts.
      let first = try number("SLURM_ARRAY_TASK_MIN") ?? 0
      let step = try number("SLURM_ARRAY_TASK_STEP") ?? 1
      let count = try number("SLURM_ARRAY_TASK_COUNT")
      let last = try number("SLURM_ARRAY_TASK_MAX") ?? count.map { first + ($0 - 1) * max(step, 1) }
      return try stepped("SLURM_ARRAY_TASK_ID", id: id, first: first, last: last, step: step, engine: "Slurm")
    }
    if let index = try number("JOB_COMPLETION_INDEX") {
      return try resolve(index: index, count: nil, engine: "Kubernetes Indexed Job", variable: "JOB_COMPLETION_INDEX")
    }
    if let index = try number("AWS_BATCH_JOB_ARRAY_INDEX") {
      return try resolve(index: index, count: try number("AWS_BATCH_JOB_ARRAY_SIZE"), engine: "AWS Batch",
        variable: "AWS_BATCH_JOB_ARRAY_INDEX")
    }
    if let index = try number("BATCH_TASK_INDEX") {
      return try resolve(index: index, count: try number("BATCH_TASK_COUNT"), engine: "Google Cloud Batch", variable: "BATCH_TASK_INDEX")
    }
    if let id = try number("LSB_JOBINDEX") {
      // LSF job arrays are numbered from 1 (job[1-N]); LSB_JOBINDEX_END and _STEP when set.
      return try stepped("LSB_JOBINDEX", id: id, first: 1, last: try number("LSB_JOBINDEX_END"),
        step: try number("LSB_JOBINDEX_STEP") ?? 1, engine: "LSF")
    }
    if let id = try number("SGE_TASK_ID") {
      // Grid Engine task ids start at SGE_TASK_FIRST (1 by default).
      return try stepped("SGE_TASK_ID", id: id, first: try number("SGE_TASK_FIRST") ?? 1, last: try number("SGE_TASK_LAST"),
        step: try number("SGE_TASK_STEPSIZE") ?? 1, engine: "Grid Engine")
    }
    throw ConvertError(.invalidArgument,
      "--part auto: no array-task variable is set (looked for \(engineVariables.joined(separator: ", "))); "
        + "run inside an array job, or give --part I/N")
  }
}
