import Dispatch
import Foundation
import Synchronization

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// A read-only store served over HTTP(S): key `a/b/c` is `<url>/a/b/c`.
///
/// Ranged reads send `Range` requests (`bytes=a-b`, `bytes=-n`), so a shard index and one inner
/// chunk cost two small requests; servers that ignore `Range` and answer the whole value still work.
/// 404 and 410 mean the key is absent; other failures become `.storeFailure` naming the key and the
/// HTTP status. Transient failures (lost or refused connections, 429, 5xx) are retried with
/// back-off; unknown hosts and timeouts are not.
/// HTTP cannot list, so `list` and `listDirectory` throw `.unsupported`.
///
///     let store = try HTTPStore(url: "https://example.org/data/image.ome.zarr")
///     let image = try ZarrArray.open(in: store, path: "0")
public final class HTTPStore: Store {
  /// The URL of the store's root, without a trailing slash.
  public let url: URL
  /// Extra request headers (for example `Authorization`).
  public let headers: [String: String]
  /// How often a transient failure is retried.
  public let retries: Int
  /// The largest value `get` accepts, in bytes (a guard against a server sending without end).
  public let maxValueSize: Int
  /// Requests in flight at most (``Store/ioConcurrency``).
  public let ioConcurrency: Int?
  private let transport: HTTPTransport

  /// Opens the store at `url` (an `http://` or `https://` URL).
  /// - Throws: `.invalidArgument` for another scheme or a malformed URL.
  public init(url: String, headers: [String: String] = [:], timeout: TimeInterval = 60, retries: Int = 3,
              maxValueSize: Int = 1 << 32, ioConcurrency: Int = RemoteAccess.current.ioConcurrency) throws {
    var text = url
    while text.hasSuffix("/") { text.removeLast() }
    guard let u = URL(string: text), let scheme = u.scheme?.lowercased(), scheme == "http" || scheme == "https", u.host != nil else {
      throw ZarrError(.invalidArgument, "'\(url)' is not an http:// or https:// URL")
    }
    self.url = u
    self.headers = headers
    self.retries = max(0, retries)
    self.maxValueSize = maxValueSize
    self.ioConcurrency = max(1, ioConcurrency)
    transport = HTTPTransport(maxConnections: max(1, ioConcurrency), timeout: timeout, followRedirects: true)
  }

  /// The root URL as a location.
  public var location: StoreLocation? { try? StoreLocation(url.absoluteString) }

  /// The number of HTTP requests sent so far.
  public var requestCount: Int { transport.requestCount }

  /// The most requests that were in flight at once so far.
  public var peakRequestsInFlight: Int { transport.peakInFlight }

  /// The URL of a key.
  public func url(of key: String) -> URL {
    guard !key.isEmpty else { return url }
    let encoded = key.split(separator: "/", omittingEmptySubsequences: false)
      .map { $0.addingPercentEncoding(withAllowedCharacters: Self.segmentAllowed) ?? String($0) }
      .joined(separator: "/")
    return URL(string: url.absoluteString + "/" + encoded) ?? url.appendingPathComponent(key)
  }

  private static let segmentAllowed: CharacterSet = {
    var s = CharacterSet.urlPathAllowed
    s.remove(charactersIn: "/?#")
    return s
  }()

  // MARK: Requests

  private typealias Response = HTTPResponse

  /// Sends one request, retrying transient failures (lost or refused connections, 429, 5xx) with back-off.
  private func send(_ method: String, _ key: String, range: String? = nil, limit: Int? = nil) throws -> Response {
    var headers = self.headers
    if let range { headers["Range"] = range }
    let request = HTTPRequest(method: method, url: url(of: key), headers: headers)
    return try transport.send(key: key, limit: limit ?? maxValueSize, backOff: BackOff(maxAttempts: retries + 1), { request }) {
      $0.status == 429 || $0.status >= 500 ? .retry(throttled: $0.status == 429 || $0.status == 503) : .accept
    }
  }

  private func unexpected(_ r: Response, _ key: String) -> ZarrError {
    ZarrError(.storeFailure, "HTTP \(r.status) for \(url(of: key).absoluteString)", key: key)
  }

  private static func isAbsent(_ status: Int) -> Bool { status == 404 || status == 410 }


  // MARK: Store

  /// The body of a GET of `key`, or `nil` on 404 or 410.
  public func get(_ key: String) throws -> [UInt8]? {
    let r = try send("GET", key)
    if Self.isAbsent(r.status) { return nil }
    guard r.status == 200 else { throw unexpected(r, key) }
    guard r.body.count <= maxValueSize else {
      throw ZarrError(.corruptData, "the value is \(r.body.count) bytes, more than the \(maxValueSize) allowed", key: key)
    }
    return r.body
  }

  /// The bytes of `range`, from one ranged GET (a server that sends the whole value will do); `nil` on 404 or 410.
  public func get(_ key: String, range: ByteRange) throws -> [UInt8]? {
    try rangedGet(key, range)?.bytes
  }

  /// One ranged GET: the bytes and the value's total size (when the server tells it).
  private func rangedGet(_ key: String, _ range: ByteRange) throws -> (bytes: [UInt8], size: Int?)? {
    try RangeRequests.fetch(key, range, size: { try size(of: key) }, send: { header, _ in
      let r = try send("GET", key, range: header)
      return Self.isAbsent(r.status) ? nil : r
    }, failure: { unexpected($0, key) })
  }

  /// One ranged GET per range, with the total size from `Content-Range` (or from ``size(of:)``).
  public func get(_ key: String, ranges: [ByteRange]) throws -> (parts: [[UInt8]], size: Int)? {
    try RangeRequests.parts(ranges, fetch: { try rangedGet(key, $0) }, size: { try size(of: key) })
  }

  /// One ranged GET copied straight into `buffer`; returns the value's total size.
  public func read(_ key: String, range: Range<Int>, into buffer: UnsafeMutableRawBufferPointer) throws -> Int? {
    try RangeRequests.read(key, range, into: buffer, fetch: { try rangedGet(key, $0) }, size: { try size(of: key) })
  }

  /// The `Content-Length` of a HEAD, else the total of a one-byte ranged GET; `nil` on 404 or 410.
  public func size(of key: String) throws -> Int? {
    let r = try send("HEAD", key)
    if Self.isAbsent(r.status) { return nil }
    if r.status == 200, let length = r.header("Content-Length").flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }) {
      return length
    }
    // No HEAD support or no length: ask for one byte and read the total, else fetch it all.
    let probe = try send("GET", key, range: "bytes=0-0")
    if Self.isAbsent(probe.status) { return nil }
    if probe.status == 206, let total = probe.contentRangeTotal { return total }
    if probe.status == 200 { return probe.body.count }
    if probe.status == 416 { return 0 }
    throw unexpected(probe, key)
  }

  private func readOnly(_ key: String) -> ZarrError {
    ZarrError(.unsupported, "the HTTP store \(url.absoluteString) is read-only", key: key)
  }

  /// Throws `.unsupported`: the store is read-only.
  public func set(_ key: String, _ value: [UInt8]) throws { throw readOnly(key) }
  /// Throws `.unsupported`: the store is read-only.
  public func delete(_ key: String) throws { throw readOnly(key) }
  /// Throws `.unsupported`: the store is read-only.
  public func deletePrefix(_ prefix: String) throws { throw readOnly(prefix) }

  /// Throws `.unsupported`: HTTP cannot list keys.
  public func list(prefix: String) throws -> [String] {
    throw ZarrError(.unsupported, "an HTTP store cannot list its keys (\(url.absoluteString))", key: prefix)
  }

  /// Throws `.unsupported`: HTTP cannot list keys.
  public func listDirectory(_ prefix: String) throws -> (keys: [String], prefixes: [String]) {
    throw ZarrError(.unsupported, "an HTTP store cannot list its keys (\(url.absoluteString))", key: prefix)
  }
}

/// `http://` and `https://` URLs: a read-only ``HTTPStore``.
struct HTTPLocationScheme: LocationScheme {
  var schemes: [String] { ["http", "https"] }

  func store(at location: StoreLocation, create: Bool) throws -> any Store {
    guard !create else { throw ZarrError(.invalidArgument, "cannot write over HTTP ('\(location)' is read-only)") }
    return try HTTPStore(url: location.description)
  }

  /// HTTP cannot tell a prefix from a missing object without a request per key, so: unknown.
  func entry(at location: StoreLocation) -> StoreEntry? { nil }
}
