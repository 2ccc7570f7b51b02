import Foundation
import Synchronization

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// The requests to one bucket: addressing, signing, retries, the wrong-region redirect and error
/// messages. Stores of several prefixes of a bucket share one client and its connections.
final class S3Client: Sendable {
  /// The bucket.
  let bucket: String
  /// The configuration the client was made with (region, endpoint, credentials, I/O settings).
  let configuration: S3Configuration
  let transport: HTTPTransport
  /// The region requests are signed for: the configured one until the service names another.
  private let region: Mutex<String>
  /// Seconds to add to the local clock, set when the service says the clock is skewed.
  private let clockOffset = Mutex<Double>(0)
  /// Whether a HEAD of the bucket has shown that it exists (so a 404 of a key means "absent").
  private let bucketChecked = Atomic<Bool>(false)

  /// A client for `bucket` with `configuration`.
  /// - Throws: `.invalidArgument` for an invalid bucket name or endpoint.
  init(bucket: String, configuration: S3Configuration) throws {
    try S3Configuration.validateBucketName(bucket)
    self.bucket = bucket
    self.configuration = configuration
    region = Mutex(configuration.region)
    transport = HTTPTransport(maxConnections: configuration.ioConcurrency, timeout: configuration.timeout, followRedirects: false)
  }

  /// The region requests are signed for now.
  var currentRegion: String { region.withLock { $0 } }

  /// `s3://bucket/key`, for messages.
  func display(_ objectKey: String) -> String { "s3://\(bucket)/\(objectKey)" }

  // MARK: Requests

  /// A request to `objectKey` (`""` for the bucket itself) with `query`, `headers` and `body`.
  struct Call {
    var method: String
    var objectKey: String = ""
    var query: [(String, String)] = []
    var headers: [String: String] = [:]
    var body: Data? = nil
    /// The largest body accepted in the answer.
    var limit: Int = 1 << 20
  }

  /// Sends `call`, signed for each attempt, retrying what may pass: 5xx, 429, `SlowDown` and other
  /// throttling codes, `RequestTimeout`, 409 conflicts of conditional writes, lost connections; and
  /// once, re-signed, a wrong region or a skewed clock. Other answers are returned as they are.
  /// - Throws: `.storeFailure` naming `key` when the attempts run out or the connection fails.
  func send(_ call: Call, key: String) throws -> HTTPResponse {
    var regionRetried = false, clockRetried = false
    while true {
      let response = try transport.send(key: key, limit: call.limit, backOff: BackOff(maxAttempts: configuration.maxAttempts)) {
        try request(for: call)
      } decide: { r in
        Self.retryDecision(r)
      }
      // A wrong region: the service names the right one; sign for it and send again (once).
      if !regionRetried, let right = Self.regionHint(response), right != currentRegion {
        region.withLock { $0 = right }
        regionRetried = true
        continue
      }
      // A skewed clock: sign with the service's time (once).
      if !clockRetried, response.status == 403, Self.errorCode(response) == "RequestTimeTooSkewed",
        let date = response.header("date").flatMap(Self.parseHTTPDate)
      {
        clockOffset.withLock { $0 = date.timeIntervalSinceNow }
        clockRetried = true
        continue
      }
      return response
    }
  }

  /// What to do with an answer: retry server errors and throttling, accept everything else.
  static func retryDecision(_ r: HTTPResponse) -> HTTPRetry {
    if r.status == 429 || r.status == 503 { return .retry(throttled: true) }
    if r.status >= 500 { return .retry(throttled: false) }
    if r.status == 409, errorCode(r) == "ConditionalRequestConflict" { return .retry(throttled: false) }
    if r.status == 400, let code = errorCode(r), code == "RequestTimeout" || code == "SlowDown" || code == "Throttling"
      || code == "ThrottlingException"
    {
      return .retry(throttled: code != "RequestTimeout")
    }
    return .accept
  }

  /// The URL request for `call`: addressed, with the signed headers (unless anonymous).
  private func request(for call: Call) throws -> HTTPRequest {
    let target = configuration.endpointURL(bucket: bucket)
    let keyPath = call.objectKey.isEmpty ? "" : "/" + S3Signer.uriEncode(call.objectKey, encodeSlash: false)
    var path = target.pathPrefix + keyPath
    if path.isEmpty || (call.objectKey.isEmpty && !path.hasSuffix("/")) { path += "/" }
    let query = call.query.isEmpty ? "" : "?" + S3Signer.canonicalQuery(call.query)
    guard let url = URL(string: "\(target.scheme)://\(target.host)\(path)\(query)") else {
      throw ZarrError(.invalidArgument, "cannot make a URL for \(display(call.objectKey))", key: call.objectKey)
    }
    var headers = call.headers
    headers["host"] = target.host
    if let credentials = try configuration.currentCredentials() {
      let payloadHash: String
      if let body = call.body {
        payloadHash = body.withUnsafeBytes { S3Signer.sha256Hex($0) }
      } else {
        payloadHash = S3Signer.emptyPayloadHash
      }
      let signer = S3Signer(credentials: credentials, region: currentRegion)
      let now = Date().addingTimeInterval(clockOffset.withLock { $0 })
      for (k, v) in signer.sign(method: call.method, path: path, query: call.query, headers: headers, payloadHash: payloadHash, date: now) {
        headers[k] = v
      }
    }
    // The HTTP client sets Host itself (the same value); a second one would be an error.
    headers.removeValue(forKey: "host")
    return HTTPRequest(method: call.method, url: url, headers: headers, body: call.body)
  }

  // MARK: Answers

  /// The `<Code>` of an error answer.
  static func errorCode(_ r: HTTPResponse) -> String? {
    guard !r.body.isEmpty, r.body.count < 1 << 20, let xml = S3XML.parse(r.body), xml.name == "Error" else { return nil }
    return xml.text(of: "Code")
  }

  /// The region a wrong-region answer names: `x-amz-bucket-region`, or `<Region>` in the error.
  static func regionHint(_ r: HTTPResponse) -> String? {
    guard r.status == 301 || r.status == 400 || r.status == 307 else { return nil }
    if let header = r.header("x-amz-bucket-region"), !header.isEmpty { return header }
    guard r.body.count < 1 << 20, let xml = S3XML.parse(r.body), xml.name == "Error",
      let code = xml.text(of: "Code"), code == "AuthorizationHeaderMalformed" || code == "PermanentRedirect"
        || code == "IllegalLocationConstraintException"
    else { return nil }
    return xml.text(of: "Region")
  }

  /// An error for an answer the operation did not expect: what the service said (code and
  /// message), where, and where the credentials came from when access was refused. Never a secret.
  func failure(_ r: HTTPResponse, _ operation: String, objectKey: String, key: String) -> ZarrError {
    let xml = r.body.count < 1 << 20 ? S3XML.parse(r.body) : nil
    let code = xml?.name == "Error" ? xml?.text(of: "Code") : nil
    let message = xml?.name == "Error" ? xml?.text(of: "Message") : nil
    let said = [code, message].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": ")
    var text = "\(operation) \(display(objectKey)): HTTP \(r.status)" + (said.isEmpty ? "" : " (\(said))")
    switch (r.status, code) {
    case (_, "NoSuchBucket"):
      text = "the bucket '\(bucket)' does not exist (\(operation) \(display(objectKey)): NoSuchBucket)"
    case (403, _), (401, _):
      if said.isEmpty { text += " (access denied)" }
      text += "; credentials: \(configuration.credentialSource)"
    case (301, _), (_, "AuthorizationHeaderMalformed"), (_, "PermanentRedirect"):
      let hint = Self.regionHint(r).map { " the bucket is in region '\($0)';" } ?? ""
      text += ";\(hint) requests were signed for '\(currentRegion)' (set AWS_REGION or --region)"
    default:
      break
    }
    return ZarrError(.storeFailure, text, key: key)
  }

  /// Checks once that the bucket exists, so that a 404 of a key means the key is absent.
  /// - Throws: `.storeFailure` when the bucket does not exist.
  func checkBucket(key: String) throws {
    if bucketChecked.load(ordering: .relaxed) { return }
    let r = try send(Call(method: "HEAD"), key: key)
    if r.status == 404 {
      throw ZarrError(.storeFailure, "the bucket '\(bucket)' does not exist (at \(configuration.endpoint ?? S3Configuration.awsEndpoint(region: currentRegion)))", key: key)
    }
    // 200, or 403 (public buckets often refuse HEAD of the bucket but allow reading objects).
    bucketChecked.store(true, ordering: .relaxed)
  }

  /// A date in the HTTP format (`Sun, 06 Dec 2026 07:13:22 GMT`).
  static func parseHTTPDate(_ text: String) -> Date? {
    let f = DateFormatter()
    f.locale = Locale(identifier: "en_US_POSIX")
    f.timeZone = TimeZone(identifier: "GMT")
    f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
    return f.date(from: text)
  }
}
