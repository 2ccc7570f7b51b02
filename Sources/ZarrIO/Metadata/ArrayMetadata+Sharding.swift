/// The compression of chunks, for the convenience constructors.
public enum Compressor: Sendable, Hashable {
  case none
  case zstd(level: Int)
  case gzip(level: Int)
  case blosc(cname: String, clevel: Int, shuffle: BloscCodec.Shuffle)

  /// The bytes-to-bytes codecs for chunks of `dataType`.
  public func codecs(for dataType: DataType) -> [NamedConfiguration] {
    switch self {
    case .none: return []
    case .zstd(let level): return [Codecs.zstd(level: level)]
    case .gzip(let level): return [Codecs.gzip(level: level)]
    case .blosc(let cname, let clevel, let shuffle):
      return [Codecs.blosc(cname: cname, clevel: clevel, shuffle: shuffle, typesize: dataType.size)]
    }
  }
}

extension ArrayMetadata {
  /// A sharded Zarr v3 array: shards of `shardShape` holding chunks of `chunkShape`, each chunk
  /// `bytes` (little-endian) + `compressor`, and a crc32c-checked index at the end of each shard.
  ///
  /// Omitted shapes get the defaults of ``defaultChunkShape(shape:dataType:)`` and
  /// ``defaultShardShape(shape:chunkShape:dataType:)``.
  public static func sharded(
    shape: [Int], dataType: DataType, shardShape: [Int]? = nil, chunkShape: [Int]? = nil,
    compressor: Compressor = .zstd(level: 1), fillValue: FillValue? = nil, dimensionNames: [String?]? = nil,
    attributes: JSONObject = [:]
  ) -> ArrayMetadata {
    let chunks = chunkShape ?? defaultChunkShape(shape: shape, dataType: dataType)
    let shards = shardShape ?? defaultShardShape(shape: shape, chunkShape: chunks, dataType: dataType)
    let inner = [Codecs.bytes(endian: dataType.hasEndianness ? .little : nil)] + compressor.codecs(for: dataType)
    return ArrayMetadata(shape: shape, dataType: dataType, chunkShape: shards, fillValue: fillValue,
      codecs: [Codecs.sharding(chunkShape: chunks, codecs: inner)], dimensionNames: dimensionNames, attributes: attributes)
  }

  /// Chunks of about 256 KiB–1 MiB over the last (spatial) dimensions, 1 along the others:
  /// 64³ for volumes, 512² (256² for types over 2 bytes) for planes, clamped to the shape.
  ///
  /// 64³ is what viewers stream well (neuroglancer, napari) and keeps random access cheap;
  /// chunks much smaller than ~90³ cost throughput, much larger ones waste reads.
  public static func defaultChunkShape(shape: [Int], dataType: DataType) -> [Int] {
    let n = shape.count
    var out = [Int](repeating: 1, count: n)
    let spatial = min(n, 3)
    let side: Int
    if spatial >= 3 {
      side = 64
    } else if spatial == 2 {
      side = dataType.size <= 2 ? 512 : 256
    } else {
      side = max(1, (1 << 20) / max(dataType.size, 1))
    }
    for d in (n - spatial)..<n { out[d] = max(1, min(side, shape[d])) }
    return out
  }

  /// Shards that grow the chunk shape by powers of two, fastest dimension first, up to about
  /// 64 MiB uncompressed and at most the array extent: few objects per array, small enough to
  /// encode in memory.
  public static func defaultShardShape(shape: [Int], chunkShape: [Int], dataType: DataType) -> [Int] {
    var out = chunkShape
    let limit = 64 << 20
    var grew = true
    while grew {
      grew = false
      for d in stride(from: out.count - 1, through: 0, by: -1) where chunkShape[d] > 1 || shape[d] == 1 {
        let whole = (shape[d] + chunkShape[d] - 1) / chunkShape[d] * chunkShape[d]
        let bigger = min(out[d] * 2, whole)
        guard out[d] < whole else { continue }
        let bytes = out.enumerated().reduce(dataType.size) { $0 * ($1.offset == d ? bigger : $1.element) }
        if bytes <= limit {
          out[d] = bigger
          grew = true
        }
      }
    }
    return out
  }
}
