#if canImport(Glibc)
  import Glibc
#endif
import Foundation
import Synchronization
import Testing
import TestSupport
import ZarrIO
@testable import OMEZarrServe

/// ``StoreServer`` embedded in a process, as a Swift app would use it.
@Suite("StoreServer embedded")
struct StoreServerTests {
  /// A server on a memory store, started; returns its task and port.
  static func start(_ store: any Store, _ configure: (inout StoreServer.Configuration) -> Void = { _ in })
    async throws -> (task: Task<Void, any Error>, port: Int, token: String?)
  {
    var configuration = StoreServer.Configuration()
    configure(&configuration)
    let server = StoreServer(store: store, configuration: configuration)
    let started = AsyncStream<Int>.makeStream()
    let task = Task { try await server.run { _, port in started.continuation.yield(port) } }
    var ports = started.stream.makeAsyncIterator()
    let port = try #require(await ports.next())
    return (task, port, configuration.token)
  }

  /// A connected TCP socket to `port` on loopback, with a receive timeout.
  static func connect(_ port: Int) throws -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    try #require(connected == 0)
    var timeout = timeval(tv_sec: 5, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    return fd
  }

  /// Sends `text` and reads until the server closes or `until` is in what was read, on a
  /// Dispatch thread (blocking calls would starve the tests' cooperative pool).
  static func exchange(_ fd: Int32, _ text: String, until: String? = nil) async -> (String, closed: Bool) {
    await withCheckedContinuation { done in
      DispatchQueue.global().async { done.resume(returning: blockingExchange(fd, text, until: until)) }
    }
  }

  static func blockingExchange(_ fd: Int32, _ text: String, until: String?) -> (String, closed: Bool) {
    _ = text.withCString { send(fd, $0, strlen($0), 0) }
    var received: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
      let n = recv(fd, &buffer, buffer.count, 0)
      if n <= 0 { return (String(decoding: received, as: UTF8.self), n == 0) }
      received += buffer[0..<n]
      if let until, String(decoding: received, as: UTF8.self).contains(until) {
        return (String(decoding: received, as: UTF8.self), false)
      }
    }
  }

  @Test func servesAMemoryStoreAndStopsWhenCancelled() async throws {
    let store = MemoryStore()
    try store.set("zarr.json", Array(#"{"zarr_format":3,"node_type":"group"}"#.utf8))
    let (task, port, token) = try await Self.start(store)
    let fd = try Self.connect(port)
    defer { close(fd) }
    let (answer, _) = await Self.exchange(fd, "GET /\(token ?? "")/zarr.json HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nRange: bytes=1-13\r\n\r\n",
      until: "\"zarr_format\"")
    #expect(answer.hasPrefix("HTTP/1.1 206 Partial Content\r\n"), "\(answer)")
    #expect(answer.contains("\r\nContent-Range: bytes 1-13/37\r\n"), "\(answer)")
    #expect(answer.hasSuffix("\r\n\r\n\"zarr_format\""), "\(answer)")
    // Cancelling the task stops the server and closes its connections.
    task.cancel()
    try await task.value
    let (rest, closed) = await Self.exchange(fd, "")
    #expect(rest == "" && closed)
  }

  @Test func closesIdleConnectionsButNotBusyOnes() async throws {
    let store = MemoryStore()
    try store.set("a", [UInt8](repeating: 7, count: 10))
    let (task, port, _) = try await Self.start(store) {
      $0.idleTimeout = 1
      $0.token = nil
    }
    defer { task.cancel() }
    let fd = try Self.connect(port)
    defer { close(fd) }
    // One scenario on one Dispatch thread, timed there: the suite's other tests may hold the
    // cooperative pool for many seconds, which must not count as idle time.
    let host = "Host: 127.0.0.1:\(port)\r\n"
    let (first, second, rest, closed, waited) = await withCheckedContinuation { done in
      DispatchQueue.global().async {
        let first = Self.blockingExchange(fd, "GET /a HTTP/1.1\r\n\(host)\r\n", until: "\r\n\r\n").0
        // Kept alive while under the timeout...
        let second = Self.blockingExchange(fd, "HEAD /a HTTP/1.1\r\n\(host)\r\n", until: "\r\n\r\n").0
        // ...and closed once idle for longer.
        let started = ContinuousClock.now
        let (rest, closed) = Self.blockingExchange(fd, "", until: nil)
        done.resume(returning: (first, second, rest, closed, ContinuousClock.now - started))
      }
    }
    #expect(first.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(first)")
    #expect(second.hasPrefix("HTTP/1.1 200 OK\r\n") && second.contains("Content-Length: 10\r\n"), "\(second)")
    #expect(closed && rest == "")
    #expect(waited > .milliseconds(500) && waited < .seconds(4), "\(waited)")
  }

  @Test func anAddressInUseIsAnError() async throws {
    let (task, port, _) = try await Self.start(MemoryStore())
    defer { task.cancel() }
    var configuration = StoreServer.Configuration()
    configuration.port = port
    await #expect(throws: (any Error).self) { try await StoreServer(store: MemoryStore(), configuration: configuration).run() }
  }
}
