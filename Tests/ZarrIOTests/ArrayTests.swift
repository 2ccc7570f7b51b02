import Foundation
import Testing
import TestSupport
@testable import ZarrIO

/// Stores the array tests run against.
enum StoreKind: String, CaseIterable, Sendable {
  case memory, filesystem

  func make() throws -> any Store {
    switch self {
    case .memory: return MemoryStore()
    case .filesystem:
      let dir = try makeTemporaryDirectory("zarrio").path
      return try FilesystemStore(root: dir, create: true)
    }
  }
}

@Suite("Arrays")
struct ArrayTests {
  func ramp(_ n: Int) -> [Int32] { (0..<n).map { Int32($0) } }

  @Test(arguments: StoreKind.allCases)
  func readsAndWritesRegionsWithRaggedEdges(_ kind: StoreKind) throws {
    let store = try kind.make()
    let meta = ArrayMetadata(shape: [13, 17, 9], dataType: .int32, chunkShape: [4, 5, 3], fillValue: FillValue(Int32(-1)))
    let a = try ZarrArray.create(in: store, path: "vol", metadata: meta)
    let all = ramp(13 * 17 * 9)
    try a.write(all, region: a.fullRegion)
    #expect(try a.read(as: Int32.self) == all)
    // A region crossing chunk borders.
    let r: [Range<Int>] = [3..<11, 2..<16, 1..<9]
    var want: [Int32] = []
    for z in r[0] { for y in r[1] { for x in r[2] { want.append(Int32((z * 17 + y) * 9 + x)) } } }
    #expect(try a.read(r, as: Int32.self) == want)
    // Partial overwrite: read-modify-write of partly covered chunks.
    try a.write([Int32](repeating: 7, count: 2 * 3 * 4), region: [1..<3, 4..<7, 2..<6])
    let back = try a.read(as: Int32.self)
    for z in 0..<13 {
      for y in 0..<17 {
        for x in 0..<9 {
          let inside = (1..<3).contains(z) && (4..<7).contains(y) && (2..<6).contains(x)
          let i = (z * 17 + y) * 9 + x
          #expect(back[i] == (inside ? 7 : Int32(i)))
        }
      }
    }
  }

  @Test func missingChunksReadAsTheFillValueAndEmptyChunksAreNotStored() throws {
    let store = MemoryStore()
    let meta = ArrayMetadata(shape: [20, 20], dataType: .float32, chunkShape: [10, 10], fillValue: FillValue(Float.nan))
    let a = try ZarrArray.create(in: store, path: "", metadata: meta)
    try a.write([Float](repeating: 1, count: 4), region: [0..<2, 0..<2])
    #expect(store.snapshot.keys.filter { $0.hasPrefix("c/") }.sorted() == ["c/0/0"])
    let v = try a.read(as: Float.self)
    #expect(v[0] == 1 && v[21] == 1 && v[2].isNaN && v[399].isNaN)
    // Writing the fill value over a whole chunk deletes it.
    try a.erase([0..<10, 0..<10])
    #expect(store.snapshot.keys.filter { $0.hasPrefix("c/") }.isEmpty)
    // Unless empty chunks are kept.
    var keep = a
    keep.writeEmptyChunks = true
    try keep.erase([0..<10, 10..<20])
    #expect(store.snapshot.keys.filter { $0.hasPrefix("c/") } == ["c/0/1"])
  }

  @Test func edgeChunksArePaddedWithTheFillValue() throws {
    let store = MemoryStore()
    let meta = ArrayMetadata(shape: [5], dataType: .uint8, chunkShape: [4], fillValue: FillValue(UInt8(9)), codecs: [Codecs.bytes(endian: nil)])
    let a = try ZarrArray.create(in: store, path: "", metadata: meta)
    try a.write([UInt8]([1, 2, 3, 4, 5]), region: [0..<5])
    #expect(try store.get("c/1") == [5, 9, 9, 9])
  }

  @Test func zeroDimensionalArrays() throws {
    let store = MemoryStore()
    let a = try ZarrArray.create(in: store, path: "s", metadata: ArrayMetadata(shape: [], dataType: .float64, chunkShape: []))
    #expect(try a.read(as: Double.self) == [0])
    try a.write([2.5], region: [])
    #expect(try a.read(as: Double.self) == [2.5])
    #expect(try store.exists("s/c"))
  }

  @Test func everyDataTypeRoundTrips() throws {
    for t in DataType.allCore {
      let a = try ZarrArray.create(in: MemoryStore(), path: "", metadata: ArrayMetadata(shape: [7, 3], dataType: t, chunkShape: [2, 2]))
      let bytes = (0..<(21 * t.size)).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 1) & (t == .bool ? 1 : 0xFF) }
      try a.write(ArrayBuffer(shape: [7, 3], dataType: t, bytes: bytes))
      #expect(try a.read().bytes == bytes, "\(t)")
    }
  }

  @Test func concurrentPartialWritesToOneChunkLoseNothing() async throws {
    let store = MemoryStore()
    let a = try ZarrArray.create(in: store, path: "", metadata: ArrayMetadata(shape: [64, 64], dataType: .uint16, chunkShape: [64, 64]))
    // 64 tasks each write one row of the single chunk.
    try await withThrowingTaskGroup(of: Void.self) { group in
      for row in 0..<64 {
        group.addTask {
          try a.write([UInt16](repeating: UInt16(row + 1), count: 64), region: [row..<(row + 1), 0..<64])
        }
      }
      try await group.waitForAll()
    }
    let v = try a.read(as: UInt16.self)
    for row in 0..<64 { #expect(v[row * 64..<(row + 1) * 64].allSatisfy { $0 == UInt16(row + 1) }, "row \(row)") }
  }

  @Test func rejectsRegionsOutsideTheArray() throws {
    let a = try ZarrArray.create(in: MemoryStore(), path: "", metadata: ArrayMetadata(shape: [4, 4], dataType: .int8, chunkShape: [2, 2]))
    #expect(throws: ZarrError.self) { try a.read([0..<5, 0..<4]) }
    #expect(throws: ZarrError.self) { try a.read([0..<4]) }
    #expect(throws: ZarrError.self) { try a.write([Int8](repeating: 0, count: 3), region: [0..<2, 0..<2]) }
    #expect(throws: ZarrError.self) { try a.read([0..<1, 0..<1], as: Int16.self) }
  }

  @Test func v2ArraysWriteV2Documents() throws {
    let store = MemoryStore()
    let meta = ArrayMetadata(shape: [6, 6], dataType: .uint16, chunkShape: [4, 4],
      codecs: [Codecs.transpose(order: [1, 0]), Codecs.bytes(endian: .big), Codecs.blosc(cname: "lz4", typesize: 2)],
      chunkKeyEncoding: .v2(separator: .dot), attributes: ["a": 1], zarrFormat: .v2)
    let a = try ZarrArray.create(in: store, path: "g/arr", metadata: meta)
    try a.write((0..<36).map { UInt16($0) }, region: a.fullRegion)
    #expect(try store.exists("g/arr/.zarray") && store.exists("g/arr/.zattrs") && store.exists("g/.zgroup") && store.exists(".zgroup"))
    #expect(try store.exists("g/arr/1.1"))
    let z = try JSONValue.parse(store.get("g/arr/.zarray")!)
    #expect(z["order"] == "F" && z["dtype"] == ">u2" && z["compressor"]?["id"] == "blosc")
    let back = try ZarrArray.open(in: store, path: "g/arr")
    #expect(back.metadata == a.metadata)
    #expect(try back.read(as: UInt16.self) == (0..<36).map { UInt16($0) })
  }
}
