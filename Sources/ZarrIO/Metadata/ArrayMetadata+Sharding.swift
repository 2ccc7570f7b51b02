/// The compression of chunks, for the convenience constructors.
public enum Compressor: Sendable, Hashable {
  /// No compression.
  case none
  /// `zstd` at compression `level`.
  case zstd(level: Int)
  /// `gzip` at compression `level` (`0` to `9`).
  case gzip(level: Int)
  /// `blosc` with inner compressor `cname`, level `clevel` and `shuffle`; the element size is the data type's.
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
  /// The inner chunk shape of a sharded array (the innermost one if shards are nested), else the
  /// chunk shape: the unit of encoding, in array dimension order (a `transpose` before the
  /// sharding codec is undone).
  public var innerChunkShape: [Int] {
    var shape = chunkShape
    // Array dimension of each dimension at the current place in the codec chain.
    var dims = Array(0..<chunkShape.count)
    var codecs = self.codecs[...]
    while let c = codecs.popFirst() {
      switch c.name {
      case "transpose":
        guard let order = Codecs.transposeOrder(c.configuration, ndim: dims.count), order.count == dims.count,
          order.allSatisfy({ dims.indices.contains($0) })
        else { return shape }
        dims = order.map { dims[$0] }
      case "sharding_indexed":
        guard let inner = c.configuration["chunk_shape"]?.arrayValue?.compactMap(\.intValue), inner.count == dims.count,
          inner.allSatisfy({ $0 > 0 })
        else {
          return shape
        }
        for (j, d) in dims.enumerated() { shape[d] = inner[j] }
        // Nested shards: continue with the inner codecs.
        codecs = (c.configuration["codecs"]?.arrayValue ?? []).compactMap { try? NamedConfiguration(json: $0, pointer: "") }[...]
      default:
        continue
      }
    }
    return shape
  }

  /// The shard shape (the chunk grid's shape) of a sharded array, else `nil`.
  public var shardShape: [Int]? {
    codecs.contains(where: { $0.name == "sharding_indexed" }) ? chunkShape : nil
  }

  /// A sharded Zarr v3 array: shards of `shardShape` holding inner chunks of `innerChunkShape`, each
  /// chunk `bytes` (little-endian) + `compressor`, and a crc32c-checked index at the end of each shard.
  ///
  /// Omitted shapes get the defaults of ``defaultChunkShape(shape:dataType:)`` and
  /// ``defaultShardShape(shape:chunkShape:dataType:)``.
  public static func sharded(
    shape: [Int], dataType: DataType, shardShape: [Int]? = nil, innerChunkShape: [Int]? = nil,
    compressor: Compressor = .zstd(level: 1), fillValue: FillValue? = nil, dimensionNames: [String?]? = nil,
    attributes: JSONObject = [:]
  ) -> ArrayMetadata {
    let chunks = innerChunkShape ?? defaultChunkShape(shape: shape, dataType: dataType)
    let shards = shardShape ?? defaultShardShape(shape: shape, chunkShape: chunks, dataType: dataType)
    let inner = [Codecs.bytes(endian: dataType.hasEndianness ? .little : nil)] + compressor.codecs(for: dataType)
    return ArrayMetadata(shape: shape, dataType: dataType, chunkShape: shards, fillValue: fillValue,
      codecs: [Codecs.sharding(innerChunkShape: chunks, codecs: inner)], dimensionNames: dimensionNames, attributes: attributes)
  }

  // MARK: Default chunk layout (the one policy of the package)

  /// Chunks of about 256 KiB–1 MiB over the last (spatial) dimensions, 1 along the others:
  /// 64³ for volumes, 512² (256² for types over 2 bytes) for planes, clamped to the shape.
  ///
  /// 64³ is what viewers stream well (neuroglancer, napari) and keeps random access cheap;
  /// chunks much smaller than ~90³ cost throughput, much larger ones waste reads.
  public static func defaultChunkShape(shape: [Int], dataType: DataType) -> [Int] {
    let n = shape.count
    return defaultChunkShape(shape: shape, dataType: dataType, spatialDimensions: Array((n - min(n, 3))..<n))
  }

  /// The default chunk shape with `spatialDimensions` chosen by the caller (e.g. the space axes of
  /// an image): 64 along each of three or more, 512 (256 for types over 2 bytes) along each of two,
  /// about 1 MiB along a single one, 1 along every other dimension; clamped to the shape.
  public static func defaultChunkShape(shape: [Int], dataType: DataType, spatialDimensions: [Int]) -> [Int] {
    var out = [Int](repeating: 1, count: shape.count)
    let side: Int
    switch spatialDimensions.count {
    case 3...: side = 64
    case 2: side = dataType.size <= 2 ? 512 : 256
    default: side = max(1, (1 << 20) / max(dataType.size, 1))
    }
    for d in spatialDimensions where shape.indices.contains(d) { out[d] = max(1, min(side, shape[d])) }
    return out
  }

  /// Shards that grow the chunk shape by powers of two, fastest dimension first, up to about
  /// 64 MiB uncompressed and at most the array extent: few objects per array, small enough to
  /// encode in memory.
  public static func defaultShardShape(shape: [Int], chunkShape: [Int], dataType: DataType) -> [Int] {
    defaultShardShape(shape: shape, chunkShape: chunkShape, dataType: dataType, byteLimit: 64 << 20, growing: nil)
  }

  /// Shards that grow the chunk shape by powers of two along `growing` (in that order, repeatedly),
  /// up to `byteLimit` uncompressed and at most the array extent (rounded up to whole chunks).
  ///
  /// `growing` `nil` means every dimension whose chunk is larger than 1, last (fastest) first. A
  /// streaming writer passes only the dimensions across its slab, so that shards stay one chunk deep
  /// along the streaming axis and a slab one chunk deep completes whole shards (memory = one slab,
  /// however deep the input).
  public static func defaultShardShape(
    shape: [Int], chunkShape: [Int], dataType: DataType, byteLimit: Int, growing: [Int]?
  ) -> [Int] {
    var out = chunkShape
    let dims = (growing ?? chunkShape.indices.reversed().filter { chunkShape[$0] > 1 || shape[$0] == 1 })
      .filter { chunkShape.indices.contains($0) && shape.indices.contains($0) && chunkShape[$0] > 0 }
    var grew = true
    while grew {
      grew = false
      for d in dims {
        let whole = (shape[d] + chunkShape[d] - 1) / chunkShape[d] * chunkShape[d]
        let bigger = min(out[d] * 2, whole)
        guard bigger > out[d] else { continue }
        var trial = out
        trial[d] = bigger
        if trial.reduce(dataType.size, *) <= byteLimit {
          out = trial
          grew = true
        }
      }
    }
    return out
  }
}
