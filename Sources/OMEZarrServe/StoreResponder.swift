#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization
import ZarrIO

/// Decides the answer to one request of a ``StoreServer``: the token and key, CORS, ranges,
/// conditionals. A directory's files are opened right away (one `openat2`, as a web server does);
/// other stores are asked off the event loops.
struct StoreResponder: Sendable {
  let server: StoreServer
  /// `Host` values accepted once the port is known (loopback names, or any for a wider bind).
  let allowedHosts = HostList()
  /// The client directory's store, when one is served.
  let client: FilesystemStore?
  /// The served store when it is a directory (its files are sent by the kernel).
  let directory: FilesystemStore?

  init(server: StoreServer) {
    self.server = server
    directory = server.store as? FilesystemStore
    client = server.configuration.client.flatMap { dir in
      (try? StoreLocation(dir)).flatMap { location in try? FilesystemStore(root: location.path) }
    }
  }

  /// What to do for a request: answer now, or after blocking work off the event loops.
  enum Resolution {
    case ready(Answer)
    case blocking(@Sendable () -> Answer)
  }

  /// The `Host` values accepted (shared by the copies of the responder).
  final class HostList: Sendable {
    let hosts = Mutex<Set<String>>([])
    func withLock<T>(_ body: (inout Set<String>) -> T) -> T { hosts.withLock { body(&$0) } }
  }

  /// The largest value read in one piece; longer ones are streamed in pieces of this size.
  static let readPiece = 1 << 20

  /// Accepts the loopback names with `port` (a server bound to another address accepts any host).
  func allowHosts(port: Int) {
    let host = server.configuration.host
    guard StoreResponder.isLoopback(host) else { return }
    allowedHosts.withLock { $0 = Set(["127.0.0.1", "localhost", "[::1]", host].flatMap { ["\($0):\(port)", $0] }) }
  }

  static func isLoopback(_ host: String) -> Bool {
    host == "127.0.0.1" || host == "::1" || host == "localhost" || host.hasPrefix("127.")
  }

  /// The CORS (and caching) fields every answer carries.
  static let corsFields: [(String, String)] = [
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Expose-Headers", "Content-Range, Content-Length, ETag, Accept-Ranges, Last-Modified"),
    ("Cache-Control", "no-cache"),
  ]

  /// The fields of an answer: CORS, the date, then `extra`, built in one allocation.
  static func fields(_ extra: [(String, String)]) -> [(String, String)] {
    var all: [(String, String)] = []
    all.reserveCapacity(corsFields.count + 1 + extra.count)
    all.append(contentsOf: corsFields)
    all.append(("Date", HTTPDate.now()))
    all.append(contentsOf: extra)
    return all
  }

  /// An answer without a value: `extra` fields, CORS, and `text` (or nothing) as its body.
  static func answer(_ status: HTTPResponseStatus, _ extra: [(String, String)] = [], text: String? = nil) -> Answer {
    guard let text else {
      let length = status == .noContent || status == .notModified ? [] : [("Content-Length", "0")]
      return Answer(status: status, fields: fields(extra + length), body: .none)
    }
    let body = ByteBuffer(string: text + "\n")
    let described = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", String(body.readableBytes))]
    return Answer(status: status, fields: fields(extra + described), body: .bytes(body))
  }

  /// What to answer to `head`.
  func resolve(_ head: HTTPRequestHead) -> Resolution {
    // A page on another name resolving to loopback (DNS rebinding) is refused.
    let hosts = allowedHosts.withLock { $0 }
    if !hosts.isEmpty, let host = head.headers.first(name: "host"), !hosts.contains(host.lowercased()) {
      return .ready(Self.answer(.forbidden, text: "forbidden host"))
    }
    switch head.method {
    case .OPTIONS:
      return .ready(Self.answer(.noContent, [
        ("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS"),
        ("Access-Control-Allow-Headers", "Range, If-None-Match, If-Range, If-Modified-Since"),
        ("Access-Control-Max-Age", "86400"),
      ]))
    case .GET, .HEAD:
      break
    default:
      return .ready(Self.answer(.methodNotAllowed, [("Allow", "GET, HEAD, OPTIONS")], text: "read-only"))
    }
    var store: any Store = server.store
    var files = directory
    var path = head.uri
    var token = server.configuration.token
    var indexFile: String? = nil
    // The viewer's client, under /v/TOKEN/.
    let clientPrefix = "/v/" + (token.map { $0 + "/" } ?? "")
    if let client, path.hasPrefix(clientPrefix) || path + "/" == clientPrefix {
      store = client
      files = client
      path = "/" + path.dropFirst(min(path.count, clientPrefix.count))
      token = nil
      indexFile = "index.html"
    }
    let key: String
    switch RequestTarget(path: path, token: token) {
    case .forbidden: return .ready(Self.answer(.forbidden, text: "forbidden"))
    case .key("") where indexFile != nil: key = indexFile ?? ""
    case .notFound, .key(""): return .ready(Self.answer(.notFound, text: "not found"))
    case .key(let k): key = k
    }
    let conditions = Conditions(head)
    if let files { return .ready(Self.fileAnswer(key, in: files, conditions)) }
    let source = store
    return .blocking { Self.storeAnswer(key, in: source, conditions) }
  }

  /// The request fields that decide what is sent of a value.
  struct Conditions: Sendable {
    var range: String?
    var ifRange: String?
    var ifNoneMatch: String?
    var wantsBody: Bool

    init(_ head: HTTPRequestHead) {
      range = head.headers.first(name: "range")
      ifRange = head.headers.first(name: "if-range")
      ifNoneMatch = head.headers.first(name: "if-none-match")
      wantsBody = head.method == .GET
    }
  }

  /// What is sent of a value.
  enum Plan {
    /// The status and fields, and the bytes of the value to send.
    case send(HTTPResponseStatus, [(String, String)], Range<Int>)
    /// A complete answer without the value (304, 416).
    case done(Answer)
  }

  /// How a value of `size` bytes is answered: the status, fields and bytes to send, or a complete
  /// answer without them (304, 416).
  static func plan(key: String, size: Int, etag: String, modified: Double?, _ conditions: Conditions) -> Plan {
    var validators: [(String, String)] = [("Accept-Ranges", "bytes"), ("ETag", etag)]
    if let modified { validators.append(("Last-Modified", HTTPDate.format(modified))) }
    if let match = conditions.ifNoneMatch, match == "*" || match.split(separator: ",").contains(where: {
      $0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "W/", with: "") == etag
    }) {
      return .done(answer(.notModified, validators))
    }
    var range = RangeRequest(header: conditions.range, size: size)
    if let ifRange = conditions.ifRange, ifRange != etag { range = .whole }
    switch range {
    case .whole:
      let described = [("Content-Type", contentType(key)), ("Content-Length", String(size))]
      return .send(.ok, fields(validators + described), 0..<size)
    case .part(let r):
      let described = [("Content-Type", contentType(key)), ("Content-Length", String(r.count)),
        ("Content-Range", "bytes \(r.lowerBound)-\(r.upperBound - 1)/\(size)")]
      return .send(.partialContent, fields(validators + described), r)
    case .unsatisfiable:
      return .done(answer(.rangeNotSatisfiable, validators + [("Content-Range", "bytes */\(size)")]))
    }
  }

  /// The answer for `key` of a directory: its file opened beneath the root (no link out of it)
  /// and, when there is a body, sent by the kernel.
  static func fileAnswer(_ key: String, in files: FilesystemStore, _ conditions: Conditions) -> Answer {
    let file: OpenedFile
    do {
      guard let opened = try files.openContained(key) else { return answer(.notFound, text: "not found") }
      file = opened
    } catch {
      return answer(.badGateway, text: "cannot read: \(error)")
    }
    let etag = "\"\(file.size)-\(Int(file.modified * 1_000_000))\""
    switch plan(key: key, size: file.size, etag: etag, modified: file.modified, conditions) {
    case .done(let done):
      close(file.descriptor)
      return done
    case .send(let status, let fields, let bytes):
      guard conditions.wantsBody, !bytes.isEmpty else {
        close(file.descriptor)
        return Answer(status: status, fields: fields, body: .none)
      }
      return Answer(status: status, fields: fields, body: .file(file, bytes))
    }
  }

  /// The answer for `key` of any store (blocking): its size and version, and the bytes when they
  /// fit in one read (longer values are streamed).
  static func storeAnswer(_ key: String, in store: any Store, _ conditions: Conditions) -> Answer {
    do {
      guard let size = try store.size(of: key) else { return answer(.notFound, text: "not found") }
      var version = "\(size)"
      if let archive = store as? ZipStore, let entry = archive.directory.entry(key) {
        version = "\(archive.directory.archiveSize)-\(entry.localHeaderOffset)-\(String(entry.crc32, radix: 16))"
      }
      switch plan(key: key, size: size, etag: "\"\(version)\"", modified: nil, conditions) {
      case .done(let done): return done
      case .send(let status, let fields, let bytes):
        guard conditions.wantsBody, !bytes.isEmpty else { return Answer(status: status, fields: fields, body: .none) }
        if bytes.count <= readPiece {
          return Answer(status: status, fields: fields, body: .bytes(try read(key, bytes, from: store)))
        }
        return Answer(status: status, fields: fields, body: .stream(store, key: key, bytes))
      }
    } catch {
      return answer(.badGateway, text: "cannot read: \(error)")
    }
  }

  /// `range` of `key`, read into a new buffer.
  static func read(_ key: String, _ range: Range<Int>, from store: any Store) throws -> ByteBuffer {
    var buffer = ByteBufferAllocator().buffer(capacity: range.count)
    try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: range.count) { raw in
      let target = UnsafeMutableRawBufferPointer(rebasing: raw[0..<range.count])
      guard try store.read(key, range: range, into: target) != nil else {
        throw ZarrError(.notFound, "the value disappeared while being served", key: key)
      }
      return range.count
    }
    return buffer
  }

  /// The media type of `key`, from its extension.
  static func contentType(_ key: String) -> String {
    let bytes = key.utf8
    guard let dot = bytes.lastIndex(of: UInt8(ascii: ".")), !bytes[dot...].contains(UInt8(ascii: "/")) else {
      return "application/octet-stream"
    }
    switch key[dot...] {
    case ".json", ".zattrs", ".zgroup", ".zarray", ".map": return "application/json"
    case ".html": return "text/html; charset=utf-8"
    case ".js": return "text/javascript"
    case ".css": return "text/css"
    case ".wasm": return "application/wasm"
    case ".svg": return "image/svg+xml"
    case ".png": return "image/png"
    default: return "application/octet-stream"
    }
  }
}

/// HTTP dates (RFC 9110 IMF-fixdate): `Sun, 06 Dec 2026 12:38:58 GMT`.
enum HTTPDate {
  /// The current second's date, formatted once per second.
  private static let current = Mutex<(second: Int, text: String)>((-1, ""))

  /// Now, as an HTTP date.
  static func now() -> String {
    var spec = timespec()
    clock_gettime(CLOCK_REALTIME, &spec)
    let second = Int(spec.tv_sec)
    return current.withLock { cached in
      if cached.second != second { cached = (second, format(Double(second))) }
      return cached.text
    }
  }

  /// `seconds` since 1970 as an HTTP date.
  static func format(_ seconds: Double) -> String {
    var t = time_t(seconds)
    var parts = tm()
    gmtime_r(&t, &parts)
    let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
    return "\(days[Int(parts.tm_wday) % 7]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon) % 12]) \(parts.tm_year + 1900) "
      + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
  }
}
