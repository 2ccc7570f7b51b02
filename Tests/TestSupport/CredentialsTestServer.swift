import Foundation

/// A fake of the AWS credential endpoints (`credentials_server.py`, standard-library Python) on
/// 127.0.0.1: the container endpoint at `/container`, IMDSv2 under `/latest/`, and STS
/// `AssumeRoleWithWebIdentity` at `/`. Every answer carries new credentials; `counts()` tells how many
/// were asked for.
///
///     let server = try CredentialsTestServer(expiresIn: 303, authorization: "Bearer abc")
///     defer { server.stop() }
///     env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = server.url + "/container"
public final class CredentialsTestServer: @unchecked Sendable {
  /// `http://127.0.0.1:<port>`.
  public let url: String
  /// `127.0.0.1:<port>`.
  public let authority: String
  private let process: Process
  /// The server's stdin: closing it (or this process ending) stops the server.
  private let input: Pipe

  /// Starts the server. Credentials expire `expiresIn` seconds after they are given; the container
  /// endpoint requires `Authorization: <authorization>` when it is set; `noRole`: the instance has no
  /// role (404); `stsError`: STS answers 403 AccessDenied.
  public init(expiresIn: Int = 3600, authorization: String? = nil, noRole: Bool = false, stsError: Bool = false) throws {
    let script = packageRoot.appendingPathComponent("Tests/TestSupport/credentials_server.py").path
    var arguments = [script, "--expires-in", String(expiresIn)]
    if let authorization { arguments += ["--authorization", authorization] }
    if noRole { arguments.append("--no-role") }
    if stsError { arguments.append("--sts-error") }
    let (p, input, port) = try startPortServer(arguments, what: "credentials server")
    process = p
    self.input = input
    authority = "127.0.0.1:\(port)"
    url = "http://\(authority)"
  }

  /// Requests answered with credentials so far: `container`, `token` (IMDS session tokens), `roles`
  /// (IMDS role listings), `credentials` (IMDS role credentials) and `sts`.
  public func counts() throws -> [String: Int] {
    try json().compactMapValues { $0 as? Int }
  }

  /// The form of the last STS request (`Action`, `RoleArn`, `RoleSessionName`, `WebIdentityToken`, ...).
  public func lastSTSRequest() throws -> [String: String] {
    try json()["last_sts"] as? [String: String] ?? [:]
  }

  private func json() throws -> [String: Any] {
    guard let counts = URL(string: url + "/__counts") else { return [:] }
    let data = try Data(contentsOf: counts)
    return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
  }

  /// Stops the server.
  public func stop() {
    stopPortServer(process, input: input)
  }

  deinit { stop() }
}
