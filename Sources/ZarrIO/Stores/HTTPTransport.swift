import Dispatch
import Foundation
import Synchronization

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

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
  package var body: Data

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

/// The HTTP client of the remote stores: synchronous calls over one `URLSession` that keeps up to
/// `maxConnections` requests in flight, with bounded bodies, retries and counters.
///
/// Callers block their thread until the answer is in; remote stores use many such threads (their
/// ``Store/ioConcurrency``) while decoding stays on the cores. A body longer than the caller's
/// limit is cut off (the transfer is cancelled), so a server cannot fill memory.
package final class HTTPTransport: NSObject, URLSessionDataDelegate, @unchecked Sendable {
  private var session: URLSession!
  private let tasks = Mutex<[Int: Exchange]>([:])
  private let requests = Atomic<Int>(0)
  private let received = Atomic<Int>(0)
  private let sent = Atomic<Int>(0)
  private let inFlight = Atomic<Int>(0)
  private let maxInFlight = Atomic<Int>(0)
  private let followRedirects: Bool

  /// One request in progress: the response, the body so far, the limit, and a signal when done.
  private final class Exchange: @unchecked Sendable {
    var limit: Int
    /// A HEAD: its Content-Length is the size of the value, not of a body that follows.
    let isHead: Bool
    var response: HTTPURLResponse?
    var body = Data()
    var error: (any Error)?
    var tooLong = false
    /// Keep the first `limit` bytes and drop the rest (error documents), instead of failing.
    var truncates = false
    let done = DispatchSemaphore(value: 0)
    init(limit: Int, isHead: Bool) {
      self.limit = limit
      self.isHead = isHead
    }
  }

  /// A transport with up to `maxConnections` connections per host and `timeout` seconds of
  /// silence before a request fails; redirects are followed only when `followRedirects` is set.
  package init(maxConnections: Int, timeout: Double, followRedirects: Bool) {
    self.followRedirects = followRedirects
    super.init()
    let config = URLSessionConfiguration.ephemeral
    config.timeoutIntervalForRequest = timeout
    config.httpMaximumConnectionsPerHost = max(1, maxConnections)
    config.requestCachePolicy = .reloadIgnoringLocalCacheData
    config.urlCache = nil
    config.httpCookieStorage = nil
    config.httpShouldSetCookies = false
    let queue = OperationQueue()
    queue.maxConcurrentOperationCount = 1
    session = URLSession(configuration: config, delegate: self, delegateQueue: queue)
  }

  deinit { session.invalidateAndCancel() }

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
  /// Connection failures that may pass (refused, lost, reset) are retried like answers `decide`
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
        let transient = Self.mayPass(e)
        failure = "\(request.method) \(request.url.absoluteString) failed: \(Self.describe(e))"
        guard transient else { throw ZarrError(.storeFailure, failure, key: key) }
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

  /// Whether a failed exchange may succeed when sent again: refused, reset or lost connections
  /// do; an unknown host, a bad URL, a timeout (retrying would multiply the wait) or a TLS
  /// certificate problem do not.
  static func mayPass(_ error: any Error) -> Bool {
    guard let code = (error as? URLError)?.code else { return false }
    let final: Set<URLError.Code> = [
      .timedOut, .cannotFindHost, .dnsLookupFailed, .badURL, .unsupportedURL, .cancelled,
      .userAuthenticationRequired, .userCancelledAuthentication, .serverCertificateUntrusted,
      .serverCertificateHasBadDate, .serverCertificateHasUnknownRoot, .serverCertificateNotYetValid,
      .clientCertificateRejected, .clientCertificateRequired, .appTransportSecurityRequiresSecureConnection,
      .fileDoesNotExist, .noPermissionsToReadFile, .dataLengthExceedsMaximum,
    ]
    return !final.contains(code)
  }

  /// A failure in words, without Foundation's domain boilerplate where it has a better text.
  private static func describe(_ error: any Error) -> String {
    if let u = error as? URLError {
      switch u.code {
      case .cannotConnectToHost: return "could not connect (connection refused)"
      case .networkConnectionLost: return "the connection was lost"
      case .timedOut: return "timed out"
      case .cannotFindHost: return "unknown host"
      case .secureConnectionFailed: return "TLS failed"
      default: break
      }
    }
    return error.localizedDescription
  }

  /// One exchange, blocking until it completes.
  private func perform(_ request: HTTPRequest, limit: Int) -> Result<HTTPResponse, any Error> {
    var r = URLRequest(url: request.url)
    r.httpMethod = request.method
    for (k, v) in request.headers { r.setValue(v, forHTTPHeaderField: k) }
    // Byte ranges refer to the stored bytes: no transparent decompression.
    r.setValue("identity", forHTTPHeaderField: "Accept-Encoding")
    let exchange = Exchange(limit: limit, isHead: request.method == "HEAD")
    let task: URLSessionDataTask
    if let body = request.body {
      task = session.uploadTask(with: r, from: body)
      sent.wrappingAdd(body.count, ordering: .relaxed)
    } else {
      task = session.dataTask(with: r)
    }
    requests.wrappingAdd(1, ordering: .relaxed)
    let now = inFlight.wrappingAdd(1, ordering: .relaxed).newValue
    var peak = maxInFlight.load(ordering: .relaxed)
    while now > peak {
      let (exchanged, original) = maxInFlight.compareExchange(expected: peak, desired: now, ordering: .relaxed)
      if exchanged { break }
      peak = original
    }
    tasks.withLock { $0[task.taskIdentifier] = exchange }
    task.resume()
    exchange.done.wait()
    inFlight.wrappingSubtract(1, ordering: .relaxed)
    if exchange.tooLong {
      return .failure(ZarrError(.corruptData,
        "the server sent more than the \(exchange.limit) bytes expected from \(request.method) \(request.url.absoluteString)"))
    }
    if let error = exchange.error { return .failure(error) }
    guard let http = exchange.response else {
      return .failure(ZarrError(.storeFailure, "no HTTP response from \(request.url.absoluteString)"))
    }
    var headers: [String: String] = [:]
    for (k, v) in http.allHeaderFields { headers["\(k)".lowercased()] = "\(v)" }
    received.wrappingAdd(exchange.body.count, ordering: .relaxed)
    return .success(HTTPResponse(status: http.statusCode, headers: headers, body: exchange.body))
  }

  // MARK: URLSessionDataDelegate (on the session's serial queue)

  package func urlSession(
    _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
  ) {
    guard let exchange = tasks.withLock({ $0[dataTask.taskIdentifier] }) else {
      completionHandler(.cancel)
      return
    }
    exchange.response = response as? HTTPURLResponse
    // The limit is for values; an error document is small, and a longer one is cut off.
    if let status = exchange.response?.statusCode, !(200..<300).contains(status) {
      exchange.limit = 1 << 20
      exchange.truncates = true
    }
    if !exchange.isHead, !exchange.truncates, let length = exchange.response?.expectedContentLength, length > Int64(exchange.limit) {
      exchange.tooLong = true
      completionHandler(.cancel)
      return
    }
    completionHandler(.allow)
  }

  package func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
    guard let exchange = tasks.withLock({ $0[dataTask.taskIdentifier] }), !exchange.tooLong else { return }
    if exchange.body.count + data.count > exchange.limit {
      if exchange.truncates {
        exchange.body.append(data.prefix(max(0, exchange.limit - exchange.body.count)))
        return
      }
      exchange.tooLong = true
      dataTask.cancel()
      return
    }
    exchange.body.append(data)
  }

  package func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
    guard let exchange = tasks.withLock({ $0.removeValue(forKey: task.taskIdentifier) }) else { return }
    if exchange.response == nil { exchange.response = task.response as? HTTPURLResponse }
    if !exchange.tooLong { exchange.error = error }
    exchange.done.signal()
  }

  // Redirects are followed only when asked: S3 signals a wrong region with a 301 the store handles.
  package func urlSession(
    _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
    newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void
  ) {
    completionHandler(followRedirects ? request : nil)
  }
}
