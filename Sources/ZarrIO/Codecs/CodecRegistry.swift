import Synchronization

/// Maps codec names in metadata to codec implementations.
public enum CodecRegistry {
  static let builtins: [any RegisteredCodec.Type] = [
    BytesCodec.self, TransposeCodec.self, GzipCodec.self, ZlibCodec.self, ZstdCodec.self, BloscCodec.self,
    Crc32cCodec.self, ShardingCodec.self,
  ]

  static let table = Mutex<[String: any RegisteredCodec.Type]>(
    Dictionary(builtins.flatMap { t in t.names.map { ($0, t) } }, uniquingKeysWith: { a, _ in a }))

  /// Adds (or replaces) a codec under its names.
  public static func register(_ codec: any RegisteredCodec.Type) {
    table.withLock { t in
      for n in codec.names { t[n] = codec }
    }
  }

  /// Whether a codec of this name is known.
  public static func isKnown(_ name: String) -> Bool { table.withLock { $0[name] != nil } }

  /// Builds the codec described by `ext` for an input of `spec`.
  public static func make(_ ext: NamedConfiguration, spec: ChunkSpec) throws(ZarrError) -> AnyCodec {
    guard let type = table.withLock({ $0[ext.name] }) else {
      throw ZarrError(.unsupported, "unknown codec '\(ext.name)'", pointer: "/name")
    }
    return try type.make(configuration: ext.configuration, spec: spec)
  }
}

/// The codec chain of an array: array-to-array codecs, one array-to-bytes codec, bytes-to-bytes codecs.
public struct CodecChain: Sendable {
  /// Each array-to-array codec with the spec of its input.
  public let arrayToArray: [(codec: any ArrayToArrayCodec, spec: ChunkSpec)]
  /// The one array-to-bytes codec.
  public let arrayToBytes: any ArrayToBytesCodec
  /// The spec at the input of the array-to-bytes codec.
  public let arrayToBytesSpec: ChunkSpec
  /// The bytes-to-bytes codecs, in encoding order.
  public let bytesToBytes: [any BytesToBytesCodec]
  /// The decoded chunk spec.
  public let spec: ChunkSpec

  /// Builds the chain for chunks of `spec`; errors point into `pointer` (e.g. `/codecs`).
  public init(_ codecs: [NamedConfiguration], spec: ChunkSpec, pointer: String = "/codecs") throws(ZarrError) {
    var a2a: [(any ArrayToArrayCodec, ChunkSpec)] = []
    var a2b: (any ArrayToBytesCodec)? = nil
    var a2bSpec = spec
    var b2b: [any BytesToBytesCodec] = []
    var current = spec
    for (i, ext) in codecs.enumerated() {
      let p = "\(pointer)/\(i)"
      let codec: AnyCodec
      do {
        codec = try CodecRegistry.make(ext, spec: current)
      } catch {
        throw error.under(p)
      }
      switch codec {
      case .arrayToArray(let c):
        guard a2b == nil else {
          throw ZarrError(.invalidMetadata, "array-to-array codec '\(ext.name)' must come before the array-to-bytes codec", pointer: p)
        }
        a2a.append((c, current))
        do { current = try c.encodedSpec(for: current) } catch { throw error.under(p) }
      case .arrayToBytes(let c):
        guard a2b == nil else {
          throw ZarrError(.invalidMetadata, "codecs must contain exactly one array-to-bytes codec, found a second ('\(ext.name)')", pointer: p)
        }
        a2b = c
        a2bSpec = current
      case .bytesToBytes(let c):
        guard a2b != nil else {
          throw ZarrError(.invalidMetadata, "bytes-to-bytes codec '\(ext.name)' must come after the array-to-bytes codec", pointer: p)
        }
        b2b.append(c)
      }
    }
    guard let a2b else {
      throw ZarrError(.invalidMetadata, "codecs must contain exactly one array-to-bytes codec (such as \"bytes\")", pointer: pointer)
    }
    self.arrayToArray = a2a
    self.arrayToBytes = a2b
    self.arrayToBytesSpec = a2bSpec
    self.bytesToBytes = b2b
    self.spec = spec
  }

  /// The codecs in metadata form.
  public var configurations: [NamedConfiguration] {
    arrayToArray.map(\.codec.configuration) + [arrayToBytes.configuration] + bytesToBytes.map(\.configuration)
  }

  /// Encodes one chunk (host-order elements of ``spec``) into stored bytes.
  public func encode(_ chunk: [UInt8]) throws(ZarrError) -> [UInt8] {
    guard chunk.count == spec.byteCount else {
      throw ZarrError(.invalidArgument, "chunk has \(chunk.count) bytes, expected \(spec.byteCount)")
    }
    var data = chunk
    for (c, s) in arrayToArray { data = try c.encode(data, spec: s) }
    data = try arrayToBytes.encode(data, spec: arrayToBytesSpec)
    for c in bytesToBytes { data = try c.encode(data) }
    return data
  }

  /// Encodes one chunk given by pointer, without copying it first for the common chains
  /// (`bytes` in host order followed by bytes-to-bytes codecs).
  public func encode(_ input: UnsafeRawBufferPointer) throws(ZarrError) -> [UInt8] {
    guard arrayToArray.isEmpty, let bytesCodec = arrayToBytes as? BytesCodec,
      !(bytesCodec.needsSwap && spec.dataType.swapUnit > 1), let first = bytesToBytes.first
    else {
      return try encode(Array(input))
    }
    guard input.count == spec.byteCount else {
      throw ZarrError(.invalidArgument, "chunk has \(input.count) bytes, expected \(spec.byteCount)")
    }
    var data = try first.encode(input)
    for c in bytesToBytes.dropFirst() { data = try c.encode(data) }
    return data
  }

  /// An upper bound of the stored size of one chunk, when every codec can state one.
  public var maxEncodedSize: Int? {
    var size = arrayToBytes.encodedSize(for: arrayToBytesSpec)
    for c in bytesToBytes { size = size.flatMap { c.maxEncodedSize(forDecodedSize: $0) } }
    return size
  }

  /// Encodes one chunk given by pointer into `output` (at least ``maxEncodedSize`` bytes) and
  /// returns the encoded length.
  public func encode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(ZarrError) -> Int {
    guard arrayToArray.isEmpty, let bytesCodec = arrayToBytes as? BytesCodec,
      !(bytesCodec.needsSwap && spec.dataType.swapUnit > 1)
    else {
      return try copyEncoded(Array(input), into: output)
    }
    guard input.count == spec.byteCount else {
      throw ZarrError(.invalidArgument, "chunk has \(input.count) bytes, expected \(spec.byteCount)")
    }
    // One optional compressor, then any number of crc32c.
    var rest = bytesToBytes[...]
    var n: Int
    if let first = rest.first, !(first is Crc32cCodec) {
      n = try first.encode(input, into: output)
      rest = rest.dropFirst()
    } else {
      guard input.count <= output.count else { throw ZarrError(.codecFailure, "encode buffer too small") }
      if input.count > 0 { output.baseAddress!.copyMemory(from: input.baseAddress!, byteCount: input.count) }
      n = input.count
    }
    for c in rest {
      guard c is Crc32cCodec, n + 4 <= output.count else {
        var data = Array(UnsafeRawBufferPointer(rebasing: output[0..<n]))
        for c2 in rest { data = try c2.encode(data) }
        return try copyEncoded(data, into: output, encodedAlready: true)
      }
      let crc = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: output[0..<n]))
      for k in 0..<4 { output[n + k] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(k))) }
      n += 4
    }
    return n
  }

  private func copyEncoded(_ data: [UInt8], into output: UnsafeMutableRawBufferPointer, encodedAlready: Bool = false) throws(ZarrError) -> Int {
    let encoded = encodedAlready ? data : try encode(data)
    guard encoded.count <= output.count else {
      throw ZarrError(.codecFailure, "\(encoded.count) encoded bytes exceed the \(output.count)-byte buffer")
    }
    encoded.withUnsafeBytes { if $0.count > 0 { output.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
    return encoded.count
  }

  /// Decodes stored bytes into one chunk, checking its size.
  public func decode(_ bytes: [UInt8]) throws(ZarrError) -> [UInt8] {
    var data = bytes
    // The exact size is known for the codec next to a fixed-size array-to-bytes codec.
    var sizes: [Int?] = []
    var size = arrayToBytes.encodedSize(for: arrayToBytesSpec)
    for c in bytesToBytes {
      sizes.append(size)
      size = size.flatMap { c.encodedSize(forDecodedSize: $0) }
    }
    for (c, expected) in zip(bytesToBytes, sizes).reversed() {
      data = try c.decode(data, expectedSize: expected)
    }
    data = try arrayToBytes.decode(data, spec: arrayToBytesSpec)
    for (c, s) in arrayToArray.reversed() { data = try c.decode(data, spec: s) }
    guard data.count == spec.byteCount else {
      throw ZarrError(.corruptData, "chunk decoded to \(data.count) bytes, expected \(spec.byteCount)")
    }
    return data
  }

  /// Decodes stored bytes straight into `output` (one chunk of ``spec``), without intermediate
  /// arrays for the common chains: `bytes` + at most one compressor, with any trailing `crc32c`.
  public func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(ZarrError) {
    guard output.count == spec.byteCount else {
      throw ZarrError(.invalidArgument, "output of \(output.count) bytes does not hold a chunk of \(spec.byteCount)")
    }
    guard arrayToArray.isEmpty, let bytesCodec = arrayToBytes as? BytesCodec else {
      return try copyDecoded(input, into: output)
    }
    // Verify and strip trailing checksums without copying.
    var data = input
    var rest = bytesToBytes[...]
    while let last = rest.last as? Crc32cCodec {
      data = try last.verify(data)
      rest = rest.dropLast()
    }
    switch rest.count {
    case 0:
      guard data.count == output.count else {
        throw ZarrError(.corruptData, "chunk has \(data.count) bytes, expected \(output.count) for shape \(spec.shape) of \(spec.dataType)")
      }
      if data.count > 0 { output.baseAddress!.copyMemory(from: data.baseAddress!, byteCount: data.count) }
    case 1:
      try rest[rest.startIndex].decode(data, into: output)
    default:
      return try copyDecoded(input, into: output)
    }
    if bytesCodec.needsSwap, spec.dataType.swapUnit > 1 {
      ElementOps.byteSwap(output, unit: spec.dataType.swapUnit)
    }
  }

  private func copyDecoded(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(ZarrError) {
    let decoded = try decode(Array(input))
    decoded.withUnsafeBytes { if output.count > 0 { output.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: output.count) } }
  }

  /// A decoder that reads only the parts of stored chunks a region needs, when the chain allows it:
  /// a partial array-to-bytes codec (sharding), behind any number of partial array-to-array codecs
  /// (transpose) and with no bytes-to-bytes codec after it (a checksum over the whole object needs
  /// the whole object). `nil` means: read and decode whole chunks.
  package var partialDecoder: (any ArrayPartialDecoder)? {
    partialCodec({ $0 as any ArrayPartialDecoder }, { $0.partialDecoder(wrapping: $1, spec: $2) })
  }

  /// An encoder that re-encodes only the parts of stored chunks a write touches, under the same
  /// conditions as ``partialDecoder``; `nil` means: encode whole chunks.
  package var partialEncoder: (any ArrayPartialEncoder)? {
    partialCodec({ $0 as any ArrayPartialEncoder }, { $0.partialEncoder(wrapping: $1, spec: $2) })
  }

  /// Builds a partial decoder or encoder: `base` from the array-to-bytes codec, then `wrap` through
  /// each array-to-array codec from the last to the first.
  private func partialCodec<P>(
    _ base: (any PartialArrayToBytesCodec) -> P, _ wrap: (any PartialArrayToArrayCodec, P, ChunkSpec) -> P
  ) -> P? {
    guard bytesToBytes.isEmpty, let codec = arrayToBytes as? any PartialArrayToBytesCodec else { return nil }
    var result = base(codec)
    for (codec, spec) in arrayToArray.reversed() {
      guard let c = codec as? any PartialArrayToArrayCodec else { return nil }
      result = wrap(c, result, spec)
    }
    return result
  }

  /// The exact stored size of a chunk, when every codec has a fixed size (no compression).
  public var encodedSize: Int? {
    var size = arrayToBytes.encodedSize(for: arrayToBytesSpec)
    for c in bytesToBytes { size = size.flatMap { c.encodedSize(forDecodedSize: $0) } }
    return size
  }
}

/// Builders for codec metadata.
public enum Codecs {
  /// `bytes` with `endian` (omitted for single-byte types when `nil`).
  public static func bytes(endian: Endian? = .little) -> NamedConfiguration {
    NamedConfiguration(name: "bytes", configuration: endian.map { ["endian": .string($0.rawValue)] } ?? [:])
  }
  /// `transpose` with permutation `order`.
  public static func transpose(order: [Int]) -> NamedConfiguration {
    NamedConfiguration(name: "transpose", configuration: ["order": .array(order.map { .int(Int64($0)) })])
  }
  /// `gzip` at compression `level` (`0` to `9`).
  public static func gzip(level: Int = 5) -> NamedConfiguration {
    NamedConfiguration(name: "gzip", configuration: ["level": .int(Int64(level))])
  }
  /// `zstd` at compression `level` (`0` is zstd's default), with or without frame checksums.
  public static func zstd(level: Int = 0, checksum: Bool = false) -> NamedConfiguration {
    NamedConfiguration(name: "zstd", configuration: ["level": .int(Int64(level)), "checksum": .bool(checksum)])
  }
  /// `blosc`; `typesize` is required unless `shuffle` is `noshuffle`.
  public static func blosc(
    cname: String = "zstd", clevel: Int = 5, shuffle: BloscCodec.Shuffle = .shuffle, typesize: Int?, blocksize: Int = 0
  ) -> NamedConfiguration {
    var c: JSONObject = [
      "cname": .string(cname), "clevel": .int(Int64(clevel)), "shuffle": .string(shuffle.rawValue),
    ]
    if let typesize { c["typesize"] = .int(Int64(typesize)) }
    c["blocksize"] = .int(Int64(blocksize))
    return NamedConfiguration(name: "blosc", configuration: c)
  }
  /// `crc32c`, which has no configuration.
  public static func crc32c() -> NamedConfiguration { NamedConfiguration(name: "crc32c") }

  static func transposeOrder(_ configuration: JSONObject, ndim: Int) -> [Int]? {
    switch configuration["order"] {
    case .string("C")?: return Array(0..<ndim)
    case .string("F")?: return Array((0..<ndim).reversed())
    case .array(let a)?:
      let order = a.compactMap(\.intValue)
      return order.count == a.count ? order : nil
    default: return nil
    }
  }

  /// The v3 form of a Zarr v2 `compressor`.
  static func fromV2Compressor(_ json: JSONValue, typesize: Int) throws(ZarrError) -> NamedConfiguration {
    guard let o = json.objectValue, let id = o["id"]?.stringValue else {
      throw ZarrError(.invalidMetadata, "compressor must be null or an object with an \"id\"", pointer: "/compressor")
    }
    switch id {
    case "zlib", "gzip":
      return NamedConfiguration(name: id, configuration: ["level": o["level"] ?? .int(1)])
    case "zstd":
      var c: JSONObject = ["level": o["level"] ?? .int(0)]
      if let ck = o["checksum"] { c["checksum"] = ck }
      return NamedConfiguration(name: "zstd", configuration: c)
    case "blosc":
      let shuffleNumber = o["shuffle"]?.intValue ?? 1
      let shuffle: BloscCodec.Shuffle
      switch shuffleNumber {
      case 0: shuffle = .noshuffle
      case 1: shuffle = .shuffle
      case 2: shuffle = .bitshuffle
      case -1: shuffle = typesize == 1 ? .bitshuffle : .shuffle  // numcodecs AUTOSHUFFLE
      default: throw ZarrError(.invalidMetadata, "blosc shuffle must be -1, 0, 1 or 2", pointer: "/compressor/shuffle")
      }
      return blosc(cname: o["cname"]?.stringValue ?? "lz4", clevel: o["clevel"]?.intValue ?? 5, shuffle: shuffle,
        typesize: o["typesize"]?.intValue ?? typesize, blocksize: o["blocksize"]?.intValue ?? 0)
    default:
      throw ZarrError(.unsupported, "unsupported v2 compressor '\(id)'", pointer: "/compressor/id")
    }
  }

  /// The Zarr v2 `compressor` form of a bytes-to-bytes codec.
  static func v2Compressor(_ c: NamedConfiguration) throws(ZarrError) -> JSONValue {
    switch c.name {
    case "gzip", "zlib":
      return ["id": .string(c.name), "level": c.configuration["level"] ?? .int(1)]
    case "zstd":
      // TensorStore rejects a "checksum" member in v2 metadata (zarr-python#2647): write it only when on.
      var o: JSONObject = ["id": "zstd", "level": c.configuration["level"] ?? .int(0)]
      if c.configuration["checksum"] == .bool(true) { o["checksum"] = .bool(true) }
      return .object(o)
    case "blosc":
      let shuffle: Int64
      switch c.configuration["shuffle"]?.stringValue {
      case "noshuffle": shuffle = 0
      case "bitshuffle": shuffle = 2
      default: shuffle = 1
      }
      return [
        "id": "blosc", "cname": c.configuration["cname"] ?? "lz4", "clevel": c.configuration["clevel"] ?? .int(5),
        "shuffle": .int(shuffle), "blocksize": c.configuration["blocksize"] ?? .int(0),
      ]
    default:
      throw ZarrError(.unsupported, "codec '\(c.name)' has no Zarr v2 compressor form")
    }
  }
}
