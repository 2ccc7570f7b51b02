import Foundation
import Testing
import ZarrIO
import TestSupport

/// One array ZarrIO writes for the peers to read.
struct WriteCase {
  var name: String
  var metadata: ArrayMetadata
  /// Only this region is written (the rest stays the fill value); `nil` writes everything.
  var region: [Range<Int>]? = nil
  var tensorstore = true
  /// zarr-python may warn (e.g. about a layout that disables its partial reads).
  var allowWarnings = false
}

enum WriteMatrix {
  static func cases() -> [WriteCase] {
    var out: [WriteCase] = []
    let shape2 = [19, 27], chunk2 = [8, 10]
    for t in DataType.allCore {
      let e: Endian? = t.hasEndianness ? .little : nil
      let be: Endian? = t.hasEndianness ? .big : nil
      out.append(WriteCase(name: "sw_\(t)_zstd", metadata: ArrayMetadata(
        shape: shape2, dataType: t, chunkShape: chunk2, codecs: [Codecs.bytes(endian: e), Codecs.zstd(level: 1)])))
      out.append(WriteCase(name: "sw_\(t)_big_gzip", metadata: ArrayMetadata(
        shape: shape2, dataType: t, chunkShape: chunk2, codecs: [Codecs.bytes(endian: be), Codecs.gzip(level: 5)])))
      out.append(WriteCase(name: "sw_\(t)_crc32c", metadata: ArrayMetadata(
        shape: shape2, dataType: t, chunkShape: chunk2, codecs: [Codecs.bytes(endian: e), Codecs.crc32c()])))
      out.append(WriteCase(name: "sw2_\(t)_zlib", metadata: ArrayMetadata(
        shape: shape2, dataType: t, chunkShape: chunk2,
        codecs: [Codecs.bytes(endian: e), NamedConfiguration(name: "zlib", configuration: ["level": 3])],
        chunkKeyEncoding: .v2(separator: .dot), zarrFormat: .v2)))
    }
    let vol = [13, 17, 21], vchunk = [5, 8, 8]
    for cname in ["lz4", "lz4hc", "blosclz", "zstd", "zlib"] {
      for shuffle in [BloscCodec.Shuffle.noshuffle, .shuffle, .bitshuffle] {
        out.append(WriteCase(name: "sw_blosc_\(cname)_\(shuffle.rawValue)", metadata: ArrayMetadata(
          shape: vol, dataType: .uint16, chunkShape: vchunk,
          codecs: [Codecs.bytes(), Codecs.blosc(cname: cname, clevel: 5, shuffle: shuffle, typesize: 2)])))
      }
    }
    out.append(WriteCase(name: "sw_blosc_float64_typesize8", metadata: ArrayMetadata(
      shape: vol, dataType: .float64, chunkShape: vchunk,
      codecs: [Codecs.bytes(), Codecs.blosc(cname: "lz4", clevel: 9, shuffle: .shuffle, typesize: 8)])))
    out.append(WriteCase(name: "sw_transpose", metadata: ArrayMetadata(
      shape: vol, dataType: .int32, chunkShape: vchunk,
      codecs: [Codecs.transpose(order: [2, 0, 1]), Codecs.bytes(), Codecs.zstd(level: 2)])))
    out.append(WriteCase(name: "sw_transpose_blosc_crc", metadata: ArrayMetadata(
      shape: vol, dataType: .float32, chunkShape: vchunk,
      codecs: [Codecs.transpose(order: [1, 2, 0]), Codecs.bytes(endian: .big),
        Codecs.blosc(cname: "zstd", clevel: 3, shuffle: .bitshuffle, typesize: 4), Codecs.crc32c()])))
    out.append(WriteCase(name: "sw_zstd_checksum_level_neg", metadata: ArrayMetadata(
      shape: vol, dataType: .uint16, chunkShape: vchunk, codecs: [Codecs.bytes(), Codecs.zstd(level: -3, checksum: true)])))
    out.append(WriteCase(name: "sw_zstd_level19", metadata: ArrayMetadata(
      shape: vol, dataType: .uint16, chunkShape: vchunk, codecs: [Codecs.bytes(), Codecs.zstd(level: 19)])))
    out.append(WriteCase(name: "sw_dot_separator", metadata: ArrayMetadata(
      shape: vol, dataType: .uint16, chunkShape: vchunk, chunkKeyEncoding: .default(separator: .dot))))
    out.append(WriteCase(name: "sw_v2_keys_dot", metadata: ArrayMetadata(
      shape: vol, dataType: .uint16, chunkShape: vchunk, chunkKeyEncoding: .v2(separator: .dot))))
    out.append(WriteCase(name: "sw_v2_keys_slash", metadata: ArrayMetadata(
      shape: vol, dataType: .uint16, chunkShape: vchunk, chunkKeyEncoding: .v2(separator: .slash))))
    out.append(WriteCase(name: "sw_dimension_names", metadata: ArrayMetadata(
      shape: vol, dataType: .uint8, chunkShape: vchunk, dimensionNames: ["z", nil, "x"])))
    // Fill values, with sparse writes so that missing chunks must read as the fill value.
    let sparse: [Range<Int>] = [3..<11, 20..<33]
    out.append(WriteCase(name: "sw_sparse_nan", metadata: ArrayMetadata(
      shape: [40, 50], dataType: .float32, chunkShape: [8, 10], fillValue: FillValue(Float.nan)), region: sparse))
    out.append(WriteCase(name: "sw_sparse_int16_42", metadata: ArrayMetadata(
      shape: [40, 50], dataType: .int16, chunkShape: [8, 10], fillValue: FillValue(Int16(42))), region: sparse))
    out.append(WriteCase(name: "sw_sparse_uint64_max", metadata: ArrayMetadata(
      shape: [40, 50], dataType: .uint64, chunkShape: [8, 10], fillValue: FillValue(UInt64.max)), region: sparse))
    out.append(WriteCase(name: "sw_sparse_int64_min", metadata: ArrayMetadata(
      shape: [40, 50], dataType: .int64, chunkShape: [8, 10], fillValue: FillValue(Int64.min)), region: sparse))
    out.append(WriteCase(name: "sw_sparse_float64_neg_inf", metadata: ArrayMetadata(
      shape: [40, 50], dataType: .float64, chunkShape: [8, 10], fillValue: FillValue(-Double.infinity)), region: sparse))
    out.append(WriteCase(name: "sw_sparse_float16_nan", metadata: ArrayMetadata(
      shape: [40, 50], dataType: .float16, chunkShape: [8, 10], fillValue: FillValue(bytes: [0x00, 0x7E])), region: sparse))
    out.append(WriteCase(name: "sw_sparse_complex", metadata: ArrayMetadata(
      shape: [40, 50], dataType: .complex128, chunkShape: [8, 10],
      fillValue: FillValue(bytes: FillValue(Double.nan).bytes + FillValue(1.5).bytes)), region: sparse))
    out.append(WriteCase(name: "sw_sparse_bool_true", metadata: ArrayMetadata(
      shape: [40, 50], dataType: .bool, chunkShape: [8, 10], fillValue: FillValue(bytes: [1])), region: sparse))
    out.append(WriteCase(name: "sw_zero_d", metadata: ArrayMetadata(shape: [], dataType: .float64, chunkShape: [])))
    out.append(WriteCase(name: "sw_1d_one_chunk", metadata: ArrayMetadata(shape: [5], dataType: .int8, chunkShape: [100])))
    // Sharding: index at the end and start, with and without crc32c, nested, ragged last shards,
    // partly empty shards, blosc and transpose inside shards.
    let svol = [13, 22, 14], sshard = [8, 10, 6]
    out.append(WriteCase(name: "sw_shard_end_crc", metadata: ArrayMetadata(shape: svol, dataType: .int32, chunkShape: sshard,
      codecs: [Codecs.sharding(innerChunkShape: [4, 5, 3])])))
    out.append(WriteCase(name: "sw_shard_start_nocrc", metadata: ArrayMetadata(shape: svol, dataType: .int32, chunkShape: sshard,
      codecs: [Codecs.sharding(innerChunkShape: [4, 5, 3], codecs: [Codecs.bytes(endian: .big), Codecs.gzip(level: 2)],
        indexCodecs: [Codecs.bytes()], indexLocation: .start)])))
    out.append(WriteCase(name: "sw_shard_start_crc", metadata: ArrayMetadata(shape: svol, dataType: .float64, chunkShape: sshard,
      codecs: [Codecs.sharding(innerChunkShape: [2, 5, 6], indexLocation: .start)])))
    out.append(WriteCase(name: "sw_shard_nested", metadata: ArrayMetadata(shape: svol, dataType: .uint16, chunkShape: sshard,
      codecs: [Codecs.sharding(innerChunkShape: [4, 10, 6], codecs: [Codecs.sharding(innerChunkShape: [2, 5, 3],
        codecs: [Codecs.bytes(), Codecs.blosc(cname: "zstd", clevel: 3, shuffle: .shuffle, typesize: 2)])])])))
    out.append(WriteCase(name: "sw_shard_transpose_blosc", metadata: ArrayMetadata(shape: svol, dataType: .float32, chunkShape: sshard,
      codecs: [Codecs.sharding(innerChunkShape: [4, 5, 3], codecs: [Codecs.transpose(order: [2, 0, 1]), Codecs.bytes(),
        Codecs.blosc(cname: "lz4", clevel: 5, shuffle: .bitshuffle, typesize: 4), Codecs.crc32c()])])))
    out.append(WriteCase(name: "sw_shard_partly_empty", metadata: ArrayMetadata.sharded(shape: [40, 50], dataType: .uint16,
      shardShape: [16, 20], innerChunkShape: [4, 5], fillValue: FillValue(UInt16(9))), region: [5..<9, 12..<30]))
    out.append(WriteCase(name: "sw_shard_defaults_3d", metadata: ArrayMetadata.sharded(shape: [70, 130, 90], dataType: .uint8)))
    out.append(WriteCase(name: "sw_shard_crc_outside", metadata: ArrayMetadata(shape: svol, dataType: .int32, chunkShape: sshard,
      codecs: [Codecs.sharding(innerChunkShape: [4, 5, 3]), Codecs.crc32c()]), tensorstore: false, allowWarnings: true))
    // Zarr v2: each compressor, order F, big-endian, null fill, "/" separator.
    let v2Compressors: [(String, NamedConfiguration?)] = [
      ("blosc", Codecs.blosc(cname: "lz4", clevel: 5, shuffle: .shuffle, typesize: 2)),
      ("blosc_bitshuffle_zstd", Codecs.blosc(cname: "zstd", clevel: 3, shuffle: .bitshuffle, typesize: 2)),
      ("blosc_noshuffle_blosclz", Codecs.blosc(cname: "blosclz", clevel: 5, shuffle: .noshuffle, typesize: 2)),
      ("gzip", Codecs.gzip(level: 6)), ("zstd", Codecs.zstd(level: 3)),
      ("zlib", NamedConfiguration(name: "zlib", configuration: ["level": 1])), ("none", nil),
    ]
    for (name, comp) in v2Compressors {
      out.append(WriteCase(name: "sw2_\(name)", metadata: ArrayMetadata(
        shape: vol, dataType: .uint16, chunkShape: vchunk, codecs: [Codecs.bytes()] + (comp.map { [$0] } ?? []),
        chunkKeyEncoding: .v2(separator: .dot), zarrFormat: .v2)))
    }
    out.append(WriteCase(name: "sw2_order_F_big_endian", metadata: ArrayMetadata(
      shape: vol, dataType: .int32, chunkShape: vchunk,
      codecs: [Codecs.transpose(order: [2, 1, 0]), Codecs.bytes(endian: .big), Codecs.zstd(level: 1)],
      chunkKeyEncoding: .v2(separator: .slash), zarrFormat: .v2)))
    var nullFill = ArrayMetadata(shape: vol, dataType: .float32, chunkShape: vchunk, codecs: [Codecs.bytes(), Codecs.gzip(level: 1)],
      chunkKeyEncoding: .v2(separator: .dot), zarrFormat: .v2)
    nullFill.v2FillValueIsNull = true
    out.append(WriteCase(name: "sw2_fill_null", metadata: nullFill))
    out.append(WriteCase(name: "sw2_sparse_nan", metadata: ArrayMetadata(
      shape: [40, 50], dataType: .float64, chunkShape: [8, 10], fillValue: FillValue(Double.nan),
      codecs: [Codecs.bytes(), Codecs.zstd(level: 1)], chunkKeyEncoding: .v2(separator: .dot), zarrFormat: .v2), region: sparse))
    return out
  }
}

@Suite("Interoperability with zarr-python and TensorStore", .serialized)
struct InteropTests {
  @Test("zarr-python and TensorStore read what ZarrIO writes, bit for bit")
  func peersReadOurArrays() throws {
    let dir = try PythonPeers.temporaryDirectory("ours")
    defer { try? FileManager.default.removeItem(at: dir) }
    var manifest: [JSONValue] = []
    let cases = WriteMatrix.cases()
    for (i, c) in cases.enumerated() {
      let store = try FilesystemStore(root: dir.appendingPathComponent(c.name + ".zarr").path, create: true)
      let array = try ZarrArray.create(in: store, path: "", metadata: c.metadata)
      let m = c.metadata
      var expected = ArrayBuffer(shape: m.shape, dataType: m.dataType, fill: m.fillValue)
      let region = c.region ?? array.fullRegion
      let data = try ArrayBuffer(shape: region.map(\.count), dataType: m.dataType,
        bytes: TestData.elements(m.dataType, count: region.map(\.count).reduce(1, *), seed: UInt64(i)))
      try array.write(data, at: region.map(\.lowerBound))
      // Build the expected full array through an independent in-memory array.
      let mem = try ZarrArray.create(in: MemoryStore(), path: "", metadata: ArrayMetadata(
        shape: m.shape, dataType: m.dataType, chunkShape: m.shape.map { max($0, 1) }, fillValue: m.fillValue,
        codecs: [Codecs.bytes(endian: m.dataType.hasEndianness ? .little : nil)]))
      try mem.write(data, at: region.map(\.lowerBound))
      expected = try mem.read()
      try Data(TestData.littleEndian(expected.bytes, m.dataType)).write(to: dir.appendingPathComponent(c.name + ".bin"))
      manifest.append([
        "name": .string(c.name), "path": .string(c.name + ".zarr"), "dtype": .string(TestData.numpyDtype(m.dataType)),
        "shape": .array(m.shape.map { .int(Int64($0)) }), "zarr_format": .int(Int64(m.zarrFormat.rawValue)),
        "tensorstore": .bool(c.tensorstore), "allow_warnings": .bool(c.allowWarnings),
      ])
    }
    try Data(JSONValue.array(manifest).serializedBytes()).write(to: dir.appendingPathComponent("manifest.json"))

    let report = try JSONValue.parse([UInt8](PythonPeers.run(["read", dir.path])))
    var checked = 0
    for c in cases {
      guard let result = report[c.name]?.objectValue else {
        Issue.record("no peer result for \(c.name)")
        continue
      }
      for (peer, outcome) in result {
        checked += 1
        #expect(outcome == "ok", "\(peer) reading \(c.name): \(outcome.stringValue ?? "?")")
      }
    }
    #expect(checked >= cases.count * 2 - cases.filter { !$0.tensorstore }.count)
  }

  @Test("ZarrIO reads what zarr-python and TensorStore write, bit for bit, from disk and over HTTP")
  func weReadPeerArrays() throws {
    let dir = try PythonPeers.temporaryDirectory("peers")
    defer { try? FileManager.default.removeItem(at: dir) }
    _ = try PythonPeers.run(["write", dir.path])
    let manifest = try JSONValue.parse([UInt8](Data(contentsOf: dir.appendingPathComponent("manifest.json"))))
    let cases = manifest.arrayValue ?? []
    #expect(cases.count > 100)
    for c in cases {
      let name = c["name"]?.stringValue ?? "?"
      do {
        let store = try FilesystemStore(root: dir.appendingPathComponent(c["path"]?.stringValue ?? "").path)
        let array = try ZarrArray.open(in: store)
        let got = try array.read()
        let want = [UInt8](try Data(contentsOf: dir.appendingPathComponent(name + ".bin")))
        #expect(got.shape == (c["shape"]?.arrayValue ?? []).compactMap(\.intValue), "\(name): shape")
        #expect(TestData.littleEndian(got.bytes, got.dataType) == want, "\(name) (\(c["writer"]?.stringValue ?? "")): values differ")
        #expect(got.dataType.name == c["data_type"]?.stringValue || (got.dataType == .bool && c["data_type"] == "bool"), "\(name): data type")
      } catch {
        Issue.record("\(name): \(error)")
      }
    }
    // The same arrays over HTTP (byte ranges for shard indexes and inner chunks), bit for bit.
    let server = try HTTPServer(serving: dir)
    defer { server.stop() }
    var overHTTP = 0
    for c in cases {
      let name = c["name"]?.stringValue ?? "?"
      do {
        let array = try ZarrArray.open(in: try HTTPStore(url: server.url + "/" + (c["path"]?.stringValue ?? "")))
        let got = try array.read()
        let want = [UInt8](try Data(contentsOf: dir.appendingPathComponent(name + ".bin")))
        #expect(TestData.littleEndian(got.bytes, got.dataType) == want, "\(name) over HTTP: values differ")
        overHTTP += 1
      } catch {
        Issue.record("\(name) over HTTP: \(error)")
      }
    }
    #expect(overHTTP == cases.count)
    // Consolidated metadata, v3 inline and v2 .zmetadata.
    for fmt in [3, 2] {
      let store = try FilesystemStore(root: dir.appendingPathComponent("consolidated_v\(fmt).zarr").path)
      let group = try ZarrGroup.open(in: store)
      let nodes = try #require(group.metadata.consolidated?.nodes, "v\(fmt) consolidated metadata missing")
      #expect(Set(nodes.keys) == ["sub", "sub/arr", "top"], "v\(fmt) consolidated nodes")
      guard case .array(let arr)? = nodes["sub/arr"] else {
        Issue.record("v\(fmt): sub/arr is not an array")
        continue
      }
      #expect(arr.shape == [4, 4] && arr.dataType == .int16)
      #expect(group.attributes["answer"] == .int(42))
    }
  }
}
