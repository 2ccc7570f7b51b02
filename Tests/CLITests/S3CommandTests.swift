import Foundation
import TestSupport
import Testing

/// Every command on `s3://` locations, against a local S3 server (moto with IAM authentication,
/// behind a proxy that can throttle, fail and die).
@Suite("ome2zarr on s3:// locations", .serialized)
struct S3CommandTests {
  let server: S3TestServer
  let dir: URL
  let tiff: String
  /// The conversion options of every test (small chunks: several shards per level).
  static let options = ["--quiet", "--chunks", "16,64,64", "--shards", "16,128,128"]

  init() throws {
    server = try S3TestServer(authenticated: true)
    try server.createBucket("lab")
    dir = try CLI.temporaryDirectory()
    tiff = dir.appendingPathComponent("stack.ome.tif").path
    try ConvertCommandTests.makeStack(tiff, planes: 48, size: 256)
  }

  /// `ome2zarr` with the server's environment (credentials, region, endpoint) plus `extra`.
  func run(_ arguments: [String], extra: [String: String] = [:]) throws -> CLI.Result {
    let r = try server.run(CLI.binary, arguments, extra: extra)
    return CLI.Result(status: r.status, stdout: r.stdoutText, stderr: r.stderrText)
  }

  /// The objects below `prefix` of the bucket, downloaded: key -> bytes.
  func objects(_ prefix: String) throws -> [String: Data] {
    let target = dir.appendingPathComponent("download-\(UUID().uuidString)")
    try server.download(bucket: "lab", prefix: prefix, to: target)
    return try fileTree(target.path)
  }

  /// Converts to a local directory once: the reference every bucket conversion must equal.
  func reference() throws -> [String: Data] {
    let local = dir.appendingPathComponent("local.ome.zarr").path
    if !FileManager.default.fileExists(atPath: local) {
      let r = try CLI.ome2zarr(["convert", tiff, local] + Self.options)
      try #require(r.status == 0, "\(r.stderr)")
    }
    return try fileTree(local)
  }

  @Test func convertToABucketEqualsConvertToADirectoryAndEveryCommandReadsIt() throws {
    defer { server.stop() }
    let out = "s3://lab/images/stack.ome.zarr"
    let r = try run(["convert", tiff, out, "--json"] + Self.options)
    #expect(r.status == 0, "\(r.stderr)")
    let expected = try reference()
    let stored = try objects("images/stack.ome.zarr/")
    #expect(stored.keys.sorted() == expected.keys.sorted())
    #expect(stored == expected, "the bucket's objects differ from the directory's files")
    let summary = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
    #expect(summary?["bytes_written"] as? Int == expected.values.reduce(0) { $0 + $1.count }, "\(r.stdout)")

    let info = try run(["info", out])
    #expect(info.status == 0 && info.stdout.contains("OME-Zarr 0.5 image"), "\(info.stderr)")
    let validate = try run(["validate", "--data", out])
    #expect(validate.status == 0, "\(validate.stdout)\(validate.stderr)")
    let verify = try run(["verify", tiff, out])
    #expect(verify.status == 0 && verify.stdout.contains("identical"), "\(verify.stdout)\(verify.stderr)")
    let transform = try run(["transform", out, "0", "physical", "[[2,10,20]]"])
    #expect(transform.status == 0 && transform.stdout.contains("[[1,2,4]]"), "\(transform.stdout)\(transform.stderr)")
    // A bucket image as the input of a conversion, to a directory and to the bucket.
    let copy = dir.appendingPathComponent("copy.ome.zarr").path
    let fromBucket = try run(["convert", out, copy, "--quiet", "--io-concurrency", "4"])
    #expect(fromBucket.status == 0, "\(fromBucket.stderr)")
    #expect(try CLI.ome2zarr("verify", tiff, copy).status == 0)
    // Refused without --overwrite, nothing changed; replaced with it.
    let again = try run(["convert", tiff, out] + Self.options)
    #expect(again.status == 2 && again.stderr.contains("already exists; use --overwrite"), "\(again.stderr)")
    let replaced = try run(["convert", tiff, out, "--overwrite"] + Self.options)
    #expect(replaced.status == 0, "\(replaced.stderr)")
    #expect(try objects("images/stack.ome.zarr/") == expected)
  }

  @Test func partsRunTogetherOnABucketGiveTheObjectsOfADirectory() throws {
    defer { server.stop() }
    let out = "s3://lab/split/stack.ome.zarr"
    // Four parts at once (more than the cores), each its own process with the server's credentials.
    let parts = try (0..<4).reversed().map { i in
      try startProcess(CLI.binary, ["convert", tiff, out, "--part", "\(i)/4"] + Self.options, environment: server.environment())
    }
    for p in parts { p.waitUntilExit() }
    #expect(parts.map(\.terminationStatus) == [0, 0, 0, 0])
    let finalize = try run(["convert", tiff, out, "--finalize"] + Self.options)
    #expect(finalize.status == 0, "\(finalize.stderr)")
    let stored = try objects("split/stack.ome.zarr/")
    let expected = try reference()
    #expect(stored.keys.sorted() == expected.keys.sorted())
    #expect(stored == expected, "the bucket's objects differ from the directory's files")
    // No part ever wrote another's object: every data object was PUT once.
    let puts = try server.requestLog().filter { $0.method == "PUT" && $0.path.contains("/c/") }
    #expect(puts.count == Set(puts.map(\.path)).count, "a shard was written twice")
  }

  @Test func resumeAfterKillMinusNineFinishesWithTheSameObjects() throws {
    defer { server.stop() }
    let out = "s3://lab/killed.ome.zarr"
    let p = try startProcess(CLI.binary, ["convert", tiff, out, "--threads", "1"] + Self.options, environment: server.environment())
    let deadline = Date().addingTimeInterval(60)
    while p.isRunning && Date() < deadline {
      if try server.objects(bucket: "lab", prefix: "killed.ome.zarr/0/c/").count >= 2 { break }
      usleep(5_000)
    }
    kill(p.processIdentifier, SIGKILL)
    p.waitUntilExit()
    try #require(p.terminationReason == .uncaughtSignal, "the conversion finished before it could be interrupted")
    // Interrupted: the marker is in the bucket and the image metadata is not.
    let partial = try server.objects(bucket: "lab", prefix: "killed.ome.zarr/").map(\.key)
    #expect(partial.contains("killed.ome.zarr/.ome2zarr-convert.json"))
    #expect(try run(["validate", out]).status != 0)
    let again = try run(["convert", tiff, out] + Self.options)
    #expect(again.status == 2 && again.stderr.contains("--resume"), "\(again.stderr)")
    let resumed = try run(["convert", tiff, out, "--resume"] + Self.options)
    #expect(resumed.status == 0, "\(resumed.stderr)")
    #expect(try objects("killed.ome.zarr/") == reference())
  }

  @Test func aServerThatDiesMidConversionIsAnErrorAndResumeFinishesIt() throws {
    defer { server.stop() }
    let out = "s3://lab/dying.ome.zarr"
    try server.dieAfter(12)
    let r = try run(["convert", tiff, out] + Self.options)
    #expect(r.status == 2, "\(r.stderr)")
    #expect(r.stderr.contains("dying.ome.zarr") && r.stderr.contains("could not connect (connection refused)"), "\(r.stderr)")
    try server.comeUp()
    #expect(try server.objects(bucket: "lab", prefix: "dying.ome.zarr/").map(\.key).contains("dying.ome.zarr/.ome2zarr-convert.json"))
    let resumed = try run(["convert", tiff, out, "--resume"] + Self.options)
    #expect(resumed.status == 0, "\(resumed.stderr)")
    #expect(try objects("dying.ome.zarr/") == reference())
  }

  @Test func throttlingIsRetriedAndTheResultIsTheSame() throws {
    defer { server.stop() }
    try server.failNext(3, status: 503, code: "SlowDown")
    let r = try run(["convert", tiff, "s3://lab/throttled.ome.zarr"] + Self.options)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(try server.statistics().faults == 3)
    #expect(try objects("throttled.ome.zarr/") == reference())
  }

  /// A job with a role and no keys (EKS IRSA): STS AssumeRoleWithWebIdentity gives the credentials,
  /// which moto checks for every request of the conversion and of `validate`.
  @Test func webIdentityConvertsAndValidatesWithoutKeys() throws {
    defer { server.stop() }
    let token = dir.appendingPathComponent("web-identity-token").path
    try "header.payload.signature\n".write(toFile: token, atomically: true, encoding: .utf8)
    let role = ["AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_WEB_IDENTITY_TOKEN_FILE": token, "AWS_ROLE_ARN": server.roleARN]
    let out = "s3://lab/irsa/stack.ome.zarr"
    let r = try run(["convert", tiff, out] + Self.options, extra: role)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(try objects("irsa/stack.ome.zarr/") == reference())
    let validate = try run(["validate", "--data", out], extra: role)
    #expect(validate.status == 0, "\(validate.stderr)")
    // A missing token file is an error naming the provider, not an anonymous attempt.
    var missing = role
    missing["AWS_WEB_IDENTITY_TOKEN_FILE"] = dir.appendingPathComponent("no-token").path
    let failed = try run(["info", out], extra: missing)
    #expect(failed.status == 2 && failed.stderr.contains("web identity (role \(server.roleARN)): cannot read the web identity token file"),
      "\(failed.stderr)")
  }

  @Test func badCredentialsBucketsAndOptionsAreClearErrors() throws {
    defer { server.stop() }
    #expect(try run(["convert", tiff, "s3://lab/ok.ome.zarr"] + Self.options).status == 0)
    let wrongSecret = try run(["info", "s3://lab/ok.ome.zarr"], extra: ["AWS_SECRET_ACCESS_KEY": "wrong-secret-value"])
    #expect(wrongSecret.status == 2)
    #expect(wrongSecret.stderr.contains("SignatureDoesNotMatch") && wrongSecret.stderr.contains("environment (AWS_ACCESS_KEY_ID)"),
      "\(wrongSecret.stderr)")
    #expect(!wrongSecret.stderr.contains("wrong-secret-value") && !wrongSecret.stderr.contains(server.secretAccessKey))
    let unknownKey = try run(["convert", tiff, "s3://lab/new.ome.zarr"] + Self.options, extra: ["AWS_ACCESS_KEY_ID": "AKIAUNKNOWN000000000"])
    #expect(unknownKey.status == 2 && unknownKey.stderr.contains("InvalidAccessKeyId"), "\(unknownKey.stderr)")
    #expect(try server.objects(bucket: "lab", prefix: "new.ome.zarr/").isEmpty)
    let anonymous = try run(["info", "--anon", "s3://lab/ok.ome.zarr"])
    #expect(anonymous.status == 2 && anonymous.stderr.contains("HTTP 403 (access denied); credentials: anonymous (--anon)"), "\(anonymous.stderr)")
    let noBucket = try run(["info", "s3://no-such-bucket/x.ome.zarr"])
    #expect(noBucket.status == 2 && noBucket.stderr.contains("the bucket 'no-such-bucket' does not exist"), "\(noBucket.stderr)")
    let missing = try run(["info", "s3://lab/missing.ome.zarr"])
    #expect(missing.status == 2 && missing.stderr.contains("'s3://lab/missing.ome.zarr' does not exist"), "\(missing.stderr)")
    let badBucket = try run(["info", "s3://UPPER_case!/x"])
    #expect(badBucket.status == 2 && badBucket.stderr.contains("UPPER_case!"), "\(badBucket.stderr)")
    let badConcurrency = try run(["info", "--io-concurrency", "0", "s3://lab/ok.ome.zarr"])
    #expect(badConcurrency.status == 2 && badConcurrency.stderr.contains("--io-concurrency must be between 1 and 1024"))
    let noProfile = try run(["info", "--profile", "nope", "s3://lab/ok.ome.zarr"])
    #expect(noProfile.status == 2 && noProfile.stderr.contains("nope"), "\(noProfile.stderr)")
    // The endpoint from the command line instead of the environment.
    let viaFlag = try run(["info", "--endpoint-url", server.endpoint, "s3://lab/ok.ome.zarr"], extra: ["AWS_ENDPOINT_URL": "http://127.0.0.1:9"])
    #expect(viaFlag.status == 0, "\(viaFlag.stderr)")
  }

  @Test func collectionsInABucketTreatTheBucketPrefixAsTheirRoot() throws {
    defer { server.stop() }
    #expect(try run(["convert", tiff, "s3://lab/study/a.ome.zarr"] + Self.options).status == 0)
    #expect(try run(["convert", tiff, "s3://lab/study/b.ome.zarr"] + Self.options).status == 0)
    let create = try run(["collection", "create", "s3://lab/study/all.ome.zarr", "s3://lab/study/a.ome.zarr", "s3://lab/study/b.ome.zarr"])
    #expect(create.status == 0, "\(create.stderr)")
    let list = try run(["collection", "list", "s3://lab/study/all.ome.zarr"])
    #expect(list.status == 0 && list.stdout.contains("a") && list.stdout.contains("b"), "\(list.stdout)\(list.stderr)")
    let validate = try run(["validate", "s3://lab/study/all.ome.zarr"])
    #expect(validate.status == 0, "\(validate.stdout)\(validate.stderr)")
    // A member outside the collection's prefix is refused, as a directory outside would be.
    #expect(try run(["convert", tiff, "s3://lab/elsewhere.ome.zarr"] + Self.options).status == 0)
    let outside = try run(["collection", "add", "s3://lab/study/all.ome.zarr", "s3://lab/elsewhere.ome.zarr"])
    #expect(outside.status == 2 && outside.stderr.contains("outside the collection"), "\(outside.stderr)")
  }
}
