import Foundation
import Testing
import TestSupport

@testable import ZarrIO

/// S3Store against a real S3 server (moto, behind the fault-injecting proxy of `S3TestServer`) that
/// checks access keys and SigV4 signatures like AWS: every request of these tests is verified.
@Suite(.serialized) struct S3StoreTests {
  let server: S3TestServer
  let configuration: S3Configuration

  init() throws {
    server = try S3TestServer(authenticated: true)
    try server.createBucket("store")
    configuration = server.configuration()
  }

  func store(_ prefix: String = "root", _ change: (inout S3Configuration) -> Void = { _ in }) throws -> S3Store {
    var c = configuration
    change(&c)
    return try S3Store(bucket: "store", prefix: prefix, configuration: c)
  }

  @Test func storesReadsRangesListsAndDeletes() throws {
    defer { server.stop() }
    let s = try store()
    let value = (0..<1000).map { UInt8($0 % 251) }
    try s.set("a/b/c", value)
    try s.set("a/zarr.json", Array("{}".utf8))
    try s.set("top", [1, 2, 3])
    #expect(try s.get("a/b/c") == value)
    #expect(try s.get("missing") == nil)
    #expect(try s.size(of: "a/b/c") == 1000)
    #expect(try s.size(of: "missing") == nil)
    #expect(try s.get("a/b/c", range: .range(offset: 10, length: 5)) == Array(value[10..<15]))
    #expect(try s.get("a/b/c", range: .from(offset: 990)) == Array(value[990...]))
    #expect(try s.get("a/b/c", range: .suffix(length: 16)) == Array(value[984...]))
    #expect(try s.get("missing", range: .suffix(length: 16)) == nil)
    let (parts, size) = try #require(try s.get("a/b/c", ranges: [.range(offset: 0, length: 2), .suffix(length: 3)]))
    #expect(parts == [[0, 1], Array(value[997...])] && size == 1000)
    var buffer = [UInt8](repeating: 0, count: 4)
    let total = try buffer.withUnsafeMutableBytes { try s.read("a/b/c", range: 100..<104, into: $0) }
    #expect(total == 1000 && buffer == Array(value[100..<104]))
    // Ranges outside the value are errors, not short reads.
    for range in [ByteRange.range(offset: 998, length: 5), .suffix(length: 1001), .from(offset: 1001)] {
      #expect { try s.get("a/b/c", range: range) } throws: { ($0 as? ZarrError)?.code == .corruptData }
    }
    #expect(try s.list(prefix: "") == ["a/b/c", "a/zarr.json", "top"])
    #expect(try s.list(prefix: "a") == ["a/b/c", "a/zarr.json"])
    #expect(try s.listDirectory("").keys == ["top"] && s.listDirectory("").prefixes == ["a"])
    #expect(try s.listDirectory("a").keys == ["zarr.json"] && s.listDirectory("a").prefixes == ["b"])
    // Another prefix of the bucket does not see these keys.
    #expect(try store("other").list(prefix: "") == [])
    try s.delete("top")
    try s.delete("top")  // absent: no error
    #expect(try s.get("top") == nil)
    try s.deletePrefix("a")
    #expect(try s.list(prefix: "") == [])
    #expect(s.location?.description == "s3://store/root")
    // JSON documents are stored as such (browsers and viewers read the type).
    try s.set("x/zarr.json", Array("{}".utf8))
    #expect(try server.objects(bucket: "store", prefix: "root/x/").map(\.key) == ["root/x/zarr.json"])
  }

  @Test func keysAreEncodedByTheS3Rules() throws {
    defer { server.stop() }
    let s = try store("odd names")
    let keys = ["a b/c+d", "ü/ß~x", "pct%20/semi;colon", "q?x#y", "star*(1)", "eq=amp&"]
    for (i, k) in keys.enumerated() { try s.set(k, [UInt8(i)]) }
    for (i, k) in keys.enumerated() { #expect(try s.get(k) == [UInt8(i)], "\(k)") }
    #expect(try s.list(prefix: "") == keys.sorted())
    let stored = try server.objects(bucket: "store", prefix: "odd names/").map(\.key).sorted()
    #expect(stored == keys.map { "odd names/" + $0 }.sorted())
  }

  @Test func listsAndDeletesPastOneThousandKeys() throws {
    defer { server.stop() }
    let s = try store("many")
    let count = 1_205
    try Parallel.forEach(count, width: 16) { i in try s.set("k/\(String(format: "%05d", i))", [UInt8(i & 0xFF)]) }
    let listed = try s.list(prefix: "k")
    #expect(listed.count == count && listed.first == "k/00000" && listed.last == "k/01204")
    #expect(try s.listDirectory("k").keys.count == count)
    try server.clearStatistics()
    try s.deletePrefix("")
    #expect(try s.list(prefix: "") == [])
    // Two pages to list, two DeleteObjects batches (1,000 + 205), and the check of the prefix itself.
    let log = try server.requestLog()
    #expect(log.filter { $0.method == "POST" && $0.path.contains("delete") }.count == 2)
  }

  @Test func largeValuesGoUpInPartsInParallel() throws {
    defer { server.stop() }
    let s = try store("big") { $0.multipartThreshold = 6 << 20; $0.partSize = 5 << 20 }
    let value = (0..<(17 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) }
    try server.clearStatistics()
    try s.set("shard", value)
    #expect(try s.get("shard") == value)
    let object = try #require(try server.objects(bucket: "store", prefix: "big/").first)
    #expect(object.size == 17 << 20 && object.etag.hasSuffix("-4\""), "\(object.etag)")
    let log = try server.requestLog()
    #expect(log.filter { $0.method == "PUT" && $0.path.contains("partNumber=") }.count == 4)
    #expect(log.filter { $0.method == "POST" }.count == 2)  // start and complete
  }

  @Test func createNeverReplacesAnObject() throws {
    defer { server.stop() }
    let s = try store()
    #expect(try s.create("marker", [1]) == true)
    #expect(try s.create("marker", [2]) == false)
    #expect(try s.get("marker") == [1])
  }

  @Test func transientFailuresAreRetriedAndClientErrorsAreNot() throws {
    defer { server.stop() }
    let s = try store()
    try s.set("v", [7])
    try server.clearStatistics()
    try server.failNext(2, status: 503, code: "SlowDown")
    #expect(try s.get("v") == [7])
    #expect(try server.statistics().requests == 3)

    try server.clearStatistics()
    try server.failNext(2, status: 500, code: "InternalError")
    try s.set("w", [8])
    #expect(try server.statistics().requests == 3)

    try server.clearStatistics()
    try server.failNext(10, status: 503, code: "SlowDown")
    #expect { try s.get("v") } throws: { error in
      guard let e = error as? ZarrError, e.code == .storeFailure else { return false }
      return e.message.contains("HTTP 503") && e.message.contains("after 4 attempts") && e.key == "v"
    }
    #expect(try server.statistics().requests == 4)
    try server.failNext(0)

    try server.clearStatistics()
    try server.failNext(1, status: 403, code: "AccessDenied")
    #expect { try s.get("v") } throws: { error in
      guard let e = error as? ZarrError, e.code == .storeFailure else { return false }
      return e.message.contains("AccessDenied") && e.message.contains("s3://store/root/v")
        && e.message.contains("credentials: the test") && !e.message.contains(server.secretAccessKey)
    }
    #expect(try server.statistics().requests == 1)
  }

  @Test func aServerThatIsGoneIsAClearErrorAndComingBackWorks() throws {
    defer { server.stop() }
    let s = try store { $0.maxAttempts = 2 }
    try s.set("v", [7])
    try server.goDown()
    #expect { try s.get("v") } throws: { error in
      guard let e = error as? ZarrError, e.code == .storeFailure else { return false }
      return e.message.contains("s3") || e.message.contains("127.0.0.1")
    }
    try server.comeUp()
    #expect(try s.get("v") == [7])
  }

  @Test func aMissingBucketIsNamed() throws {
    defer { server.stop() }
    let s = try S3Store(bucket: "no-such-bucket", prefix: "x", configuration: configuration)
    for op in [{ _ = try s.get("zarr.json") }, { _ = try s.size(of: "zarr.json") }, { _ = try s.list(prefix: "") }] as [() throws -> Void] {
      #expect { try op() } throws: { error in
        guard let e = error as? ZarrError, e.code == .storeFailure else { return false }
        return e.message.contains("the bucket 'no-such-bucket' does not exist")
      }
    }
  }

  @Test func wrongCredentialsAreRefusedAndNamedWithoutTheSecret() throws {
    defer { server.stop() }
    try store().set("v", [1])
    let cases: [(S3Credentials?, String, String)] = [
      (S3Credentials(accessKeyID: server.accessKeyID, secretAccessKey: "not-the-secret"), "SignatureDoesNotMatch", "profile 'lab'"),
      (S3Credentials(accessKeyID: "AKIANOSUCHKEY0000000", secretAccessKey: "x"), "InvalidAccessKeyId", "profile 'lab'"),
    ]
    for (credentials, code, source) in cases {
      var c = configuration
      c.credentials = credentials
      c.credentialSource = source
      let s = try S3Store(bucket: "store", prefix: "root", configuration: c)
      try server.clearStatistics()
      for op in [{ _ = try s.get("v") }, { try s.set("w", [2]) }, { _ = try s.list(prefix: "") }] as [() throws -> Void] {
        #expect { try op() } throws: { error in
          guard let e = error as? ZarrError, e.code == .storeFailure else { return false }
          return e.message.contains("HTTP 403") && e.message.contains(code) && e.message.contains("credentials: \(source)")
            && !e.message.contains("not-the-secret")
        }
      }
      // Refusals are not retried.
      #expect(try server.statistics().requests == 3)
    }
    // Unsigned requests to a private bucket: moto refuses a GET or HEAD without a body (and answers
    // anonymous writes and listings with 500, a moto quirk): the status and the source say it.
    var c = configuration
    c.credentials = nil
    c.credentialSource = "anonymous (--anon)"
    let anonymous = try S3Store(bucket: "store", prefix: "root", configuration: c)
    for op in [{ _ = try anonymous.get("v") }, { _ = try anonymous.size(of: "v") }] as [() throws -> Void] {
      #expect { try op() } throws: { error in
        (error as? ZarrError)?.message.contains("HTTP 403 (access denied); credentials: anonymous (--anon)") == true
      }
    }
  }

  @Test func shardedArraysReadWithManyRequestsInFlight() throws {
    defer { server.stop() }
    let s = try store("array") { $0.ioConcurrency = 16 }
    let meta = ArrayMetadata.sharded(shape: [64, 256, 256], dataType: .uint16, shardShape: [64, 128, 128], innerChunkShape: [32, 64, 64])
    let array = try ZarrArray.create(in: s, path: "a", metadata: meta)
    let values = (0..<(64 * 256 * 256)).map { UInt16(truncatingIfNeeded: $0 &* 31) }
    try array.write(values, region: [0..<64, 0..<256, 0..<256])
    try server.clearStatistics()
    let reopened = try ZarrArray.open(in: s, path: "a")
    #expect(try reopened.read([0..<64, 0..<256, 0..<256], as: UInt16.self) == values)
    // The metadata, then each of the 4 shards whole with one GET (no index requests), at once.
    let whole = try server.statistics()
    #expect(whole.requests == 5 && whole.byMethod["GET"] == 5, "\(whole)")
    #expect(s.peakRequestsInFlight >= 4, "\(s.peakRequestsInFlight)")
    #expect(try reopened.read([3..<40, 100..<200, 7..<250], as: UInt16.self)
      == cOrderRegion(values, shape: [64, 256, 256], [3..<40, 100..<200, 7..<250]))
    // A partial read: the cached indexes (from the whole reads) and merged chunk ranges only.
  }
}
