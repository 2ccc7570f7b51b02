import Foundation
import Testing
import TestSupport

@testable import ZarrIO

/// Credential, region, endpoint and addressing resolution the way AWS tools do it, with temporary
/// config and credentials files named through the environment dictionary (never the real ~/.aws).
@Suite("S3 configuration")
struct S3ConfigurationTests {
  /// A temporary HOME with a config and a credentials file, and the environment naming them.
  struct Fixture {
    let dir: URL
    let configPath: String
    let credentialsPath: String
    var environment: [String: String]

    init(config: String? = nil, credentials: String? = nil) throws {
      dir = try makeTemporaryDirectory("s3config")
      configPath = dir.appendingPathComponent("config").path
      credentialsPath = dir.appendingPathComponent("credentials").path
      if let config { try config.write(toFile: configPath, atomically: true, encoding: .utf8) }
      if let credentials { try credentials.write(toFile: credentialsPath, atomically: true, encoding: .utf8) }
      // The instance metadata service is off: the tests do not depend on the machine they run on.
      environment = ["HOME": dir.path, "AWS_CONFIG_FILE": configPath, "AWS_SHARED_CREDENTIALS_FILE": credentialsPath,
                     "AWS_EC2_METADATA_DISABLED": "true"]
    }

    func resolve(_ extra: [String: String] = [:], anonymous: Bool = false, profile: String? = nil) throws -> S3Configuration {
      try S3Configuration.resolve(environment: environment.merging(extra) { _, new in new }, anonymous: anonymous, profile: profile)
    }

    /// The error `resolve` throws (a non-ZarrError or no error records an issue).
    func error(_ extra: [String: String] = [:], anonymous: Bool = false, profile: String? = nil) -> ZarrError? {
      do {
        let c = try resolve(extra, anonymous: anonymous, profile: profile)
        Issue.record("resolved to \(c) instead of failing")
        return nil
      } catch let e as ZarrError {
        return e
      } catch {
        Issue.record("unexpected error \(error)")
        return nil
      }
    }

    func remove() { try? FileManager.default.removeItem(at: dir) }
  }

  static let credentialsFile = """
    # comment
    [default]
    aws_access_key_id = AKIADEFAULT
    aws_secret_access_key = SECRETdefault

    [lab]
    aws_access_key_id=AKIALAB
    aws_secret_access_key=SECRETlab
    aws_session_token = TOKENlab
    """
  static let configFile = """
    [default]
    region = eu-west-1
    endpoint_url = http://default.example:9000

    ; a named profile inherits nothing from [default]
    [profile lab]
    region = eu-central-1

    [profile bare]
    output = json

    [profile cfg]
    region = ap-south-1
    aws_access_key_id = AKIACFG
    aws_secret_access_key = SECRETcfg

    [profile minio]
    endpoint_url = http://profile.example:9000
    s3 =
      addressing_style = path
      endpoint_url = http://127.0.0.1:9000
    region = us-west-2
    """

  // MARK: Credentials

  @Test func environmentBeatsProfile() throws {
    let f = try Fixture(config: Self.configFile, credentials: Self.credentialsFile)
    defer { f.remove() }
    let c = try f.resolve(["AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "SECRETenv", "AWS_SESSION_TOKEN": "TOKENenv"])
    #expect(c.credentials == S3Credentials(accessKeyID: "AKIAENV", secretAccessKey: "SECRETenv", sessionToken: "TOKENenv"))
    #expect(c.credentialSource == "environment (AWS_ACCESS_KEY_ID)")
    // The rest still comes from the default profile.
    #expect(c.region == "eu-west-1")
    #expect(c.endpoint == "http://default.example:9000")
    // Also over a named profile.
    let named = try f.resolve(["AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "SECRETenv", "AWS_PROFILE": "lab"])
    #expect(named.credentials == S3Credentials(accessKeyID: "AKIAENV", secretAccessKey: "SECRETenv"))
    #expect(named.region == "eu-central-1")
  }

  @Test func profileBeatsNothing() throws {
    let f = try Fixture(config: Self.configFile, credentials: Self.credentialsFile)
    defer { f.remove() }
    let c = try f.resolve()
    #expect(c.credentials == S3Credentials(accessKeyID: "AKIADEFAULT", secretAccessKey: "SECRETdefault"))
    #expect(c.credentialSource == "profile 'default' in \(f.credentialsPath)")
    #expect(c.region == "eu-west-1")
    #expect(c.addressingStyle == .auto)

    let lab = try f.resolve(["AWS_PROFILE": "lab"])
    #expect(lab.credentials == S3Credentials(accessKeyID: "AKIALAB", secretAccessKey: "SECRETlab", sessionToken: "TOKENlab"))
    #expect(lab.credentialSource == "profile 'lab' in \(f.credentialsPath)")
    // The argument beats AWS_PROFILE.
    let cfg = try f.resolve(["AWS_PROFILE": "lab"], profile: "cfg")
    #expect(cfg.credentials == S3Credentials(accessKeyID: "AKIACFG", secretAccessKey: "SECRETcfg"))
    #expect(cfg.credentialSource == "profile 'cfg' in \(f.configPath)")
    #expect(cfg.region == "ap-south-1")
  }

  @Test func namedProfileDoesNotInheritDefault() throws {
    let f = try Fixture(config: Self.configFile, credentials: Self.credentialsFile)
    defer { f.remove() }
    let lab = try f.resolve(profile: "lab")
    #expect(lab.region == "eu-central-1")
    #expect(lab.endpoint == nil)
    let bare = try f.resolve(profile: "bare")
    #expect(bare.region == "us-east-1")
    #expect(bare.endpoint == nil)
    #expect(bare.credentials == nil)
    #expect(bare.credentialSource
      == "anonymous (no credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE)")
  }

  /// A key in the credentials file wins over the same key in the config file.
  @Test func credentialsFileBeatsConfigFile() throws {
    let f = try Fixture(
      config: "[profile both]\naws_access_key_id = AKIACONFIG\naws_secret_access_key = SECRETconfig\nregion = sa-east-1\n",
      credentials: "[both]\naws_access_key_id = AKIACREDS\naws_secret_access_key = SECRETcreds\n")
    defer { f.remove() }
    let c = try f.resolve(profile: "both")
    #expect(c.credentials == S3Credentials(accessKeyID: "AKIACREDS", secretAccessKey: "SECRETcreds"))
    #expect(c.credentialSource == "profile 'both' in \(f.credentialsPath)")
    #expect(c.region == "sa-east-1")
  }

  @Test func noFilesNoEnvironment() throws {
    let f = try Fixture()
    defer { f.remove() }
    let c = try f.resolve()
    #expect(c == S3Configuration(region: "us-east-1", endpoint: nil, credentials: nil, addressingStyle: .auto,
      credentialSource: "anonymous (no credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE)"))
    #expect(c.ioConcurrency == 32)
    #expect(c.timeout == 60)
    #expect(c.maxAttempts == 4)
    #expect(c.partSize == 16 << 20)
    #expect(c.multipartThreshold == 64 << 20)
    // A session token alone is not credentials.
    #expect(try f.resolve(["AWS_SESSION_TOKEN": "TOKENalone"]).credentials == nil)
  }

  /// Without AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE the files are $HOME/.aws/config and
  /// $HOME/.aws/credentials; `~/` in the variables is $HOME.
  @Test func defaultFilesUnderHome() throws {
    let f = try Fixture()
    defer { f.remove() }
    let aws = f.dir.appendingPathComponent(".aws")
    try FileManager.default.createDirectory(at: aws, withIntermediateDirectories: true)
    try "[default]\nregion = eu-north-1\n".write(to: aws.appendingPathComponent("config"), atomically: true, encoding: .utf8)
    try "[default]\naws_access_key_id = AKIAHOME\naws_secret_access_key = SECREThome\n"
      .write(to: aws.appendingPathComponent("credentials"), atomically: true, encoding: .utf8)
    let c = try S3Configuration.resolve(environment: ["HOME": f.dir.path, "AWS_EC2_METADATA_DISABLED": "true"])
    #expect(c.region == "eu-north-1")
    #expect(c.credentials?.accessKeyID == "AKIAHOME")
    #expect(c.credentialSource == "profile 'default' in \(aws.path)/credentials")

    try "[default]\nregion = me-south-1\n".write(to: f.dir.appendingPathComponent("other"), atomically: true, encoding: .utf8)
    let tilde = try S3Configuration.resolve(environment: ["HOME": f.dir.path, "AWS_CONFIG_FILE": "~/other", "AWS_EC2_METADATA_DISABLED": "true"])
    #expect(tilde.region == "me-south-1")
  }

  // MARK: Region, endpoint, addressing

  @Test func regionPrecedence() throws {
    let f = try Fixture(config: Self.configFile, credentials: Self.credentialsFile)
    defer { f.remove() }
    #expect(try f.resolve(["AWS_REGION": "us-west-1", "AWS_DEFAULT_REGION": "ca-central-1"]).region == "us-west-1")
    #expect(try f.resolve(["AWS_DEFAULT_REGION": "ca-central-1"]).region == "ca-central-1")
    #expect(try f.resolve(["AWS_REGION": ""]).region == "eu-west-1")
    #expect(try f.resolve().region == "eu-west-1")
    #expect(try f.resolve(profile: "bare").region == "us-east-1")
  }

  @Test func nestedS3Block() throws {
    let f = try Fixture(config: Self.configFile, credentials: Self.credentialsFile)
    defer { f.remove() }
    let c = try f.resolve(profile: "minio")
    #expect(c.addressingStyle == .path)
    #expect(c.endpoint == "http://127.0.0.1:9000")
    // The key after the nested block is the profile's again.
    #expect(c.region == "us-west-2")
    #expect(c.credentials == nil)
  }

  @Test func endpointPrecedence() throws {
    let f = try Fixture(config: Self.configFile, credentials: Self.credentialsFile)
    defer { f.remove() }
    let both = ["AWS_ENDPOINT_URL_S3": "http://s3var.example:1/", "AWS_ENDPOINT_URL": "http://var.example:2"]
    #expect(try f.resolve(both, profile: "minio").endpoint == "http://s3var.example:1")
    #expect(try f.resolve(["AWS_ENDPOINT_URL": "http://var.example:2"], profile: "minio").endpoint == "http://var.example:2")
    #expect(try f.resolve(profile: "minio").endpoint == "http://127.0.0.1:9000")
    #expect(try f.resolve().endpoint == "http://default.example:9000")
    #expect(try f.resolve(profile: "lab").endpoint == nil)
  }

  @Test func addressing() throws {
    var aws = S3Configuration(region: "eu-west-1")
    #expect(aws.endpointURL(bucket: "my-bucket") == ("https", "my-bucket.s3.eu-west-1.amazonaws.com", ""))
    #expect(aws.endpointURL(bucket: "my.bucket") == ("https", "s3.eu-west-1.amazonaws.com", "/my.bucket"))
    #expect(aws.endpointURL(bucket: "my_bucket") == ("https", "s3.eu-west-1.amazonaws.com", "/my_bucket"))
    #expect(aws.endpointURL(bucket: "-bucket") == ("https", "s3.eu-west-1.amazonaws.com", "/-bucket"))
    #expect(S3Configuration().endpointURL(bucket: "data") == ("https", "data.s3.us-east-1.amazonaws.com", ""))
    #expect(S3Configuration(region: "cn-north-1").endpointURL(bucket: "data") == ("https", "data.s3.cn-north-1.amazonaws.com.cn", ""))
    aws.addressingStyle = .path
    #expect(aws.endpointURL(bucket: "my-bucket") == ("https", "s3.eu-west-1.amazonaws.com", "/my-bucket"))
    aws.addressingStyle = .virtual
    #expect(aws.endpointURL(bucket: "my.bucket") == ("https", "my.bucket.s3.eu-west-1.amazonaws.com", ""))

    // A custom endpoint: path style unless told otherwise.
    var local = S3Configuration(endpoint: "http://127.0.0.1:5000")
    #expect(local.endpointURL(bucket: "data") == ("http", "127.0.0.1:5000", "/data"))
    local.addressingStyle = .virtual
    #expect(local.endpointURL(bucket: "data") == ("http", "data.127.0.0.1:5000", ""))
    let based = S3Configuration(endpoint: "https://gateway.example:443/s3/")
    #expect(based.endpointURL(bucket: "data") == ("https", "gateway.example", "/s3/data"))
    let plain = S3Configuration(endpoint: "HTTP://Host.example:80")
    #expect(plain.endpointURL(bucket: "data") == ("http", "Host.example", "/data"))
  }

  @Test func bucketNames() throws {
    for good in ["abc", "my-bucket", "my.bucket", "my_bucket", "0a1", String(repeating: "a", count: 63)] {
      #expect(throws: Never.self) { try S3Configuration.validateBucketName(good) }
    }
    for bad in ["ab", "My-Bucket", "a/b", "a b", String(repeating: "a", count: 64), ""] {
      #expect {
        try S3Configuration.validateBucketName(bad)
      } throws: { error in
        guard let e = error as? ZarrError else { return false }
        return e.code == .invalidArgument && e.message.contains("'\(bad)'")
      }
    }
  }

  // MARK: Anonymous access

  @Test func anonymousVariants() throws {
    let f = try Fixture(config: Self.configFile, credentials: Self.credentialsFile)
    defer { f.remove() }
    let keys = ["AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "SECRETenv"]
    let flag = try f.resolve(keys, anonymous: true)
    #expect(flag.credentials == nil)
    #expect(flag.credentialSource == "anonymous (--anon)")
    #expect(flag.region == "eu-west-1")
    // The flag also overrides half a key pair.
    #expect(try f.resolve(["AWS_ACCESS_KEY_ID": "AKIAENV"], anonymous: true).credentials == nil)
    for value in ["true", "TRUE", "Yes", "1", " yes "] {
      let c = try f.resolve(keys.merging(["AWS_NO_SIGN_REQUEST": value]) { _, new in new })
      #expect(c.credentials == nil, "AWS_NO_SIGN_REQUEST=\(value)")
      #expect(c.credentialSource == "anonymous (AWS_NO_SIGN_REQUEST)")
    }
    for value in ["false", "no", "0", "", "off"] {
      let c = try f.resolve(keys.merging(["AWS_NO_SIGN_REQUEST": value]) { _, new in new })
      #expect(c.credentials?.accessKeyID == "AKIAENV", "AWS_NO_SIGN_REQUEST=\(value)")
    }
  }

  // MARK: Errors

  @Test func halfAKeyPairInTheEnvironment() throws {
    let f = try Fixture(config: Self.configFile, credentials: Self.credentialsFile)
    defer { f.remove() }
    let noSecret = f.error(["AWS_ACCESS_KEY_ID": "AKIAENV"])
    #expect(noSecret?.code == .invalidArgument)
    #expect(noSecret?.message == "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not: set both, or neither")
    let noID = f.error(["AWS_SECRET_ACCESS_KEY": "SECRETenv"])
    #expect(noID?.code == .invalidArgument)
    #expect(noID?.message == "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not: set both, or neither")
    #expect(noID?.description.contains("SECRETenv") == false)
  }

  @Test func missingProfile() throws {
    let f = try Fixture(config: Self.configFile, credentials: Self.credentialsFile)
    defer { f.remove() }
    let expected = "the AWS profile 'nosuch' is in neither '\(f.configPath)' nor '\(f.credentialsPath)'"
    let viaEnvironment = f.error(["AWS_PROFILE": "nosuch"])
    #expect(viaEnvironment?.code == .invalidArgument)
    #expect(viaEnvironment?.message == expected)
    // Even when the environment has keys (the AWS CLI refuses too).
    #expect(f.error(["AWS_PROFILE": "nosuch", "AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "SECRETenv"])?.message == expected)
    #expect(f.error(profile: "nosuch")?.message == expected)
    // `[lab]` is a profile in the credentials file, but `[lab]` in a config file is not `[profile lab]`.
    let g = try Fixture(config: "[lab]\nregion = eu-west-3\n")
    defer { g.remove() }
    #expect(g.error(profile: "lab")?.message == "the AWS profile 'lab' is in neither '\(g.configPath)' nor '\(g.credentialsPath)'")
    // An explicit `default` must exist too; an implicit one need not.
    #expect(g.error(profile: "default") != nil)
    #expect(try g.resolve().credentials == nil)
  }

  @Test func malformedProfiles() throws {
    let f = try Fixture(
      config: """
        [profile halfid]
        aws_access_key_id = AKIAHALF
        [profile halfsecret]
        aws_secret_access_key = SECREThalf
        [profile style]
        s3 =
          addressing_style = sideways
        [profile badurl]
        endpoint_url = localhost:9000
        [profile userinfo]
        endpoint_url = http://user:SECRETpw@host.example
        [profile badregion]
        region = us east 1
        """)
    defer { f.remove() }
    #expect(f.error(profile: "halfid")?.message == "profile 'halfid' in \(f.configPath) has aws_access_key_id but no aws_secret_access_key")
    let halfSecret = f.error(profile: "halfsecret")
    #expect(halfSecret?.message == "profile 'halfsecret' in \(f.configPath) has aws_secret_access_key but no aws_access_key_id")
    #expect(halfSecret?.description.contains("SECRET") == false)
    #expect(f.error(profile: "style")?.message
      == "the s3 addressing_style 'sideways' of profile 'style' in \(f.configPath) is not path, virtual or auto")
    #expect(f.error(profile: "badurl")?.message == "the endpoint 'localhost:9000' (from the endpoint_url of profile 'badurl' in \(f.configPath)) "
      + "is not an http:// or https:// URL with a host (and no user, query or fragment)")
    let userinfo = f.error(profile: "userinfo")
    #expect(userinfo?.message == "the endpoint from the endpoint_url of profile 'userinfo' in \(f.configPath) has user information, which is not supported")
    #expect(userinfo?.description.contains("SECRET") == false)
    #expect(f.error(["AWS_ENDPOINT_URL": "ftp://x"])?.message.contains("(from AWS_ENDPOINT_URL)") == true)
    #expect(f.error(profile: "badregion")?.message.contains("'us east 1'") == true)
  }

  // MARK: Secrets stay secret

  @Test func noSecretInDescriptions() throws {
    let f = try Fixture(config: Self.configFile, credentials: Self.credentialsFile)
    defer { f.remove() }
    let env = try f.resolve(["AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "SECRETenv", "AWS_SESSION_TOKEN": "TOKENenv"])
    #expect(env.description
      == "region eu-west-1, endpoint http://default.example:9000, auto addressing, access key AKIAENV and a session token from environment (AWS_ACCESS_KEY_ID)")
    let lab = try f.resolve(profile: "lab")
    #expect(lab.description
      == "region eu-central-1, endpoint https://s3.eu-central-1.amazonaws.com, auto addressing, access key AKIALAB and a session token from profile 'lab' in \(f.credentialsPath)")
    #expect(try f.resolve(anonymous: true).description == "region eu-west-1, endpoint http://default.example:9000, auto addressing, anonymous (--anon)")
    for c in [env, lab] {
      var dumped = ""
      dump(c, to: &dumped)
      guard let credentials = c.credentials else {
        Issue.record("no credentials")
        continue
      }
      for text in [c.description, String(reflecting: c), "\(c)", credentials.description, String(reflecting: credentials), dumped] {
        #expect(!text.contains("SECRET"), "\(text)")
        #expect(!text.contains("TOKEN"), "\(text)")
      }
      #expect(dumped.contains(credentials.accessKeyID))
      #expect(dumped.contains("<redacted>"))
    }
    #expect(S3Credentials(accessKeyID: "AKIAX", secretAccessKey: "SECRETx").description == "access key AKIAX")
  }

  // MARK: The file format

  @Test func configFileParsing() {
    let text = "stray = before any section\r\n"
      + "  [ profile spaced ]   # comment after a section\r\n"
      + "\tregion = eu-west-2 ; inline comment\r\n"
      + "  output=json\r\n"
      + "Key_Case : colon value\r\n"
      + "url = http://h/p#frag\r\n"
      + "no delimiter line\r\n"
      + "# region = commented\r\n"
      + "[default]\n"
      + "s3 =\n"
      + "    addressing_style = virtual\n"
      + "\n"
      + "    endpoint_url = http://x.example\n"
      + "region = af-south-1\n"
      + "  max_attempts = 3\n"
      + "[default]\n"
      + "output = text\n"
    let file = AWSConfigFile(text: text)
    #expect(file.sections.keys.sorted() == ["default", "profile spaced"])
    let spaced = file.profile("spaced", configFile: true)
    #expect(spaced?["region"] == .string("eu-west-2"))
    #expect(spaced?["output"] == .string("json"))
    #expect(spaced?["key_case"] == .string("colon value"))
    #expect(spaced?["url"] == .string("http://h/p#frag"))
    #expect(spaced?.count == 4)
    let defaults = file.profile("default", configFile: true)
    #expect(defaults?["s3"] == .nested(["addressing_style": "virtual", "endpoint_url": "http://x.example"]))
    #expect(defaults?["region"] == .string("af-south-1"))
    // An indented line under a key with a value is a property of its own (tolerant).
    #expect(defaults?["max_attempts"] == .string("3"))
    // A repeated section merges.
    #expect(defaults?["output"] == .string("text"))
    #expect(file.profile("spaced", configFile: false) == nil)
    #expect(file.profile("profile spaced", configFile: false)?["region"] == .string("eu-west-2"))
    // `[profile default]` counts as the default profile in a config file, and wins over `[default]`.
    let both = AWSConfigFile(text: "[profile default]\nregion = a\n[default]\nregion = b\noutput = c\n")
    #expect(both.profile("default", configFile: true) == ["region": .string("a"), "output": .string("c")])
  }
}
