import ZarrIO

/// How serious a validation finding is: an `error` breaks a MUST, a `warning` a SHOULD.
public enum Severity: String, Sendable, Hashable, Comparable {
  /// A MUST of the specification is broken (a SHOULD too, in strict mode).
  case error
  /// A SHOULD of the specification is not followed.
  case warning

  /// Orders errors before warnings.
  public static func < (a: Severity, b: Severity) -> Bool { a == .error && b == .warning }
}

/// One problem found by the validator.
public struct Finding: Sendable, Hashable, CustomStringConvertible {
  /// A stable identifier of the rule (`"axes.order"`, `"level.ndim"`); see ``ValidationRule``.
  public var rule: String
  /// Whether the finding breaks a MUST (`error`) or a SHOULD (`warning`).
  public var severity: Severity
  /// The store path of the node (`""` for the root, `"plate/A/1/0"`).
  public var path: String
  /// A JSON pointer into that node's OME metadata (`"/multiscales/0/axes/2"`); `""` for the whole node.
  public var pointer: String
  /// A sentence a person can act on.
  public var message: String

  /// Creates a finding of `rule` at `pointer` in the node at `path`.
  public init(rule: String, severity: Severity, path: String, pointer: String, message: String) {
    self.rule = rule
    self.severity = severity
    self.path = path
    self.pointer = pointer
    self.message = message
  }

  /// One line: `severity [rule] message (at pointer)`.
  public var description: String {
    "\(severity.rawValue) [\(rule)] \(message)" + (pointer.isEmpty ? "" : " (at \(pointer))")
  }

  /// `{"rule", "severity", "path", "pointer", "message"}`.
  public var json: JSONValue {
    ["rule": .string(rule), "severity": .string(severity.rawValue), "path": .string(path),
     "pointer": .string(pointer), "message": .string(message)]
  }
}

/// The result of validating a node and everything below it.
public struct ValidationReport: Sendable {
  /// The NGFF version of the top node (`nil` when it has none).
  public var version: NGFFVersion?
  /// The kind of the top node.
  public var kind: OMENodeKind
  /// Every finding, in the order the hierarchy was walked.
  public var findings: [Finding]
  /// How many nodes were checked.
  public var nodesChecked: Int

  /// Valid when no finding is an error (warnings allowed).
  public var isValid: Bool { !findings.contains { $0.severity == .error } }
  /// The findings that are errors.
  public var errors: [Finding] { findings.filter { $0.severity == .error } }
  /// The findings that are warnings.
  public var warnings: [Finding] { findings.filter { $0.severity == .warning } }

  /// `{"valid": bool, "version": ..., "kind": ..., "findings": [...]}`.
  public var json: JSONValue {
    ["valid": .bool(isValid), "version": version.map { .string($0.description) } ?? .null,
     "kind": .string(kind.rawValue), "nodes_checked": .int(Int64(nodesChecked)),
     "findings": .array(findings.map(\.json))]
  }
}

/// Collects the findings about one node.
struct FindingSink {
  let path: String
  var findings: [Finding] = []
  /// Turns warnings of rules marked strict into errors.
  let strict: Bool
  /// The rule and pointer of every error so far, so a repeat is found in constant time.
  private var errorPlaces: Set<[String]> = []

  init(path: String, strict: Bool) {
    self.path = path
    self.strict = strict
  }

  mutating func error(_ rule: String, _ pointer: String, _ message: String) {
    // One problem, one finding: a rule reached twice for the same place is reported once.
    guard errorPlaces.insert([rule, pointer]).inserted else { return }
    findings.append(Finding(rule: rule, severity: .error, path: path, pointer: pointer, message: message))
  }

  mutating func warning(_ rule: String, _ pointer: String, _ message: String) {
    findings.append(Finding(rule: rule, severity: .warning, path: path, pointer: pointer, message: message))
  }

  /// A SHOULD of the strict schemas: a warning, or an error with `--strict`.
  mutating func should(_ rule: String, _ pointer: String, _ message: String) {
    findings.append(Finding(rule: rule, severity: strict ? .error : .warning, path: path, pointer: pointer, message: message))
  }
}
