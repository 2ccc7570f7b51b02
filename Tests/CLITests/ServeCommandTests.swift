import Foundation
import OMEZarr
import TestSupport
import Testing
import ZarrIO

/// `ome2zarr serve`: what browser viewers and Zarr clients need (ranges, HEAD, conditionals, CORS
/// everywhere), safe defaults (token, loopback, no traversal or links out, no listings, Host
/// checked), peers reading through it bit for bit, archives served by entry, and a load of 64
/// clients.
@Suite("ome2zarr serve", .serialized)
struct ServeCommandTests {
  /// A running `ome2zarr serve` and what it printed.
  struct Server {
    let process: Process
    let url: String
    let port: Int
    let token: String?

    /// Starts `ome2zarr serve ARGUMENTS --json` and reads its first line.
    init(_ arguments: [String], environment: [String: String]? = nil) throws {
      let (p, _, line) = try startLineProcess(CLI.binary, ["serve"] + arguments + ["--json"], environment: environment)
      let object = try JSONValue.parse(Array(line.utf8))
      guard let url = object["url"]?.stringValue, let port = object["port"]?.intValue else {
        p.terminate()
        throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "serve printed \(line)"])
      }
      process = p
      self.url = url
      self.port = port
      token = object["token"]?.stringValue
    }

    /// Stops it with SIGTERM and returns its exit status.
    func stop() -> Int32 {
      guard process.isRunning else { return process.terminationStatus }
      kill(process.processIdentifier, SIGTERM)
      process.waitUntilExit()
      return process.terminationStatus
    }

    /// The resident memory (VmHWM, MB) of the server so far.
    var peakRSSMB: Int {
      let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
      let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
      return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) / 1024
    }
  }

  /// Runs `serve_clients.py MODE ARGUMENTS...` and parses its JSON answer.
  static func client(_ arguments: [String]) throws -> JSONValue { try PythonChecks.run("serve_clients.py", arguments) }

  /// A small converted image in a fresh directory.
  static func image() throws -> (dir: URL, zarr: String) { try ExportCommandTests.sample() }

  @Test func answersWhatViewersNeedAndNothingElse() throws {
    let (_, zarr) = try Self.image()
    let server = try Server([zarr])
    defer { _ = server.stop() }
    #expect(server.url == "http://127.0.0.1:\(server.port)/\(server.token ?? "?")/")
    #expect(server.token?.count == 40)
    let size = try Data(contentsOf: URL(fileURLWithPath: zarr + "/0/zarr.json")).count
    let r = try Self.client(["checks", server.url, "0/zarr.json"])
    func status(_ probe: String) -> Int? { r[probe]?["status"]?.intValue }
    func header(_ probe: String, _ name: String) -> String? { r[probe]?["headers"]?[name]?.stringValue }
    func length(_ probe: String) -> Int? { r[probe]?["length"]?.intValue }
    let expected: [String: Int] = [
      "get": 200, "head": 200, "range": 206, "range_past_end": 206, "suffix": 206, "suffix_larger": 206, "open_range": 206,
      "unsatisfiable": 416, "multi_range": 200, "options": 204, "missing": 404, "directory": 404, "no_token": 404,
      "wrong_token": 404, "dotdot": 403, "encoded_dotdot": 403, "encoded_slash": 403, "post": 405, "evil_host": 403,
      "if_none_match": 304, "if_range_other": 200, "if_range_same": 206,
    ]
    for (probe, want) in expected { #expect(status(probe) == want, "\(probe): \(r[probe]?.serialized() ?? "?")") }
    // Every answer carries CORS, 404s and preflights included.
    for probe in expected.keys { #expect(header(probe, "access-control-allow-origin") == "*", "\(probe)") }
    #expect(header("range", "access-control-expose-headers")?.contains("Content-Range") == true)
    #expect(header("options", "access-control-allow-headers")?.lowercased().contains("range") == true)
    #expect(header("options", "access-control-allow-methods") == "GET, HEAD, OPTIONS")
    // Lengths and ranges exactly as RFC 9110 says.
    #expect(length("get") == size && header("get", "content-length") == String(size))
    #expect(length("head") == 0 && header("head", "content-length") == String(size))
    #expect(header("range", "content-range") == "bytes 10-19/\(size)" && length("range") == 10)
    #expect(header("range_past_end", "content-range") == "bytes 10-\(size - 1)/\(size)")
    #expect(header("suffix", "content-range") == "bytes \(size - 16)-\(size - 1)/\(size)" && length("suffix") == 16)
    #expect(header("suffix_larger", "content-range") == "bytes 0-\(size - 1)/\(size)")
    #expect(header("open_range", "content-range") == "bytes 5-\(size - 1)/\(size)")
    #expect(header("unsatisfiable", "content-range") == "bytes */\(size)")
    #expect(header("get", "accept-ranges") == "bytes" && header("get", "etag") != nil && header("get", "last-modified") != nil)
    #expect(header("get", "content-encoding") == nil)
    #expect(header("post", "allow") == "GET, HEAD, OPTIONS")
    #expect(server.stop() == 0, "SIGTERM ends it cleanly")
  }

  @Test func keepAlivePipeliningAndMalformedRequestsOnTheWire() throws {
    let (_, zarr) = try Self.image()
    let server = try Server([zarr])
    defer { _ = server.stop() }
    let r = try Self.client(["wire", server.url, "0/zarr.json", zarr + "/0/zarr.json"])
    let size = try Data(contentsOf: URL(fileURLWithPath: zarr + "/0/zarr.json")).count
    // Three requests in one packet: answered in order, HEAD without a body, connection kept.
    #expect(r["pipelined"]?["statuses"] == [206, 200, 206], "\(r.serialized())")
    #expect(r["pipelined"]?["bodies_match"] == true)
    #expect(r["pipelined"]?["head_length"]?.stringValue == String(size))
    #expect(r["pipelined"]?["closed"] == false)
    // Garbage: 400 with CORS, then closed.
    #expect(r["malformed"]?["status"]?.intValue == 400 && r["malformed"]?["closed"] == true, "\(r.serialized())")
    #expect(r["malformed"]?["cors"]?.stringValue == "*")
    #expect(r["good_then_garbage"]?["statuses"] == [200, 400] && r["good_then_garbage"]?["closed"] == true, "\(r.serialized())")
    // HTTP/1.0 closes unless asked to keep the connection; Connection: close is honoured.
    #expect(r["http10"]?["status"]?.intValue == 200 && r["http10"]?["closed"] == true)
    #expect(r["http10"]?["connection"]?.stringValue == "close")
    #expect(r["http10_keep_alive"]?["statuses"] == [200, 200] && r["http10_keep_alive"]?["closed"] == false)
    #expect(r["http10_keep_alive"]?["connection"]?.stringValue == "keep-alive")
    #expect(r["close"]?["statuses"] == [200] && r["close"]?["closed"] == true && r["close"]?["connection"]?.stringValue == "close")
    #expect(server.stop() == 0)
  }

  @Test func peersReadThroughItBitForBit() throws {
    let (dir, zarr) = try Self.image()
    let server = try Server([zarr])
    defer { _ = server.stop() }
    let out = dir.appendingPathComponent("peer").path
    let python = try #require(testPython, "no Python test venv")
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Python/serve_clients.py").path
    let r = try runProcess(python, [script, "peers", server.url, "0", out])
    #expect(r.status == 0, "\(r.stderrText)")
    let expected = try #require(try OMENode.open(path: zarr).image()).levels[0].read().bytes
    for peer in ["tensorstore", "zarr-python"] {
      #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: out + "." + peer))) == expected, "\(peer)")
    }
  }

  @Test func servesArchiveEntriesAndNothingOutsideTheRoot() throws {
    let (dir, zarr) = try Self.image()
    // An archive: its entries are keys, ranges read from the entry.
    let ozx = dir.appendingPathComponent("img.ozx").path
    #expect(try CLI.ome2zarr("pack", zarr, ozx).status == 0)
    let zipped = try Server([ozx, "--token", "none"])
    let shard = [UInt8](try Data(contentsOf: URL(fileURLWithPath: zarr + "/0/c/0/0/0")))
    let part = try Self.client(["raw", zipped.url, "/0/c/0/0/0", "Range=bytes=100-163"])
    #expect(part["status"]?.intValue == 206 && part["length"]?.intValue == 64)
    #expect(part["headers"]?["content-range"]?.stringValue == "bytes 100-163/\(shard.count)")
    #expect(part["body"]?.stringValue.map { Array($0.unicodeScalars.map { UInt8($0.value) }) } == Array(shard[100..<164]))
    #expect(zipped.stop() == 0)
    // Symbolic links out of a served directory are not followed; links inside are.
    let secret = dir.appendingPathComponent("secret.txt")
    try Data("secret".utf8).write(to: secret)
    try FileManager.default.createSymbolicLink(atPath: zarr + "/leak", withDestinationPath: secret.path)
    try FileManager.default.createSymbolicLink(atPath: zarr + "/inside.json", withDestinationPath: zarr + "/zarr.json")
    let plain = try Server([zarr, "--token", "none"])
    defer { _ = plain.stop() }
    #expect(try Self.client(["raw", plain.url, "/leak"])["status"]?.intValue == 404)
    #expect(try Self.client(["raw", plain.url, "/inside.json"])["status"]?.intValue == 200)
    #expect(try Self.client(["raw", plain.url, "/%2e%2e/secret.txt"])["status"]?.intValue == 403)
    #expect(try Self.client(["raw", plain.url, "/"])["status"]?.intValue == 404, "no listings")
  }

  @Test func sixtyFourClientsForTenSecondsWithoutAFailureInBoundedMemory() throws {
    let (_, zarr) = try Self.image()
    let server = try Server([zarr])
    defer { _ = server.stop() }
    let key = "0/c/0/0/0"
    let size = try #require(try FileManager.default.attributesOfItem(atPath: zarr + "/" + key)[.size] as? Int)
    let r = try Self.client(["load", server.url, key, String(size), "10", "64"])
    let requests = r["requests"]?.intValue ?? 0
    #expect(requests > 1000, "\(r.serialized())")
    #expect(r["failures"]?.intValue == 0, "\(r.serialized())")
    #expect(server.peakRSSMB < 200, "peak RSS \(server.peakRSSMB) MB")
    print("serve load: \(requests) requests of up to 64 KiB in 10 s from 64 clients, 0 failed, peak RSS \(server.peakRSSMB) MB")
  }

  @Test func usageErrors() throws {
    let (dir, zarr) = try Self.image()
    let bad = try CLI.ome2zarr("serve", zarr, "--token", "short")
    #expect(bad.status == 2 && bad.stderr.contains("--token must be auto, none, or at least 16"), "\(bad.stderr)")
    let missing = try CLI.ome2zarr("serve", dir.appendingPathComponent("none").path)
    #expect(missing.status == 2 && missing.stderr.contains("does not exist"), "\(missing.stderr)")
    let port = try CLI.ome2zarr("serve", zarr, "--port", "70000")
    #expect(port.status == 2)
  }

  /// A bucket prefix and an HTTP source are served like a directory: ranges of their values.
  @Test func servesBucketsAndHTTPSources() throws {
    let (dir, zarr) = try Self.image()
    let shard = [UInt8](try Data(contentsOf: URL(fileURLWithPath: zarr + "/0/c/0/0/0")))
    func expectRange(_ server: Server, _ what: String) throws {
      let r = try Self.client(["raw", server.url, "/0/c/0/0/0", "Range=bytes=100-163"])
      #expect(r["status"]?.intValue == 206 && r["headers"]?["content-range"]?.stringValue == "bytes 100-163/\(shard.count)", "\(what)")
      #expect(r["body"]?.stringValue.map { Array($0.unicodeScalars.map { UInt8($0.value) }) } == Array(shard[100..<164]), "\(what)")
      #expect(try Self.client(["raw", server.url, "/nothing/zarr.json"])["status"]?.intValue == 404, "\(what)")
    }
    let http = try HTTPServer(serving: dir)
    defer { http.stop() }
    let fromHTTP = try Server([http.url + "/img.ome.zarr", "--token", "none"])
    try expectRange(fromHTTP, "http source")
    #expect(fromHTTP.stop() == 0)
    let s3 = try S3TestServer(authenticated: true)
    defer { s3.stop() }
    try s3.createBucket("lab")
    for (key, data) in try fileTree(zarr) { try s3.put(bucket: "lab", key: "img.ome.zarr/" + key, data: data) }
    let fromS3 = try Server(["s3://lab/img.ome.zarr", "--token", "none"], environment: s3.environment())
    defer { _ = fromS3.stop() }
    try expectRange(fromS3, "bucket")
  }
}
