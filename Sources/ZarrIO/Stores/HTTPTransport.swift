import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// One HTTP request of a remote store.
package struct HTTPRequest: Sendable {
  /// `GET`, `HEAD`, `PUT`, `POST` or `DELETE`.
  package var method: String
  /// The full URL, already percent-encoded.
  package var url: URL
  /// Headers to send, exactly (the transport adds none but `Accept-Encoding: identity`).
  package var headers: [String: String]
  /// The body of a `PUT` or `POST`.
  package var body: Data?

  /// A request without a body.
  package init(method: String, url: URL, headers: [String: String] = [:], body: Data? = nil) {
    self.method = method
    self.url = url
    self.headers = headers
    self.body = body
  }
}

/// The answer to an ``HTTPRequest``.
package struct HTTPResponse: Sendable {
  /// The status code.
  package var status: Int
  /// Headers with lower-case names.
  package var headers: [String: String]
  /// The body (empty for `HEAD`).
  package var body: [UInt8]

  /// A header's value by case-insensitive name.
  package func header(_ name: String) -> String? { headers[name.lowercased()] }

  /// The total size from `Content-Range: bytes a-b/total`.
  package var contentRangeTotal: Int? {
    guard let cr = header("content-range"), let slash = cr.lastIndex(of: "/") else { return nil }
    return Int(cr[cr.index(after: slash)...].trimmingCharacters(in: .whitespaces))
  }

  /// `Content-Length` as a number.
  package var contentLength: Int? {
    header("content-length").flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
  }
}

/// What to do with an answer or a failure: accept it, or try again after a pause.
package enum HTTPRetry: Sendable, Equatable {
  /// Hand the response to the caller.
  case accept
  /// Send again after the back-off for `attempt`; `throttled` waits longer (the server asked to slow down).
  case retry(throttled: Bool)
}

/// The exponential back-off with full jitter of AWS SDKs: the pause before retry `n` (from 1) is
/// uniform in `0 ..< min(base · 2^(n-1), cap)`; `base` is longer when the server throttles.
package struct BackOff: Sendable {
  /// How many times a request is sent at most (1 = no retry).
  package var maxAttempts: Int
  /// The base pause after a failure, in seconds.
  package var base: Double = 0.05
  /// The base pause after a throttling answer (429, `SlowDown`), in seconds.
  package var throttledBase: Double = 0.5
  /// The longest pause, in seconds.
  package var cap: Double = 20

  /// A back-off with `maxAttempts` sends at most.
  package init(maxAttempts: Int) { self.maxAttempts = max(1, maxAttempts) }

  /// The pause before retry `attempt` (1 for the first retry), in seconds.
  package func pause(attempt: Int, throttled: Bool) -> Double {
    let b = throttled ? throttledBase : base
    let ceiling = min(cap, b * pow(2, Double(min(attempt - 1, 30))))
    return Double.random(in: 0..<max(ceiling, 1e-6))
  }
}

/// The HTTP client of the remote stores: synchronous calls over one AsyncHTTPClient (SwiftNIO)
/// client that keeps up to `maxConnections` connections per host, with bounded bodies, retries and
/// counters.
///
/// Callers block their thread until the answer is in; remote stores use many such threads (their
/// ``Store/ioConcurrency``) while decoding stays on the cores, and NIO's event loops move the bytes.
/// A body longer than the caller's limit ends the transfer, so a server cannot fill memory.
/// (Foundation's URLSession on Linux moved bodies at half the speed and cost twice the time per
/// request, measured in Benchmarks/remote.)
package final class HTTPTransport: Sendable {
  private let client: HTTPClient
  private let requests = Atomic<Int>(0)
  private let received = Atomic<Int>(0)
  private let sent = Atomic<Int>(0)
  private let inFlight = Atomic<Int>(0)
  private let maxInFlight = Atomic<Int>(0)

  /// A transport with up to `maxConnections` connections per host and `timeout` seconds of
  /// silence before a request fails; redirects are followed only when `followRedirects` is set.
  /// A connection that cannot be made within `connectTimeout` seconds fails the request.
  package init(maxConnections: Int, timeout: Double, followRedirects: Bool, connectTimeout: Double = 5) {
    let seconds = TimeAmount.milliseconds(Int64(max(0.001, min(timeout, 86_400)) * 1000))
    let connect = TimeAmount.milliseconds(Int64(max(0.001, min(connectTimeout, 86_400)) * 1000))
    let configuration = HTTPClient.Configuration(
      redirectConfiguration: followRedirects ? .follow(max: 8, allowCycles: false) : .disallow,
      // The pool retries a failed connection with back-off until this passes, then the request fails.
      timeout: .init(connect: connect, read: seconds, write: seconds),
      connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, maxConnections)),
      decompression: .disabled)
    client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
  }

  deinit { try? client.syncShutdown() }

  /// Requests sent so far (every attempt counts).
  package var requestCount: Int { requests.load(ordering: .relaxed) }
  /// Body bytes received so far.
  package var bytesReceived: Int { received.load(ordering: .relaxed) }
  /// Body bytes sent so far.
  package var bytesSent: Int { sent.load(ordering: .relaxed) }
  /// The most requests that were in flight at once.
  package var peakInFlight: Int { maxInFlight.load(ordering: .relaxed) }

  /// Sends the request `make` builds (again for each attempt, so it can be signed anew) and
  /// returns the first answer `decide` accepts.
  ///
  /// Connection failures that may pass (refused, reset, closed) are retried like answers `decide`
  /// retries; a timeout or an unknown host is not.
  /// - Throws: `ZarrError.storeFailure` naming `key` and what failed; `.corruptData` when the body
  ///   is longer than `limit` bytes.
  package func send(
    key: String, limit: Int, backOff: BackOff, _ make: () throws -> HTTPRequest,
    decide: (HTTPResponse) -> HTTPRetry
  ) throws -> HTTPResponse {
    var attempt = 0
    while true {
      attempt += 1
      let request = try make()
      let outcome = perform(request, limit: limit)
      let throttled: Bool
      let failure: String
      switch outcome {
      case .success(let r):
        let decision = decide(r)
        guard case .retry(let t) = decision else { return r }
        throttled = t
        failure = "HTTP \(r.status) from \(request.method) \(request.url.absoluteString)"
          + (r.status == 503 || r.status == 429 ? " (the server is overloaded or throttling)" : "")
      case .failure(let e):
        if let e = e as? ZarrError { throw e.at(key: key) }
        failure = "\(request.method) \(request.url.absoluteString) failed: \(Self.describe(e))"
        guard Self.mayPass(e) else { throw ZarrError(.storeFailure, failure, key: key) }
        throttled = false
      }
      guard attempt < backOff.maxAttempts else {
        let tries = attempt == 1 ? "" : " (after \(attempt) attempts)"
        throw ZarrError(.storeFailure, failure + tries, key: key)
      }
      let pause = backOff.pause(attempt: attempt, throttled: throttled)
      if pause > 0 { usleep(UInt32(min(pause, 60) * 1_000_000)) }
    }
  }

  /// Whether a failed exchange may succeed when sent again: connections reset or closed during the
  /// exchange do; an unknown host, a bad URL, a timeout (retrying would multiply the wait), TLS, or
  /// a connection that could not be made (AsyncHTTPClient's pool already retried it for 5 s) do not.
  static func mayPass(_ error: any Error) -> Bool {
    if let e = error as? HTTPClientError {
      return e == .remoteConnectionClosed || e == .uncleanShutdown || e == .writeAfterRequestSent
    }
    if let e = error as? IOError, e.errnoCode == ECONNREFUSED { return false }
    // A connection that could not be made: the pool has already retried it for the connect timeout.
    if error is NIOConnectionError { return false }
    if let e = error as? IOError { return [ECONNRESET, EPIPE, ECONNABORTED].contains(e.errnoCode) }
    if error is ChannelError { return true }
    return false
  }

  /// A failure in words.
  static func describe(_ error: any Error) -> String {
    if let e = error as? HTTPClientError {
      switch e {
      case .remoteConnectionClosed: return "the connection was closed by the server"
      case .connectTimeout: return "could not connect (timed out)"
      case .readTimeout, .writeTimeout, .deadlineExceeded: return "timed out"
      case .invalidURL: return "invalid URL"
      default: return "\(e)"
      }
    }
    if let e = error as? NIOConnectionError {
      if e.dnsAError != nil || e.dnsAAAAError != nil, e.connectionErrors.isEmpty { return "unknown host" }
      if let first = e.connectionErrors.first { return describe(first.error) }
    }
    if let e = error as? IOError {
      switch e.errnoCode {
      case ECONNREFUSED: return "could not connect (connection refused)"
      case ECONNRESET: return "the connection was reset"
      default: return String(cString: strerror(e.errnoCode))
      }
    }
    if error is ChannelError { return "the connection was lost (\(error))" }
    return "\(error)"
  }

  /// One exchange, blocking until it completes.
  private func perform(_ request: HTTPRequest, limit: Int) -> Result<HTTPResponse, any Error> {
    var headers = HTTPHeaders()
    for (k, v) in request.headers { headers.replaceOrAdd(name: k, value: v) }
    // Byte ranges refer to the stored bytes: no transparent decompression.
    headers.replaceOrAdd(name: "Accept-Encoding", value: "identity")
    let body = request.body.map { data -> HTTPClient.Body in
      sent.wrappingAdd(data.count, ordering: .relaxed)
      return .data(data)
    }
    let r: HTTPClient.Request
    do {
      r = try HTTPClient.Request(url: request.url, method: HTTPMethod(rawValue: request.method), headers: headers, body: body)
    } catch {
      return .failure(ZarrError(.invalidArgument, "cannot send \(request.method) \(request.url.absoluteString): \(Self.describe(error))"))
    }
    requests.wrappingAdd(1, ordering: .relaxed)
    let now = inFlight.wrappingAdd(1, ordering: .relaxed).newValue
    var peak = maxInFlight.load(ordering: .relaxed)
    while now > peak {
      let (exchanged, original) = maxInFlight.compareExchange(expected: peak, desired: now, ordering: .relaxed)
      if exchanged { break }
      peak = original
    }
    defer { inFlight.wrappingSubtract(1, ordering: .relaxed) }
    let collector = BoundedBody(limit: limit, isHead: request.method == "HEAD")
    do {
      let response = try client.execute(request: r, delegate: collector).wait()
      received.wrappingAdd(response.body.count, ordering: .relaxed)
      return .success(response)
    } catch let e as BoundedBody.TooLong {
      return .failure(ZarrError(.corruptData,
        "the server sent more than the \(e.limit) bytes expected from \(request.method) \(request.url.absoluteString)"))
    } catch {
      return .failure(error)
    }
  }
}

/// Collects an answer whose body may not be longer than a limit (values); error documents are cut
/// off at 1 MiB instead. Callbacks of one request come one at a time from its event loop.
private final class BoundedBody: HTTPClientResponseDelegate, @unchecked Sendable {
  typealias Response = HTTPResponse

  /// The body would be longer than the limit.
  struct TooLong: Error {
    var limit: Int
  }

  private var limit: Int
  private let isHead: Bool
  private var truncates = false
  private var status = 0
  private var headers: [String: String] = [:]
  private var body: [UInt8] = []

  init(limit: Int, isHead: Bool) {
    self.limit = limit
    self.isHead = isHead
  }

  func didReceiveHead(task: HTTPClient.Task<Response>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
    status = Int(head.status.code)
    for (name, value) in head.headers {
      let k = name.lowercased()
      headers[k] = headers[k].map { $0 + ", " + value } ?? value
    }
    if !(200..<300).contains(status) {
      limit = 1 << 20
      truncates = true
    }
    if !isHead, let length = head.headers.first(name: "content-length").flatMap({ Int($0) }) {
      if length > limit && !truncates { return task.eventLoop.makeFailedFuture(TooLong(limit: limit)) }
      body.reserveCapacity(min(length, limit))
    }
    return task.eventLoop.makeSucceededVoidFuture()
  }

  func didReceiveBodyPart(task: HTTPClient.Task<Response>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
    let room = limit - body.count
    if buffer.readableBytes > room {
      if !truncates { return task.eventLoop.makeFailedFuture(TooLong(limit: limit)) }
      buffer.withUnsafeReadableBytes { body.append(contentsOf: UnsafeRawBufferPointer(rebasing: $0.prefix(max(0, room)))) }
      return task.eventLoop.makeSucceededVoidFuture()
    }
    buffer.withUnsafeReadableBytes { body.append(contentsOf: $0) }
    return task.eventLoop.makeSucceededVoidFuture()
  }

  func didFinishRequest(task: HTTPClient.Task<Response>) throws -> Response {
    HTTPResponse(status: status, headers: headers, body: body)
  }
}
