import Foundation
import Testing
import TestSupport
import ZarrIO

/// The Python scripts of the CLI tests (`Tests/CLITests/Python`), run in the test venv.
enum PythonChecks {
  /// Runs `Python/SCRIPT MODE ARGUMENTS...` and parses the JSON it prints.
  static func run(_ script: String, _ arguments: [String]) throws -> JSONValue {
    let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Python/" + script).path
    let python = try #require(testPython, "no Python test venv: run scripts/setup --venv")
    let r = try runProcess(python, [path] + arguments)
    try #require(r.status == 0, "\(script) \(arguments): \(r.stderrText)")
    return try JSONValue.parse(Array(r.stdoutText.utf8))
  }
}
