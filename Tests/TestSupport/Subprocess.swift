import Foundation

/// What a finished child process left.
public struct ProcessResult: Sendable {
  public var status: Int32
  public var stdout: Data
  public var stderr: Data

  public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
  public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}

/// Runs `executable` with `arguments` (and `environment`, else this process's; in `directory`, else this
/// process's current directory) to completion, collecting both output streams; the child's stdin is empty.
public func runProcess(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                       directory: URL? = nil) throws -> ProcessResult {
  let p = Process()
  p.executableURL = URL(fileURLWithPath: executable)
  p.arguments = arguments
  if let environment { p.environment = environment }
  if let directory { p.currentDirectoryURL = directory }
  p.standardInput = FileHandle.nullDevice
  let out = Pipe(), err = Pipe()
  p.standardOutput = out
  p.standardError = err
  try p.run()
  // Drain stderr on another thread so that a chatty child can never block on a full pipe.
  nonisolated(unsafe) var errData = Data()
  let reader = Thread { errData = err.fileHandleForReading.readDataToEndOfFile() }
  reader.start()
  let outData = out.fileHandleForReading.readDataToEndOfFile()
  p.waitUntilExit()
  while !reader.isFinished { usleep(1000) }
  return ProcessResult(status: p.terminationStatus, stdout: outData, stderr: errData)
}

/// Starts `executable` with `arguments` (and `environment`, else this process's) without waiting;
/// stdin is empty and the output discarded (for runs that go on in the background, or get killed).
public func startProcess(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> Process {
  let p = Process()
  p.executableURL = URL(fileURLWithPath: executable)
  p.arguments = arguments
  if let environment { p.environment = environment }
  p.standardInput = FileHandle.nullDevice
  p.standardOutput = FileHandle.nullDevice
  p.standardError = FileHandle.nullDevice
  try p.run()
  return p
}

/// Starts `executable` with `arguments` and waits for the first line of its output (a server's
/// port or URL); returns the running process, its stdin and that line. Standard error goes to
/// `errors` (created empty) when given, else nowhere; `environment` replaces this process's.
public func startLineProcess(_ executable: String, _ arguments: [String], errors: URL? = nil,
                             environment: [String: String]? = nil) throws -> (process: Process, input: Pipe, line: String)
{
  let p = Process()
  p.executableURL = URL(fileURLWithPath: executable)
  p.arguments = arguments
  if let environment { p.environment = environment }
  let out = Pipe(), input = Pipe()
  p.standardOutput = out
  p.standardInput = input
  if let errors {
    _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
    p.standardError = try FileHandle(forWritingTo: errors)
  } else {
    p.standardError = FileHandle.nullDevice
  }
  try p.run()
  var line = Data()
  while true {
    let byte = out.fileHandleForReading.readData(ofLength: 1)
    if byte.isEmpty || byte == Data([10]) { break }
    line.append(byte)
  }
  return (p, input, String(decoding: line, as: UTF8.self))
}

/// Starts a local test server (`python3 SCRIPT ARGUMENTS...`) that prints its port on the first line
/// of its output and runs until its stdin closes; returns the process, its stdin and the port.
public func startPortServer(_ arguments: [String], what: String) throws -> (process: Process, input: Pipe, port: Int) {
  let (p, input, line) = try startLineProcess("/usr/bin/env", ["python3"] + arguments)
  guard let port = Int(line) else {
    p.terminate()
    throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "the test \(what) did not start"])
  }
  return (p, input, port)
}

/// Stops a server started by ``startPortServer(_:what:)``: closes its stdin, kills it, waits.
public func stopPortServer(_ process: Process, input: Pipe) {
  guard process.isRunning else { return }
  try? input.fileHandleForWriting.close()
  kill(process.processIdentifier, SIGKILL)
  process.waitUntilExit()
}

/// A new empty directory under this test process's directory in the system's temporary directory.
///
/// Every directory of a test run lives in `ome-zarr-swift-tests-PID`, which is removed when the process
/// exits (kept with `OME2ZARR_KEEP_TEMP=1`, to look at what a failing test wrote).
public func makeTemporaryDirectory(_ label: String) throws -> URL {
  let url = testRunDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return url
}

/// This test process's directory for temporary files, created on first use, removed at exit.
private let testRunDirectory: URL = {
  if ProcessInfo.processInfo.environment["OME2ZARR_KEEP_TEMP"] != "1" {
    atexit { try? FileManager.default.removeItem(at: testRunDirectoryURL()) }
  }
  return testRunDirectoryURL()
}()

/// Where ``testRunDirectory`` is: one per process.
private func testRunDirectoryURL() -> URL {
  FileManager.default.temporaryDirectory.appendingPathComponent("ome-zarr-swift-tests-\(getpid())")
}

/// The package's root directory (for files the tests use, such as Schemas/).
public let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .deletingLastPathComponent().deletingLastPathComponent()

/// The Python of the test venv: `$OME2ZARR_PYTHON`, else `<package>/.venv/bin/python` if present.
public var testPython: String? {
  if let p = ProcessInfo.processInfo.environment["OME2ZARR_PYTHON"], !p.isEmpty { return p }
  let venv = packageRoot.appendingPathComponent(".venv/bin/python").path
  return FileManager.default.isExecutableFile(atPath: venv) ? venv : nil
}

/// Every file below a directory with its bytes, by relative path (to compare output trees).
public func fileTree(_ root: String) throws -> [String: Data] {
  var out: [String: Data] = [:]
  let e = FileManager.default.enumerator(atPath: root)
  while let rel = e?.nextObject() as? String {
    var isDir: ObjCBool = false
    let full = (root as NSString).appendingPathComponent(rel)
    if FileManager.default.fileExists(atPath: full, isDirectory: &isDir), !isDir.boolValue {
      out[rel] = try Data(contentsOf: URL(fileURLWithPath: full))
    }
  }
  return out
}

/// The keys whose values differ between two trees (or that only one has), sorted: a short
/// failure message where comparing whole trees would print every key.
public func differingKeys<V: Equatable>(_ a: [String: V], _ b: [String: V]) -> [String] {
  Set(a.keys).union(b.keys).filter { a[$0] != b[$0] }.sorted()
}

/// The RFC-5 conformance runner `oztc`: `$OME2ZARR_OZTC`, else `<package>/.venv-rfc5/bin/oztc` if present.
public var testOZTC: String? {
  if let p = ProcessInfo.processInfo.environment["OME2ZARR_OZTC"], !p.isEmpty { return p }
  let venv = packageRoot.appendingPathComponent(".venv-rfc5/bin/oztc").path
  return FileManager.default.isExecutableFile(atPath: venv) ? venv : nil
}
