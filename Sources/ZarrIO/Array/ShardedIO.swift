import Synchronization

/// Decoded shard indexes of one array, with the size of the shard object they were read from.
///
/// Shared by all copies of a ``ZarrArray`` value; entries are dropped when this process writes the
/// shard, and an index whose shard changed size is re-read.
final class ShardIndexCache: Sendable {
  struct Entry: Sendable {
    var index: ShardIndex
    var shardSize: Int
  }
  private let entries = Mutex<[String: Entry]>([:])
  /// Entries kept at most (about 2 KiB each for 128 inner chunks).
  let capacity = 16384

  func get(_ key: String) -> Entry? { entries.withLock { $0[key] } }

  func set(_ key: String, _ entry: Entry) {
    entries.withLock { e in
      if e.count >= capacity { e.removeAll(keepingCapacity: true) }
      e[key] = entry
    }
  }

  func invalidate(_ key: String) { _ = entries.withLock { $0.removeValue(forKey: key) } }
}

/// One inner chunk a sharded read needs.
private struct InnerRead {
  var shard: Int  // index into the batch's shard list
  var chunkOrigin: [Int]  // array coordinates of the inner chunk's first element
  var bytes: Range<Int>
}

extension ZarrArray {
  /// The index of the shard at `key` (cached), or `nil` when the shard is not stored.
  func shardIndex(_ key: String, _ sharding: ShardingCodec, refresh: Bool = false) throws -> ShardIndexCache.Entry? {
    if !refresh, let e = indexCache.get(key) { return e }
    guard let (parts, size) = try store.get(key, ranges: [sharding.indexRange(shardSize: 0)]) else {
      indexCache.invalidate(key)
      return nil
    }
    do {
      guard size >= sharding.indexSize else {
        throw ZarrError(.corruptData, "shard of \(size) bytes is smaller than its \(sharding.indexSize)-byte index")
      }
      let entry = ShardIndexCache.Entry(index: try sharding.decodeIndex(parts[0], shardSize: size), shardSize: size)
      indexCache.set(key, entry)
      return entry
    } catch {
      throw error.at(key: key)
    }
  }

  /// Reads `region` of a sharded array: only shard indexes and the inner chunks the region needs.
  func readSharded(_ region: [Range<Int>], into destination: UnsafeMutableRawPointer, sharding: ShardingCodec) throws {
    let shards = chunks(intersecting: region)
    let regionShape = region.map(\.count)
    let elementSize = dataType.size
    let innerShape = sharding.chunkShape
    let shardShape = chunkShape
    let target = SendableRawPointer(destination)
    // Shards are handled in batches so that the compressed bytes in memory stay bounded.
    let batchShards = max(2 * concurrency, 8)
    let maxBatchBytes = 64 << 20
    var start = 0
    while start < shards.count {
      let batch = Array(shards[start..<min(start + batchShards, shards.count)])
      start += batch.count
      let keys = batch.map(chunkKey)
      // 1. Indexes (cached after the first read).
      let indexSlots = ResultSlots<ShardIndexCache.Entry>(count: batch.count)
      try Parallel.forEach(batch.count, width: concurrency) { i in
        if let e = try shardIndex(keys[i], sharding) { indexSlots.set(i, e) }
      }
      let indexes = indexSlots.values
      // 2. The inner chunks each shard must provide.
      var reads: [InnerRead] = []
      for (s, coords) in batch.enumerated() {
        guard let entry = indexes[s] else { continue }
        var lo: [Int] = [], hi: [Int] = []
        for d in 0..<coords.count {
          let shardStart = coords[d] * shardShape[d]
          lo.append((max(region[d].lowerBound, shardStart) - shardStart) / innerShape[d])
          hi.append((min(region[d].upperBound, shardStart + shardShape[d]) - 1 - shardStart) / innerShape[d])
        }
        var inner = lo
        while true {
          if let r = entry.index.range(ShardIndex.linear(inner, grid: sharding.chunksPerShard)) {
            let origin = (0..<coords.count).map { coords[$0] * shardShape[$0] + inner[$0] * innerShape[$0] }
            reads.append(InnerRead(shard: s, chunkOrigin: origin, bytes: r))
          }
          var k = coords.count - 1
          while k >= 0 {
            inner[k] += 1
            if inner[k] <= hi[k] { break }
            inner[k] = lo[k]
            k -= 1
          }
          if k < 0 { break }
        }
      }
      // 3. Read merged byte ranges, then decode every inner chunk in parallel, in sub-batches.
      var first = 0
      while first < reads.count {
        var last = first
        var bytes = 0
        while last < reads.count && (last == first || bytes + reads[last].bytes.count <= maxBatchBytes) {
          bytes += reads[last].bytes.count
          last += 1
        }
        let part = Array(reads[first..<last])
        first = last
        let groups = ZarrArray.mergeRanges(part)
        let fetched = ResultSlots<[UInt8]>(count: groups.count)
        try Parallel.forEach(groups.count, width: concurrency) { g in
          let key = keys[groups[g].shard]
          guard let (parts, size) = try store.get(key, ranges: [.range(offset: groups[g].range.lowerBound, length: groups[g].range.count)]),
            size == indexes[groups[g].shard]?.shardSize
          else {
            indexCache.invalidate(key)
            throw ZarrError(.corruptData, "shard changed while being read (another writer?); read again", key: key)
          }
          fetched.set(g, parts[0])
        }
        let data = fetched.values
        // Which group holds each read.
        var owners = [Int](repeating: 0, count: part.count)
        for (g, grp) in groups.enumerated() { for r in grp.members { owners[r] = g } }
        let owner = owners
        try Parallel.forEach(part.count, width: concurrency) { r in
          let read = part[r]
          let g = owner[r]
          let base = groups[g].range.lowerBound
          let key = keys[read.shard]
          guard let blob = data[g] else { return }
          let chunk: [UInt8]
          do {
            chunk = try sharding.inner.decode(Array(blob[(read.bytes.lowerBound - base)..<(read.bytes.upperBound - base)]))
          } catch {
            throw error.at(key: key)
          }
          var srcOrigin: [Int] = [], dstOrigin: [Int] = [], extent: [Int] = []
          for d in 0..<read.chunkOrigin.count {
            let lo = max(read.chunkOrigin[d], region[d].lowerBound)
            let hi = min(read.chunkOrigin[d] + innerShape[d], region[d].upperBound)
            srcOrigin.append(lo - read.chunkOrigin[d])
            dstOrigin.append(lo - region[d].lowerBound)
            extent.append(hi - lo)
          }
          chunk.withUnsafeBytes { src in
            ElementOps.copyRegion(from: src.baseAddress!, shape: innerShape, origin: srcOrigin,
              to: target.pointer!, shape: regionShape, origin: dstOrigin, extent: extent, elementSize: elementSize)
          }
        }
      }
    }
  }

  /// Groups reads of one shard whose byte ranges are close into single ranged reads.
  private static func mergeRanges(_ reads: [InnerRead]) -> [(shard: Int, range: Range<Int>, members: [Int])] {
    let maxGap = 1 << 20, maxLength = 16 << 20
    let order = reads.indices.sorted {
      (reads[$0].shard, reads[$0].bytes.lowerBound) < (reads[$1].shard, reads[$1].bytes.lowerBound)
    }
    var out: [(shard: Int, range: Range<Int>, members: [Int])] = []
    for i in order {
      let r = reads[i]
      if let last = out.last, last.shard == r.shard, r.bytes.lowerBound - last.range.upperBound <= maxGap,
        r.bytes.upperBound - last.range.lowerBound <= maxLength
      {
        out[out.count - 1].range = last.range.lowerBound..<max(last.range.upperBound, r.bytes.upperBound)
        out[out.count - 1].members.append(i)
      } else {
        out.append((r.shard, r.bytes, [i]))
      }
    }
    return out
  }

  /// Writes `source` (of `sourceShape`, placed at `region`) into a sharded array.
  ///
  /// Shards the region covers are encoded once and written without being read; partly covered
  /// shards are read, updated and rewritten under a per-shard lock, keeping the encoded bytes of
  /// inner chunks the write does not touch.
  func writeSharded(_ region: [Range<Int>], from source: UnsafeRawPointer, sharding: ShardingCodec) throws {
    let shards = chunks(intersecting: region)
    let sourceShape = region.map(\.count)
    let elementSize = dataType.size
    let innerShape = sharding.chunkShape
    let shardShape = chunkShape
    let shape = self.shape
    let fill = fillValue
    let src = SendableRawPointer(UnsafeMutableRawPointer(mutating: source))
    // Parallel over shards when a shard has fewer inner chunks than there are threads, else over
    // the inner chunks of one shard at a time (memory: one shard's encoded chunks).
    let outerWidth = sharding.chunkCount >= concurrency ? 1 : concurrency
    let innerWidth = outerWidth == 1 ? concurrency : 1
    try Parallel.forEach(shards.count, width: outerWidth) { s in
      let coords = shards[s]
      let key = chunkKey(coords)
      let shardStart = zip(coords, shardShape).map(*)
      var covered = true
      for d in 0..<coords.count {
        let lo = max(region[d].lowerBound, shardStart[d])
        let hi = min(region[d].upperBound, shardStart[d] + shardShape[d])
        if lo != shardStart[d] || hi != min(shardStart[d] + shardShape[d], shape[d]) { covered = false }
      }
      // Encodes inner chunk `i`, given the existing encoded bytes (nil: absent) for partial updates.
      let encodeChunk = { @Sendable (i: Int, existing: [UInt8]?) throws -> [UInt8]? in
        let inner = ShardIndex.coordinates(i, grid: sharding.chunksPerShard)
        let origin = (0..<inner.count).map { shardStart[$0] + inner[$0] * innerShape[$0] }
        var srcOrigin: [Int] = [], dstOrigin: [Int] = [], extent: [Int] = []
        var touched = true, whole = true
        for d in 0..<inner.count {
          let lo = max(origin[d], region[d].lowerBound)
          let hi = min(origin[d] + innerShape[d], region[d].upperBound)
          if hi <= lo { touched = false; break }
          if lo != origin[d] || hi != min(origin[d] + innerShape[d], shape[d]) { whole = false }
          srcOrigin.append(lo - region[d].lowerBound)
          dstOrigin.append(lo - origin[d])
          extent.append(hi - lo)
        }
        if !touched { return existing }
        var chunk: [UInt8]
        if !whole, let existing {
          chunk = try sharding.inner.decode(existing)
        } else {
          chunk = ArrayBuffer(shape: innerShape, dataType: dataType, fill: fill).bytes
        }
        chunk.withUnsafeMutableBytes { dst in
          ElementOps.copyRegion(from: src.pointer!, shape: sourceShape, origin: srcOrigin,
            to: dst.baseAddress!, shape: innerShape, origin: dstOrigin, extent: extent, elementSize: elementSize)
        }
        if !writeEmptyChunks, chunk.withUnsafeBytes({ ElementOps.allEqual($0, to: fill.bytes) }) { return nil }
        return try sharding.inner.encode(chunk)
      }
      let store = self.store
      let writeShard = { (encoded: [[UInt8]?]) throws in
        if encoded.allSatisfy({ $0 == nil }) {
          try store.delete(key)
        } else {
          try store.set(key, parts: try sharding.assembleParts(encoded))
        }
        indexCache.invalidate(key)
      }
      do {
        if covered {
          let slots = ResultSlots<[UInt8]>(count: sharding.chunkCount)
          try Parallel.forEach(sharding.chunkCount, width: innerWidth) { i in
            if let e = try encodeChunk(i, nil) { slots.set(i, e) }
          }
          try writeShard(slots.values)
        } else {
          try ObjectLocks.withLock(key) {
            let existing = try store.get(key)
            var index: ShardIndex? = nil
            if let bytes = existing {
              guard bytes.count >= sharding.indexSize else {
                throw ZarrError(.corruptData, "shard of \(bytes.count) bytes is smaller than its \(sharding.indexSize)-byte index")
              }
              let indexBytes = sharding.indexLocation == .start
                ? Array(bytes[0..<sharding.indexSize]) : Array(bytes[(bytes.count - sharding.indexSize)...])
              index = try sharding.decodeIndex(indexBytes, shardSize: bytes.count)
            }
            let oldIndex = index
            let slots = ResultSlots<[UInt8]>(count: sharding.chunkCount)
            try Parallel.forEach(sharding.chunkCount, width: innerWidth) { i in
              let old = oldIndex?.range(i).flatMap { r in existing.map { Array($0[r]) } }
              if let e = try encodeChunk(i, old) { slots.set(i, e) }
            }
            try writeShard(slots.values)
          }
        }
      } catch {
        throw error.at(key: key)
      }
    }
  }
}
