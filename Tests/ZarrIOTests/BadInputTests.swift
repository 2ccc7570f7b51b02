import Testing
@testable import ZarrIO

/// Bad stored data must give a typed error naming the key: never a crash, never wrong data.
@Suite("Bad input")
struct BadInputTests {
  func array(_ codecs: [NamedConfiguration]) throws -> (MemoryStore, ZarrArray) {
    let store = MemoryStore()
    let a = try ZarrArray.create(in: store, path: "img", metadata: ArrayMetadata(
      shape: [8, 8], dataType: .uint16, chunkShape: [4, 4], codecs: codecs))
    try a.write((0..<64).map { UInt16($0 + 1) }, region: a.fullRegion)
    return (store, a)
  }

  func expectError(_ a: ZarrArray, key: String, code: ZarrError.Code, _ comment: Comment? = nil) {
    do {
      _ = try a.read()
      Issue.record("read succeeded")
    } catch let e as ZarrError {
      #expect(e.code == code, comment)
      #expect(e.key == key, comment)
    } catch {
      Issue.record("untyped error \(error)")
    }
  }

  @Test func truncatedChunk() throws {
    let (store, a) = try array([Codecs.bytes(), Codecs.zstd(level: 1)])
    try store.set("img/c/1/0", Array(try store.get("img/c/1/0")!.dropLast(3)))
    expectError(a, key: "img/c/1/0", code: .corruptData)
  }

  @Test func wrongChecksum() throws {
    let (store, a) = try array([Codecs.bytes(), Codecs.crc32c()])
    var bytes = try store.get("img/c/0/1")!
    bytes[3] ^= 0x40
    try store.set("img/c/0/1", bytes)
    expectError(a, key: "img/c/0/1", code: .corruptData)
  }

  @Test func chunkOfTheWrongSize() throws {
    let (store, a) = try array([Codecs.bytes()])
    try store.set("img/c/1/1", [UInt8](repeating: 0, count: 30))
    expectError(a, key: "img/c/1/1", code: .corruptData)
    let (store2, b) = try array([Codecs.bytes(), Codecs.gzip(level: 1)])
    try store2.set("img/c/0/0", try GzipCodec(level: 1).encode([UInt8](repeating: 1, count: 34)))
    expectError(b, key: "img/c/0/0", code: .corruptData)
  }

  @Test func invalidMetadataJSON() throws {
    let (store, _) = try array([Codecs.bytes()])
    try store.set("img/zarr.json", Array(#"{"zarr_format": 3, "node_type": "array", "#.utf8))
    do {
      _ = try ZarrArray.open(in: store, path: "img")
      Issue.record("opened invalid JSON")
    } catch let e as ZarrError {
      #expect(e.code == .invalidJSON)
      #expect(e.key == "img/zarr.json")
    }
  }

  @Test func unknownCodecAndBadFillValue() throws {
    let store = MemoryStore()
    let bad = """
      {"zarr_format": 3, "node_type": "array", "shape": [4], "data_type": "uint8",
       "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [2]}},
       "chunk_key_encoding": {"name": "default"}, "fill_value": 256, "codecs": [{"name": "bytes"}]}
      """
    try store.set("a/zarr.json", Array(bad.utf8))
    do {
      _ = try ZarrArray.open(in: store, path: "a")
      Issue.record("fill value 256 accepted for uint8")
    } catch let e as ZarrError {
      #expect(e.code == .invalidMetadata && e.key == "a/zarr.json" && e.pointer == "/fill_value")
    }
    try store.set("b/zarr.json", Array(bad.replacingAll("256", with: "0").replacingAll(#"{"name": "bytes"}"#, with: #"{"name": "bytes"}, {"name": "snappy"}"#).utf8))
    do {
      _ = try ZarrArray.open(in: store, path: "b")
      Issue.record("unknown codec accepted")
    } catch let e as ZarrError {
      #expect(e.code == .unsupported && e.key == "b/zarr.json" && e.pointer == "/codecs/1/name")
    }
  }

  @Test func missingNode() throws {
    do {
      _ = try ZarrNode.open(in: MemoryStore(), path: "nothing/here")
      Issue.record("opened a missing node")
    } catch let e as ZarrError {
      #expect(e.code == .notFound)
    }
  }

  @Test func hugeChunkShapeIsRejected() throws {
    #expect(throws: ZarrError.self) {
      try ZarrArray(store: MemoryStore(), path: "", metadata: ArrayMetadata(
        shape: [1 << 30, 1 << 30], dataType: .float64, chunkShape: [1 << 30, 1 << 30]))
    }
  }
}
