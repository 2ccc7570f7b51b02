#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOPosix
import Synchronization
import ZarrIO

/// Answers one request of a ``StoreServer``: the token and key, CORS, ranges, conditionals.
struct StoreResponder: HTTPResponder {
  typealias Context = BasicRequestContext
  let server: StoreServer
  /// `Host` values accepted once the port is known (loopback names, or any for a wider bind).
  let allowedHosts = HostList()
  /// The client directory's store, when one is served.
  let client: (store: FilesystemStore, location: StoreLocation)?
  /// The served location with its symbolic links resolved (once).
  let rootCanonical: StoreLocation?

  init(server: StoreServer) {
    self.server = server
    rootCanonical = server.location?.canonical
    client = server.configuration.client.flatMap { dir in
      (try? StoreLocation(dir)).flatMap { location in (try? FilesystemStore(root: location.path)).map { ($0, location) } }
    }
  }

  /// The `Host` values accepted (shared by the copies of the responder).
  final class HostList: Sendable {
    let hosts = Mutex<Set<String>>([])
    func withLock<T>(_ body: (inout Set<String>) -> T) -> T { hosts.withLock { body(&$0) } }
  }

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

  /// CORS headers every answer carries.
  static func cors(_ fields: inout HTTPFields) {
    fields[.accessControlAllowOrigin] = "*"
    fields[.accessControlExposeHeaders] = "Content-Range, Content-Length, ETag, Accept-Ranges, Last-Modified"
    fields[.cacheControl] = "no-cache"
  }

  static func answer(_ status: HTTPResponse.Status, _ extra: HTTPFields = [:], text: String? = nil) -> Response {
    var fields = extra
    cors(&fields)
    guard let text else {
      fields[.contentLength] = "0"
      return Response(status: status, headers: fields, body: ResponseBody())
    }
    fields[.contentType] = "text/plain; charset=utf-8"
    return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(string: text + "\n")))
  }

  func respond(to request: Request, context: Context) async throws -> Response {
    let response = try await answer(request)
    if let log = server.configuration.log {
      let bytes = request.method == .head ? 0 : response.headers[.contentLength].flatMap { Int($0) } ?? 0
      log(request.method.rawValue, request.head.path ?? "", response.status.code, bytes)
    }
    return response
  }

  /// The answer to `request`.
  func answer(_ request: Request) async throws -> Response {
    // A page on another name resolving to loopback (DNS rebinding) is refused.
    let hosts = allowedHosts.withLock { $0 }
    if !hosts.isEmpty, let host = request.head.authority, !hosts.contains(host.lowercased()) {
      return Self.answer(.forbidden, text: "forbidden host")
    }
    switch request.method {
    case .options:
      var fields = HTTPFields()
      fields[.accessControlAllowMethods] = "GET, HEAD, OPTIONS"
      fields[.accessControlAllowHeaders] = "Range, If-None-Match, If-Range, If-Modified-Since"
      fields[.accessControlMaxAge] = "86400"
      return Self.answer(.noContent, fields)
    case .get, .head:
      break
    default:
      var fields = HTTPFields()
      fields[.allow] = "GET, HEAD, OPTIONS"
      return Self.answer(.methodNotAllowed, fields, text: "read-only")
    }
    var source = server.store
    var sourceLocation = server.location
    var path = request.head.path ?? "/"
    var token = server.configuration.token
    var indexFile: String? = nil
    // The viewer's client, under /v/TOKEN/.
    let clientPrefix = "/v/" + (token.map { $0 + "/" } ?? "")
    if let client, path.hasPrefix(clientPrefix) || path + "/" == clientPrefix {
      source = client.store
      sourceLocation = client.location
      path = "/" + path.dropFirst(min(path.count, clientPrefix.count))
      token = nil
      indexFile = "index.html"
    }
    let key: String
    switch RequestTarget(path: path, token: token) {
    case .forbidden: return Self.answer(.forbidden, text: "forbidden")
    case .key("") where indexFile != nil: key = indexFile ?? ""
    case .notFound, .key(""): return Self.answer(.notFound, text: "not found")
    case .key(let k): key = k
    }
    let (store, location) = (source, sourceLocation)
    let root = sourceLocation == server.location ? rootCanonical : sourceLocation?.canonical
    let rangeHeader = request.headers[.range], ifRange = request.headers[.ifRange]
    let wantsBody = request.method == .get
    // One hop off the event loops (stores block): the value's size and version, the range, and
    // the bytes themselves when they fit in one read.
    let prepared: Prepared?
    do {
      prepared = try await NIOThreadPool.singleton.runIfActive {
        guard let (size, etag, modified) = try Self.describe(key, in: store, location: location, root: root) else { return nil }
        var range = RangeRequest(header: rangeHeader, size: size)
        if let ifRange, ifRange != etag { range = .whole }
        var body: ByteBuffer? = nil
        let bytes: Range<Int>? = switch range {
        case .whole: 0..<size
        case .part(let r): r
        case .unsatisfiable: nil
        }
        if wantsBody, let bytes, bytes.count <= Self.readPiece {
          body = try Self.read(key, bytes, from: store)
        }
        return Prepared(size: size, etag: etag, modified: modified, range: range, body: body)
      }
    } catch {
      return Self.answer(.badGateway, text: "cannot read: \(error)")
    }
    guard let prepared else { return Self.answer(.notFound, text: "not found") }
    let (size, etag, modified) = (prepared.size, prepared.etag, prepared.modified)

    var fields = HTTPFields()
    fields[.acceptRanges] = "bytes"
    fields[.eTag] = etag
    if let modified { fields[.lastModified] = Self.httpDate(modified) }
    if let match = request.headers[.ifNoneMatch], match == "*" || match.split(separator: ",").contains(where: {
      $0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "W/", with: "") == etag
    }) {
      return Self.answer(.notModified, fields)
    }
    let range = prepared.range
    let bytes: Range<Int>
    var status = HTTPResponse.Status.ok
    switch range {
    case .whole: bytes = 0..<size
    case .part(let r):
      bytes = r
      status = .partialContent
      fields[.contentRange] = "bytes \(r.lowerBound)-\(r.upperBound - 1)/\(size)"
    case .unsatisfiable:
      fields[.contentRange] = "bytes */\(size)"
      return Self.answer(.rangeNotSatisfiable, fields)
    }
    fields[.contentType] = Self.contentType(key)
    Self.cors(&fields)
    fields[.contentLength] = String(bytes.count)
    if request.method == .head {
      return Response(status: status, headers: fields, body: ResponseBody(contentLength: bytes.count) { _ in })
    }
    if let body = prepared.body { return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: body)) }
    return Response(status: status, headers: fields, body: ResponseBody(contentLength: bytes.count) { writer in
      var offset = bytes.lowerBound
      while offset < bytes.upperBound {
        let piece = offset..<min(bytes.upperBound, offset + Self.readPiece)
        let buffer = try await NIOThreadPool.singleton.runIfActive { try Self.read(key, piece, from: store) }
        try await writer.write(buffer)
        offset = piece.upperBound
      }
      try await writer.finish(nil)
    })
  }

  /// What one blocking step found out about a request.
  struct Prepared: Sendable {
    var size: Int
    var etag: String
    var modified: Double?
    var range: RangeRequest
    /// The bytes to send, when they fit in one read.
    var body: ByteBuffer?
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

  /// The size, ETag and modification time of `key`, or `nil` when it is absent (or a symbolic
  /// link leading out of a served directory, whose resolved path is `root`).
  static func describe(_ key: String, in store: any Store, location: StoreLocation?, root: StoreLocation?) throws
    -> (size: Int, etag: String, modified: Double?)?
  {
    if let location, let root, location.isFile, !location.isInArchive {
      let target = location.appending(key)
      // Nothing outside the root, even through a link.
      guard root.contains(target.canonical), let info = target.objectInfo() else { return nil }
      return (info.size, "\"\(info.size)-\(Int(info.modified * 1_000_000))\"", info.modified)
    }
    guard let size = try store.size(of: key) else { return nil }
    var version = "\(size)"
    let modified: Double? = nil
    if let archive = store as? ZipStore, let entry = archive.directory.entry(key) {
      version = "\(archive.directory.archiveSize)-\(entry.localHeaderOffset)-\(String(entry.crc32, radix: 16))"
    }
    return (size, "\"\(version)\"", modified)
  }

  static func contentType(_ key: String) -> String {
    let types = [".json": "application/json", ".zattrs": "application/json", ".zgroup": "application/json",
      ".zarray": "application/json", ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css",
      ".wasm": "application/wasm", ".map": "application/json", ".svg": "image/svg+xml", ".png": "image/png"]
    return types.first { key.hasSuffix($0.key) }?.value ?? "application/octet-stream"
  }

  /// An HTTP date (RFC 9110 IMF-fixdate): `Sun, 06 Dec 2026 12:38:58 GMT`.
  static func httpDate(_ seconds: Double) -> String {
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
