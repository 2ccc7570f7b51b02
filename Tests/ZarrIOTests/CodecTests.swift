import CZarrZstd
import Testing
@testable import ZarrIO

@Suite("Codecs")
struct CodecTests {
  static let sample: [UInt8] = (0..<10_000).map { UInt8(truncatingIfNeeded: ($0 * 7) ^ ($0 >> 3)) }

  func chain(_ codecs: [NamedConfiguration], shape: [Int] = [10, 250], type: DataType = .uint32) throws -> CodecChain {
    try CodecChain(codecs, spec: ChunkSpec(shape: shape, dataType: type, fillValue: .zero(type)))
  }

  @Test(arguments: [
    [Codecs.bytes()], [Codecs.bytes(endian: .big)], [Codecs.bytes(), Codecs.gzip(level: 1)],
    [Codecs.bytes(), Codecs.gzip(level: 9)], [Codecs.bytes(), Codecs.zstd(level: 0)],
    [Codecs.bytes(), Codecs.zstd(level: -5, checksum: true)], [Codecs.bytes(), Codecs.zstd(level: 22)],
    [Codecs.bytes(), Codecs.crc32c()], [Codecs.bytes(), Codecs.blosc(cname: "lz4", shuffle: .shuffle, typesize: 4)],
    [Codecs.bytes(), Codecs.blosc(cname: "zstd", shuffle: .bitshuffle, typesize: 4)],
    [Codecs.bytes(), Codecs.blosc(cname: "zlib", shuffle: .noshuffle, typesize: nil)],
    [Codecs.transpose(order: [1, 0]), Codecs.bytes(endian: .big), Codecs.zstd(level: 3), Codecs.crc32c()],
    [Codecs.bytes(), Codecs.zstd(), Codecs.gzip(), Codecs.crc32c()],
    [Codecs.bytes(), NamedConfiguration(name: "zlib", configuration: ["level": 5])],
  ])
  func roundTrips(_ codecs: [NamedConfiguration]) throws {
    let c = try chain(codecs)
    let encoded = try c.encode(Self.sample)
    #expect(try c.decode(encoded) == Self.sample)
    // The pointer forms (used by sharded I/O) agree with the array forms.
    var decoded = [UInt8](repeating: 0, count: Self.sample.count)
    try encoded.withUnsafeBytes { src in try decoded.withUnsafeMutableBytes { try c.decode(src, into: $0) } }
    #expect(decoded == Self.sample)
    let viaPointer = try Self.sample.withUnsafeBytes { try c.encode($0) }
    #expect(try c.decode(viaPointer) == Self.sample)
    if let bound = c.maxEncodedSize {
      var out = [UInt8](repeating: 0, count: bound)
      let n = try Self.sample.withUnsafeBytes { src in try out.withUnsafeMutableBytes { try c.encode(src, into: $0) } }
      #expect(try c.decode(Array(out[0..<n])) == Self.sample)
    }
    // Decoding into a buffer of the wrong size is an error, not an overrun.
    var small = [UInt8](repeating: 0, count: Self.sample.count - 8)
    #expect(throws: ZarrError.self) {
      try encoded.withUnsafeBytes { src in try small.withUnsafeMutableBytes { try c.decode(src, into: $0) } }
    }
  }

  @Test func bytesCodecSwapsEveryType() throws {
    for t in DataType.allCore {
      let n = 12
      let data = (0..<(n * t.size)).map { UInt8($0 & 0xFF) }
      let c = try chain([Codecs.bytes(endian: t.hasEndianness ? .big : nil)], shape: [n], type: t)
      let encoded = try c.encode(data)
      if t.swapUnit > 1 {
        #expect(Array(encoded[0..<t.swapUnit]) == Array(data[0..<t.swapUnit].reversed()), "\(t)")
      } else {
        #expect(encoded == data)
      }
      #expect(try c.decode(encoded) == data)
    }
  }

  @Test func transposeMatchesTheDefinition() throws {
    // A 2x3x4 array of int16 with value = index; order [2, 0, 1] gives shape [4, 2, 3].
    let shape = [2, 3, 4]
    var data: [UInt8] = []
    for i in 0..<24 { withUnsafeBytes(of: Int16(i)) { data.append(contentsOf: $0) } }
    let c = try chain([Codecs.transpose(order: [2, 0, 1]), Codecs.bytes()], shape: shape, type: .int16)
    let encoded = try c.encode(data)
    let values = encoded.withUnsafeBytes { Array($0.bindMemory(to: Int16.self)) }
    // encoded[k][i][j] = a[i][j][k] = i*12 + j*4 + k
    for k in 0..<4 { for i in 0..<2 { for j in 0..<3 { #expect(values[(k * 2 + i) * 3 + j] == Int16(i * 12 + j * 4 + k)) } } }
    #expect(try c.decode(encoded) == data)
    // Legacy "F" order reads as the reversed permutation.
    let f = try chain([NamedConfiguration(name: "transpose", configuration: ["order": "F"]), Codecs.bytes()], shape: shape, type: .int16)
    #expect((f.arrayToArray.first?.codec as? TransposeCodec)?.order == [2, 1, 0])
  }

  @Test func crc32cCheckValue() {
    #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
    #expect(CRC32C.checksum([]) == 0)
    let long = [UInt8](repeating: 0xAB, count: 1001)
    #expect(CRC32C.checksum(long) == CRC32C.checksum(Array(long[0..<500]) + Array(long[500...])))
  }

  @Test func gzipWritesAnRFC1952Container() throws {
    let bytes = try GzipCodec(level: 6).encode(Self.sample)
    #expect(bytes[0] == 0x1F && bytes[1] == 0x8B && bytes[2] == 8)
  }

  @Test func zstdReadsFramesWithoutContentSize() throws {
    // A streaming-compressed frame, as TensorStore writes them, has no content size.
    let cctx = ZSTD_createCCtx()!
    defer { ZSTD_freeCCtx(cctx) }
    var out = [UInt8](repeating: 0, count: ZSTD_compressBound(Self.sample.count))
    var written = 0
    Self.sample.withUnsafeBytes { src in
      out.withUnsafeMutableBytes { dst in
        var input = ZSTD_inBuffer(src: src.baseAddress, size: src.count, pos: 0)
        var output = ZSTD_outBuffer(dst: dst.baseAddress, size: dst.count, pos: 0)
        _ = ZSTD_compressStream2(cctx, &output, &input, ZSTD_e_continue)
        while ZSTD_compressStream2(cctx, &output, &input, ZSTD_e_end) != 0 {}
        written = output.pos
      }
    }
    let frame = Array(out[0..<written])
    #expect(frame.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, $0.count) } == UInt64.max)
    #expect(try ZstdCodec(level: 0).decode(frame, expectedSize: nil) == Self.sample)
    #expect(try ZstdCodec(level: 0).decode(frame, expectedSize: Self.sample.count) == Self.sample)
    // Two concatenated frames decode as one stream.
    let two = try ZstdCodec(level: 1).encode(Array(Self.sample[0..<4000])) + ZstdCodec(level: 1).encode(Array(Self.sample[4000...]))
    #expect(try ZstdCodec(level: 0).decode(two, expectedSize: nil) == Self.sample)
  }

  @Test func bloscRecordsTypesizeFromTheChain() throws {
    let c = try chain([Codecs.bytes(), NamedConfiguration(name: "blosc", configuration: ["cname": "lz4", "shuffle": "shuffle"])],
      type: .float64)
    #expect((c.bytesToBytes.first as? BloscCodec)?.typesize == 8)
    #expect(c.configurations[1].configuration["typesize"] == 8)
  }

  @Test func corruptDataIsAnErrorNotGarbage() throws {
    let cases: [(any BytesToBytesCodec, [UInt8])] = [
      (GzipCodec(level: 1), try GzipCodec(level: 1).encode(Self.sample).dropLast(10).map { $0 }),
      (ZstdCodec(level: 1), try ZstdCodec(level: 1).encode(Self.sample).dropLast(5).map { $0 }),
      (BloscCodec(cname: "lz4", clevel: 5, shuffle: .shuffle, typesize: 4),
       try BloscCodec(cname: "lz4", clevel: 5, shuffle: .shuffle, typesize: 4).encode(Self.sample).dropLast(7).map { $0 }),
      (ZstdCodec(level: 1), [1, 2, 3, 4, 5, 6, 7, 8, 9]),
      (GzipCodec(level: 1), [0x1F, 0x8B, 8, 0, 0, 0]),
      (BloscCodec(cname: "lz4", clevel: 5, shuffle: .shuffle, typesize: 4), [2, 1, 0x21, 4, 0xFF, 0xFF, 0xFF, 0x7F, 0, 0, 0, 0, 10, 0, 0, 0]),
      (Crc32cCodec(), [1, 2, 3]),
    ]
    for (codec, bytes) in cases {
      #expect(throws: ZarrError.self, "\(codec.configuration.name)") { try codec.decode(bytes, expectedSize: Self.sample.count) }
    }
    var flipped = try Crc32cCodec().encode(Self.sample)
    flipped[100] ^= 1
    #expect(throws: ZarrError.self) { try Crc32cCodec().decode(flipped, expectedSize: nil) }
  }

  @Test func registryAcceptsNewCodecs() throws {
    struct Reverse: BytesToBytesCodec, RegisteredCodec {
      static let names = ["test.reverse"]
      static func make(configuration: JSONObject, spec: ChunkSpec) throws(ZarrError) -> AnyCodec { .bytesToBytes(Reverse()) }
      var configuration: NamedConfiguration { NamedConfiguration(name: "test.reverse") }
      func encode(_ bytes: [UInt8]) throws(ZarrError) -> [UInt8] { bytes.reversed() }
      func decode(_ bytes: [UInt8], expectedSize: Int?) throws(ZarrError) -> [UInt8] { bytes.reversed() }
    }
    #expect(!CodecRegistry.isKnown("test.reverse"))
    CodecRegistry.register(Reverse.self)
    let c = try chain([Codecs.bytes(), NamedConfiguration(name: "test.reverse")])
    #expect(try c.decode(c.encode(Self.sample)) == Self.sample)
  }
}
