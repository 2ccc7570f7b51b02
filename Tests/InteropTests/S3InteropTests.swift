import Foundation
import OMEZarr
import Testing
import TestSupport
import ZarrIO

/// Interoperability in a bucket, bit for bit: TensorStore (its `s3` kvstore) and zarr-python (obstore
/// and s3fs) read what we write there, and we read what they write; ome-zarr-models validates our
/// images through zarr-python against the bucket. The server checks every signature (moto with IAM).
@Suite("S3 interoperability with TensorStore and zarr-python", .serialized)
struct S3InteropTests {
  let server: S3TestServer
  let configuration: S3Configuration

  init() throws {
    server = try S3TestServer(authenticated: true)
    try server.createBucket("interop")
    configuration = server.configuration()
  }

  func store(_ prefix: String) throws -> S3Store { try S3Store(bucket: "interop", prefix: prefix, configuration: configuration) }

  /// The peers' known array (uint16 0, 1, 2, ... wrapped, shape 37 x 70 x 65).
  static var known: [UInt16] { (0..<(37 * 70 * 65)).map { UInt16(truncatingIfNeeded: $0) } }

  /// The layouts both sides write: Zarr v3 sharded and unsharded, Zarr v2.
  enum Layout: String, CaseIterable, Sendable {
    case v3Sharded = "v3-sharded", v3Unsharded = "v3-unsharded", v2

    var peerArguments: [String] {
      switch self {
      case .v3Sharded: ["--zarr-format", "3", "--sharded"]
      case .v3Unsharded: ["--zarr-format", "3", "--unsharded"]
      case .v2: ["--zarr-format", "2"]
      }
    }

    var metadata: ArrayMetadata {
      let shape = [37, 70, 65]
      switch self {
      case .v3Sharded:
        return .sharded(shape: shape, dataType: .uint16, shardShape: [32, 64, 64], innerChunkShape: [16, 32, 32])
      case .v3Unsharded:
        return ArrayMetadata(shape: shape, dataType: .uint16, chunkShape: [16, 32, 32], codecs: [Codecs.bytes(), Codecs.zstd(level: 1)])
      case .v2:
        return ArrayMetadata(shape: shape, dataType: .uint16, chunkShape: [16, 32, 32], codecs: [Codecs.bytes(endian: .little), Codecs.zstd(level: 1)],
          chunkKeyEncoding: .v2(separator: .dot), zarrFormat: .v2)
      }
    }
  }

  @Test(arguments: Layout.allCases)
  func peersReadWhatWeWriteAndWeReadWhatTheyWrite(_ layout: Layout) throws {
    defer { server.stop() }
    // Ours -> TensorStore, zarr-python with obstore, zarr-python with s3fs.
    let ours = "ours-\(layout.rawValue)"
    let array = try ZarrArray.create(in: try store(ours), path: "", metadata: layout.metadata)
    try array.write(Self.known, region: array.fullRegion)
    for reader in [["read-tensorstore"], ["read-zarr", "--store", "obstore"], ["read-zarr", "--store", "s3fs"]] {
      let r = try S3Peers.json(reader + [server.endpoint, "interop", ours], server: server)
      #expect(r["sha256"] as? String == S3PeerServerTests.knownSHA256, "\(reader): \(r)")
      #expect(r["shape"] as? [Int] == [37, 70, 65], "\(reader): \(r)")
    }
    // TensorStore and zarr-python -> ours.
    for writer in ["write-tensorstore", "write-zarr"] {
      let prefix = "\(writer)-\(layout.rawValue)"
      _ = try S3Peers.run([writer, server.endpoint, "interop", prefix] + layout.peerArguments, server: server)
      let theirs = try ZarrArray.open(in: try store(prefix))
      #expect(theirs.metadata.zarrFormat == (layout == .v2 ? .v2 : .v3))
      #expect(try theirs.read(as: UInt16.self) == Self.known, "\(writer) \(layout)")
      #expect(try theirs.read([5..<30, 7..<61, 3..<64], as: UInt16.self)
        == cOrderRegion(Self.known, shape: [37, 70, 65], [5..<30, 7..<61, 3..<64]))
    }
  }

  @Test(arguments: [NGFFVersion.latest05, .latest04])
  func omeZarrModelsValidatesOurImagesInTheBucket(_ version: NGFFVersion) throws {
    defer { server.stop() }
    let prefix = "image-\(version.description)"
    var options = ImageOptions(axes: [.channel(), .space("z"), .space("y"), .space("x")], scale: [1, 1.5, 0.4, 0.4], version: version)
    options.chunkShape = [1, 8, 32, 32]
    let values = (0..<(2 * 12 * 90 * 70)).map { UInt16(truncatingIfNeeded: $0 &* 31 % 4099) }
    _ = try ImageWriter.write(try ArrayBuffer(shape: [2, 12, 90, 70], dataType: .uint16, elements: values), to: try store(prefix), options: options)
    let r = try S3Peers.json(["validate-ome", server.endpoint, "interop", prefix], server: server)
    #expect(r["valid"] as? Bool == true, "\(r)")
    let level0 = try S3Peers.json(["read-zarr", server.endpoint, "interop", prefix + "/0"], server: server)
    #expect(level0["shape"] as? [Int] == [2, 12, 90, 70], "\(level0)")
  }
}
