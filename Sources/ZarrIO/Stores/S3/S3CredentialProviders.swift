import Foundation
import Synchronization

/// Where temporary credentials come from: the role-based providers of the AWS default chain, and a
/// profile's `credential_process`. An ``S3CredentialProvider`` fetches them, and again before they expire.
///
/// The description names the provider, as ``S3Configuration/credentialSource`` does; neither it nor
/// the mirror shows the container authorization token.
public enum S3CredentialSource: Sendable, Hashable, CustomStringConvertible, CustomReflectable {
  /// STS `AssumeRoleWithWebIdentity` (EKS IRSA): an unsigned POST to `stsEndpoint` (e.g.
  /// `https://sts.eu-west-1.amazonaws.com`) with the token read from `tokenFile` at every fetch.
  case webIdentity(roleARN: String, tokenFile: String, sessionName: String, stsEndpoint: String)
  /// The container credentials endpoint of ECS, AWS Batch and EKS Pod Identity: a GET of `url` with
  /// the `Authorization` header from `authorizationTokenFile` (read at every fetch) or `authorizationToken`.
  case container(url: String, authorizationToken: String?, authorizationTokenFile: String?)
  /// The EC2 instance metadata service (IMDSv2) at `endpoint`, e.g. `http://169.254.169.254`.
  case instanceMetadata(endpoint: String)
  /// A profile's `credential_process`: `command` run by `/bin/sh -c`, which prints JSON credentials.
  case process(command: String)

  /// `"web identity (role arn:…)"`, `"container credentials (169.254.170.2)"`,
  /// `"EC2 instance metadata (http://169.254.169.254)"` or `"credential_process"`.
  public var description: String {
    switch self {
    case .webIdentity(let role, _, _, _): return "web identity (role \(role))"
    case .container(let url, _, _): return "container credentials (\(Self.authority(of: url)))"
    case .instanceMetadata(let endpoint): return "EC2 instance metadata (\(endpoint))"
    case .process: return "credential_process"
    }
  }

  /// The cases' values, with the authorization token redacted.
  public var customMirror: Mirror {
    switch self {
    case .webIdentity(let role, let file, let session, let endpoint):
      return Mirror(self, children: ["roleARN": role, "tokenFile": file, "sessionName": session, "stsEndpoint": endpoint])
    case .container(let url, let token, let file):
      return Mirror(self, children: ["url": url, "authorizationToken": token == nil ? "nil" : "<redacted>",
                                     "authorizationTokenFile": file ?? "nil"])
    case .instanceMetadata(let endpoint):
      return Mirror(self, children: ["endpoint": endpoint])
    case .process(let command):
      return Mirror(self, children: ["command": command])
    }
  }

  /// The host and port of a URL: the text between `://` and the first `/`, `?` or `#`.
  static func authority(of url: String) -> String {
    guard let range = url.range(of: "://") else { return url }
    return String(url[range.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" })
  }
}

/// Temporary credentials from an ``S3CredentialSource``: fetched when first needed, and again before
/// they expire, for every request of the configurations that hold the provider. Thread-safe.
///
/// - Credentials with more than ``refreshBefore`` seconds left (5 minutes, as the AWS SDKs) are used.
/// - Inside that window one request fetches new ones while the others go on with the current ones;
///   a failed fetch is tried again 10 seconds later, and the current credentials serve until a minute
///   before they expire.
/// - With less than a minute left (or none yet) requests wait for one fetch and share its result.
///
/// A provider is equal only to itself: each keeps its own credentials.
public final class S3CredentialProvider: Sendable, Hashable, CustomStringConvertible {
  /// Where the credentials come from.
  public let source: S3CredentialSource
  /// Seconds before the expiration at which new credentials are fetched.
  public let refreshBefore: Double
  private let name: String?
  private let transport: HTTPTransport?
  private let state = Mutex(State())
  /// Held during a fetch: one at a time.
  private let fetching = Mutex(())

  private struct State {
    var credentials: S3Credentials?
    /// Counts the fetches that succeeded; a request that waited sees whether another one fetched.
    var generation = 0
    /// Whether a request is fetching inside the refresh window (the others do not wait).
    var refreshing = false
    /// No fetch inside the refresh window before this date (after a failure).
    var retryAfter = Date.distantPast
    /// The instance role named by the metadata service.
    var role: String?
    /// Fetches attempted.
    var fetches = 0
  }

  /// A provider of `source`'s credentials, named `name` in messages (``S3CredentialSource/description``
  /// by default), fetching new ones `refreshBefore` seconds before they expire.
  public init(_ source: S3CredentialSource, name: String? = nil, refreshBefore: Double = 300) {
    self.source = source
    self.name = name
    self.refreshBefore = max(0, refreshBefore)
    switch source {
    case .instanceMetadata:
      // The SDKs' defaults: off EC2 the probe costs at most about a second.
      transport = HTTPTransport(maxConnections: 1, timeout: 1, followRedirects: false, connectTimeout: 1)
    case .webIdentity, .container:
      transport = HTTPTransport(maxConnections: 1, timeout: 10, followRedirects: false, connectTimeout: 2)
    case .process:
      transport = nil
    }
  }

  /// The provider's name for messages, e.g. `"web identity (role arn:aws:iam::123456789012:role/reader)"`,
  /// `"container credentials (169.254.170.2)"`, `"EC2 instance metadata (role reader)"` (once the role is known).
  public var description: String {
    if let name { return name }
    if case .instanceMetadata = source, let role = state.withLock({ $0.role }) { return "EC2 instance metadata (role \(role))" }
    return source.description
  }

  /// Whether both are the same provider.
  public static func == (a: S3CredentialProvider, b: S3CredentialProvider) -> Bool { a === b }

  /// Hashes the provider's identity.
  public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }

  /// Fetches attempted so far.
  var fetchCount: Int { state.withLock { $0.fetches } }

  /// The credentials to sign with now, fetched first when they are missing or about to expire.
  /// - Throws: `.storeFailure` naming the provider and what failed, when credentials are needed and
  ///   cannot be fetched.
  public func credentials() throws -> S3Credentials {
    enum Step {
      case use(S3Credentials)
      case refresh(S3Credentials, seen: Int)
      case wait(seen: Int)
    }
    let now = Date()
    let mustRefresh = min(60, refreshBefore)
    let step: Step = state.withLock { s in
      guard let c = s.credentials else { return .wait(seen: s.generation) }
      guard let expiration = c.expiration else { return .use(c) }
      let left = expiration.timeIntervalSince(now)
      if left > refreshBefore { return .use(c) }
      if left > mustRefresh {
        if s.refreshing || now < s.retryAfter { return .use(c) }
        s.refreshing = true
        return .refresh(c, seen: s.generation)
      }
      return .wait(seen: s.generation)
    }
    switch step {
    case .use(let c):
      return c
    case .refresh(let c, let seen):
      defer { state.withLock { $0.refreshing = false } }
      do {
        return try refresh(after: seen)
      } catch {
        state.withLock { $0.retryAfter = Date().addingTimeInterval(10) }
        return c
      }
    case .wait(let seen):
      return try refresh(after: seen)
    }
  }

  /// New credentials, unless another request fetched some since generation `seen`.
  private func refresh(after seen: Int) throws -> S3Credentials {
    try fetching.withLock { _ in
      let fetched = state.withLock { s -> S3Credentials? in s.generation != seen ? s.credentials : nil }
      if let c = fetched, c.expiration.map({ $0 > Date() }) ?? true { return c }
      state.withLock { $0.fetches += 1 }
      let (c, role) = try fetch()
      if let expiration = c.expiration, expiration <= Date() {
        throw ZarrError(.storeFailure, "\(description): the credentials received expired at \(Self.timestamp(expiration)) (is the clock right?)")
      }
      state.withLock { s in
        s.credentials = c
        s.generation += 1
        if let role { s.role = role }
      }
      return c
    }
  }

  // MARK: Fetching

  /// Credentials from the source (and the instance role, from the metadata service).
  private func fetch() throws -> (S3Credentials, role: String?) {
    switch source {
    case .webIdentity(let role, let tokenFile, let session, let endpoint):
      return (try assumeRoleWithWebIdentity(role: role, tokenFile: tokenFile, session: session, endpoint: endpoint), nil)
    case .container(let url, let token, let tokenFile):
      return (try containerCredentials(url: url, token: token, tokenFile: tokenFile), nil)
    case .instanceMetadata(let endpoint):
      return try instanceMetadataCredentials(endpoint: endpoint)
    case .process(let command):
      return (try processCredentials(command: command), nil)
    }
  }

  /// An error naming the provider.
  private func failure(_ text: String) -> ZarrError { ZarrError(.storeFailure, "\(description): \(text)") }

  /// One exchange, with up to `attempts` sends (server errors and lost connections are retried).
  private func exchange(_ method: String, _ url: String, headers: [String: String] = [:], body: Data? = nil,
                        attempts: Int) throws -> HTTPResponse {
    guard let transport, let target = URL(string: url) else { throw failure("'\(url)' is not a valid URL") }
    let request = HTTPRequest(method: method, url: target, headers: headers, body: body)
    do {
      return try transport.send(key: "", limit: 1 << 20, backOff: BackOff(maxAttempts: attempts)) {
        request
      } decide: { r in
        r.status >= 500 || r.status == 429 ? .retry(throttled: r.status == 503 || r.status == 429) : .accept
      }
    } catch let e as ZarrError {
      throw failure(e.message)
    }
  }

  /// `AssumeRoleWithWebIdentity`: an unsigned form POST to STS; the answer is XML.
  private func assumeRoleWithWebIdentity(role: String, tokenFile: String, session: String, endpoint: String) throws -> S3Credentials {
    let token = try readTokenFile(tokenFile, what: "web identity token file")
    let form = [("Action", "AssumeRoleWithWebIdentity"), ("Version", "2011-06-15"), ("RoleArn", role),
                ("RoleSessionName", session), ("WebIdentityToken", token)]
    let body = form.map { "\($0)=\(S3Signer.uriEncode($1, encodeSlash: true))" }.joined(separator: "&")
    let r = try exchange("POST", endpoint + "/", headers: ["content-type": "application/x-www-form-urlencoded; charset=utf-8"],
                         body: Data(body.utf8), attempts: 3)
    let xml = S3XML.parse(r.body)
    guard r.status == 200 else {
      let error = xml?.child("Error")
      let said = [error?.text(of: "Code"), error?.text(of: "Message")].compactMap { $0?.trimmingCharacters(in: .whitespacesAndNewlines) }
        .filter { !$0.isEmpty }.joined(separator: ": ")
      throw failure("STS AssumeRoleWithWebIdentity at \(endpoint) failed: HTTP \(r.status)" + (said.isEmpty ? "" : " (\(said))"))
    }
    let c = xml?.child("AssumeRoleWithWebIdentityResult")?.child("Credentials")
    func field(_ name: String) -> String? {
      c?.text(of: name).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap { $0.isEmpty ? nil : $0 }
    }
    guard let id = field("AccessKeyId"), let secret = field("SecretAccessKey"), let sessionToken = field("SessionToken"),
      let expiration = field("Expiration").flatMap(Self.parseTimestamp)
    else {
      throw failure("the answer of STS AssumeRoleWithWebIdentity at \(endpoint) has no complete Credentials")
    }
    return S3Credentials(accessKeyID: id, secretAccessKey: secret, sessionToken: sessionToken, expiration: expiration)
  }

  /// The container endpoint: a GET with the authorization token; the answer is JSON.
  private func containerCredentials(url: String, token: String?, tokenFile: String?) throws -> S3Credentials {
    var headers: [String: String] = [:]
    if let authorization = try tokenFile.map({ try readTokenFile($0, what: "authorization token file") }) ?? token {
      // Bytes, not characters: "\r\n" is one Character, equal to neither.
      guard !authorization.utf8.contains(where: { $0 == 13 || $0 == 10 }) else {
        throw failure("the authorization token has a line break")
      }
      headers["authorization"] = authorization
    }
    let r = try exchange("GET", url, headers: headers, attempts: 3)
    guard r.status == 200 else {
      let json = try? JSONValue.parse(r.body)
      let said = ["code", "message", "Code", "Message"].compactMap { json?[$0]?.stringValue }.filter { !$0.isEmpty }.joined(separator: ": ")
      throw failure("GET \(url) answered HTTP \(r.status)" + (said.isEmpty ? "" : " (\(said))"))
    }
    return try jsonCredentials(r.body, tokenKey: "Token", from: "GET \(url)")
  }

  /// IMDSv2: a session token, the role name, then the role's credentials (JSON). One attempt each.
  private func instanceMetadataCredentials(endpoint: String) throws -> (S3Credentials, role: String?) {
    let tokenURL = endpoint + "/latest/api/token"
    let t = try exchange("PUT", tokenURL, headers: ["x-aws-ec2-metadata-token-ttl-seconds": "21600"], attempts: 1)
    let token = String(decoding: t.body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    guard t.status == 200, !token.isEmpty else { throw failure("PUT \(tokenURL) answered HTTP \(t.status)") }
    let headers = ["x-aws-ec2-metadata-token": token]
    let listURL = endpoint + "/latest/meta-data/iam/security-credentials/"
    let list = try exchange("GET", listURL, headers: headers, attempts: 1)
    let role = String(decoding: list.body, as: UTF8.self).split(whereSeparator: \.isNewline)
      .map { $0.trimmingCharacters(in: .whitespaces) }.first { !$0.isEmpty }
    guard list.status == 200, let role else {
      throw failure("no IAM role is attached to the instance (GET \(listURL) answered HTTP \(list.status))")
    }
    let roleURL = listURL + S3Signer.uriEncode(role, encodeSlash: true)
    let r = try exchange("GET", roleURL, headers: headers, attempts: 1)
    guard r.status == 200 else { throw failure("GET \(roleURL) answered HTTP \(r.status)") }
    if let code = (try? JSONValue.parse(r.body))?["Code"]?.stringValue, code != "Success" {
      throw failure("GET \(roleURL) answered Code \(code)")
    }
    return (try jsonCredentials(r.body, tokenKey: "Token", from: "GET \(roleURL)"), role)
  }

  /// `credential_process`: the command's standard output is JSON (`Version` 1).
  private func processCredentials(command: String) throws -> S3Credentials {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", command]
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    p.standardInput = FileHandle.nullDevice
    do {
      try p.run()
    } catch {
      throw failure("cannot run /bin/sh: \(error.localizedDescription)")
    }
    // Both pipes are drained at once: a command that fills one would otherwise never end.
    let errors = Mutex(Data())
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
      let data = err.fileHandleForReading.readDataToEndOfFile()
      errors.withLock { $0 = data }
      group.leave()
    }
    let output = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else {
      let said = String(decoding: errors.withLock { $0 }.prefix(500), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
      throw failure("the command exited with status \(p.terminationStatus)" + (said.isEmpty ? "" : ": \(said)"))
    }
    let version = (try? JSONValue.parse(Array(output)))?["Version"]?.intValue
    guard version == 1 else {
      throw failure("the command's output is not JSON with \"Version\": 1")
    }
    return try jsonCredentials(Array(output), tokenKey: "SessionToken", from: "the command's output", expires: false)
  }

  /// Credentials from JSON with `AccessKeyId`, `SecretAccessKey`, the token under `tokenKey` and
  /// `Expiration` (required unless `expires` is false).
  private func jsonCredentials(_ body: [UInt8], tokenKey: String, from what: String, expires: Bool = true) throws -> S3Credentials {
    guard let json = try? JSONValue.parse(body), json.objectValue != nil else { throw failure("\(what) is not a JSON object") }
    func field(_ key: String) -> String? { json[key]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } }
    guard let id = field("AccessKeyId"), let secret = field("SecretAccessKey") else {
      throw failure("\(what) has no AccessKeyId and SecretAccessKey")
    }
    var expiration: Date?
    if let text = field("Expiration") {
      guard let date = Self.parseTimestamp(text) else { throw failure("\(what) has an Expiration that is not an ISO 8601 time: '\(text)'") }
      expiration = date
    } else if expires {
      throw failure("\(what) has no Expiration")
    }
    return S3Credentials(accessKeyID: id, secretAccessKey: secret, sessionToken: field(tokenKey), expiration: expiration)
  }

  /// The trimmed text of a token file (up to 64 KiB).
  private func readTokenFile(_ path: String, what: String) throws -> String {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { throw failure("cannot read the \(what) '\(path)': \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var bytes = [UInt8](repeating: 0, count: 64 << 10)
    var count = 0
    while count < bytes.count {
      let n = bytes.withUnsafeMutableBytes { buffer -> Int in
        guard let base = buffer.baseAddress else { return 0 }
        return read(fd, base + count, buffer.count - count)
      }
      if n < 0 {
        if errno == EINTR { continue }
        throw failure("cannot read the \(what) '\(path)': \(String(cString: strerror(errno)))")
      }
      if n == 0 { break }
      count += n
    }
    let text = String(decoding: bytes[..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    guard !text.isEmpty else { throw failure("the \(what) '\(path)' is empty") }
    return text
  }

  /// An ISO 8601 time, with or without fractional seconds (`2026-05-01T12:00:00Z`, `…00.123456Z`, `+00:00`).
  static func parseTimestamp(_ text: String) -> Date? {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    if let d = f.date(from: text) { return d }
    f.formatOptions = [.withInternetDateTime]
    return f.date(from: text)
  }

  /// `2026-05-01T12:00:00Z`.
  static func timestamp(_ date: Date) -> String {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime]
    return f.string(from: date)
  }
}

// MARK: The chain's sources from the environment and the profile

extension S3CredentialSource {
  /// The value of an environment variable (trimmed, `nil` when empty) and a profile key with its file.
  typealias Lookup = (env: (String) -> String?, profile: (String) -> (String, path: String)?, nested: (String, String) -> (String, path: String)?)

  /// Web identity from `AWS_WEB_IDENTITY_TOKEN_FILE`, `AWS_ROLE_ARN` and `AWS_ROLE_SESSION_NAME`, or the
  /// profile's `web_identity_token_file`, `role_arn` and `role_session_name` (the variables win, key by
  /// key); `nil` without a token file. STS is `AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL`, the profile's
  /// `sts =` / `endpoint_url` or its `endpoint_url`, else `https://sts.<region>.amazonaws.com`.
  /// - Throws: `.invalidArgument` for a token file without a role ARN or a malformed STS endpoint.
  static func webIdentity(_ lookup: Lookup, profileName: String, region: String) throws -> S3CredentialSource? {
    let tokenFile: String
    if let file = lookup.env("AWS_WEB_IDENTITY_TOKEN_FILE") {
      tokenFile = file
    } else if let (file, _) = lookup.profile("web_identity_token_file") {
      tokenFile = file
    } else {
      return nil
    }
    guard let role = lookup.env("AWS_ROLE_ARN") ?? lookup.profile("role_arn")?.0 else {
      if lookup.env("AWS_WEB_IDENTITY_TOKEN_FILE") != nil {
        throw ZarrError(.invalidArgument, "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not: web identity needs both")
      }
      let path = lookup.profile("web_identity_token_file")?.path ?? ""
      throw ZarrError(.invalidArgument, "profile '\(profileName)' in \(path) has web_identity_token_file but no role_arn")
    }
    let session = lookup.env("AWS_ROLE_SESSION_NAME") ?? lookup.profile("role_session_name")?.0
      ?? "ome2zarr-session-\(Int(Date().timeIntervalSince1970))"
    var endpoint: String
    let origin: String
    if let e = lookup.env("AWS_ENDPOINT_URL_STS") {
      (endpoint, origin) = (e, "AWS_ENDPOINT_URL_STS")
    } else if let e = lookup.env("AWS_ENDPOINT_URL") {
      (endpoint, origin) = (e, "AWS_ENDPOINT_URL")
    } else if let (e, path) = lookup.nested("sts", "endpoint_url") {
      (endpoint, origin) = (e, "the sts endpoint_url of profile '\(profileName)' in \(path)")
    } else if let (e, path) = lookup.profile("endpoint_url") {
      (endpoint, origin) = (e, "the endpoint_url of profile '\(profileName)' in \(path)")
    } else {
      (endpoint, origin) = ("https://sts.\(region).amazonaws.com" + (region.hasPrefix("cn-") ? ".cn" : ""), "the region")
    }
    guard S3Configuration.parseEndpoint(endpoint) != nil else {
      // Not echoed when it has user information (it may hold a password).
      let shown = authority(of: endpoint).contains("@") ? "" : " '\(endpoint)'"
      throw ZarrError(.invalidArgument,
        "the STS endpoint\(shown) (from \(origin)) is not an http:// or https:// URL with a host (and no user, query or fragment)")
    }
    while endpoint.hasSuffix("/") { endpoint.removeLast() }
    return .webIdentity(roleARN: role, tokenFile: tokenFile, sessionName: session, stsEndpoint: endpoint)
  }

  /// Container credentials from `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (at `http://169.254.170.2`) or
  /// `AWS_CONTAINER_CREDENTIALS_FULL_URI`, with `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` or
  /// `AWS_CONTAINER_AUTHORIZATION_TOKEN`; `nil` without either URI.
  /// - Throws: `.invalidArgument` for a full URI that is not https and not on a loopback or an ECS/EKS host.
  static func container(_ env: (String) -> String?) throws -> S3CredentialSource? {
    let url: String
    if let relative = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") {
      url = "http://169.254.170.2" + (relative.hasPrefix("/") ? "" : "/") + relative
    } else if let full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI") {
      let scheme = StoreLocation.scheme(of: full)
      let authority = authority(of: full).lowercased()
      // The host without the port: `[v6]` keeps its brackets.
      let host = authority.hasPrefix("[") ? String(authority.prefix { $0 != "]" }) + "]"
        : String(authority.prefix { $0 != ":" })
      let allowed = ["localhost", "[::1]", "169.254.170.2", "169.254.170.23", "[fd00:ec2::23]"].contains(host)
        || (host.hasPrefix("127.") && host.split(separator: ".", omittingEmptySubsequences: false)
          .allSatisfy { part in UInt8(part) != nil } && host.split(separator: ".").count == 4)
      guard scheme == "https" || (scheme == "http" && allowed), !host.isEmpty, !authority.contains("@") else {
        throw ZarrError(.invalidArgument,
          "AWS_CONTAINER_CREDENTIALS_FULL_URI '\(full)' is not allowed: it must be https, or http to a loopback address, "
            + "169.254.170.2, 169.254.170.23 or [fd00:ec2::23]")
      }
      url = full
    } else {
      return nil
    }
    return .container(url: url, authorizationToken: env("AWS_CONTAINER_AUTHORIZATION_TOKEN"),
                      authorizationTokenFile: env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"))
  }

  /// The instance metadata service at `AWS_EC2_METADATA_SERVICE_ENDPOINT`, or `http://169.254.169.254`
  /// (`http://[fd00:ec2::254]` with `AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6`); `nil` when
  /// `AWS_EC2_METADATA_DISABLED=true`.
  /// - Throws: `.invalidArgument` for a malformed endpoint.
  static func instanceMetadata(_ env: (String) -> String?) throws -> S3CredentialSource? {
    if env("AWS_EC2_METADATA_DISABLED")?.lowercased() == "true" { return nil }
    var endpoint = env("AWS_EC2_METADATA_SERVICE_ENDPOINT")
      ?? (env("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE")?.lowercased() == "ipv6" ? "http://[fd00:ec2::254]" : "http://169.254.169.254")
    guard S3Configuration.parseEndpoint(endpoint) != nil else {
      throw ZarrError(.invalidArgument,
        "AWS_EC2_METADATA_SERVICE_ENDPOINT '\(endpoint)' is not an http:// or https:// URL with a host (and no user, query or fragment)")
    }
    while endpoint.hasSuffix("/") { endpoint.removeLast() }
    return .instanceMetadata(endpoint: endpoint)
  }
}
