import Foundation
import TestSupport

/// Runs the Python peer driver (`Python/peers.py`) in the test venv.
///
/// The interpreter is `$OME2ZARR_PYTHON`, else `<package>/.venv/bin/python` (created by
/// `scripts/test`). Without it these tests fail: they exist to prove interoperability.
enum PythonPeers {
  static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Python/peers.py")

  /// Runs `peers.py` with `arguments`; returns stdout, throwing with stderr on failure.
  static func run(_ arguments: [String]) throws -> Data {
    guard let python = testPython else {
      throw PeerError(message: "no Python test venv: run scripts/test (or set OME2ZARR_PYTHON)")
    }
    let r = try runProcess(python, [script.path] + arguments)
    guard r.status == 0 else {
      throw PeerError(message: "peers.py \(arguments.first ?? "") failed (\(r.status)):\n" + String(r.stderrText.suffix(4000)))
    }
    return r.stdout
  }

  static func temporaryDirectory(_ name: String) throws -> URL { try makeTemporaryDirectory(name) }
}

struct PeerError: Error, CustomStringConvertible {
  var message: String
  var description: String { message }
}
