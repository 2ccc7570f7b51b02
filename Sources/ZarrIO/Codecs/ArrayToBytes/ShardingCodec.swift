/// `sharding_indexed`: a shard holds a grid of inner chunks, each encoded with the inner codecs,
/// plus an index of `(offset, nbytes)` pairs encoded with the index codecs.
///
/// Offsets are absolute from the start of the shard object (also with the index at the start);
/// an empty inner chunk is `(2^64-1, 2^64-1)` and reads as the fill value. The index size is computed
/// from the index codecs, never assumed. Inner codecs may themselves contain sharding (nested shards).
///
/// This type encodes and decodes whole shards, and as the array's partial decoder and encoder
/// (see `ShardingCodec+PartialDecoder.swift` and `+PartialEncoder.swift`) reads only the index and
/// the inner chunks a region needs, and writes whole shards without reading them.
public struct ShardingCodec: ArrayToBytesCodec, RegisteredCodec {
  /// `sharding_indexed`.
  public static let names = ["sharding_indexed"]

  /// Where the index lies in a shard object.
  public enum IndexLocation: String, Sendable, Hashable {
    /// Before the first inner chunk, or after the last one (the default).
    case start, end
  }

  /// The shard shape (the array's chunk grid shape).
  public let shardShape: [Int]
  /// The inner chunk shape.
  public let innerChunkShape: [Int]
  /// Inner chunks along each dimension of a shard.
  public let chunksPerShard: [Int]
  /// The codec chain of one inner chunk.
  public let inner: CodecChain
  /// The codec chain of the index (a uint64 array of shape `chunksPerShard + [2]`).
  public let index: CodecChain
  /// Where the index lies in a shard object.
  public let indexLocation: IndexLocation
  /// The encoded size of the index in bytes.
  public let indexSize: Int
  /// Decoded indexes of the shards this codec read (shared by copies of this value).
  let indexCache = ShardIndexCache()

  /// The sentinel of an empty inner chunk.
  public static let empty = UInt64.max

  /// Builds the codec for shards of `shardSpec` holding inner chunks of `innerChunkShape`.
  public init(
    shardSpec: ChunkSpec, innerChunkShape chunkShape: [Int], codecs: [NamedConfiguration], indexCodecs: [NamedConfiguration],
    indexLocation: IndexLocation
  ) throws(ZarrError) {
    let shardShape = shardSpec.shape
    guard chunkShape.count == shardShape.count else {
      throw ZarrError(.invalidMetadata,
        "sharding chunk_shape \(chunkShape) has \(chunkShape.count) dimensions but the shard shape \(shardShape) has \(shardShape.count)",
        pointer: "/configuration/chunk_shape")
    }
    for (i, (c, s)) in zip(chunkShape, shardShape).enumerated() where c <= 0 || s % c != 0 {
      throw ZarrError(.invalidMetadata,
        "the shard shape \(shardShape) must be divisible by the inner chunk shape \(chunkShape) (dimension \(i))",
        pointer: "/configuration/chunk_shape/\(i)")
    }
    let chunksPerShard = zip(shardShape, chunkShape).map { $0 / $1 }
    let limit = ReadLimits.current.maxChunksPerShard
    guard let count = CheckedArithmetic.product(chunksPerShard), count <= limit else {
      throw ZarrError(.invalidMetadata,
        "a shard of shape \(shardShape) holds \(chunksPerShard) inner chunks of shape \(chunkShape), more than the limit of \(limit)",
        pointer: "/configuration/chunk_shape")
    }
    self.shardShape = shardShape
    self.innerChunkShape = chunkShape
    self.chunksPerShard = chunksPerShard
    let innerSpec = ChunkSpec(shape: chunkShape, dataType: shardSpec.dataType, fillValue: shardSpec.fillValue)
    self.inner = try CodecChain(codecs, spec: innerSpec, pointer: "/configuration/codecs")
    let indexSpec = ChunkSpec(shape: chunksPerShard + [2], dataType: .uint64, fillValue: FillValue(UInt64.max))
    self.index = try CodecChain(indexCodecs, spec: indexSpec, pointer: "/configuration/index_codecs")
    guard let size = index.encodedSize else {
      throw ZarrError(.invalidMetadata, "index_codecs must have a fixed encoded size (no compression)",
        pointer: "/configuration/index_codecs")
    }
    self.indexSize = size
    self.indexLocation = indexLocation
  }

  /// Builds the codec from `chunk_shape`, `codecs`, `index_codecs` and `index_location` (default `end`).
  public static func make(configuration c: JSONObject, spec: ChunkSpec) throws(ZarrError) -> AnyCodec {
    try checkKeys(c, allowed: ["chunk_shape", "codecs", "index_codecs", "index_location"], codec: "sharding_indexed")
    let chunkShape = try ArrayMetadata.intList(c["chunk_shape"], pointer: "/configuration/chunk_shape", allowEmpty: true)
    func codecList(_ key: String) throws(ZarrError) -> [NamedConfiguration] {
      guard let list = c[key]?.arrayValue else {
        throw ZarrError(.invalidMetadata, "sharding_indexed needs a \"\(key)\" list", pointer: "/configuration/\(key)")
      }
      var out: [NamedConfiguration] = []
      for (i, v) in list.enumerated() { out.append(try NamedConfiguration(json: v, pointer: "/configuration/\(key)/\(i)")) }
      return out
    }
    var location = IndexLocation.end
    if let l = c["index_location"] {
      guard let s = l.stringValue, let v = IndexLocation(rawValue: s) else {
        throw ZarrError(.invalidMetadata, "index_location must be \"start\" or \"end\"", pointer: "/configuration/index_location")
      }
      location = v
    }
    return .arrayToBytes(try ShardingCodec(shardSpec: spec, innerChunkShape: chunkShape, codecs: try codecList("codecs"),
      indexCodecs: try codecList("index_codecs"), indexLocation: location))
  }

  /// `sharding_indexed` with the inner chunk shape, both codec chains and the index location.
  public var configuration: NamedConfiguration {
    Codecs.sharding(innerChunkShape: innerChunkShape, codecs: inner.configurations, indexCodecs: index.configurations,
      indexLocation: indexLocation)
  }

  /// Number of inner chunks in a shard.
  public var chunkCount: Int { chunksPerShard.reduce(1, *) }

  /// Where the index lies in a shard object of `shardSize` bytes.
  public func indexRange(shardSize: Int) -> ByteRange {
    indexLocation == .start ? .range(offset: 0, length: indexSize) : .suffix(length: indexSize)
  }

  // MARK: Index

  /// Decodes and checks an index read from a shard of `shardSize` bytes.
  public func decodeIndex(_ bytes: [UInt8], shardSize: Int) throws(ZarrError) -> ShardIndex {
    guard bytes.count == indexSize else {
      throw ZarrError(.corruptData, "shard index has \(bytes.count) bytes, expected \(indexSize)")
    }
    let decoded: [UInt8]
    do {
      decoded = try index.decode(bytes)
    } catch {
      throw ZarrError(.corruptData, "shard index is corrupt: \(error.message)")
    }
    let entries = decoded.withUnsafeBytes { Array($0.bindMemory(to: UInt64.self)) }
    let dataStart = indexLocation == .start ? indexSize : 0
    let dataEnd = indexLocation == .start ? shardSize : shardSize - indexSize
    var used: [(Int, Int)] = []
    for i in 0..<(entries.count / 2) {
      let offset = entries[2 * i], length = entries[2 * i + 1]
      if offset == Self.empty && length == Self.empty { continue }
      guard offset <= UInt64(Int.max), length <= UInt64(Int.max),
        Int(offset) >= dataStart, Int(length) <= dataEnd - Int(offset)
      else {
        throw ZarrError(.corruptData,
          "shard index entry \(i) (offset \(offset), \(length) bytes) lies outside the chunk data (bytes \(dataStart)..<\(dataEnd) of \(shardSize))")
      }
      used.append((Int(offset), Int(length)))
    }
    used.sort { $0.0 < $1.0 }
    for k in used.indices.dropFirst() where used[k].0 < used[k - 1].0 + used[k - 1].1 {
      throw ZarrError(.corruptData, "shard index has overlapping chunks at bytes \(used[k].0)")
    }
    return ShardIndex(entries: entries)
  }

  /// Encodes an index.
  public func encodeIndex(_ index: ShardIndex) throws(ZarrError) -> [UInt8] {
    try self.index.encode(index.entries.withUnsafeBytes { Array($0) })
  }

  // MARK: Whole shards

  /// Encodes a whole shard (elements of ``shardShape``): inner chunks equal to the fill value are
  /// left out of the index.
  public func encode(_ data: [UInt8], spec: ChunkSpec) throws(ZarrError) -> [UInt8] {
    let elementSize = spec.dataType.size
    let shardShape = self.shardShape, chunkShape = self.innerChunkShape
    let grid = chunksPerShard
    let fill = spec.fillValue.bytes
    var encoded = [[UInt8]?](repeating: nil, count: chunkCount)
    do {
      try data.withUnsafeBytes { src in
        let source = SendablePointer(UnsafeMutableRawPointer(mutating: src.baseAddress))
        let results = ResultSlots<[UInt8]>(count: chunkCount)
        try Parallel.forEach(chunkCount, width: Parallel.processorCount) { i in
          let coords = ShardIndex.coordinates(i, grid: grid)
          var chunk = [UInt8](unsafeUninitializedCapacity: chunkShape.reduce(elementSize, *)) { buf, n in
            n = buf.count
          }
          chunk.withUnsafeMutableBytes { dst in
            ElementOps.copyRegion(from: source.pointer!, shape: shardShape, origin: zip(coords, chunkShape).map(*),
              to: dst.baseAddress!, shape: chunkShape, origin: [Int](repeating: 0, count: chunkShape.count),
              extent: chunkShape, elementSize: elementSize)
          }
          if chunk.withUnsafeBytes({ ElementOps.allEqual($0, to: fill) }) { return }
          results.set(i, try inner.encode(chunk))
        }
        encoded = results.values
      }
    } catch let e as ZarrError {
      throw e
    } catch {
      throw ZarrError(.codecFailure, "\(error)")
    }
    return try assemble(encoded)
  }

  /// Builds a shard object from encoded inner chunks (`nil` = empty), in C order of the chunks.
  public func assemble(_ chunks: [[UInt8]?]) throws(ZarrError) -> [UInt8] {
    var entries = [UInt64](repeating: Self.empty, count: 2 * chunkCount)
    var offset = indexLocation == .start ? indexSize : 0
    for (i, c) in chunks.enumerated() {
      guard let c else { continue }
      entries[2 * i] = UInt64(offset)
      entries[2 * i + 1] = UInt64(c.count)
      offset += c.count
    }
    let indexBytes = try encodeIndex(ShardIndex(entries: entries))
    var out: [UInt8] = []
    out.reserveCapacity(offset + (indexLocation == .end ? indexSize : 0))
    if indexLocation == .start { out += indexBytes }
    for c in chunks { if let c { out += c } }
    if indexLocation == .end { out += indexBytes }
    return out
  }

  /// Decodes a whole shard object into elements of ``shardShape``.
  public func decode(_ bytes: [UInt8], spec: ChunkSpec) throws(ZarrError) -> [UInt8] {
    guard bytes.count >= indexSize else {
      throw ZarrError(.corruptData, "shard of \(bytes.count) bytes is smaller than its \(indexSize)-byte index")
    }
    let indexBytes = indexLocation == .start ? Array(bytes[0..<indexSize]) : Array(bytes[(bytes.count - indexSize)...])
    let index = try decodeIndex(indexBytes, shardSize: bytes.count)
    var out = ArrayBuffer(shape: shardShape, dataType: spec.dataType, fill: spec.fillValue).bytes
    let elementSize = spec.dataType.size
    let shardShape = self.shardShape, chunkShape = self.innerChunkShape, grid = chunksPerShard
    do {
      try out.withUnsafeMutableBytes { dst in
        let target = SendablePointer(dst.baseAddress)
        try Parallel.forEach(chunkCount, width: Parallel.processorCount) { i in
          guard let r = index.range(i) else { return }
          let chunk = try inner.decode(Array(bytes[r]))
          let coords = ShardIndex.coordinates(i, grid: grid)
          chunk.withUnsafeBytes { src in
            ElementOps.copyRegion(from: src.baseAddress!, shape: chunkShape, origin: [Int](repeating: 0, count: chunkShape.count),
              to: target.pointer!, shape: shardShape, origin: zip(coords, chunkShape).map(*), extent: chunkShape,
              elementSize: elementSize)
          }
        }
      }
    } catch let e as ZarrError {
      throw e
    } catch {
      throw ZarrError(.corruptData, "\(error)")
    }
    return out
  }

  /// `nil`: a shard's size depends on what its inner chunks compress to.
  public func encodedSize(for spec: ChunkSpec) -> Int? { nil }
}

extension Codecs {
  /// `sharding_indexed` with inner chunks of `innerChunkShape`, inner `codecs` and (by default) a
  /// crc32c-checked index at the end.
  public static func sharding(
    innerChunkShape: [Int], codecs: [NamedConfiguration] = [Codecs.bytes(), Codecs.zstd(level: 1)],
    indexCodecs: [NamedConfiguration] = [Codecs.bytes(), Codecs.crc32c()],
    indexLocation: ShardingCodec.IndexLocation = .end
  ) -> NamedConfiguration {
    NamedConfiguration(name: "sharding_indexed", configuration: [
      "chunk_shape": .array(innerChunkShape.map { .int(Int64($0)) }),
      "codecs": .array(codecs.map(\.json)),
      "index_codecs": .array(indexCodecs.map(\.json)),
      "index_location": .string(indexLocation.rawValue),
    ])
  }
}
