import Foundation
import Synchronization

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// A store in an S3-compatible bucket (AWS S3, MinIO, Ceph, Wasabi, R2, moto): key `a/b` is the
/// object `<prefix>/a/b`.
///
/// - Reads are GETs with byte ranges (`bytes=a-b`, suffix ranges `bytes=-n` for shard indexes),
///   HEAD for sizes; `list` and `listDirectory` page through ListObjectsV2.
/// - Writes are PUTs, atomic by S3's rules; values above ``S3Configuration/multipartThreshold``
///   go up as a multipart upload with parts in parallel. ``create(_:_:)`` is a conditional
///   `If-None-Match: *` PUT: it never replaces an object on services that support conditional
///   writes (AWS since 2024, MinIO, R2, Ceph, moto); where a service ignores the header, it is a
///   plain PUT after a HEAD.
/// - `deletePrefix` lists and deletes in batches of 1,000 (DeleteObjects).
/// - Requests are signed with AWS Signature V4 unless the configuration is anonymous; failures that
///   may pass (5xx, throttling, lost connections) are retried with back-off and jitter, never 4xx.
/// - Up to ``S3Configuration/ioConcurrency`` requests are in flight (``Store/ioConcurrency``).
///
///     let config = try S3Configuration.resolve()                  // AWS_* variables, ~/.aws files
///     let store = try S3Store(bucket: "lab-data", prefix: "images/cells.ome.zarr", configuration: config)
///     let level0 = try ZarrArray.open(in: store, path: "0")
public final class S3Store: Store {
  /// The bucket.
  public var bucket: String { client.bucket }
  /// The key prefix of the store's root inside the bucket (no leading or trailing `/`; `""` for the bucket root).
  public let prefix: String
  /// The configuration (region, endpoint, credentials and their source, I/O settings).
  public var configuration: S3Configuration { client.configuration }
  let client: S3Client

  /// The store rooted at `prefix` in `bucket`.
  /// - Throws: `.invalidArgument` for an invalid bucket name or endpoint.
  public convenience init(bucket: String, prefix: String = "", configuration: S3Configuration) throws {
    try self.init(client: S3Client(bucket: bucket, configuration: configuration), prefix: prefix)
  }

  init(client: S3Client, prefix: String) {
    self.client = client
    self.prefix = normalizePath(prefix)
  }

  /// `s3://bucket/prefix`.
  public var location: StoreLocation? {
    StoreLocation(scheme: "s3", authority: bucket, components: prefix.split(separator: "/").map(String.init))
  }

  /// Requests in flight at most.
  public var ioConcurrency: Int? { configuration.ioConcurrency }

  /// The number of requests sent so far (every attempt counts), by every store of this bucket.
  public var requestCount: Int { client.transport.requestCount }

  /// The most requests that were in flight at once so far, by the stores of this bucket.
  public var peakRequestsInFlight: Int { client.transport.peakInFlight }

  /// The object key of a store key.
  func objectKey(_ key: String) -> String { joinKey(prefix, key) }

  /// The largest value a GET accepts: the read limit for one chunk or shard.
  private var maxValueSize: Int { ReadLimits.current.maxChunkBytes }

  // MARK: Reads

  /// A GET of `key` (with `range` when given): the answer, or `nil` when the key is absent.
  private func fetch(_ key: String, range: String?, limit: Int) throws -> HTTPResponse? {
    var call = S3Client.Call(method: "GET", objectKey: objectKey(key), limit: limit)
    if let range { call.headers["range"] = range }
    let r = try client.send(call, key: key)
    if r.status == 404 {
      if S3Client.errorCode(r) == "NoSuchBucket" { throw client.failure(r, "GET", objectKey: call.objectKey, key: key) }
      return nil
    }
    return r
  }

  /// The whole value, or `nil` when the key is absent.
  public func get(_ key: String) throws -> [UInt8]? {
    guard let r = try fetch(key, range: nil, limit: maxValueSize) else { return nil }
    guard r.status == 200 else { throw client.failure(r, "GET", objectKey: objectKey(key), key: key) }
    return r.body
  }

  /// Part of a value from one ranged GET, or `nil` when the key is absent.
  public func get(_ key: String, range: ByteRange) throws -> [UInt8]? {
    try rangedGet(key, range)?.bytes
  }

  /// One ranged GET per range, with the value's size from `Content-Range`.
  public func get(_ key: String, ranges: [ByteRange]) throws -> (parts: [[UInt8]], size: Int)? {
    try RangeRequests.parts(ranges, fetch: { try rangedGet(key, $0) }, size: { try size(of: key) })
  }

  /// One ranged GET copied straight into `buffer`; returns the value's size.
  public func read(_ key: String, range: Range<Int>, into buffer: UnsafeMutableRawBufferPointer) throws -> Int? {
    try RangeRequests.read(key, range, into: buffer, fetch: { try rangedGet(key, $0) }, size: { try size(of: key) })
  }

  /// One ranged GET (at most the range's length is accepted as a body): the bytes and the value's
  /// total size.
  private func rangedGet(_ key: String, _ range: ByteRange) throws -> (bytes: [UInt8], size: Int?)? {
    try RangeRequests.fetch(key, range, size: { try size(of: key) }, send: { header, length in
      try fetch(key, range: header, limit: min(length ?? maxValueSize, maxValueSize))
    }, failure: { client.failure($0, "GET", objectKey: objectKey(key), key: key) })
  }

  /// The size from a HEAD, or `nil` when the key is absent (after checking once that the bucket exists).
  public func size(of key: String) throws -> Int? {
    let r = try client.send(S3Client.Call(method: "HEAD", objectKey: objectKey(key)), key: key)
    switch r.status {
    case 200:
      guard let length = r.contentLength, length >= 0 else {
        throw ZarrError(.corruptData, "HEAD \(client.display(objectKey(key))) gave no Content-Length", key: key)
      }
      return length
    case 404:
      // A HEAD error has no body: NoSuchBucket and NoSuchKey look the same.
      try client.checkBucket(key: key)
      return nil
    default:
      throw client.failure(r, "HEAD", objectKey: objectKey(key), key: key)
    }
  }

  // MARK: Writes

  /// The content type of a key: JSON documents as such (viewers and browsers like it), else bytes.
  private static func contentType(_ key: String) -> String {
    key.hasSuffix(".json") || key.hasSuffix(".zarray") || key.hasSuffix(".zattrs") || key.hasSuffix(".zgroup")
      ? "application/json" : "application/octet-stream"
  }

  /// Stores a value with one PUT, or a multipart upload above the threshold.
  public func set(_ key: String, _ value: [UInt8]) throws {
    try value.withUnsafeBytes { try set(key, bytes: $0) }
  }

  /// Stores the bytes of a buffer (the buffer is sent as it is, without a copy into an array).
  public func set(_ key: String, bytes: UnsafeRawBufferPointer) throws {
    guard !key.isEmpty else { throw ZarrError(.invalidArgument, "empty store key") }
    if bytes.count > configuration.multipartThreshold {
      try multipartUpload(key, bytes)
      return
    }
    _ = try put(key, Self.data(bytes), conditional: false)
  }

  /// Stores a value unless the key exists: a conditional PUT (`If-None-Match: *`), which the service
  /// refuses with 412 when the object is there.
  public func create(_ key: String, _ value: [UInt8]) throws -> Bool {
    guard !key.isEmpty else { throw ZarrError(.invalidArgument, "empty store key") }
    return try value.withUnsafeBytes { try put(key, Self.data($0), conditional: true) }
  }

  /// A buffer as `Data` without copying (the buffer outlives the request: calls block until done).
  private static func data(_ bytes: UnsafeRawBufferPointer) -> Data {
    guard let base = bytes.baseAddress, bytes.count > 0 else { return Data() }
    return Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: base), count: bytes.count, deallocator: .none)
  }

  /// One PUT; `false` when `conditional` and the object exists.
  private func put(_ key: String, _ body: Data, conditional: Bool) throws -> Bool {
    var call = S3Client.Call(method: "PUT", objectKey: objectKey(key), body: body)
    call.headers["content-type"] = Self.contentType(key)
    if conditional { call.headers["if-none-match"] = "*" }
    let r = try client.send(call, key: key)
    if conditional, r.status == 412 { return false }
    guard r.status == 200 else { throw client.failure(r, "PUT", objectKey: call.objectKey, key: key) }
    return true
  }

  /// A multipart upload: parts of ``S3Configuration/partSize`` (more when 10,000 parts would not
  /// hold the value) sent in parallel, then completed; aborted on failure.
  private func multipartUpload(_ key: String, _ bytes: UnsafeRawBufferPointer) throws {
    let object = objectKey(key)
    var start = S3Client.Call(method: "POST", objectKey: object, query: [("uploads", "")])
    start.headers["content-type"] = Self.contentType(key)
    let r = try client.send(start, key: key)
    guard r.status == 200, let uploadID = S3XML.parse(r.body)?.text(of: "UploadId"), !uploadID.isEmpty else {
      throw client.failure(r, "starting a multipart upload of", objectKey: object, key: key)
    }
    let partSize = max(configuration.partSize, 5 << 20, CheckedArithmetic.ceilDiv(bytes.count, 10_000))
    let count = CheckedArithmetic.ceilDiv(bytes.count, partSize)
    let etags = ResultSlots<String>(count: count)
    let source = SendableRawBuffer(bytes)
    do {
      try Parallel.forEach(count, width: min(configuration.ioConcurrency, count)) { i in
        let lower = i * partSize
        let part = UnsafeRawBufferPointer(rebasing: source.buffer[lower..<min(lower + partSize, source.buffer.count)])
        let call = S3Client.Call(method: "PUT", objectKey: object, query: [("partNumber", String(i + 1)), ("uploadId", uploadID)],
          body: Self.data(part))
        let r = try client.send(call, key: key)
        guard r.status == 200, let etag = r.header("etag") else {
          throw client.failure(r, "uploading part \(i + 1) of", objectKey: object, key: key)
        }
        etags.set(i, etag)
      }
      var xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      for (i, etag) in etags.values.enumerated() {
        xml += "<Part><PartNumber>\(i + 1)</PartNumber><ETag>\(Self.escapeXML(etag ?? ""))</ETag></Part>"
      }
      xml += "</CompleteMultipartUpload>"
      var complete = S3Client.Call(method: "POST", objectKey: object, query: [("uploadId", uploadID)], body: Data(xml.utf8))
      complete.headers["content-type"] = "application/xml"
      let done = try client.send(complete, key: key)
      // A 200 may still carry an error in its body.
      guard done.status == 200, S3XML.parse(done.body)?.name != "Error" else {
        throw client.failure(done, "completing the multipart upload of", objectKey: object, key: key)
      }
    } catch {
      abortUpload(object, uploadID, key: key)
      throw error
    }
  }

  /// Aborts a multipart upload (best effort: an upload left behind is removed by
  /// ``deleteTemporaryObjects(under:)`` or a bucket lifecycle rule).
  private func abortUpload(_ object: String, _ uploadID: String, key: String) {
    _ = try? client.send(S3Client.Call(method: "DELETE", objectKey: object, query: [("uploadId", uploadID)]), key: key)
  }

  /// Deletes an object (S3 answers 204 whether or not it existed).
  public func delete(_ key: String) throws {
    let r = try client.send(S3Client.Call(method: "DELETE", objectKey: objectKey(key)), key: key)
    guard r.status == 204 || r.status == 200 || r.status == 404 else {
      throw client.failure(r, "DELETE", objectKey: objectKey(key), key: key)
    }
    if r.status == 404, S3Client.errorCode(r) == "NoSuchBucket" {
      throw client.failure(r, "DELETE", objectKey: objectKey(key), key: key)
    }
  }

  /// Deletes `prefix` itself and every key below it, 1,000 keys per DeleteObjects request.
  public func deletePrefix(_ prefix: String) throws {
    var keys = try list(prefix: prefix)
    if !prefix.isEmpty, try exists(prefix) { keys.append(prefix) }
    var start = 0
    while start < keys.count {
      let batch = keys[start..<min(start + 1000, keys.count)]
      start += batch.count
      var xml = "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>"
      for k in batch { xml += "<Object><Key>\(Self.escapeXML(objectKey(k)))</Key></Object>" }
      xml += "</Delete>"
      let body = Array(xml.utf8)
      var call = S3Client.Call(method: "POST", query: [("delete", "")], body: Data(body))
      call.headers["content-type"] = "application/xml"
      call.headers["content-md5"] = S3Signer.md5Base64(body)
      let r = try client.send(call, key: prefix)
      guard r.status == 200 else { throw client.failure(r, "deleting keys under", objectKey: objectKey(prefix), key: prefix) }
      if let result = S3XML.parse(r.body), let first = result.children("Error").first {
        let failed = first.text(of: "Key") ?? "?"
        let code = [first.text(of: "Code"), first.text(of: "Message")].compactMap { $0 }.joined(separator: ": ")
        throw ZarrError(.storeFailure, "could not delete \(client.display(failed)) (\(code))", key: prefix)
      }
    }
  }

  /// Aborts the multipart uploads that interrupted writes left below `prefix`.
  public func deleteTemporaryObjects(under prefix: String) throws {
    let s3Prefix = directoryPrefix(prefix)
    var keyMarker: String? = nil, uploadMarker: String? = nil
    repeat {
      var query: [(String, String)] = [("uploads", ""), ("prefix", s3Prefix)]
      if let keyMarker { query.append(("key-marker", keyMarker)) }
      if let uploadMarker { query.append(("upload-id-marker", uploadMarker)) }
      let r = try client.send(S3Client.Call(method: "GET", query: query, limit: 16 << 20), key: prefix)
      guard r.status == 200, let xml = S3XML.parse(r.body) else {
        throw client.failure(r, "listing interrupted uploads under", objectKey: s3Prefix, key: prefix)
      }
      for upload in xml.children("Upload") {
        if let key = upload.text(of: "Key"), let id = upload.text(of: "UploadId") { abortUpload(key, id, key: prefix) }
      }
      guard xml.text(of: "IsTruncated") == "true" else { break }
      let next = (xml.text(of: "NextKeyMarker"), xml.text(of: "NextUploadIdMarker"))
      guard next.0 != nil, next != (keyMarker, uploadMarker) else {
        throw ZarrError(.storeFailure, "listing interrupted uploads under \(client.display(s3Prefix)): no progress", key: prefix)
      }
      (keyMarker, uploadMarker) = next
    } while true
  }

  // MARK: Listing

  /// The S3 prefix of everything below the node path `prefix` (ends in `/`, or `""` at the bucket root).
  private func directoryPrefix(_ prefix: String) -> String {
    let p = objectKey(prefix)
    return p.isEmpty ? "" : p + "/"
  }

  /// Every key below `prefix`, sorted.
  public func list(prefix: String) throws -> [String] {
    try listObjects(prefix, delimited: false).keys.sorted()
  }

  /// The total size of the objects below `prefix`, from the listing (no request per object).
  public func storedBytes(under prefix: String) throws -> Int {
    try listObjects(prefix, delimited: false).bytes
  }

  /// The names of keys directly below `prefix` and of the sub-prefixes, each sorted.
  public func listDirectory(_ prefix: String) throws -> (keys: [String], prefixes: [String]) {
    let (keys, prefixes, _) = try listObjects(prefix, delimited: true)
    let drop = prefix.isEmpty ? 0 : prefix.count + 1
    return (keys.map { String($0.dropFirst(drop)) }.sorted(), prefixes.sorted())
  }

  /// ListObjectsV2 pages below `prefix`: store keys, and (delimited) the names of sub-prefixes.
  private func listObjects(_ prefix: String, delimited: Bool) throws -> (keys: [String], prefixes: [String], bytes: Int) {
    let s3Prefix = directoryPrefix(prefix)
    let strip = self.prefix.isEmpty ? 0 : self.prefix.count + 1
    var keys: [String] = [], prefixes: [String] = []
    var bytes = 0
    var token: String? = nil
    var pages = 0
    repeat {
      var query: [(String, String)] = [("list-type", "2"), ("prefix", s3Prefix), ("max-keys", "1000")]
      if delimited { query.append(("delimiter", "/")) }
      if let token { query.append(("continuation-token", token)) }
      let r = try client.send(S3Client.Call(method: "GET", query: query, limit: 16 << 20), key: prefix)
      guard r.status == 200, let xml = S3XML.parse(r.body), xml.name == "ListBucketResult" else {
        throw client.failure(r, "listing", objectKey: s3Prefix, key: prefix)
      }
      for item in xml.children("Contents") {
        guard let key = item.text(of: "Key"), key.hasPrefix(s3Prefix), key.count > s3Prefix.count, !key.hasSuffix("/") else { continue }
        keys.append(String(key.dropFirst(strip)))
        bytes &+= max(0, item.text(of: "Size").flatMap { Int($0) } ?? 0)
      }
      for item in xml.children("CommonPrefixes") {
        guard let p = item.text(of: "Prefix"), p.hasPrefix(s3Prefix), p.hasSuffix("/") else { continue }
        let name = p.dropFirst(s3Prefix.count).dropLast()
        if !name.isEmpty { prefixes.append(String(name)) }
      }
      pages += 1
      guard xml.text(of: "IsTruncated") == "true" else { break }
      let next = xml.text(of: "NextContinuationToken")
      guard let next, !next.isEmpty, next != token else {
        throw ZarrError(.storeFailure,
          "listing \(client.display(s3Prefix)): page \(pages) is truncated without a new continuation token", key: prefix)
      }
      token = next
    } while true
    return (keys, prefixes, bytes)
  }

  /// Text escaped for an XML element.
  static func escapeXML(_ text: String) -> String {
    var out = ""
    for c in text.unicodeScalars {
      switch c {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      case "'": out += "&apos;"
      default:
        // Control characters are not allowed in XML 1.0 even escaped as text; S3 wants them as references.
        if c.value < 0x20 && c != "\t" && c != "\n" && c != "\r" { out += "&#\(c.value);" } else { out.unicodeScalars.append(c) }
      }
    }
    return out
  }
}

/// A raw buffer that parallel workers read (each its own part).
private struct SendableRawBuffer: @unchecked Sendable {
  let buffer: UnsafeRawBufferPointer
  init(_ buffer: UnsafeRawBufferPointer) { self.buffer = buffer }
}

/// `s3://bucket/prefix` locations: an ``S3Store`` with the configuration from the environment and
/// ``RemoteAccess/current`` (one client per bucket and configuration, shared by its stores).
struct S3LocationScheme: LocationScheme {
  var schemes: [String] { ["s3"] }

  private static let clients = Mutex<[String: S3Client]>([:])
  /// The configuration resolved for the remote settings last used (the environment and the AWS
  /// files are read once, not for every location a collection names).
  private static let resolved = Mutex<(access: RemoteAccess, configuration: S3Configuration)?>(nil)

  /// The configuration for the settings in effect now.
  static func configuration() throws -> S3Configuration {
    let access = RemoteAccess.current
    if let r = resolved.withLock({ $0 }), r.access == access { return r.configuration }
    // `--region` is the region of every service, STS (web identity) included.
    var environment = ProcessInfo.processInfo.environment
    if let region = access.region { environment["AWS_REGION"] = region }
    var configuration = try S3Configuration.resolve(environment: environment, anonymous: access.anonymous, profile: access.profile)
    if let endpoint = access.endpoint { configuration.endpoint = endpoint }
    configuration.ioConcurrency = access.ioConcurrency
    resolved.withLock { $0 = (access, configuration) }
    return configuration
  }

  /// The client of `bucket` with the configuration in effect now.
  static func client(bucket: String) throws -> S3Client {
    let configuration = try configuration()
    return try clients.withLock { cache in
      if let c = cache[bucket], c.configuration == configuration { return c }
      let c = try S3Client(bucket: bucket, configuration: configuration)
      cache[bucket] = c
      return c
    }
  }

  func store(at location: StoreLocation, create: Bool) throws -> any Store {
    S3Store(client: try Self.client(bucket: location.authority), prefix: location.components.joined(separator: "/"))
  }

  /// An object (HEAD answers), a prefix (something is listed below it), or absent; `nil` when the
  /// service cannot be asked (no network, no access).
  func entry(at location: StoreLocation) -> StoreEntry? {
    guard let client = try? Self.client(bucket: location.authority) else { return nil }
    if location.components.isEmpty { return .prefix }
    let key = location.components.joined(separator: "/")
    let root = S3Store(client: client, prefix: "")
    do {
      if try root.size(of: key) != nil { return .object }
    } catch {
      return nil
    }
    var query: [(String, String)] = [("list-type", "2"), ("prefix", key + "/"), ("max-keys", "1")]
    query.append(("delimiter", "/"))
    guard let r = try? client.send(S3Client.Call(method: "GET", query: query), key: key), r.status == 200,
      let xml = S3XML.parse(r.body)
    else { return nil }
    return xml.child("Contents") != nil || xml.child("CommonPrefixes") != nil ? .prefix : .absent
  }
}
