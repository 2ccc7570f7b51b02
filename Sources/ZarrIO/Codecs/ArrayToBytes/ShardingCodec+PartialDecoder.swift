import Dispatch

/// One inner chunk a sharded read needs.
private struct InnerRead {
  var shard: Int  // index into the batch's parts
  var chunkOrigin: [Int]  // shard coordinates of the inner chunk's first element
  var bytes: Range<Int>
}

/// Partial reads of shards: the index (one ranged read, then cached) and only the inner chunks a
/// region needs, with nearby byte ranges merged, decoded in parallel into the caller's buffer.
extension ShardingCodec: PartialArrayToBytesCodec {
  /// The index of the shard at `key` (cached), or `nil` when the shard is not stored.
  func shardIndex(_ key: String, in store: any Store) throws -> ShardIndexCache.Entry? {
    if let e = indexCache.get(key) { return e }
    guard let (parts, size) = try store.get(key, ranges: [indexRange(shardSize: 0)]) else {
      indexCache.invalidate(key)
      return nil
    }
    do {
      guard size >= indexSize, let indexBytes = parts.first else {
        throw ZarrError(.corruptData, "shard of \(size) bytes is smaller than its \(indexSize)-byte index")
      }
      let entry = ShardIndexCache.Entry(index: try decodeIndex(indexBytes, shardSize: size), shardSize: size)
      indexCache.set(key, entry)
      return entry
    } catch {
      throw error.at(key: key)
    }
  }

  /// Reads the box of each part (one per shard) into `output`.
  ///
  /// Shards go in batches so that memory stays bounded: per worker one merged byte range (at most a
  /// few MiB) and one decoded inner chunk. A remote store gets its ``Store/ioConcurrency`` requests
  /// in flight, while at most `width` threads decode at a time; a shard the region covers whole is
  /// read from a remote store with one request (index and chunks together), a few such shards at once.
  package func decode(
    _ parts: [ChunkPart], from store: any Store, into output: UnsafeMutableRawPointer, outputShape: [Int], concurrency width: Int
  ) throws {
    let elementSize = inner.spec.dataType.size
    let innerShape = innerChunkShape
    let innerBytes = inner.spec.byteCount
    let grid = chunksPerShard
    let fill = inner.spec.fillValue.bytes
    let target = SendablePointer(output)
    let threads = Parallel.ioWidth(store, cores: width)
    let gate = CoreGate(width: width, threads: threads)
    let fetchBuffers = WorkerBuffers(workers: threads)
    let chunkBuffers = WorkerBuffers(workers: threads)
    let batchShards = max(2 * threads, 8)
    let remote = store.ioConcurrency != nil
    // Whole shards in memory at once: about 256 MiB of them (by their decoded size), at least 2.
    let shardBytes = CheckedArithmetic.product(shardShape, times: elementSize) ?? Int.max
    let wholeSlots = DispatchSemaphore(value: max(2, min(threads, (256 << 20) / max(1, shardBytes))))
    let zero = [Int](repeating: 0, count: shardShape.count)

    /// Decodes the inner chunk at `origin` (shard coordinates) of `part` from `input` into the output.
    @Sendable func decodeChunk(_ input: UnsafeRawBufferPointer, origin: [Int], _ part: ChunkPart, worker: Int) throws {
      guard let c = Overlap(box: origin, shape: innerShape, region: part.region, arrayShape: part.validShape) else { return }
      if c.extent == innerShape && outputShape == innerShape {
        // The region is exactly this chunk: decode in place.
        try inner.decode(input, into: UnsafeMutableRawBufferPointer(start: target.pointer, count: innerBytes))
        return
      }
      let chunk = chunkBuffers.buffer(worker, count: innerBytes)
      try inner.decode(input, into: chunk)
      guard let decoded = chunk.baseAddress else { return }
      ElementOps.copyRegion(from: decoded, shape: innerShape, origin: c.inBox,
        to: target.pointer, shape: outputShape, origin: zip(part.bufferOrigin, c.inRegion).map(+), extent: c.extent,
        elementSize: elementSize)
    }

    /// Fills the box at `origin` of `extent` (shard coordinates) of `part` with the fill value.
    @Sendable func fillBox(origin: [Int], extent: [Int], _ part: ChunkPart) {
      if let c = Overlap(box: origin, shape: extent, region: part.region, arrayShape: part.validShape) {
        ElementOps.fillRegion(target.pointer, shape: outputShape, origin: zip(part.bufferOrigin, c.inRegion).map(+),
          extent: c.extent, element: fill)
      }
    }

    /// Reads the shard of `part` with one request and decodes every chunk of it.
    @Sendable func decodeWholeShard(_ part: ChunkPart, worker: Int) throws {
      wholeSlots.wait()
      defer { wholeSlots.signal() }
      guard let bytes = try store.get(part.key) else {
        indexCache.invalidate(part.key)
        fillBox(origin: zero, extent: shardShape, part)
        return
      }
      guard bytes.count >= indexSize else {
        throw ZarrError(.corruptData, "shard of \(bytes.count) bytes is smaller than its \(indexSize)-byte index", key: part.key)
      }
      let indexBytes = indexLocation == .start ? Array(bytes[0..<indexSize]) : Array(bytes[(bytes.count - indexSize)...])
      let index: ShardIndex
      do { index = try decodeIndex(indexBytes, shardSize: bytes.count) } catch { throw error.at(key: part.key) }
      indexCache.set(part.key, ShardIndexCache.Entry(index: index, shardSize: bytes.count))
      try gate.run {
        try bytes.withUnsafeBytes { blob in
          for i in 0..<chunkCount {
            let origin = zip(ShardIndex.coordinates(i, grid: grid), innerShape).map(*)
            guard let r = index.range(i) else {
              fillBox(origin: origin, extent: innerShape, part)
              continue
            }
            do {
              try decodeChunk(UnsafeRawBufferPointer(rebasing: blob[r]), origin: origin, part, worker: worker)
            } catch {
              throw error.at(key: part.key)
            }
          }
        }
      }
    }

    var start = 0
    while start < parts.count {
      let batch = Array(parts[start..<min(start + batchShards, parts.count)])
      start += batch.count
      // Shards read whole (remote stores, shards the region covers) skip the index request.
      // (Shards above 256 MiB decoded are read by index and ranges: one in memory would be too much.)
      let whole = batch.map { part in
        remote && shardBytes <= 256 << 20
          && (Overlap(box: zero, shape: shardShape, region: part.region, arrayShape: part.validShape)?.coversBox ?? false)
      }
      // 1. Indexes (cached after the first read).
      let indexSlots = ResultSlots<ShardIndexCache.Entry>(count: batch.count)
      try Parallel.forEach(batch.count, width: threads) { i in
        if !whole[i], let e = try shardIndex(batch[i].key, in: store) { indexSlots.set(i, e) }
      }
      let indexes = indexSlots.values
      // 2. The inner chunks to read, and the boxes without stored data (shard coordinates).
      var readList: [InnerRead] = []
      var fillList: [(shard: Int, origin: [Int], extent: [Int])] = []
      var wholeList: [Int] = []
      for (s, part) in batch.enumerated() {
        if whole[s] {
          wholeList.append(s)
          continue
        }
        guard let entry = indexes[s] else {
          fillList.append((s, part.region.map(\.lowerBound), part.region.map(\.count)))
          continue
        }
        let n = part.region.count
        let lo = (0..<n).map { part.region[$0].lowerBound / innerShape[$0] }
        let hi = (0..<n).map { (part.region[$0].upperBound - 1) / innerShape[$0] }
        var chunk = lo
        while true {
          let origin = (0..<n).map { chunk[$0] * innerShape[$0] }
          if let r = entry.index.range(ShardIndex.linear(chunk, grid: grid)) {
            readList.append(InnerRead(shard: s, chunkOrigin: origin, bytes: r))
          } else {
            fillList.append((s, origin, innerShape))
          }
          var k = n - 1
          while k >= 0 {
            chunk[k] += 1
            if chunk[k] <= hi[k] { break }
            chunk[k] = lo[k]
            k -= 1
          }
          if k < 0 { break }
        }
      }
      // 3. Each worker reads a whole shard, or a merged byte range and decodes its chunks, or fills a box.
      let reads = readList, fills = fillList, wholes = wholeList
      let groups = Self.mergeRanges(reads)
      try Parallel.forEachWorker(wholes.count + groups.count + fills.count, width: threads) { worker, item in
        if item < wholes.count {
          try decodeWholeShard(batch[wholes[item]], worker: worker)
          return
        }
        guard item - wholes.count < groups.count else {
          let f = fills[item - wholes.count - groups.count]
          fillBox(origin: f.origin, extent: f.extent, batch[f.shard])
          return
        }
        let group = groups[item - wholes.count]
        let part = batch[group.shard]
        let blob = fetchBuffers.buffer(worker, count: group.range.count)
        let size = try store.read(part.key, range: group.range, into: blob)
        guard size == indexes[group.shard]?.shardSize else {
          indexCache.invalidate(part.key)
          throw ZarrError(.corruptData, "shard changed while being read (another writer?); read again", key: part.key)
        }
        try gate.run {
          for m in group.members {
            let read = reads[m]
            let input = UnsafeRawBufferPointer(rebasing: blob[(read.bytes.lowerBound - group.range.lowerBound)..<(read.bytes.upperBound - group.range.lowerBound)])
            do {
              try decodeChunk(input, origin: read.chunkOrigin, part, worker: worker)
            } catch {
              throw error.at(key: part.key)
            }
          }
        }
      }
    }
  }

  /// Groups reads of one shard whose byte ranges are close into single ranged reads of at most 4 MiB.
  private static func mergeRanges(_ reads: [InnerRead]) -> [(shard: Int, range: Range<Int>, members: [Int])] {
    let maxGap = 256 << 10, maxLength = 4 << 20
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
}
