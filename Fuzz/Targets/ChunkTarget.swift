import ZarrIO

/// Stored chunk bytes decoded through codec chains: the bytes are stored as chunk `c/0/0` of a
/// small array whose metadata the first byte picks, then the array is read whole and in part (for
/// sharded arrays the part is read through the shard index, the partial decoder).
enum ChunkTarget {
  /// Sharded arrays: 8×8 in one shard of 4×4 inner chunks, several inner and index chains.
  static let sharded: [String] = [
    shard(inner: #"[{"name": "bytes", "configuration": {"endian": "little"}}]"#),
    shard(inner: #"[{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "zstd", "configuration": {"level": 1, "checksum": false}}]"#),
    shard(inner: #"[{"name": "bytes", "configuration": {"endian": "big"}}, {"name": "gzip", "configuration": {"level": 1}}]"#, location: "start"),
    shard(inner: #"[{"name": "transpose", "configuration": {"order": [1, 0]}}, {"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}]"#),
    shard(inner: #"[{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "blosc", "configuration": {"cname": "lz4", "clevel": 1, "shuffle": "shuffle", "typesize": 2, "blocksize": 0}}]"#,
      index: #"[{"name": "bytes", "configuration": {"endian": "little"}}]"#),
    // Nested sharding: a shard of 4×4 sub-shards of 2×2 chunks.
    shard(inner: #"[{"name": "sharding_indexed", "configuration": {"chunk_shape": [2, 2], "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}], "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}], "index_location": "end"}}]"#),
  ]

  /// Unsharded arrays: 8×8 in chunks of 8×8 (uint16), each with another chain.
  static let unsharded: [String] = [
    chunk(#"[{"name": "bytes", "configuration": {"endian": "little"}}]"#),
    chunk(#"[{"name": "bytes", "configuration": {"endian": "big"}}, {"name": "gzip", "configuration": {"level": 1}}]"#),
    chunk(#"[{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "zstd", "configuration": {"level": 1, "checksum": true}}]"#),
    chunk(#"[{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "blosc", "configuration": {"cname": "zstd", "clevel": 1, "shuffle": "bitshuffle", "typesize": 2, "blocksize": 0}}]"#),
    chunk(#"[{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "blosc", "configuration": {"cname": "blosclz", "clevel": 1, "shuffle": "noshuffle", "blocksize": 0}}]"#),
    chunk(#"[{"name": "transpose", "configuration": {"order": [1, 0]}}, {"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}]"#),
    chunk(#"[{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}, {"name": "gzip", "configuration": {"level": 1}}]"#),
  ]

  @Sendable static func runShard(_ bytes: [UInt8]) { run(bytes, variants: sharded) }
  @Sendable static func runChunk(_ bytes: [UInt8]) { run(bytes, variants: unsharded) }

  /// Picks the variant with the first byte and decodes the rest as the stored chunk.
  static func run(_ bytes: [UInt8], variants: [String]) {
    guard let first = bytes.first else { return }
    let store = MemoryStore()
    try? store.set("zarr.json", Array(variants[Int(first) % variants.count].utf8))
    try? store.set("c/0/0", Array(bytes.dropFirst()))
    guard let array = try? ZarrArray.open(in: store) else { fuzzFailure("variant \(Int(first) % variants.count) does not open") }
    _ = try? array.read()
    _ = try? array.read([1..<3, 5..<8])
    _ = try? array.readChunk([0, 0])
  }

  static func shard(inner: String, index: String = #"[{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}]"#,
    location: String = "end") -> String
  {
    """
    {"zarr_format": 3, "node_type": "array", "shape": [8, 8], "data_type": "uint16",
     "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [8, 8]}},
     "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}}, "fill_value": 0,
     "codecs": [{"name": "sharding_indexed", "configuration": {"chunk_shape": [4, 4], "codecs": \(inner),
       "index_codecs": \(index), "index_location": "\(location)"}}]}
    """
  }

  static func chunk(_ codecs: String) -> String {
    """
    {"zarr_format": 3, "node_type": "array", "shape": [8, 8], "data_type": "uint16",
     "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [8, 8]}},
     "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}}, "fill_value": 0,
     "codecs": \(codecs)}
    """
  }
}
