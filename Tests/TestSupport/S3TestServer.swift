import Foundation
import ZarrIO

/// A local S3 server for the tests (`s3_server.py`: moto behind a fault-injecting proxy, both on 127.0.0.1).
///
///     let server = try S3TestServer()
///     defer { server.stop() }
///     try server.createBucket("images")
///     let env = server.environment()   // AWS_ACCESS_KEY_ID, AWS_ENDPOINT_URL, ... for child processes
///
/// The server runs in the test venv's Python (`testPython`: `$OME2ZARR_PYTHON` or `<package>/.venv`).
/// Requests to `endpoint` pass through a proxy that can answer errors (`failNext`), refuse connections
/// (`goDown`, `dieAfter`) and come back on the same port with the same buckets (`comeUp`), and that counts
/// what it sees (`statistics`, `requestLog`). moto accepts any signature; the credentials are `testing`.
public final class S3TestServer: @unchecked Sendable {
  /// The access key ID of an unauthenticated server (moto accepts any).
  public static let defaultAccessKeyID = "testing"
  /// The secret access key of an unauthenticated server (moto checks no signature).
  public static let defaultSecretAccessKey = "testing"
  /// The region of `environment()`.
  public static let region = "us-east-1"

  /// `http://127.0.0.1:<port>`: the proxy, where faults apply and requests are counted.
  public let endpoint: String
  /// The proxy's port.
  public let port: Int
  /// moto itself, without the proxy (no faults, not counted): for setup and for benchmarks' floors.
  public let directEndpoint: String
  /// The server process's id.
  public let processIdentifier: Int32

  private let process: Process
  /// The access key ID to use: `testing`, or (authenticated) the key of the IAM user the server made.
  public let accessKeyID: String
  /// Its secret.
  public let secretAccessKey: String
  /// Whether the server checks credentials and signatures like AWS.
  public let authenticated: Bool
  /// The IAM role whose temporary credentials (STS `AssumeRoleWithWebIdentity` at ``endpoint``, any
  /// token) may read and write every bucket of an authenticated server.
  public let roleARN: String

  /// The server's stdin (commands; closing it stops the server) and stdout (one answer per command).
  private let channel: LineChannel

  /// Starts the server on free loopback ports; throws if the test venv or moto is missing.
  /// `authenticated`: moto checks every request like AWS (IAM access keys, SigV4 signatures); the
  /// server makes an IAM user with an access key (``accessKeyID``, ``secretAccessKey``) allowed `s3:*`.
  public init(authenticated: Bool = false) throws {
    guard let python = testPython else {
      throw S3TestServerError(message: "no Python test venv: run scripts/setup --venv (or set OME2ZARR_PYTHON)")
    }
    let script = packageRoot.appendingPathComponent("Tests/TestSupport/s3_server.py").path
    let p = Process()
    p.executableURL = URL(fileURLWithPath: python)
    p.arguments = [script] + (authenticated ? ["--auth"] : [])
    var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("AWS_") }
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    p.environment = env
    let input = Pipe(), output = Pipe()
    p.standardInput = input
    p.standardOutput = output
    // S3_SERVER_DEBUG=1 shows the server's errors (connections it ended) on the test's stderr.
    p.standardError = env["S3_SERVER_DEBUG"] == nil ? FileHandle.nullDevice : FileHandle.standardError
    // A write to the stdin of a server that has just ended must fail, not kill the tests.
    signal(SIGPIPE, SIG_IGN)
    try p.run()
    let channel = LineChannel(input: input, output: output)
    // The first line is the port; then `info` names moto's own port.
    guard let first = channel.readLine(), let port = Int(first),
      let info = try? channel.send(["info"], running: p),
      let json = try? JSONSerialization.jsonObject(with: Data(info.utf8)) as? [String: Any],
      let motoPort = json["moto_port"] as? Int, let keyID = json["access_key_id"] as? String,
      let secret = json["secret_access_key"] as? String, let role = json["role_arn"] as? String
    else {
      kill(p.processIdentifier, SIGKILL)
      p.waitUntilExit()
      throw S3TestServerError(message: "the test S3 server did not start (is moto installed in \(python)? see Tests/requirements.txt)")
    }
    process = p
    self.channel = channel
    processIdentifier = p.processIdentifier
    self.port = port
    endpoint = "http://127.0.0.1:\(port)"
    directEndpoint = "http://127.0.0.1:\(motoPort)"
    accessKeyID = keyID
    secretAccessKey = secret
    self.authenticated = authenticated
    roleARN = role
  }

  deinit { stop() }

  /// Stops the server (closes its stdin, then kills it if it has not ended within 2 s) and reaps it.
  public func stop() {
    channel.lock.lock()
    defer { channel.lock.unlock() }
    guard process.isRunning else { return }
    try? channel.input.fileHandleForWriting.close()
    let deadline = Date().addingTimeInterval(2)
    while process.isRunning && Date() < deadline { usleep(10_000) }
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    process.waitUntilExit()
  }

  /// The environment for a child process that should use this server: `base` without any `AWS_*`
  /// variable, plus the test credentials, region, `AWS_ENDPOINT_URL` (the proxy), `AWS_ALLOW_HTTP=true`
  /// (obstore), `AWS_EC2_METADATA_DISABLED=true`, and `AWS_CONFIG_FILE`/`AWS_SHARED_CREDENTIALS_FILE`
  /// pointing at `/dev/null` so that no profile of the machine's `~/.aws` leaks in.
  public func environment(_ base: [String: String] = ProcessInfo.processInfo.environment) -> [String: String] {
    var env = base.filter { !$0.key.hasPrefix("AWS_") }
    env["AWS_ACCESS_KEY_ID"] = accessKeyID
    env["AWS_SECRET_ACCESS_KEY"] = secretAccessKey
    env["AWS_REGION"] = Self.region
    env["AWS_DEFAULT_REGION"] = Self.region
    env["AWS_ENDPOINT_URL"] = endpoint
    env["AWS_ALLOW_HTTP"] = "true"
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    env["AWS_CONFIG_FILE"] = "/dev/null"
    env["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null"
    return env
  }

  /// A store configuration for this server (path-style, its credentials, credential source `source`).
  public func configuration(source: String = "the test") -> S3Configuration {
    S3Configuration(region: Self.region, endpoint: endpoint,
      credentials: S3Credentials(accessKeyID: accessKeyID, secretAccessKey: secretAccessKey), credentialSource: source)
  }

  /// Runs `executable` with `arguments` and `environment()` (plus `extra`) to completion.
  public func run(_ executable: String, _ arguments: [String], extra: [String: String] = [:]) throws -> ProcessResult {
    try runProcess(executable, arguments, environment: environment().merging(extra) { _, new in new })
  }

  // MARK: Buckets and objects (directly in moto: no fault applies, nothing is counted)

  /// Creates a bucket (names of 3 to 63 characters, S3 rules).
  public func createBucket(_ name: String) throws { try expectOK(command("bucket", name)) }

  /// Deletes every bucket and object and clears the faults (not the statistics).
  public func reset() throws { try expectOK(command("reset")) }

  /// Every object under `prefix`, in key order.
  public func objects(bucket: String, prefix: String = "") throws -> [S3TestObject] {
    let answer = try command("objects", bucket, prefix)
    guard let rows = try JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [[Any]] else {
      throw S3TestServerError(message: "objects: unexpected answer \(answer.prefix(200))")
    }
    return try rows.map { row in
      guard row.count == 3, let key = row[0] as? String, let size = row[1] as? Int, let etag = row[2] as? String else {
        throw S3TestServerError(message: "objects: unexpected row \(row)")
      }
      return S3TestObject(key: key, size: size, etag: etag)
    }
  }

  /// Writes every object under `prefix` to `directory/<key without prefix and leading '/'>`; returns the count.
  @discardableResult
  public func download(bucket: String, prefix: String, to directory: URL) throws -> Int {
    let answer = try command("download", bucket, prefix, directory.path)
    guard let n = Int(answer) else { throw S3TestServerError(message: "download: \(answer)") }
    return n
  }

  /// Stores `data` as `key`.
  public func put(bucket: String, key: String, data: Data) throws {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("s3-test-put-\(UUID().uuidString)")
    try data.write(to: file)
    defer { try? FileManager.default.removeItem(at: file) }
    try expectOK(command("put", bucket, key, file.path))
  }

  // MARK: Faults (at the proxy)

  /// Answers the next `n` requests with `status` and an S3 error body `<Code>code</Code>` (no body for HEAD).
  public func failNext(_ n: Int, status: Int = 503, code: String = "SlowDown") throws {
    try expectOK(command("fail", String(n), String(status), code))
  }

  /// Stops listening (new connections are refused) and resets the open connections, as a dead server.
  public func goDown() throws { try expectOK(command("down")) }

  /// Listens again on the same port; moto kept every bucket and object.
  public func comeUp() throws { try expectOK(command("up")) }

  /// Forwards `n` more requests, then goes down: the next request's connection is reset without an answer.
  public func dieAfter(_ n: Int) throws { try expectOK(command("die-after", String(n))) }

  // MARK: Counters (at the proxy)

  /// What reached the proxy since it started or since `clearStatistics()`.
  public func statistics() throws -> S3TestServerStatistics {
    let answer = try command("stats")
    guard let j = try JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any],
      let requests = j["requests"] as? Int, let byMethod = j["by_method"] as? [String: Int],
      let byStatus = j["by_status"] as? [String: Int], let bytesIn = j["bytes_in"] as? Int,
      let bytesOut = j["bytes_out"] as? Int, let faults = j["faults"] as? Int, let resets = j["resets"] as? Int
    else { throw S3TestServerError(message: "stats: unexpected answer \(answer.prefix(200))") }
    var statuses: [Int: Int] = [:]
    for (k, v) in byStatus { if let code = Int(k) { statuses[code] = v } }
    return S3TestServerStatistics(
      requests: requests, byMethod: byMethod, byStatus: statuses, bytesIn: bytesIn, bytesOut: bytesOut,
      faults: faults, resets: resets)
  }

  /// Every request that reached the proxy, in arrival order (status 0: reset without an answer).
  public func requestLog() throws -> [S3TestRequest] {
    let answer = try command("log")
    guard let rows = try JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [[Any]] else {
      throw S3TestServerError(message: "log: unexpected answer \(answer.prefix(200))")
    }
    return rows.compactMap { row in
      guard row.count == 3, let m = row[0] as? String, let p = row[1] as? String, let s = row[2] as? Int else { return nil }
      return S3TestRequest(method: m, path: p, status: s)
    }
  }

  /// Zeroes the counters and empties the request log.
  public func clearStatistics() throws { try expectOK(command("clear-stats")) }

  // MARK: The command channel

  private func expectOK(_ answer: String) throws {
    guard answer == "ok" else { throw S3TestServerError(message: answer) }
  }

  /// Sends one command and returns its one-line answer; an `error ...` answer throws.
  private func command(_ words: String...) throws -> String {
    try channel.send(words, running: process)
  }
}

/// The command channel of `s3_server.py`: percent-encoded words separated by spaces, one line per command,
/// one line per answer.
private final class LineChannel: @unchecked Sendable {
  let input: Pipe
  let output: Pipe
  let lock = NSLock()
  private var buffer = Data()

  init(input: Pipe, output: Pipe) {
    self.input = input
    self.output = output
  }

  func send(_ words: [String], running process: Process) throws -> String {
    let line = words.map(Self.encodeWord).joined(separator: " ") + "\n"
    lock.lock()
    defer { lock.unlock() }
    guard process.isRunning else { throw S3TestServerError(message: "the test S3 server has stopped") }
    try input.fileHandleForWriting.write(contentsOf: Data(line.utf8))
    guard let answer = readLine() else { throw S3TestServerError(message: "the test S3 server ended") }
    if answer.hasPrefix("error ") { throw S3TestServerError(message: "\(words.first ?? ""): " + answer.dropFirst(6)) }
    return answer
  }

  private static func encodeWord(_ word: String) -> String {
    var out = ""
    for byte in word.utf8 {
      if byte <= 0x20 || byte == UInt8(ascii: "%") || byte >= 0x7F {
        out += String(format: "%%%02X", byte)
      } else {
        out.append(Character(Unicode.Scalar(byte)))
      }
    }
    return out
  }

  /// The next line of the server's stdout, without its newline; nil at the end of the stream.
  func readLine() -> String? {
    while true {
      if let nl = buffer.firstIndex(of: 10) {
        let line = String(decoding: buffer[buffer.startIndex..<nl], as: UTF8.self)
        buffer = Data(buffer[(nl + 1)...])
        return line
      }
      let more = output.fileHandleForReading.availableData
      if more.isEmpty { return nil }
      buffer.append(more)
    }
  }
}

/// One object of a test bucket.
public struct S3TestObject: Sendable, Hashable {
  /// The full key, prefix included.
  public var key: String
  /// Its size in bytes.
  public var size: Int
  /// With its quotes, as S3 sends it (`"<md5 hex>"`, or `"<hex>-<parts>"` after a multipart upload).
  public var etag: String

  /// An object with these values (to compare with `objects(bucket:prefix:)`).
  public init(key: String, size: Int, etag: String) {
    self.key = key
    self.size = size
    self.etag = etag
  }
}

/// What reached the proxy of an `S3TestServer`.
public struct S3TestServerStatistics: Sendable, Equatable {
  /// Requests received, including those answered by a fault or reset.
  public var requests: Int
  /// Requests by HTTP method.
  public var byMethod: [String: Int]
  /// Answers by status (0: reset without an answer).
  public var byStatus: [Int: Int]
  /// Request body bytes received.
  public var bytesIn: Int
  /// Response body bytes sent.
  public var bytesOut: Int
  /// Requests answered by an injected error (`failNext`).
  public var faults: Int
  /// Requests whose connection was reset without an answer (`dieAfter`, `goDown`).
  public var resets: Int

  /// Counters with these values (to compare with `statistics()`).
  public init(
    requests: Int, byMethod: [String: Int], byStatus: [Int: Int], bytesIn: Int, bytesOut: Int, faults: Int, resets: Int
  ) {
    self.requests = requests
    self.byMethod = byMethod
    self.byStatus = byStatus
    self.bytesIn = bytesIn
    self.bytesOut = bytesOut
    self.faults = faults
    self.resets = resets
  }
}

/// One request that reached the proxy of an `S3TestServer`.
public struct S3TestRequest: Sendable, Hashable {
  /// The HTTP method.
  public var method: String
  /// The request target as sent: the path with its query (`/bucket/key?partNumber=1&uploadId=...`).
  public var path: String
  /// The status answered (0: reset without an answer).
  public var status: Int

  /// A request with these values (to compare with `requestLog()`).
  public init(method: String, path: String, status: Int) {
    self.method = method
    self.path = path
    self.status = status
  }
}

/// A failure of the test S3 server (it did not start, or a command failed).
public struct S3TestServerError: Error, CustomStringConvertible {
  /// What failed, with the server's answer.
  public var message: String
  /// The message.
  public var description: String { message }
}

/// The elements of `region` of a C-order array of `shape`, in C order: the expected values of a
/// region read.
public func cOrderRegion<T>(_ values: [T], shape: [Int], _ region: [Range<Int>]) -> [T] {
  var out: [T] = []
  var index = region.map(\.lowerBound)
  guard !region.contains(where: \.isEmpty) else { return [] }
  let last = shape.count - 1
  while true {
    var base = 0
    for d in 0..<last { base = base * shape[d] + index[d] }
    base = base * shape[last]
    out.append(contentsOf: values[(base + region[last].lowerBound)..<(base + region[last].upperBound)])
    var d = last - 1
    while d >= 0 {
      index[d] += 1
      if index[d] < region[d].upperBound { break }
      index[d] = region[d].lowerBound
      d -= 1
    }
    if d < 0 { break }
  }
  return out
}
