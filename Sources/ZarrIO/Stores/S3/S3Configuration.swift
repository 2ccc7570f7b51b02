import Foundation

/// Access keys.
///
/// The description shows the access key ID only: the secret and the session token are never
/// printed (nor shown by `dump` or `Mirror`).
public struct S3Credentials: Sendable, Hashable, CustomStringConvertible, CustomReflectable {
  /// The access key ID, e.g. `"AKIAIOSFODNN7EXAMPLE"` (not secret; it names the key).
  public var accessKeyID: String
  /// The secret access key.
  public var secretAccessKey: String
  /// The session token of temporary credentials.
  public var sessionToken: String?
  /// When temporary credentials expire; `nil` for keys that do not.
  public var expiration: Date?

  /// Credentials from their parts.
  public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil, expiration: Date? = nil) {
    self.accessKeyID = accessKeyID
    self.secretAccessKey = secretAccessKey
    self.sessionToken = sessionToken
    self.expiration = expiration
  }

  /// `"access key AKIA…"`, with `" and a session token"` when there is one; never the secret.
  public var description: String {
    "access key \(accessKeyID)" + (sessionToken == nil ? "" : " and a session token")
  }

  /// The fields with the secret and the session token redacted.
  public var customMirror: Mirror {
    Mirror(self, children: [
      "accessKeyID": accessKeyID,
      "secretAccessKey": "<redacted>",
      "sessionToken": sessionToken == nil ? "nil" : "<redacted>",
      "expiration": expiration.map { S3CredentialProvider.timestamp($0) } ?? "nil",
    ])
  }
}

/// How requests name the bucket: in the path (`host/bucket/key`) or in the host (`bucket.host/key`).
public enum S3AddressingStyle: String, Sendable {
  /// `https://host/bucket/key`: local servers, MinIO, Ceph, dotted bucket names.
  case path
  /// `https://bucket.host/key`: AWS's preferred form.
  case virtual
  /// Virtual for AWS with a DNS-safe bucket name without dots, path otherwise.
  case auto
}

/// How to reach a bucket: region, endpoint, credentials and their source, addressing, I/O settings.
///
/// ``resolve(environment:anonymous:profile:)`` finds the settings the way AWS tools do:
///
/// | Setting | Order |
/// |---|---|
/// | credentials | `anonymous: true` or `AWS_NO_SIGN_REQUEST=true` → none; `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`); the profile's keys; its `credential_process`; web identity; container credentials; EC2 instance metadata; none |
/// | profile | the `profile` argument, `AWS_PROFILE`, `default` |
/// | region | `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`, `us-east-1` |
/// | endpoint | `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`, the profile's `s3 =` / `endpoint_url`, its `endpoint_url`, AWS |
/// | addressing | the profile's `s3 =` / `addressing_style`, `auto` |
///
/// Profiles live in `AWS_SHARED_CREDENTIALS_FILE` (default `~/.aws/credentials`, sections `[name]`)
/// and `AWS_CONFIG_FILE` (default `~/.aws/config`, sections `[default]` and `[profile name]`); a value
/// in the credentials file wins over the same key in the config file. Named profiles do not inherit
/// from `[default]`.
///
/// The role-based providers give temporary credentials, which ``credentialProvider`` fetches again
/// before they expire (see ``S3CredentialSource`` and ``S3CredentialProvider``):
/// - web identity (EKS IRSA): `AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN` (`AWS_ROLE_SESSION_NAME`),
///   or the profile's `web_identity_token_file` + `role_arn`: STS `AssumeRoleWithWebIdentity`;
/// - container credentials (ECS, AWS Batch, EKS Pod Identity): `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`
///   or `AWS_CONTAINER_CREDENTIALS_FULL_URI`, with `AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE)`;
/// - EC2 instance metadata (IMDSv2), unless `AWS_EC2_METADATA_DISABLED=true`: tried only when nothing
///   else gave credentials; off EC2 it costs about a second and leaves the requests anonymous.
public struct S3Configuration: Sendable, Hashable, CustomStringConvertible {
  /// The region requests are signed for; `"us-east-1"` when nothing says otherwise.
  public var region: String
  /// The endpoint URL, e.g. `"http://127.0.0.1:5000"`; `nil` for AWS (`https://s3.<region>.amazonaws.com`).
  public var endpoint: String?
  /// Path or virtual-hosted requests; `.auto` is virtual for AWS with a DNS-safe dot-free bucket, path otherwise.
  public var addressingStyle: S3AddressingStyle
  /// The access keys; `nil` for anonymous (unsigned) requests. With a ``credentialProvider``, the
  /// credentials it gave when the configuration was resolved (requests use its current ones).
  public var credentials: S3Credentials?
  /// Fetches temporary credentials again before they expire; requests are signed with its
  /// credentials when it is set.
  public var credentialProvider: S3CredentialProvider?
  /// Where the credentials came from, for messages, e.g. `"environment (AWS_ACCESS_KEY_ID)"`,
  /// `"profile 'lab' in /root/.aws/credentials"`, `"web identity (role arn:aws:iam::123456789012:role/lab)"`,
  /// `"container credentials (169.254.170.2)"`, `"EC2 instance metadata (role lab)"`,
  /// `"anonymous (--anon)"`, `"anonymous (AWS_NO_SIGN_REQUEST)"`.
  public var credentialSource: String
  /// Requests in flight at once (at least 1).
  public var ioConcurrency: Int = 32
  /// Seconds a request may take.
  public var timeout: Double = 60
  /// Attempts per request: 1 + retries (at least 1).
  public var maxAttempts: Int = 4
  /// The part size of multipart uploads, in bytes.
  public var partSize: Int = 16 << 20
  /// Values larger than this are uploaded in parts (sent in parallel). Shards of a conversion
  /// (up to about 64 MiB) go up whole, several at once: parts would add requests, not speed.
  public var multipartThreshold: Int = 64 << 20

  /// A configuration from its parts. Without `credentialSource` the source reads the provider's
  /// name, `"given to S3Configuration"`, or `"anonymous"` without credentials.
  public init(region: String = "us-east-1", endpoint: String? = nil, credentials: S3Credentials? = nil,
              addressingStyle: S3AddressingStyle = .auto, credentialSource: String? = nil,
              credentialProvider: S3CredentialProvider? = nil,
              ioConcurrency: Int = 32, timeout: Double = 60, maxAttempts: Int = 4,
              partSize: Int = 16 << 20, multipartThreshold: Int = 64 << 20) {
    self.region = region
    self.endpoint = endpoint
    self.credentials = credentials
    self.credentialProvider = credentialProvider
    self.addressingStyle = addressingStyle
    self.credentialSource = credentialSource ?? credentialProvider?.description
      ?? (credentials == nil ? "anonymous" : "given to S3Configuration")
    self.ioConcurrency = max(1, ioConcurrency)
    self.timeout = timeout
    self.maxAttempts = max(1, maxAttempts)
    self.partSize = partSize
    self.multipartThreshold = multipartThreshold
  }

  /// Region, endpoint, addressing and credentials with their source; never the secret.
  public var description: String {
    var s = "region \(region), endpoint \(endpoint ?? Self.awsEndpoint(region: region)), \(addressingStyle.rawValue) addressing, "
    if let credentials {
      s += "\(credentials) from \(credentialSource)"
    } else if credentialProvider != nil {
      s += "credentials from \(credentialSource)"
    } else {
      s += credentialSource.hasPrefix("anonymous") ? credentialSource : "anonymous (\(credentialSource))"
    }
    return s
  }

  /// The credentials to sign with now: the provider's (fetched again before they expire), else
  /// ``credentials``; `nil` for anonymous requests.
  /// - Throws: `.storeFailure` naming the provider when it cannot fetch credentials.
  public func currentCredentials() throws -> S3Credentials? {
    if let credentialProvider { return try credentialProvider.credentials() }
    return credentials
  }

  /// The AWS endpoint of a region: `https://s3.<region>.amazonaws.com` (`.amazonaws.com.cn` in China).
  public static func awsEndpoint(region: String) -> String {
    "https://s3.\(region).amazonaws.com" + (region.hasPrefix("cn-") ? ".cn" : "")
  }

  // MARK: Addressing

  /// Where requests for `bucket` go: the scheme, the host (with a non-default port) and the path
  /// prefix keys are appended to (`"/bucket"` in path style, the endpoint's own path, often `""`, in
  /// virtual style). The key `k` of the bucket is at `scheme://host + pathPrefix + "/" + uriEncode(k)`.
  public func endpointURL(bucket: String) -> (scheme: String, host: String, pathPrefix: String) {
    let base = endpoint.flatMap(Self.parseEndpoint) ?? Self.parseEndpoint(Self.awsEndpoint(region: region))
      ?? (scheme: "https", host: "s3.\(region).amazonaws.com", path: "")
    let virtual: Bool
    switch addressingStyle {
    case .path: virtual = false
    case .virtual: virtual = true
    case .auto: virtual = endpoint == nil && Self.isVirtualHostable(bucket)
    }
    if virtual {
      return (base.scheme, bucket + "." + base.host, base.path)
    }
    return (base.scheme, base.host, base.path + "/" + S3Signer.uriEncode(bucket, encodeSlash: true))
  }

  /// Whether `bucket` can be a DNS label under AWS's HTTPS certificate: 3–63 of `a-z0-9-`,
  /// starting and ending with a letter or digit, no dots.
  static func isVirtualHostable(_ bucket: String) -> Bool {
    let bytes = Array(bucket.utf8)
    guard (3...63).contains(bytes.count), let first = bytes.first, let last = bytes.last else { return false }
    func alnum(_ b: UInt8) -> Bool { (0x61...0x7A).contains(b) || (0x30...0x39).contains(b) }
    return alnum(first) && alnum(last) && bytes.allSatisfy { alnum($0) || $0 == UInt8(ascii: "-") }
  }

  /// Checks a bucket name loosely: 3–63 characters of `a-z`, `0-9`, `.`, `-` and `_`.
  /// - Throws: `.invalidArgument` naming the bucket.
  public static func validateBucketName(_ bucket: String) throws {
    let allowed = bucket.utf8.allSatisfy { b in
      (0x61...0x7A).contains(b) || (0x30...0x39).contains(b) || b == UInt8(ascii: ".") || b == UInt8(ascii: "-") || b == UInt8(ascii: "_")
    }
    guard (3...63).contains(bucket.utf8.count), allowed else {
      throw ZarrError(.invalidArgument,
        "'\(bucket)' is not a valid S3 bucket name (3 to 63 characters of a-z, 0-9, '.', '-' and '_')")
    }
  }

  /// `scheme://host[:port][/path]` split into scheme (lowercase), host (default port dropped) and
  /// path (no trailing slash); `nil` unless http(s) with a host and without user info, query or fragment.
  static func parseEndpoint(_ text: String) -> (scheme: String, host: String, path: String)? {
    guard let scheme = StoreLocation.scheme(of: text), scheme == "http" || scheme == "https" else { return nil }
    let rest = text.dropFirst(scheme.count + 3)
    guard !rest.contains(where: { $0 == "?" || $0 == "#" || $0 == " " }) else { return nil }
    let slash = rest.firstIndex(of: "/") ?? rest.endIndex
    var host = String(rest[..<slash])
    guard !host.isEmpty, !host.contains("@") else { return nil }
    let defaultPort = scheme == "https" ? ":443" : ":80"
    if host.hasSuffix(defaultPort) { host.removeLast(defaultPort.count) }
    guard !host.isEmpty, !host.hasSuffix(":") else { return nil }
    var path = String(rest[slash...])
    while path.hasSuffix("/") { path.removeLast() }
    return (scheme, host, path)
  }

  // MARK: Resolution

  /// The configuration AWS tools would use: flags > environment > profile files.
  ///
  /// - Parameters:
  ///   - environment: the variables to read (the process's by default).
  ///   - anonymous: send unsigned requests whatever credentials exist (`--anon`).
  ///   - profile: the profile to read, overriding `AWS_PROFILE`.
  /// - Throws: `.invalidArgument` when only one of `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` is
  ///   set, when a chosen profile exists in neither file, when a profile has half a key pair, and for a
  ///   malformed endpoint, region or addressing style, for a web identity token file without a role ARN
  ///   and a container credentials URI that is not allowed; `.storeFailure` when a file exists but cannot
  ///   be read, and when the configured web identity, container or `credential_process` provider cannot
  ///   fetch credentials (the message names it and what failed).
  public static func resolve(environment: [String: String] = ProcessInfo.processInfo.environment,
                             anonymous: Bool = false, profile: String? = nil) throws -> S3Configuration {
    func env(_ name: String) -> String? {
      guard let v = environment[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !v.isEmpty else { return nil }
      return v
    }
    let home = env("HOME") ?? FileManager.default.homeDirectoryForCurrentUser.path
    func expand(_ path: String) -> String {
      path == "~" ? home : path.hasPrefix("~/") ? home + path.dropFirst(1) : path
    }
    let configPath = expand(env("AWS_CONFIG_FILE") ?? "~/.aws/config")
    let credentialsPath = expand(env("AWS_SHARED_CREDENTIALS_FILE") ?? "~/.aws/credentials")

    // The profile: config-file values, overridden by credentials-file values (as botocore merges them).
    let explicitProfile = profile.flatMap { $0.isEmpty ? nil : $0 } ?? env("AWS_PROFILE")
    let profileName = explicitProfile ?? "default"
    let configSection = try AWSConfigFile.load(path: configPath)?.profile(profileName, configFile: true)
    let credentialsSection = try AWSConfigFile.load(path: credentialsPath)?.profile(profileName, configFile: false)
    if let explicitProfile, configSection == nil, credentialsSection == nil {
      throw ZarrError(.invalidArgument,
        "the AWS profile '\(explicitProfile)' is in neither '\(configPath)' nor '\(credentialsPath)'")
    }
    func value(_ key: String) -> (String, path: String)? {
      for (section, path) in [(credentialsSection, credentialsPath), (configSection, configPath)] {
        if let v = section?[key]?.string, !v.isEmpty { return (v, path) }
      }
      return nil
    }
    func nested(_ block: String, _ key: String) -> (String, path: String)? {
      for (section, path) in [(credentialsSection, credentialsPath), (configSection, configPath)] {
        if let v = section?[block]?.nested[key], !v.isEmpty { return (v, path) }
      }
      return nil
    }

    // Region.
    let region: String
    let regionOrigin: String
    if let r = env("AWS_REGION") {
      (region, regionOrigin) = (r, "AWS_REGION")
    } else if let r = env("AWS_DEFAULT_REGION") {
      (region, regionOrigin) = (r, "AWS_DEFAULT_REGION")
    } else if let (r, path) = value("region") {
      (region, regionOrigin) = (r, "the region of profile '\(profileName)' in \(path)")
    } else {
      (region, regionOrigin) = ("us-east-1", "the default")
    }
    guard !region.isEmpty, region.utf8.count <= 64,
      region.utf8.allSatisfy({ b in
        (0x61...0x7A).contains(b) || (0x41...0x5A).contains(b) || (0x30...0x39).contains(b) || b == UInt8(ascii: "-") || b == UInt8(ascii: "_")
      })
    else {
      throw ZarrError(.invalidArgument, "'\(region)' (from \(regionOrigin)) is not a valid region (letters, digits, '-' and '_')")
    }

    // Endpoint.
    var endpoint: String?
    var endpointOrigin = ""
    if let e = env("AWS_ENDPOINT_URL_S3") {
      (endpoint, endpointOrigin) = (e, "AWS_ENDPOINT_URL_S3")
    } else if let e = env("AWS_ENDPOINT_URL") {
      (endpoint, endpointOrigin) = (e, "AWS_ENDPOINT_URL")
    } else if let (e, path) = nested("s3", "endpoint_url") {
      (endpoint, endpointOrigin) = (e, "the s3 endpoint_url of profile '\(profileName)' in \(path)")
    } else if let (e, path) = value("endpoint_url") {
      (endpoint, endpointOrigin) = (e, "the endpoint_url of profile '\(profileName)' in \(path)")
    }
    if let e = endpoint {
      if let scheme = StoreLocation.scheme(of: e), e.dropFirst(scheme.count + 3).prefix(while: { $0 != "/" }).contains("@") {
        // Not echoed: the user information may hold a password.
        throw ZarrError(.invalidArgument, "the endpoint from \(endpointOrigin) has user information, which is not supported")
      }
      guard parseEndpoint(e) != nil else {
        throw ZarrError(.invalidArgument,
          "the endpoint '\(e)' (from \(endpointOrigin)) is not an http:// or https:// URL with a host (and no user, query or fragment)")
      }
      var trimmed = e
      while trimmed.hasSuffix("/") { trimmed.removeLast() }
      endpoint = trimmed
    }

    // Addressing style.
    var style = S3AddressingStyle.auto
    if let (text, path) = nested("s3", "addressing_style") {
      guard let s = S3AddressingStyle(rawValue: text.lowercased()) else {
        throw ZarrError(.invalidArgument,
          "the s3 addressing_style '\(text)' of profile '\(profileName)' in \(path) is not path, virtual or auto")
      }
      style = s
    }

    // Credentials.
    var credentials: S3Credentials?
    var provider: S3CredentialProvider?
    var source: String
    if anonymous {
      source = "anonymous (--anon)"
    } else if let flag = env("AWS_NO_SIGN_REQUEST"), ["true", "yes", "1"].contains(flag.lowercased()) {
      source = "anonymous (AWS_NO_SIGN_REQUEST)"
    } else if env("AWS_ACCESS_KEY_ID") != nil || env("AWS_SECRET_ACCESS_KEY") != nil {
      guard let id = env("AWS_ACCESS_KEY_ID") else {
        throw ZarrError(.invalidArgument, "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not: set both, or neither")
      }
      guard let secret = env("AWS_SECRET_ACCESS_KEY") else {
        throw ZarrError(.invalidArgument, "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not: set both, or neither")
      }
      credentials = S3Credentials(accessKeyID: id, secretAccessKey: secret, sessionToken: env("AWS_SESSION_TOKEN"))
      source = "environment (AWS_ACCESS_KEY_ID)"
    } else if let (id, idPath) = value("aws_access_key_id") {
      guard let (secret, _) = value("aws_secret_access_key") else {
        throw ZarrError(.invalidArgument, "profile '\(profileName)' in \(idPath) has aws_access_key_id but no aws_secret_access_key")
      }
      credentials = S3Credentials(accessKeyID: id, secretAccessKey: secret, sessionToken: value("aws_session_token")?.0)
      source = "profile '\(profileName)' in \(idPath)"
    } else if let (_, secretPath) = value("aws_secret_access_key") {
      throw ZarrError(.invalidArgument, "profile '\(profileName)' in \(secretPath) has aws_secret_access_key but no aws_access_key_id")
    } else {
      // The role-based providers: the first one configured is used (its first fetch must succeed);
      // the instance metadata service only when nothing else is, and its failure means anonymous.
      let lookup: S3CredentialSource.Lookup = (env, { value($0) }, { nested($0, $1) })
      source = "anonymous (no credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE)"
      if let (command, path) = value("credential_process") {
        provider = S3CredentialProvider(.process(command: command), name: "credential_process of profile '\(profileName)' in \(path)")
      } else if let webIdentity = try S3CredentialSource.webIdentity(lookup, profileName: profileName, region: region) {
        provider = S3CredentialProvider(webIdentity)
      } else if let container = try S3CredentialSource.container(env) {
        provider = S3CredentialProvider(container)
      } else if let metadata = try S3CredentialSource.instanceMetadata(env) {
        let probe = S3CredentialProvider(metadata)
        do {
          credentials = try probe.credentials()
          provider = probe
        } catch let e as ZarrError {
          source.removeLast()
          source += "; \(e.message))"
        }
      }
      if let provider {
        credentials = try provider.credentials()
        source = provider.description
      }
    }


    return S3Configuration(region: region, endpoint: endpoint, credentials: credentials, addressingStyle: style,
                           credentialSource: source, credentialProvider: provider)
  }
}
