/// Whether a stored chunk or shard is whole, for resumed writes (``ZarrArray/skipStoredChunks``).
///
/// A write interrupted by a crash outside our control (power loss, a killed copy, a full disk on a
/// store without atomic writes) can leave an object truncated or with a zeroed tail. A resumed write
/// skips only objects that pass this check and rewrites the others.
extension CodecChain {
  /// Whether the object at `key` is stored and decodes: for a shard (sharding without
  /// bytes-to-bytes codecs after it) its index decodes, passes the index codecs' checksum and
  /// describes the object exactly; for any other chunk the whole chunk decodes.
  /// - Throws: only store failures; corrupt data answers `false`.
  package func storedChunkIsIntact(_ key: String, in store: any Store) throws -> Bool {
    if bytesToBytes.isEmpty, let sharding = arrayToBytes as? ShardingCodec {
      return try sharding.storedShardIsIntact(key, in: store)
    }
    guard let bytes = try store.get(key) else { return false }
    do {
      _ = try decode(bytes)
      return true
    } catch {
      return false
    }
  }
}

extension ShardingCodec {
  /// Whether the shard at `key` is stored and whole: its index (read with one ranged read) decodes
  /// through the index codecs (with the default `crc32c`, a torn index fails its checksum), every
  /// entry lies inside the object, and the last inner chunk ends where the chunk data ends (so a
  /// zeroed index without a checksum is caught too). Inner chunks are not decoded.
  /// - Throws: only store failures; corrupt data answers `false`.
  package func storedShardIsIntact(_ key: String, in store: any Store) throws -> Bool {
    let found: (parts: [[UInt8]], size: Int)?
    do {
      found = try store.get(key, ranges: [indexRange(shardSize: 0)])
    } catch let e as ZarrError where e.code == .corruptData {
      return false  // smaller than its index
    }
    guard let (parts, size) = found, let indexBytes = parts.first, size >= indexSize else { return false }
    guard let index = try? decodeIndex(indexBytes, shardSize: size) else { return false }
    let dataEnd = indexLocation == .start ? size : size - indexSize
    var end: Int? = nil
    for i in 0..<chunkCount {
      if let r = index.range(i) { end = max(end ?? 0, r.upperBound) }
    }
    return end == dataEnd
  }
}
