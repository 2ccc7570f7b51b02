import Foundation
import Testing
import ZarrIO

/// Runs the Python peer driver (`Python/peers.py`) in the test venv.
///
/// The interpreter is `$OME2ZARR_PYTHON`, else `<package>/.venv/bin/python` (created by
/// `scripts/test`). Without it these tests fail: they exist to prove interoperability.
enum PythonPeers {
  static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
  static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Python/peers.py")

  static var python: String? {
    if let p = ProcessInfo.processInfo.environment["OME2ZARR_PYTHON"], !p.isEmpty { return p }
    let venv = packageRoot.appendingPathComponent(".venv/bin/python").path
    return FileManager.default.isExecutableFile(atPath: venv) ? venv : nil
  }

  /// Runs `peers.py` with `arguments`; returns stdout, throwing with stderr on failure.
  static func run(_ arguments: [String]) throws -> Data {
    guard let python else {
      throw PeerError(message: "no Python test venv: run scripts/test (or set OME2ZARR_PYTHON)")
    }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: python)
    p.arguments = [script.path] + arguments
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    // Read both pipes fully before waiting, so a chatty child cannot block.
    nonisolated(unsafe) var errData = Data()
    let errReader = Thread { errData = err.fileHandleForReading.readDataToEndOfFile() }
    errReader.start()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    while !errReader.isFinished { usleep(1000) }
    guard p.terminationStatus == 0 else {
      throw PeerError(message: "peers.py \(arguments.first ?? "") failed (\(p.terminationStatus)):\n"
        + String(decoding: errData.suffix(4000), as: UTF8.self))
    }
    return outData
  }

  static func temporaryDirectory(_ name: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("ome-zarr-swift-\(name)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }
}

struct PeerError: Error, CustomStringConvertible {
  var message: String
  var description: String { message }
}
