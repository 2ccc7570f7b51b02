import Foundation
import Testing
import TestSupport

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// Runs the S3 peer driver (`Python/s3_peers.py`) in the test venv against an `S3TestServer`.
enum S3Peers {
  static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Python/s3_peers.py")

  /// Runs `s3_peers.py` with `arguments` and the server's environment; returns stdout, throwing with stderr on failure.
  static func run(_ arguments: [String], server: S3TestServer) throws -> Data {
    guard let python = testPython else {
      throw PeerError(message: "no Python test venv: run scripts/setup --venv (or set OME2ZARR_PYTHON)")
    }
    let r = try server.run(python, [script.path] + arguments)
    guard r.status == 0 else {
      throw PeerError(message: "s3_peers.py \(arguments.first ?? "") failed (\(r.status)):\n" + String(r.stderrText.suffix(4000)))
    }
    return r.stdout
  }

  /// Runs a subcommand that prints one JSON object.
  static func json(_ arguments: [String], server: S3TestServer) throws -> [String: Any] {
    let out = try run(arguments, server: server)
    guard let object = try JSONSerialization.jsonObject(with: out) as? [String: Any] else {
      throw PeerError(message: "s3_peers.py \(arguments.first ?? ""): not a JSON object: \(String(decoding: out, as: UTF8.self))")
    }
    return object
  }
}

/// The S3 test infrastructure itself: the moto server behind its proxy, the faults, and the Python peers.
@Suite struct S3PeerServerTests {
  /// The peers' known array: uint16 (37, 70, 65) holding 0, 1, 2, ... wrapped at 65536, in C order.
  static let knownShape = [37, 70, 65]
  /// SHA-256 of its little-endian C-order bytes (s3_peers.py expected).
  static let knownSHA256 = "30348ef6766426ef45417da9733b1a15d07e46aa852ab2b47fffab7dbe8907d2"
  /// The sum of its elements: two full cycles 0...65535 and then 0...37277.
  static let knownSum = 4_989_707_763

  /// A request moto accepts as signed (it checks no signature).
  static func request(_ server: S3TestServer, _ path: String, method: String = "GET", body: Data? = nil) -> URLRequest {
    var r = URLRequest(url: URL(string: server.endpoint + path)!)
    r.httpMethod = method
    r.httpBody = body
    r.setValue(
      "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00",
      forHTTPHeaderField: "Authorization")
    r.setValue("UNSIGNED-PAYLOAD", forHTTPHeaderField: "x-amz-content-sha256")
    r.setValue("20260101T000000Z", forHTTPHeaderField: "x-amz-date")
    return r
  }

  static func session() -> URLSession {
    let config = URLSessionConfiguration.ephemeral
    config.timeoutIntervalForRequest = 20
    return URLSession(configuration: config)
  }

  /// Status and body of a request, or the error it failed with.
  static func send(_ session: URLSession, _ request: URLRequest) async -> Result<(Int, String), Error> {
    do {
      let (data, response) = try await session.data(for: request)
      return .success(((response as? HTTPURLResponse)?.statusCode ?? -1, String(decoding: data, as: UTF8.self)))
    } catch {
      return .failure(error)
    }
  }

  @Test func serverStartsOnLoopbackCreatesBucketsAndStores() throws {
    let start = Date()
    let server = try S3TestServer()
    defer { server.stop() }
    let seconds = Date().timeIntervalSince(start)
    #expect(seconds < 30, "the server took \(seconds) s to start")
    #expect(server.endpoint == "http://127.0.0.1:\(server.port)")
    #expect(server.directEndpoint.hasPrefix("http://127.0.0.1:"))
    #expect(server.directEndpoint != server.endpoint)

    #if os(Linux)
      // Both listening sockets (proxy and moto) are bound to 127.0.0.1 only.
      let motoPort = Int(server.directEndpoint.split(separator: ":").last ?? "") ?? -1
      let table = try String(contentsOfFile: "/proc/net/tcp", encoding: .utf8)
      for port in [server.port, motoPort] {
        let hexPort = String(format: "%04X", port)
        var listening: [String] = []
        for line in table.split(separator: "\n") {
          // sl local_address rem_address st ...; st 0A is LISTEN.
          let fields = line.split(separator: " ").map(String.init)
          if fields.count > 3, fields[1].hasSuffix(":" + hexPort), fields[3] == "0A" { listening.append(fields[1]) }
        }
        #expect(listening == ["0100007F:" + hexPort], "port \(port) listens on \(listening)")
      }
      let table6 = (try? String(contentsOfFile: "/proc/net/tcp6", encoding: .utf8)) ?? ""
      #expect(!table6.contains(":" + String(format: "%04X", server.port) + " "))
    #endif

    try server.createBucket("alpha")
    #expect(try server.objects(bucket: "alpha") == [])
    #expect(throws: S3TestServerError.self) { try server.createBucket("ab") }  // too short for S3
    try server.put(bucket: "alpha", key: "dir/hello world.txt", data: Data("hello".utf8))
    try server.put(bucket: "alpha", key: "other", data: Data(count: 3))
    #expect(
      try server.objects(bucket: "alpha", prefix: "dir/") == [
        S3TestObject(key: "dir/hello world.txt", size: 5, etag: "\"5d41402abc4b2a76b9719d911017c592\"")
      ])
    #expect(try server.objects(bucket: "alpha").map(\.key) == ["dir/hello world.txt", "other"])
    let dir = try makeTemporaryDirectory("s3-download")
    defer { try? FileManager.default.removeItem(at: dir) }
    #expect(try server.download(bucket: "alpha", prefix: "dir", to: dir) == 1)
    #expect(try fileTree(dir.path) == ["hello world.txt": Data("hello".utf8)])

    // Nothing above went through the proxy.
    #expect(try server.statistics().requests == 0)
    try server.reset()
    #expect(throws: S3TestServerError.self) { try server.objects(bucket: "alpha") }
  }

  @Test func environmentPointsChildProcessesAtTheServer() throws {
    let server = try S3TestServer()
    defer { server.stop() }
    let env = server.environment(["PATH": "/usr/bin", "AWS_PROFILE": "lab", "AWS_SESSION_TOKEN": "x", "AWS_ENDPOINT_URL_S3": "http://elsewhere"])
    let expected: [String: String] = [
        "PATH": "/usr/bin", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": server.endpoint, "AWS_ALLOW_HTTP": "true",
        "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
      ]
    #expect(env == expected)
    let r = try server.run("/usr/bin/env", [])
    #expect(r.status == 0)
    #expect(r.stdoutText.split(separator: "\n").contains("AWS_ENDPOINT_URL=\(server.endpoint)"))
  }

  /// TensorStore writes the known array into the bucket; zarr-python (obstore, and s3fs) reads the same values.
  @Test(arguments: [(true, 3), (false, 3), (false, 2)])
  func tensorStoreWritesZarrPythonReads(sharded: Bool, zarrFormat: Int) throws {
    let server = try S3TestServer()
    defer { server.stop() }
    try server.createBucket("interop")
    let prefix = "ts/\(sharded ? "sharded" : "unsharded")-v\(zarrFormat).zarr"
    let written = try S3Peers.json(
      ["write-tensorstore", server.endpoint, "interop", prefix, sharded ? "--sharded" : "--unsharded", "--zarr-format", "\(zarrFormat)"],
      server: server)
    #expect(written["written"] as? String == prefix)

    // The objects TensorStore left: metadata plus 8 shards (2 x 2 x 2 of 32 x 64 x 64), or 27 chunks (3 x 3 x 3).
    let keys = try server.objects(bucket: "interop", prefix: prefix + "/").map { String($0.key.dropFirst(prefix.count + 1)) }
    switch (sharded, zarrFormat) {
    case (true, _):
      #expect(keys.count == 9)
      #expect(keys.contains("zarr.json") && keys.contains("c/1/1/1"))
    case (false, 3):
      #expect(keys.count == 28)
      #expect(keys.contains("zarr.json") && keys.contains("c/2/2/2"))
    default:
      #expect(keys.count == 28)
      #expect(keys.contains(".zarray") && keys.contains("2.2.2"))
    }

    for store in ["obstore", "s3fs"] {
      let read = try S3Peers.json(["read-zarr", server.endpoint, "interop", prefix, "--store", store], server: server)
      #expect(read["shape"] as? [Int] == Self.knownShape, "\(store)")
      #expect(read["dtype"] as? String == "uint16", "\(store)")
      #expect(read["sha256"] as? String == Self.knownSHA256, "\(store)")
      #expect(read["sum"] as? Int == Self.knownSum, "\(store)")
      #expect(read["zarr_format"] as? Int == zarrFormat, "\(store)")
    }
    // The known sum, independently of Python.
    var sum = 0
    for i in 0..<(37 * 70 * 65) { sum += Int(UInt16(truncatingIfNeeded: i)) }
    #expect(sum == Self.knownSum)
  }

  /// zarr-python writes an OME-Zarr image; TensorStore reads its level and ome-zarr-models validates it in the bucket.
  @Test func zarrPythonWritesTensorStoreReadsOMEValidates() throws {
    let server = try S3TestServer()
    defer { server.stop() }
    try server.createBucket("interop")
    _ = try S3Peers.run(["write-zarr", server.endpoint, "interop", "img.ome.zarr", "--ome"], server: server)
    let read = try S3Peers.json(["read-tensorstore", server.endpoint, "interop", "img.ome.zarr/0"], server: server)
    #expect(read["sha256"] as? String == Self.knownSHA256)
    #expect(read["sum"] as? Int == Self.knownSum)
    let valid = try S3Peers.json(["validate-ome", server.endpoint, "interop", "img.ome.zarr"], server: server)
    #expect(valid["valid"] as? Bool == true, "\(valid["error"] ?? "")")
    #expect(valid["type"] as? String == "Image")
    // A bare array is not an OME-Zarr image.
    let bare = try S3Peers.json(["validate-ome", server.endpoint, "interop", "img.ome.zarr/0"], server: server)
    #expect(bare["valid"] as? Bool == false)
  }

  @Test func failNextAnswersWithAnS3ErrorThenRecovers() async throws {
    let server = try S3TestServer()
    defer { server.stop() }
    try server.createBucket("alpha")
    try server.put(bucket: "alpha", key: "k", data: Data("hello".utf8))
    let session = Self.session()
    try server.failNext(1, status: 503, code: "SlowDown")
    let first = try await Self.send(session, Self.request(server, "/alpha/k")).get()
    #expect(first.0 == 503)
    #expect(first.1.contains("<Code>SlowDown</Code>"))
    let second = try await Self.send(session, Self.request(server, "/alpha/k")).get()
    #expect(second.0 == 200)
    #expect(second.1 == "hello")
    try server.failNext(2, status: 500, code: "InternalError")
    let third = try await Self.send(session, Self.request(server, "/alpha/k", method: "PUT", body: Data("new".utf8))).get()
    #expect(third.0 == 500)
    #expect(third.1.contains("<Code>InternalError</Code>"))
    #expect(try await Self.send(session, Self.request(server, "/alpha/k")).get().0 == 500)
    #expect(try await Self.send(session, Self.request(server, "/alpha/k")).get() == (200, "hello") as (Int, String))

    #expect(
      try server.statistics()
        == S3TestServerStatistics(
          requests: 5, byMethod: ["GET": 4, "PUT": 1], byStatus: [200: 2, 500: 2, 503: 1], bytesIn: 3,
          bytesOut: first.1.utf8.count + 5 + third.1.utf8.count * 2 + 5, faults: 3, resets: 0))
    #expect(
      try server.requestLog() == [
        S3TestRequest(method: "GET", path: "/alpha/k", status: 503), S3TestRequest(method: "GET", path: "/alpha/k", status: 200),
        S3TestRequest(method: "PUT", path: "/alpha/k", status: 500), S3TestRequest(method: "GET", path: "/alpha/k", status: 500),
        S3TestRequest(method: "GET", path: "/alpha/k", status: 200),
      ])
    try server.clearStatistics()
    #expect(try server.statistics().requests == 0)
  }

  @Test func dieAfterAndGoDownRefuseUntilTheServerComesBackWithItsData() async throws {
    let server = try S3TestServer()
    defer { server.stop() }
    try server.createBucket("alpha")
    try server.put(bucket: "alpha", key: "k", data: Data("hello".utf8))
    let session = Self.session()
    try server.dieAfter(1)
    #expect(try await Self.send(session, Self.request(server, "/alpha/k")).get() == (200, "hello") as (Int, String))
    // The next request's connection is reset, and the port refuses from then on.
    if case .success(let answer) = await Self.send(session, Self.request(server, "/alpha/k")) {
      Issue.record("a request after dieAfter(1) was answered: \(answer)")
    }
    if case .success(let answer) = await Self.send(Self.session(), Self.request(server, "/alpha/k")) {
      Issue.record("a request to a dead server was answered: \(answer)")
    }
    try server.comeUp()
    #expect(try await Self.send(Self.session(), Self.request(server, "/alpha/k")).get() == (200, "hello") as (Int, String))
    let stats = try server.statistics()
    #expect(stats.resets == 1)
    #expect(stats.byStatus[0] == 1)

    try server.goDown()
    if case .success(let answer) = await Self.send(Self.session(), Self.request(server, "/alpha/k")) {
      Issue.record("a request to a server that is down was answered: \(answer)")
    }
    try server.comeUp()
    #expect(try await Self.send(Self.session(), Self.request(server, "/alpha/k")).get() == (200, "hello") as (Int, String))
  }

  @Test func stopLeavesNoProcessBehind() async throws {
    let server = try S3TestServer()
    let pid = server.processIdentifier
    #expect(kill(pid, 0) == 0)
    // Closing its stdin ends the server at once (stop() would kill it only after 2 s): a test process that
    // dies leaves no server behind either.
    let start = Date()
    server.stop()
    let seconds = Date().timeIntervalSince(start)
    #expect(seconds < 1.5, "stop() took \(seconds) s")
    #expect(kill(pid, 0) == -1 && errno == ESRCH)
    #expect(throws: S3TestServerError.self) { try server.createBucket("alpha") }
    server.stop()  // a second stop does nothing
    // Nothing listens on the port any more.
    if case .success(let answer) = await Self.send(Self.session(), Self.request(server, "/alpha/k")) {
      Issue.record("a stopped server answered: \(answer)")
    }
  }
}
