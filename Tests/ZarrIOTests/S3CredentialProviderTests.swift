import Foundation
import Synchronization
import Testing
import TestSupport

@testable import ZarrIO

/// The role-based credential providers (web identity, container credentials, EC2 instance metadata,
/// `credential_process`): their place in the chain, their requests, refreshing before expiry, and
/// their error messages. Web identity runs against moto's STS with IAM authentication; the container
/// and metadata endpoints are `CredentialsTestServer`, a fake on 127.0.0.1 that answers like them.
@Suite("S3 credential providers", .serialized)
struct S3CredentialProviderTests {
  typealias Fixture = S3ConfigurationTests.Fixture

  static let defaultSource = "anonymous (no credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE)"
  /// `defaultSource` without its closing parenthesis, where the metadata service says why it gave nothing.
  static let defaultPrefix = String(defaultSource.dropLast())
  static let role = "arn:aws:iam::111122223333:role/eks-reader"

  /// A web identity token file in a directory of its own.
  static func tokenFile(_ text: String = "eyJhbGciOiJSUzI1NiJ9.test.token") throws -> String {
    let dir = try makeTemporaryDirectory("token")
    let path = dir.appendingPathComponent("token").path
    try (text + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  /// The error `body` throws (none, or another type, records an issue).
  static func error(_ body: () throws -> some Any) -> ZarrError? {
    do {
      let value = try body()
      Issue.record("returned \(value) instead of failing")
    } catch let e as ZarrError {
      return e
    } catch {
      Issue.record("unexpected error \(error)")
    }
    return nil
  }

  /// Lookups of the chain's sources from `environment` alone (no profile).
  static func lookup(_ environment: [String: String]) -> S3CredentialSource.Lookup {
    ({ environment[$0] }, { _ in nil }, { _, _ in nil })
  }

  // MARK: Web identity

  /// IRSA against moto: STS AssumeRoleWithWebIdentity (unsigned) gives temporary credentials, which
  /// moto checks like AWS (key, session token, signature, the role's policy) for a write and a read;
  /// fetched again inside the refresh window, the new ones work too.
  @Test func webIdentityAgainstMoto() throws {
    let server = try S3TestServer(authenticated: true)
    defer { server.stop() }
    try server.createBucket("irsa")
    let f = try Fixture()
    defer { f.remove() }
    let token = try Self.tokenFile()
    let c = try f.resolve([
      "AWS_WEB_IDENTITY_TOKEN_FILE": token, "AWS_ROLE_ARN": server.roleARN, "AWS_ROLE_SESSION_NAME": "swift-test",
      "AWS_ENDPOINT_URL": server.endpoint, "AWS_REGION": "us-east-1",
    ])
    #expect(c.credentialSource == "web identity (role arn:aws:iam::123456789012:role/web-identity)")
    let credentials = try #require(c.credentials)
    #expect(credentials.accessKeyID.hasPrefix("ASIA"))
    #expect(credentials.sessionToken?.isEmpty == false)
    let left = try #require(credentials.expiration).timeIntervalSinceNow
    #expect(left > 3500 && left <= 3600, "\(left)")
    let provider = try #require(c.credentialProvider)
    #expect(provider.fetchCount == 1)

    let store = try S3Store(bucket: "irsa", prefix: "data", configuration: c)
    try store.set("a/zarr.json", Array("{}".utf8))
    #expect(try store.get("a/zarr.json") == Array("{}".utf8))
    #expect(try server.objects(bucket: "irsa").map(\.key) == ["data/a/zarr.json"])
    let log = try server.requestLog()
    #expect(log.first == S3TestRequest(method: "POST", path: "/", status: 200))
    #expect(log.dropFirst().map(\.method) == ["PUT", "GET"])
    #expect(provider.fetchCount == 1)

    // The same key without its session token is refused: requests carry the token.
    var tokenless = c
    tokenless.credentialProvider = nil
    tokenless.credentials?.sessionToken = nil
    #expect {
      try S3Store(bucket: "irsa", prefix: "data", configuration: tokenless).get("a/zarr.json")
    } throws: { error in
      (error as? ZarrError)?.message.contains("HTTP 403") == true
    }

    // moto's credentials live an hour: a provider that refreshes 3598 s before they expire fetches
    // again after 2 s, and the request that fetched is signed with the new credentials.
    var refreshing = c
    let early = S3CredentialProvider(provider.source, refreshBefore: 3598)
    refreshing.credentialProvider = early
    let s = try S3Store(bucket: "irsa", prefix: "data", configuration: refreshing)
    try s.set("b", [1])
    let first = try early.credentials()
    #expect(early.fetchCount == 1)
    Thread.sleep(forTimeInterval: 2.5)
    try s.set("c", [2])
    #expect(early.fetchCount == 2)
    let second = try early.credentials()
    #expect(second.accessKeyID != first.accessKeyID && second.accessKeyID.hasPrefix("ASIA"))
    #expect(try s.get("b") == [1] && s.get("c") == [2])
    #expect(early.fetchCount == 2)
    #expect(try server.requestLog().filter { $0.method == "POST" }.count == 3)

    // AWS_ENDPOINT_URL_STS beats AWS_ENDPOINT_URL (here unreachable, and the S3 endpoint is its own).
    let split = try f.resolve([
      "AWS_WEB_IDENTITY_TOKEN_FILE": token, "AWS_ROLE_ARN": server.roleARN, "AWS_ENDPOINT_URL": "http://127.0.0.1:1",
      "AWS_ENDPOINT_URL_STS": server.endpoint, "AWS_ENDPOINT_URL_S3": server.endpoint,
    ])
    #expect(try S3Store(bucket: "irsa", prefix: "data", configuration: split).get("b") == [1])
  }

  /// The request STS receives, a profile's `web_identity_token_file` and `role_arn`, the default
  /// session name, and the variables winning over the profile key by key.
  @Test func webIdentityRequestAndProfile() throws {
    let sts = try CredentialsTestServer()
    defer { sts.stop() }
    let token = try Self.tokenFile("header.payload.signature")
    let f = try Fixture(config: """
      [profile eks]
      web_identity_token_file = \(token)
      role_arn = \(Self.role)
      role_session_name = lab-session
      sts =
        endpoint_url = \(sts.url)
      [profile nosession]
      web_identity_token_file = \(token)
      role_arn = \(Self.role)
      endpoint_url = \(sts.url)
      """)
    defer { f.remove() }
    let c = try f.resolve(profile: "eks")
    #expect(c.credentialSource == "web identity (role \(Self.role))")
    #expect(c.credentials?.accessKeyID == "ASIASTS1")
    #expect(c.credentials?.secretAccessKey == "SECRETsts1")
    #expect(c.credentials?.sessionToken == "TOKENsts1")
    #expect(try sts.lastSTSRequest() == [
      "Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15", "RoleArn": Self.role,
      "RoleSessionName": "lab-session", "WebIdentityToken": "header.payload.signature",
    ])
    // Without a session name, a generated one.
    _ = try f.resolve(profile: "nosession")
    let generated = try #require(try sts.lastSTSRequest()["RoleSessionName"])
    #expect(generated.hasPrefix("ome2zarr-session-") && Int(generated.dropFirst("ome2zarr-session-".count)) != nil, "\(generated)")
    // The variables win, key by key.
    let other = "arn:aws:iam::111122223333:role/other"
    _ = try f.resolve(["AWS_ROLE_ARN": other, "AWS_ROLE_SESSION_NAME": "from-env"], profile: "eks")
    #expect(try sts.lastSTSRequest()["RoleArn"] == other)
    #expect(try sts.lastSTSRequest()["RoleSessionName"] == "from-env")
    #expect(try sts.counts()["sts"] == 3)
  }

  /// Regional STS endpoints and the endpoint variables, without sending anything.
  @Test func webIdentityEndpoints() throws {
    let base = ["AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/secrets/token", "AWS_ROLE_ARN": Self.role]
    func endpoint(_ extra: [String: String], region: String = "eu-west-1") throws -> String? {
      guard case .webIdentity(_, _, _, let e) = try S3CredentialSource.webIdentity(
        Self.lookup(base.merging(extra) { _, new in new }), profileName: "default", region: region)
      else { return nil }
      return e
    }
    #expect(try endpoint([:]) == "https://sts.eu-west-1.amazonaws.com")
    #expect(try endpoint([:], region: "cn-north-1") == "https://sts.cn-north-1.amazonaws.com.cn")
    #expect(try endpoint(["AWS_ENDPOINT_URL": "http://127.0.0.1:4566/"]) == "http://127.0.0.1:4566")
    #expect(try endpoint(["AWS_ENDPOINT_URL": "http://a.example", "AWS_ENDPOINT_URL_STS": "https://sts.example/x/"]) == "https://sts.example/x")
    #expect(Self.error { try endpoint(["AWS_ENDPOINT_URL_STS": "sts.example"]) }?.message
      == "the STS endpoint 'sts.example' (from AWS_ENDPOINT_URL_STS) is not an http:// or https:// URL with a host (and no user, query or fragment)")
    let source = try S3CredentialSource.webIdentity(Self.lookup(base.merging(["AWS_ROLE_SESSION_NAME": "s"]) { _, new in new }),
                                                    profileName: "default", region: "us-east-1")
    #expect(source == .webIdentity(roleARN: Self.role, tokenFile: "/var/run/secrets/token", sessionName: "s",
                                   stsEndpoint: "https://sts.us-east-1.amazonaws.com"))
    // A role ARN alone is no web identity.
    #expect(try S3CredentialSource.webIdentity(Self.lookup(["AWS_ROLE_ARN": Self.role]), profileName: "default", region: "us-east-1") == nil)
  }

  @Test func webIdentityErrors() throws {
    let sts = try CredentialsTestServer(stsError: true)
    defer { sts.stop() }
    let f = try Fixture(config: "[profile half]\nweb_identity_token_file = /var/run/token\n")
    defer { f.remove() }
    let token = try Self.tokenFile()

    let missing = Self.error {
      try f.resolve(["AWS_WEB_IDENTITY_TOKEN_FILE": "/nonexistent/token", "AWS_ROLE_ARN": Self.role, "AWS_ENDPOINT_URL_STS": sts.url])
    }
    #expect(missing?.code == .storeFailure)
    #expect(missing?.message
      == "web identity (role \(Self.role)): cannot read the web identity token file '/nonexistent/token': No such file or directory")
    #expect(try sts.counts()["sts"] == 0)

    let denied = Self.error { try f.resolve(["AWS_WEB_IDENTITY_TOKEN_FILE": token, "AWS_ROLE_ARN": Self.role, "AWS_ENDPOINT_URL_STS": sts.url]) }
    #expect(denied?.code == .storeFailure)
    #expect(denied?.message == "web identity (role \(Self.role)): STS AssumeRoleWithWebIdentity at \(sts.url) failed: "
      + "HTTP 403 (AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity)")
    // 403 is not retried.
    #expect(try sts.counts()["sts"] == 1)

    let noRole = Self.error { try f.resolve(["AWS_WEB_IDENTITY_TOKEN_FILE": token]) }
    #expect(noRole?.code == .invalidArgument)
    #expect(noRole?.message == "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not: web identity needs both")
    #expect(Self.error { try f.resolve(profile: "half") }?.message
      == "profile 'half' in \(f.configPath) has web_identity_token_file but no role_arn")

    let unreachable = Self.error {
      try f.resolve(["AWS_WEB_IDENTITY_TOKEN_FILE": token, "AWS_ROLE_ARN": Self.role, "AWS_ENDPOINT_URL_STS": "http://127.0.0.1:1"])
    }
    #expect(unreachable?.message.hasPrefix("web identity (role \(Self.role)): POST http://127.0.0.1:1/ failed: could not connect") == true,
            "\(unreachable?.message ?? "")")
  }

  // MARK: Container credentials

  /// The container endpoint: the Authorization header, the credentials, and one new fetch once they
  /// are inside the 5-minute window (they expire 303 s after they are given), shared by concurrent requests.
  @Test func containerCredentialsAndRefresh() throws {
    let server = try CredentialsTestServer(expiresIn: 303, authorization: "Bearer container-secret")
    defer { server.stop() }
    let f = try Fixture()
    defer { f.remove() }
    let c = try f.resolve(["AWS_CONTAINER_CREDENTIALS_FULL_URI": server.url + "/container",
                           "AWS_CONTAINER_AUTHORIZATION_TOKEN": "Bearer container-secret"])
    #expect(c.credentialSource == "container credentials (\(server.authority))")
    let first = try #require(c.credentials)
    #expect(first.accessKeyID == "ASIACONTAINER1" && first.secretAccessKey == "SECRETcontainer1" && first.sessionToken == "TOKENcontainer1")
    let left = try #require(first.expiration).timeIntervalSinceNow
    #expect(left > 300 && left <= 303, "\(left)")
    for _ in 0..<5 { #expect(try c.currentCredentials() == first) }
    #expect(try server.counts()["container"] == 1)

    Thread.sleep(forTimeInterval: 3.5)
    let seen = Mutex<[String]>([])
    DispatchQueue.concurrentPerform(iterations: 16) { _ in
      let id = (try? c.currentCredentials()?.accessKeyID) ?? "failed"
      seen.withLock { $0.append(id) }
    }
    #expect(try server.counts()["container"] == 2)
    #expect(Set(seen.withLock { $0 }).isSubset(of: ["ASIACONTAINER1", "ASIACONTAINER2"]), "\(seen.withLock { $0 })")
    #expect(try c.currentCredentials()?.accessKeyID == "ASIACONTAINER2")
    #expect(c.credentialProvider?.fetchCount == 2)
    #expect(try server.counts()["container"] == 2)
  }

  @Test func containerAuthorization() throws {
    let server = try CredentialsTestServer(authorization: "Bearer from-file")
    defer { server.stop() }
    let f = try Fixture()
    defer { f.remove() }
    let tokenFile = try Self.tokenFile("Bearer from-file")
    let uri = server.url + "/container"
    // The token file wins over the token.
    let c = try f.resolve(["AWS_CONTAINER_CREDENTIALS_FULL_URI": uri, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile,
                           "AWS_CONTAINER_AUTHORIZATION_TOKEN": "Bearer wrong"])
    #expect(c.credentials?.accessKeyID == "ASIACONTAINER1")

    let wrong = Self.error { try f.resolve(["AWS_CONTAINER_CREDENTIALS_FULL_URI": uri, "AWS_CONTAINER_AUTHORIZATION_TOKEN": "Bearer wrong"]) }
    #expect(wrong?.code == .storeFailure)
    #expect(wrong?.message == "container credentials (\(server.authority)): GET \(uri) answered HTTP 401 "
      + "(InvalidToken: the Authorization header is missing or wrong)")
    #expect(Self.error { try f.resolve(["AWS_CONTAINER_CREDENTIALS_FULL_URI": uri]) }?.message.hasSuffix("answered HTTP 401 "
      + "(InvalidToken: the Authorization header is missing or wrong)") == true)
    #expect(Self.error {
      try f.resolve(["AWS_CONTAINER_CREDENTIALS_FULL_URI": uri, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": "/nonexistent/token"])
    }?.message == "container credentials (\(server.authority)): cannot read the authorization token file '/nonexistent/token': No such file or directory")
    let lineBreak = Self.error {
      try f.resolve(["AWS_CONTAINER_CREDENTIALS_FULL_URI": uri, "AWS_CONTAINER_AUTHORIZATION_TOKEN": "Bearer a\r\nX-Injected: 1"])
    }
    #expect(lineBreak?.message == "container credentials (\(server.authority)): the authorization token has a line break")
    #expect(lineBreak?.description.contains("X-Injected") == false)
    #expect(try server.counts()["container"] == 1)
  }

  /// `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` is under 169.254.170.2 and wins; a full URI must be https
  /// or on a host the SDKs allow over http.
  @Test func containerURIs() throws {
    func url(_ environment: [String: String]) throws -> String? {
      guard case .container(let url, _, _) = try S3CredentialSource.container({ environment[$0] }) else { return nil }
      return url
    }
    #expect(try url(["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/0f1e"]) == "http://169.254.170.2/v2/credentials/0f1e")
    #expect(try url(["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/x", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1/y"])
      == "http://169.254.170.2/v2/x")
    #expect(try url([:]) == nil)
    for allowed in ["http://169.254.170.23/v1/credentials", "http://[fd00:ec2::23]/v1/credentials", "http://169.254.170.2/x",
                    "http://127.0.0.1:8080/creds", "http://127.1.2.3/x", "http://localhost/x", "http://[::1]:9/x",
                    "https://credentials.example.com/x"] {
      #expect(try url(["AWS_CONTAINER_CREDENTIALS_FULL_URI": allowed]) == allowed)
    }
    for refused in ["http://10.0.0.1/creds", "http://127.0.0.evil/x", "http://169.254.170.2.example.com/x",
                    "http://[fd00:ec2::24]/x", "ftp://127.0.0.1/x", "http://me@127.0.0.1/x", "127.0.0.1/x"] {
      let e = Self.error { try url(["AWS_CONTAINER_CREDENTIALS_FULL_URI": refused]) }
      #expect(e?.code == .invalidArgument)
      #expect(e?.message == "AWS_CONTAINER_CREDENTIALS_FULL_URI '\(refused)' is not allowed: it must be https, or http to a loopback "
        + "address, 169.254.170.2, 169.254.170.23 or [fd00:ec2::23]")
    }
    let source = S3CredentialSource.container(url: "http://169.254.170.2/v2/credentials/0f1e", authorizationToken: nil, authorizationTokenFile: nil)
    #expect(source.description == "container credentials (169.254.170.2)")
  }

  // MARK: EC2 instance metadata

  /// IMDSv2: a session token (the fake refuses the role requests without it), the role, its credentials;
  /// all three again once the credentials are inside the refresh window.
  @Test func instanceMetadataAndRefresh() throws {
    let server = try CredentialsTestServer(expiresIn: 303)
    defer { server.stop() }
    let f = try Fixture()
    defer { f.remove() }
    let c = try f.resolve(["AWS_EC2_METADATA_DISABLED": "", "AWS_EC2_METADATA_SERVICE_ENDPOINT": server.url + "/"])
    #expect(c.credentialSource == "EC2 instance metadata (role test-role)")
    #expect(c.credentials?.accessKeyID == "ASIAIMDS1" && c.credentials?.secretAccessKey == "SECRETimds1"
      && c.credentials?.sessionToken == "TOKENimds1")
    #expect(c.credentialProvider?.source == .instanceMetadata(endpoint: server.url))
    #expect(try server.counts().filter { ["token", "roles", "credentials"].contains($0.key) } == ["token": 1, "roles": 1, "credentials": 1])
    #expect(try c.currentCredentials()?.accessKeyID == "ASIAIMDS1")
    Thread.sleep(forTimeInterval: 3.5)
    #expect(try c.currentCredentials()?.accessKeyID == "ASIAIMDS2")
    #expect(try c.currentCredentials()?.accessKeyID == "ASIAIMDS2")
    #expect(try server.counts().filter { ["token", "roles", "credentials"].contains($0.key) } == ["token": 2, "roles": 2, "credentials": 2])

    // The fake is strict: without the session token the role list is refused.
    let transport = HTTPTransport(maxConnections: 1, timeout: 5, followRedirects: false)
    let bare = try transport.send(key: "", limit: 1 << 16, backOff: BackOff(maxAttempts: 1)) {
      HTTPRequest(method: "GET", url: try #require(URL(string: server.url + "/latest/meta-data/iam/security-credentials/")))
    } decide: { _ in .accept }
    #expect(bare.status == 401)
  }

  /// Without a role, or unreachable, the metadata service leaves the requests anonymous and says why;
  /// off (`AWS_EC2_METADATA_DISABLED`, `--anon`, `AWS_NO_SIGN_REQUEST`) it is not asked.
  @Test func instanceMetadataAbsentOrOff() throws {
    let server = try CredentialsTestServer(noRole: true)
    defer { server.stop() }
    let f = try Fixture()
    defer { f.remove() }
    let on = ["AWS_EC2_METADATA_DISABLED": "", "AWS_EC2_METADATA_SERVICE_ENDPOINT": server.url]
    let noRole = try f.resolve(on)
    #expect(noRole.credentials == nil && noRole.credentialProvider == nil)
    #expect(noRole.credentialSource == Self.defaultPrefix + "; EC2 instance metadata (\(server.url)): no IAM role is attached "
      + "to the instance (GET \(server.url)/latest/meta-data/iam/security-credentials/ answered HTTP 404))")
    #expect(try server.counts()["token"] == 1)

    for off in [["AWS_EC2_METADATA_DISABLED": "true"], ["AWS_EC2_METADATA_DISABLED": "TRUE"], ["AWS_NO_SIGN_REQUEST": "true"]] {
      let c = try f.resolve(on.merging(off) { _, new in new })
      #expect(c.credentials == nil && c.credentialProvider == nil)
      #expect(c.credentialSource == (off["AWS_NO_SIGN_REQUEST"] == nil ? Self.defaultSource : "anonymous (AWS_NO_SIGN_REQUEST)"))
    }
    #expect(try f.resolve(on, anonymous: true).credentialSource == "anonymous (--anon)")
    #expect(try server.counts()["token"] == 1)

    // Nothing listening: refused at once, or after the 1 s connect timeout; never the SDK-less 5 s.
    for endpoint in ["http://127.0.0.1:1", "http://192.0.2.1"] {
      let start = Date()
      let c = try f.resolve(["AWS_EC2_METADATA_DISABLED": "", "AWS_EC2_METADATA_SERVICE_ENDPOINT": endpoint])
      let elapsed = Date().timeIntervalSince(start)
      #expect(elapsed < 2, "\(endpoint): \(elapsed) s")
      #expect(c.credentials == nil)
      #expect(c.credentialSource.hasPrefix(Self.defaultPrefix + "; EC2 instance metadata (\(endpoint)): PUT \(endpoint)/latest/api/token failed: "),
              "\(c.credentialSource)")
      if endpoint == "http://127.0.0.1:1" {
        #expect(c.credentialSource == Self.defaultPrefix + "; EC2 instance metadata (http://127.0.0.1:1): "
          + "PUT http://127.0.0.1:1/latest/api/token failed: could not connect (connection refused))")
      }
    }
    #expect(Self.error { try f.resolve(["AWS_EC2_METADATA_DISABLED": "", "AWS_EC2_METADATA_SERVICE_ENDPOINT": "169.254.169.254"]) }?.message
      == "AWS_EC2_METADATA_SERVICE_ENDPOINT '169.254.169.254' is not an http:// or https:// URL with a host (and no user, query or fragment)")
    #expect(try S3CredentialSource.instanceMetadata { _ in nil } == .instanceMetadata(endpoint: "http://169.254.169.254"))
    #expect(try S3CredentialSource.instanceMetadata { ["AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "IPv6"][$0] }
      == .instanceMetadata(endpoint: "http://[fd00:ec2::254]"))
  }

  // MARK: The chain

  /// Environment keys > profile keys > `credential_process` > web identity > container > instance
  /// metadata; the providers after the one used are never asked.
  @Test func chainOrder() throws {
    let server = try CredentialsTestServer()
    defer { server.stop() }
    let runs = try makeTemporaryDirectory("process").appendingPathComponent("runs").path
    let f = try Fixture(
      config: """
        [profile bare]
        region = eu-west-1
        [profile proc]
        credential_process = echo run >> '\(runs)'; echo '{"Version": 1, "AccessKeyId": "AKIAPROC", "SecretAccessKey": "SECRETproc"}'
        """,
      credentials: "[default]\naws_access_key_id = AKIAPROFILE\naws_secret_access_key = SECRETprofile\n")
    defer { f.remove() }
    let token = try Self.tokenFile()
    var all = [
      "AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "SECRETenv",
      "AWS_WEB_IDENTITY_TOKEN_FILE": token, "AWS_ROLE_ARN": Self.role, "AWS_ENDPOINT_URL_STS": server.url,
      "AWS_CONTAINER_CREDENTIALS_FULL_URI": server.url + "/container",
      "AWS_EC2_METADATA_DISABLED": "", "AWS_EC2_METADATA_SERVICE_ENDPOINT": server.url,
    ]
    func counts() throws -> [String: Int] {
      try server.counts().filter { ["sts", "container", "token"].contains($0.key) }
    }
    #expect(try f.resolve(all).credentialSource == "environment (AWS_ACCESS_KEY_ID)")
    #expect(try f.resolve(all, profile: "proc").credentialSource == "environment (AWS_ACCESS_KEY_ID)")
    all["AWS_ACCESS_KEY_ID"] = nil
    all["AWS_SECRET_ACCESS_KEY"] = nil
    #expect(try f.resolve(all).credentialSource == "profile 'default' in \(f.credentialsPath)")
    #expect(try counts() == ["sts": 0, "container": 0, "token": 0])
    let process = try f.resolve(all, profile: "proc")
    #expect(process.credentialSource == "credential_process of profile 'proc' in \(f.configPath)")
    #expect(process.credentials == S3Credentials(accessKeyID: "AKIAPROC", secretAccessKey: "SECRETproc"))
    #expect(try counts() == ["sts": 0, "container": 0, "token": 0])
    #expect(try f.resolve(all, profile: "bare").credentialSource == "web identity (role \(Self.role))")
    #expect(try counts() == ["sts": 1, "container": 0, "token": 0])
    all["AWS_WEB_IDENTITY_TOKEN_FILE"] = nil
    #expect(try f.resolve(all, profile: "bare").credentialSource == "container credentials (\(server.authority))")
    #expect(try counts() == ["sts": 1, "container": 1, "token": 0])
    all["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = nil
    #expect(try f.resolve(all, profile: "bare").credentialSource == "EC2 instance metadata (role test-role)")
    #expect(try counts() == ["sts": 1, "container": 1, "token": 1])
    // Anonymous access skips them all.
    all["AWS_WEB_IDENTITY_TOKEN_FILE"] = token
    all["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = server.url + "/container"
    #expect(try f.resolve(all, anonymous: true, profile: "bare").credentialSource == "anonymous (--anon)")
    #expect(try f.resolve(all.merging(["AWS_NO_SIGN_REQUEST": "true"]) { _, new in new }, profile: "bare").credentialSource
      == "anonymous (AWS_NO_SIGN_REQUEST)")
    #expect(try counts() == ["sts": 1, "container": 1, "token": 1])
    // credential_process ran once, and its credentials (no Expiration) are not fetched again.
    #expect(try process.currentCredentials()?.accessKeyID == "AKIAPROC")
    #expect(try String(contentsOfFile: runs, encoding: .utf8) == "run\n")
  }

  @Test func credentialProcessErrors() throws {
    let f = try Fixture(config: """
      [profile fails]
      credential_process = echo boom >&2; exit 3
      [profile version]
      credential_process = echo '{"Version": 2, "AccessKeyId": "AKIA", "SecretAccessKey": "S"}'
      [profile partial]
      credential_process = echo '{"Version": 1, "AccessKeyId": "AKIA"}'
      """)
    defer { f.remove() }
    let name = { (profile: String) in "credential_process of profile '\(profile)' in \(f.configPath)" }
    let fails = Self.error { try f.resolve(profile: "fails") }
    #expect(fails?.code == .storeFailure)
    #expect(fails?.message == "\(name("fails")): the command exited with status 3: boom")
    #expect(Self.error { try f.resolve(profile: "version") }?.message == "\(name("version")): the command's output is not JSON with \"Version\": 1")
    #expect(Self.error { try f.resolve(profile: "partial") }?.message == "\(name("partial")): the command's output has no AccessKeyId and SecretAccessKey")
  }

  // MARK: Secrets

  @Test func noSecretsInDescriptions() throws {
    let source = S3CredentialSource.container(url: "http://169.254.170.23/v1/credentials", authorizationToken: "Bearer SECRETtoken",
                                              authorizationTokenFile: nil)
    let provider = S3CredentialProvider(source)
    let credentials = S3Credentials(accessKeyID: "ASIAX", secretAccessKey: "SECRETx", sessionToken: "TOKENx",
                                    expiration: Date(timeIntervalSince1970: 1_800_000_000))
    let c = S3Configuration(credentials: credentials, credentialProvider: provider)
    #expect(c.credentialSource == "container credentials (169.254.170.23)")
    #expect(c.description == "region us-east-1, endpoint https://s3.us-east-1.amazonaws.com, auto addressing, "
      + "access key ASIAX and a session token from container credentials (169.254.170.23)")
    var texts = [source.description, String(reflecting: source), provider.description, c.description, "\(c)"]
    for value in [source as Any, c as Any, credentials as Any] {
      var dumped = ""
      dump(value, to: &dumped)
      texts.append(dumped)
    }
    for text in texts {
      #expect(!text.contains("SECRET") && !text.contains("TOKENx"), "\(text)")
    }
    var dumped = ""
    dump(credentials, to: &dumped)
    #expect(dumped.contains("2027-01-15T08:00:00Z"), "\(dumped)")
    // A provider equals only itself.
    #expect(provider == provider && provider != S3CredentialProvider(source))
  }
}
