import Dispatch
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
  ///
  /// `destination` (the region's elements, C order) need not be initialised: parts without stored
  /// data are filled with the fill value. Shards go in batches so that memory stays bounded: per
  /// worker one merged byte range (at most a few MiB) and one decoded inner chunk.
  func readSharded(_ region: [Range<Int>], into destination: UnsafeMutableRawPointer, sharding: ShardingCodec) throws {
    let shards = chunks(intersecting: region)
    let regionShape = region.map(\.count)
    let elementSize = dataType.size
    let innerShape = sharding.chunkShape
    let innerBytes = sharding.inner.spec.byteCount
    let shardShape = chunkShape
    let fill = fillValue.bytes
    let target = SendablePointer(destination)
    let width = concurrency
    let fetchBuffers = WorkerBuffers(workers: width)
    let chunkBuffers = WorkerBuffers(workers: width)
    let shape = self.shape
    @Sendable func clip(_ origin: [Int], _ extent: [Int]) -> Overlap? {
      Overlap(box: origin, shape: extent, region: region, arrayShape: shape)
    }
    let batchShards = max(2 * width, 8)
    var start = 0
    while start < shards.count {
      let batch = Array(shards[start..<min(start + batchShards, shards.count)])
      start += batch.count
      let keys = batch.map(chunkKey)
      // 1. Indexes (cached after the first read).
      let indexSlots = ResultSlots<ShardIndexCache.Entry>(count: batch.count)
      try Parallel.forEach(batch.count, width: width) { i in
        if let e = try shardIndex(keys[i], sharding) { indexSlots.set(i, e) }
      }
      let indexes = indexSlots.values
      // 2. The inner chunks to read, and the boxes without stored data.
      var readList: [InnerRead] = []
      var fillList: [(origin: [Int], extent: [Int])] = []
      for (s, coords) in batch.enumerated() {
        let shardOrigin = zip(coords, shardShape).map(*)
        guard let entry = indexes[s] else {
          fillList.append((shardOrigin, shardShape))
          continue
        }
        var lo: [Int] = [], hi: [Int] = []
        for d in 0..<coords.count {
          lo.append((max(region[d].lowerBound, shardOrigin[d]) - shardOrigin[d]) / innerShape[d])
          hi.append((min(region[d].upperBound, shardOrigin[d] + shardShape[d]) - 1 - shardOrigin[d]) / innerShape[d])
        }
        var inner = lo
        while true {
          let origin = (0..<coords.count).map { shardOrigin[$0] + inner[$0] * innerShape[$0] }
          if let r = entry.index.range(ShardIndex.linear(inner, grid: sharding.chunksPerShard)) {
            readList.append(InnerRead(shard: s, chunkOrigin: origin, bytes: r))
          } else {
            fillList.append((origin, innerShape))
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
      // 3. Each worker reads a merged byte range and decodes its chunks, or fills a box.
      let reads = readList, fills = fillList
      let groups = ZarrArray.mergeRanges(reads)
      try Parallel.forEachWorker(groups.count + fills.count, width: width) { worker, item in
        guard item < groups.count else {
          let f = fills[item - groups.count]
          if let c = clip(f.origin, f.extent) {
            ElementOps.fillRegion(target.pointer, shape: regionShape, origin: c.inRegion, extent: c.extent, element: fill)
          }
          return
        }
        let group = groups[item]
        let key = keys[group.shard]
        let blob = fetchBuffers.buffer(worker, count: group.range.count)
        let size = try store.read(key, range: group.range, into: blob)
        guard size == indexes[group.shard]?.shardSize else {
          indexCache.invalidate(key)
          throw ZarrError(.corruptData, "shard changed while being read (another writer?); read again", key: key)
        }
        for m in group.members {
          let read = reads[m]
          let input = UnsafeRawBufferPointer(rebasing: blob[(read.bytes.lowerBound - group.range.lowerBound)..<(read.bytes.upperBound - group.range.lowerBound)])
          guard let c = clip(read.chunkOrigin, innerShape) else { continue }
          do {
            if c.extent == innerShape && regionShape == innerShape {
              // The region is exactly this chunk: decode in place.
              try sharding.inner.decode(input, into: UnsafeMutableRawBufferPointer(start: target.pointer, count: innerBytes))
            } else {
              let chunk = chunkBuffers.buffer(worker, count: innerBytes)
              try sharding.inner.decode(input, into: chunk)
              ElementOps.copyRegion(from: chunk.baseAddress!, shape: innerShape, origin: c.inBox,
                to: target.pointer, shape: regionShape, origin: c.inRegion, extent: c.extent, elementSize: elementSize)
            }
          } catch {
            throw error.at(key: key)
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

  /// Writes `source` (the elements of `region`, C order) into a sharded array.
  ///
  /// Shards the region covers are encoded once and written without being read; partly covered
  /// shards are read, updated and rewritten under a per-shard lock, keeping the encoded bytes of
  /// inner chunks the write does not touch. Inner chunks equal to the fill value are left out; a
  /// shard left without chunks is deleted.
  func writeSharded(_ region: [Range<Int>], from source: UnsafeRawPointer, sharding: ShardingCodec) throws {
    let shards = chunks(intersecting: region)
    let sourceShape = region.map(\.count)
    let elementSize = dataType.size
    let innerShape = sharding.chunkShape
    let innerBytes = sharding.inner.spec.byteCount
    let shardShape = chunkShape
    let shape = self.shape
    let fill = fillValue
    let keepEmpty = writeEmptyChunks
    let src = SendablePointer(UnsafeMutableRawPointer(mutating: source))
    // Parallel over shards when a shard has fewer inner chunks than there are threads; else over the
    // inner chunks of one shard at a time, writing each shard while the next is encoded.
    let outerWidth = sharding.chunkCount >= concurrency ? 1 : concurrency
    let innerWidth = outerWidth == 1 ? concurrency : 1
    let scratch = WorkerBuffers(workers: concurrency)
    let arenas = (0..<(outerWidth == 1 ? 2 : outerWidth)).map { _ in ShardArena(sharding) }
    let writeBehind = WriteBehind()

    // Builds inner chunk `i` of the shard at `shardStart` in `chunk`: from the source where the
    // region covers it, else from `existing` (the decoded old chunk) or the fill value.
    // Returns false when the region does not touch the chunk.
    @Sendable func build(_ i: Int, _ shardStart: [Int], _ chunk: UnsafeMutableRawBufferPointer, existing: [UInt8]?) throws -> Bool {
      let inner = ShardIndex.coordinates(i, grid: sharding.chunksPerShard)
      let origin = (0..<inner.count).map { shardStart[$0] + inner[$0] * innerShape[$0] }
      guard let o = Overlap(box: origin, shape: innerShape, region: region, arrayShape: shape) else { return false }
      let whole = o.coversBox, edge = o.boxCrossesEdge
      if !whole, let existing {
        try existing.withUnsafeBytes { try sharding.inner.decode($0, into: chunk) }
      } else if !whole || edge {
        ElementOps.fill(chunk, with: fill.bytes)
      }
      ElementOps.copyRegion(from: src.pointer, shape: sourceShape, origin: o.inRegion,
        to: chunk.baseAddress!, shape: innerShape, origin: o.inBox, extent: o.extent, elementSize: elementSize)
      return true
    }
    @Sendable func isEmpty(_ chunk: UnsafeMutableRawBufferPointer) -> Bool {
      !keepEmpty && ElementOps.allEqual(UnsafeRawBufferPointer(chunk), to: fill.bytes)
    }
    let store = self.store
    let cache = indexCache
    @Sendable func put(_ key: String, _ shard: UnsafeRawBufferPointer?) throws {
      if let shard { try store.set(key, bytes: shard) } else { try store.delete(key) }
      cache.invalidate(key)
    }

    do {
      try Parallel.forEachWorker(shards.count, width: outerWidth) { outer, s in
        let coords = shards[s]
        let key = chunkKey(coords)
        let shardStart = zip(coords, shardShape).map(*)
        let covered = Overlap(box: shardStart, shape: shardShape, region: region, arrayShape: shape)?.coversBox ?? false
        let slotOf = { @Sendable (w: Int) in outerWidth > 1 ? outer : w }
        do {
          if covered, skipStoredChunks, try store.exists(key) { return }
          if covered, let arena = arenas[outerWidth == 1 ? s % 2 : outer] {
            // Fast path: encode every chunk into the arena, pack, write (in the background).
            arena.reset()
            try Parallel.forEachWorker(sharding.chunkCount, width: innerWidth) { w, i in
              let chunk = scratch.buffer(slotOf(w), count: innerBytes)
              guard try build(i, shardStart, chunk, existing: nil), !isEmpty(chunk) else { return }
              try arena.encode(i, UnsafeRawBufferPointer(chunk))
            }
            // The shard lock orders this write with concurrent partial updates of the same shard.
            if outerWidth == 1 {
              try writeBehind.submit { try ObjectLocks.withLock(key) { try arena.pack { try put(key, $0) } } }
            } else {
              try ObjectLocks.withLock(key) { try arena.pack { try put(key, $0) } }
            }
            return
          }
          // General path: the shard's chunks as arrays; partial updates read the shard first.
          // (Background writes finish first, so an arena is never reused while being written.)
          try writeBehind.finish()
          try ObjectLocks.withLock(key) {
            var existing: [UInt8]? = nil
            var index: ShardIndex? = nil
            if !covered, let bytes = try store.get(key) {
              guard bytes.count >= sharding.indexSize else {
                throw ZarrError(.corruptData, "shard of \(bytes.count) bytes is smaller than its \(sharding.indexSize)-byte index")
              }
              let indexBytes = sharding.indexLocation == .start
                ? Array(bytes[0..<sharding.indexSize]) : Array(bytes[(bytes.count - sharding.indexSize)...])
              index = try sharding.decodeIndex(indexBytes, shardSize: bytes.count)
              existing = bytes
            }
            let (old, oldIndex) = (existing, index)
            let slots = ResultSlots<[UInt8]>(count: sharding.chunkCount)
            try Parallel.forEachWorker(sharding.chunkCount, width: innerWidth) { w, i in
              let previous = oldIndex?.range(i).flatMap { r in old.map { Array($0[r]) } }
              let chunk = scratch.buffer(slotOf(w), count: innerBytes)
              guard try build(i, shardStart, chunk, existing: previous) else {
                if let previous { slots.set(i, previous) }  // untouched: keep the encoded bytes
                return
              }
              if !isEmpty(chunk) { slots.set(i, try sharding.inner.encode(UnsafeRawBufferPointer(chunk))) }
            }
            let encoded = slots.values
            if encoded.allSatisfy({ $0 == nil }) {
              try put(key, nil)
            } else {
              try sharding.assemble(encoded).withUnsafeBytes { try put(key, $0) }
            }
          }
        } catch {
          throw error.at(key: key)
        }
      }
    } catch {
      try? writeBehind.finish()
      throw error
    }
    try writeBehind.finish()
  }
}

/// Runs writes on a background queue, one at a time, so that encoding the next shard overlaps
/// writing the previous one (memory: one extra encoded shard).
final class WriteBehind: Sendable {
  private let queue = DispatchQueue(label: "ZarrIO.write-behind")
  private let slot = DispatchSemaphore(value: 1)
  private let failure = Mutex<(any Error)?>(nil)

  /// Waits for the previous write, then starts `work`; rethrows an earlier write's error.
  func submit(_ work: @escaping @Sendable () throws -> Void) throws {
    slot.wait()
    if let e = failure.withLock({ $0 }) {
      slot.signal()
      throw e
    }
    queue.async {
      do { try work() } catch { self.failure.withLock { if $0 == nil { $0 = error } } }
      self.slot.signal()
    }
  }

  /// Waits for the last write; rethrows any write's error.
  func finish() throws {
    slot.wait()
    slot.signal()
    if let e = failure.withLock({ $0 }) { throw e }
  }

  deinit {
    // Never leave a write running past the call that started it.
    slot.wait()
    slot.signal()
  }
}
