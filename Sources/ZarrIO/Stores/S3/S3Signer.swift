import Crypto
import Foundation
import Synchronization

/// AWS Signature Version 4 for S3 requests (swift-crypto HMAC-SHA256).
///
/// Header authentication (``sign(method:path:query:headers:payloadHash:date:)``) and presigned URLs
/// (``presign(method:scheme:host:path:query:expires:date:)``), as described in
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html> and
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html>.
/// The signing key is derived once per day and region and cached; a signer is cheap to copy and
/// safe to share between threads.
///
///     let signer = S3Signer(credentials: credentials, region: "us-east-1")
///     let added = signer.sign(method: "GET", path: "/bucket/a/zarr.json", query: [],
///                             headers: ["host": "127.0.0.1:5000"], payloadHash: S3Signer.emptyPayloadHash, date: Date())
///     // added["authorization"], added["x-amz-date"], added["x-amz-content-sha256"]
public struct S3Signer: Sendable {
  /// The access keys requests are signed with.
  public let credentials: S3Credentials
  /// The region in the credential scope, e.g. `"us-east-1"`.
  public let region: String
  /// The service in the credential scope: `"s3"` (another name only for the generic test vectors).
  public let service: String
  private let cache = SigningKeyCache()

  /// The algorithm name that starts every string to sign and authorization header.
  static let algorithm = "AWS4-HMAC-SHA256"
  /// The payload hash of presigned URLs and of bodies that are not hashed.
  public static let unsignedPayload = "UNSIGNED-PAYLOAD"
  /// The hex SHA-256 of an empty body: `e3b0c442…b855`.
  public static let emptyPayloadHash = sha256Hex([UInt8]())
  /// The longest validity of a presigned URL, in seconds (7 days).
  public static let maxPresignExpiry = 604_800

  /// A signer for `credentials` in `region`; `service` is `"s3"` for S3.
  public init(credentials: S3Credentials, region: String, service: String = "s3") {
    self.credentials = credentials
    self.region = region
    self.service = service
  }

  // MARK: Header authentication

  /// Headers to add to a request (authorization, x-amz-date, x-amz-content-sha256, x-amz-security-token).
  ///
  /// `path` is the already-encoded canonical URI (`"/bucket/key%20x"`), `query` the decoded name/value
  /// pairs, `headers` every header that will be sent and signed (must include `"host"`, lowercase or not,
  /// with the port when it is not the scheme's default). `payloadHash` is the hex SHA-256 of the body
  /// (``emptyPayloadHash`` for none) or ``unsignedPayload``. The returned names are lowercase;
  /// `x-amz-date`, `x-amz-content-sha256` (service `s3` only) and `x-amz-security-token` (with a
  /// session token) are signed too and replace any value of the same name in `headers`.
  public func sign(method: String, path: String, query: [(String, String)], headers: [String: String],
                   payloadHash: String, date: Date) -> [String: String] {
    let stamp = Self.timestamps(date)
    var added: [String: String] = ["x-amz-date": stamp.amzDate]
    if service == "s3" { added["x-amz-content-sha256"] = payloadHash }
    if let token = credentials.sessionToken { added["x-amz-security-token"] = token }
    var all: [String: String] = [:]
    // Names that differ only in case are one header, values joined by "," in a fixed order.
    for (name, value) in headers.sorted(by: { ($0.key, $0.value) < ($1.key, $1.value) }) {
      let lower = name.lowercased()
      guard added[lower] == nil, lower != "authorization" else { continue }
      all[lower] = all[lower].map { $0 + "," + value } ?? value
    }
    for (name, value) in added { all[name] = value }
    let canonical = Self.canonicalRequest(method: method, path: path, query: query, headers: all, payloadHash: payloadHash)
    let scope = "\(stamp.day)/\(region)/\(service)/aws4_request"
    let signature = self.signature(stringToSign: Self.stringToSign(amzDate: stamp.amzDate, scope: scope, canonicalRequest: canonical.text),
                                   day: stamp.day)
    added["authorization"] =
      "\(Self.algorithm) Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(canonical.signedHeaders), Signature=\(signature)"
    return added
  }

  // MARK: Query authentication

  /// A presigned URL (query auth), payload UNSIGNED-PAYLOAD, expires ≤ 604800.
  ///
  /// `host` is what the client will send as `Host` (with a non-default port), `path` the encoded
  /// canonical URI, `query` the decoded extra parameters; `expires` (seconds) is clamped to 1…604800.
  /// The result is `scheme://host/path?<canonical query>&X-Amz-Signature=…`.
  public func presign(method: String, scheme: String, host: String, path: String, query: [(String, String)],
                      expires: Int, date: Date) -> String {
    let stamp = Self.timestamps(date)
    let scope = "\(stamp.day)/\(region)/\(service)/aws4_request"
    var parameters = query
    parameters.append(("X-Amz-Algorithm", Self.algorithm))
    parameters.append(("X-Amz-Credential", "\(credentials.accessKeyID)/\(scope)"))
    parameters.append(("X-Amz-Date", stamp.amzDate))
    parameters.append(("X-Amz-Expires", String(min(max(expires, 1), Self.maxPresignExpiry))))
    if let token = credentials.sessionToken { parameters.append(("X-Amz-Security-Token", token)) }
    parameters.append(("X-Amz-SignedHeaders", "host"))
    let canonical = Self.canonicalRequest(method: method, path: path, query: parameters, headers: ["host": host],
                                          payloadHash: Self.unsignedPayload)
    let signature = self.signature(stringToSign: Self.stringToSign(amzDate: stamp.amzDate, scope: scope, canonicalRequest: canonical.text),
                                   day: stamp.day)
    let uri = path.isEmpty ? "/" : path
    return "\(scheme)://\(host)\(uri)?\(Self.canonicalQuery(parameters))&X-Amz-Signature=\(signature)"
  }

  // MARK: The steps (internal for the test vectors)

  /// The canonical request and its signed-header list. `headers` must already have lowercase names.
  static func canonicalRequest(method: String, path: String, query: [(String, String)], headers: [String: String],
                               payloadHash: String) -> (text: String, signedHeaders: String) {
    var lines: [(String, String)] = []
    for (name, value) in headers { lines.append((name.lowercased(), canonicalHeaderValue(value))) }
    lines.sort { Array($0.0.utf8).lexicographicallyPrecedes(Array($1.0.utf8)) }
    let headerBlock = lines.map { "\($0.0):\($0.1)\n" }.joined()
    let signedHeaders = lines.map(\.0).joined(separator: ";")
    let text = [method.uppercased(), path.isEmpty ? "/" : path, canonicalQuery(query), headerBlock, signedHeaders, payloadHash]
      .joined(separator: "\n")
    return (text, signedHeaders)
  }

  /// The canonical query string: names and values UriEncoded (`/` too), sorted by encoded name then
  /// value (byte order), `name=value` (`name=` when empty) joined by `&`.
  public static func canonicalQuery(_ query: [(String, String)]) -> String {
    let encoded = query.map { (Array(uriEncode($0.0, encodeSlash: true).utf8), Array(uriEncode($0.1, encodeSlash: true).utf8)) }
    let sorted = encoded.sorted { a, b in
      a.0 != b.0 ? a.0.lexicographicallyPrecedes(b.0) : a.1.lexicographicallyPrecedes(b.1)
    }
    return sorted.map { String(decoding: $0.0, as: UTF8.self) + "=" + String(decoding: $0.1, as: UTF8.self) }
      .joined(separator: "&")
  }

  /// A header value as signed: trimmed, with runs of inner whitespace collapsed to one space.
  static func canonicalHeaderValue(_ value: String) -> String {
    value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }).joined(separator: " ")
  }

  /// `AWS4-HMAC-SHA256\n<amzdate>\n<scope>\n<hex sha256(canonical request)>`.
  static func stringToSign(amzDate: String, scope: String, canonicalRequest: String) -> String {
    "\(algorithm)\n\(amzDate)\n\(scope)\n\(sha256Hex(Array(canonicalRequest.utf8)))"
  }

  /// The hex HMAC-SHA256 of `stringToSign` under the day's signing key.
  func signature(stringToSign: String, day: String) -> String {
    let mac = HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: signingKey(day: day))
    return Self.hex(mac)
  }

  /// The signing key for `day` (`yyyyMMdd`) in this signer's region and service, cached.
  func signingKey(day: String) -> SymmetricKey {
    let cacheKey = "\(day)/\(region)/\(service)"
    if let bytes = cache.lookup(cacheKey) { return SymmetricKey(data: bytes) }
    let key = Self.deriveSigningKey(secret: credentials.secretAccessKey, day: day, region: region, service: service)
    cache.store(key.withUnsafeBytes { Array($0) }, for: cacheKey)
    return key
  }

  /// The HMAC chain `"AWS4"+secret` → day → region → service → `aws4_request`.
  static func deriveSigningKey(secret: String, day: String, region: String, service: String) -> SymmetricKey {
    var key = SymmetricKey(data: Array(("AWS4" + secret).utf8))
    for part in [day, region, service, "aws4_request"] {
      let mac = HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)
      key = SymmetricKey(data: Array(mac))
    }
    return key
  }

  /// The `yyyyMMdd'T'HHmmss'Z'` timestamp and the `yyyyMMdd` day of `date`, in UTC (proleptic Gregorian).
  static func timestamps(_ date: Date) -> (amzDate: String, day: String) {
    let t = date.timeIntervalSince1970
    let seconds = t.isFinite ? Int64(min(max(t, -1e15), 1e15).rounded(.down)) : 0
    let days = seconds >= 0 ? seconds / 86_400 : -((-seconds + 86_399) / 86_400)
    let secondOfDay = seconds - days * 86_400
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let d = doy - (153 * mp + 2) / 5 + 1
    let m = mp < 10 ? mp + 3 : mp - 9
    let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
    func pad(_ v: Int64, _ width: Int) -> String {
      let s = String(v)
      return String(repeating: "0", count: max(0, width - s.count)) + s
    }
    let day = pad(y, 4) + pad(m, 2) + pad(d, 2)
    let time = pad(secondOfDay / 3600, 2) + pad(secondOfDay / 60 % 60, 2) + pad(secondOfDay % 60, 2)
    return (day + "T" + time + "Z", day)
  }

  // MARK: Hashes and encoding

  /// The lowercase hex SHA-256 of `bytes`.
  public static func sha256Hex(_ bytes: UnsafeRawBufferPointer) -> String {
    hex(SHA256.hash(data: bytes))
  }

  /// The lowercase hex SHA-256 of `bytes`.
  public static func sha256Hex(_ bytes: [UInt8]) -> String {
    hex(SHA256.hash(data: bytes))
  }

  /// The base64 MD5 of `bytes`, for a `Content-MD5` header (DeleteObjects requires one).
  public static func md5Base64(_ bytes: [UInt8]) -> String {
    Data(Insecure.MD5.hash(data: bytes)).base64EncodedString()
  }

  /// The base64 MD5 of `bytes`, for a `Content-MD5` header (DeleteObjects requires one).
  public static func md5Base64(_ bytes: UnsafeRawBufferPointer) -> String {
    Data(Insecure.MD5.hash(data: bytes)).base64EncodedString()
  }

  /// Percent-encodes per the S3 rules: all but A-Za-z0-9-._~ (and '/' when encodeSlash is false), uppercase hex.
  ///
  /// The text is encoded as UTF-8, each other byte as `%XX` (a space is `%20`, never `+`).
  public static func uriEncode(_ text: String, encodeSlash: Bool) -> String {
    let digits: [UInt8] = Array("0123456789ABCDEF".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(text.utf8.count)
    for b in text.utf8 {
      switch b {
      case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
        UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
        out.append(b)
      case UInt8(ascii: "/") where !encodeSlash:
        out.append(b)
      default:
        out.append(UInt8(ascii: "%"))
        out.append(digits[Int(b >> 4)])
        out.append(digits[Int(b & 0x0F)])
      }
    }
    return String(decoding: out, as: UTF8.self)
  }

  /// Lowercase hex of a digest or MAC.
  static func hex<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
    let digits: [UInt8] = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    for b in bytes {
      out.append(digits[Int(b >> 4)])
      out.append(digits[Int(b & 0x0F)])
    }
    return String(decoding: out, as: UTF8.self)
  }
}

/// Signing keys (their bytes) by `day/region/service`, shared by copies of a signer (a few entries at most).
private final class SigningKeyCache: Sendable {
  private let keys = Mutex<[String: [UInt8]]>([:])

  func lookup(_ name: String) -> [UInt8]? { keys.withLock { $0[name] } }

  func store(_ key: [UInt8], for name: String) {
    keys.withLock { keys in
      if keys.count >= 4 { keys.removeAll() }
      keys[name] = key
    }
  }
}
