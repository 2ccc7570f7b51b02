import ArgumentParser
import ZarrIO

/// `--anon`, `--io-concurrency`, `--profile`, `--region`, `--endpoint-url`: how a command reaches
/// `s3://` and `http(s)://` locations (the AWS CLI's spellings, and `--anon` as in s3fs).
struct RemoteOptions: ParsableArguments {
  @Flag(help: "Send unsigned requests to S3 (public buckets), like AWS_NO_SIGN_REQUEST=true.")
  var anon = false

  @Option(help: ArgumentHelp("Requests each remote store keeps in flight (HTTP and S3; 1-1024).", valueName: "n"))
  var ioConcurrency = RemoteAccess().ioConcurrency

  @Option(help: ArgumentHelp("The AWS profile (instead of AWS_PROFILE) in ~/.aws/config and ~/.aws/credentials.", valueName: "name"))
  var profile: String?

  @Option(help: ArgumentHelp("The S3 region (instead of AWS_REGION and the profile's).", valueName: "region"))
  var region: String?

  @Option(help: ArgumentHelp("The S3 endpoint, e.g. http://127.0.0.1:9000 (instead of AWS_ENDPOINT_URL).", valueName: "url"))
  var endpointURL: String?

  mutating func validate() throws {
    guard (1...1024).contains(ioConcurrency) else { throw ValidationError("--io-concurrency must be between 1 and 1024") }
    if let region, region.isEmpty || !region.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) {
      let crop = region.contains(":") ? "; export crops with --crop z0:z1,y0:y1,x0:x1" : ""
      throw ValidationError("--region '\(region)' is not an S3 region name (like us-east-1)\(crop)")
    }
    if let endpointURL {
      guard let scheme = StoreLocation.scheme(of: endpointURL), scheme == "http" || scheme == "https" else {
        throw ValidationError("--endpoint-url '\(endpointURL)' must be an http:// or https:// URL")
      }
    }
  }

  /// Sets ``RemoteAccess/current`` for this process.
  func apply() {
    var access = RemoteAccess.current
    access.anonymous = anon
    access.ioConcurrency = ioConcurrency
    access.profile = profile
    access.region = region
    access.endpoint = endpointURL
    RemoteAccess.current = access
  }
}

/// A command that may open remote locations and takes the remote options.
protocol RemoteCommand: ParsableCommand {
  /// The options given on the command line.
  var remote: RemoteOptions { get }
}

extension Convert: RemoteCommand {}
extension Info: RemoteCommand {}
extension Validate: RemoteCommand {}
extension Verify: RemoteCommand {}
extension Transform: RemoteCommand {}
extension Collection.Create: RemoteCommand {}
extension Collection.Add: RemoteCommand {}
extension Collection.Remove: RemoteCommand {}
extension Collection.SetAttributes: RemoteCommand {}
extension Collection.From: RemoteCommand {}
extension Collection.List: RemoteCommand {}
extension Pack: RemoteCommand {}
extension Unpack: RemoteCommand {}
extension Serve: RemoteCommand {}
extension View: RemoteCommand {}
