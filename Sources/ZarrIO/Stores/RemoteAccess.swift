import Synchronization

/// How stores opened from locations reach remote data: requests in flight, and the S3 settings a
/// command line gives (`--io-concurrency`, `--anon`, `--profile`, `--region`, `--endpoint-url`).
///
/// One value for the process, like ``ReadLimits``: a command sets it once before opening anything;
/// ``StoreLocation/openStore(create:)`` applies it to every HTTP and S3 store it opens.
public struct RemoteAccess: Sendable, Hashable {
  /// Requests each remote store keeps in flight (default 32), whatever the number of cores.
  public var ioConcurrency: Int = 32
  /// Send unsigned requests to S3 (public buckets), as `AWS_NO_SIGN_REQUEST=true` does.
  public var anonymous = false
  /// The AWS profile to use instead of `AWS_PROFILE`.
  public var profile: String? = nil
  /// The region to use instead of `AWS_REGION` and the profile's.
  public var region: String? = nil
  /// The S3 endpoint to use instead of `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL` and the profile's.
  public var endpoint: String? = nil

  /// The defaults: 32 requests in flight, credentials and endpoint from the environment.
  public init() {}

  private static let shared = ProcessWide(RemoteAccess())

  /// The settings in effect for this process.
  public static var current: RemoteAccess {
    get { shared.current }
    set { shared.current = newValue }
  }
}
