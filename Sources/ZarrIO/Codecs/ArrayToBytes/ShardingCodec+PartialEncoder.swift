import Dispatch

/// Partial writes of shards: shards a write covers are encoded once and written without being
/// read; partly covered shards are read, updated and rewritten under a per-shard lock, keeping the
/// encoded bytes of inner chunks the write does not touch. Inner chunks equal to the fill value are
/// left out; a shard left without chunks is deleted.
extension ShardingCodec {
  /// Writes the box of each part (one per shard) from `source`.
  package func encode(
    _ parts: [ChunkPart], from source: UnsafeRawPointer, sourceShape: [Int], to store: any Store, options: PartialWriteOptions
  ) throws {
    let elementSize = inner.spec.dataType.size
    let innerShape = innerChunkShape
    let innerBytes = inner.spec.byteCount
    let grid = chunksPerShard
    let fill = inner.spec.fillValue
    let keepEmpty = options.writeEmptyChunks
    let concurrency = max(1, options.concurrency)
    let src = SendablePointer(source)
    // Parallel over shards when a shard has fewer inner chunks than there are threads; else over the
    // inner chunks of one shard at a time, writing each shard while the next is encoded.
    let outerWidth = chunkCount >= concurrency ? 1 : concurrency
    let innerWidth = outerWidth == 1 ? concurrency : 1
    let scratch = WorkerBuffers(workers: concurrency)
    // A remote store gets a few shards in flight; each needs its own arena while it is written.
    let writeBehind = WriteBehind(depth: store.ioConcurrency == nil ? 1 : 3)
    let arenas = (0..<(outerWidth == 1 ? writeBehind.depth + 1 : outerWidth)).map { _ in ShardArena(self) }
    // Background writes may finish in any order: an arena is taken only once its last write is done.
    let arenaFree = arenas.map { _ in DispatchSemaphore(value: 1) }

    // Builds inner chunk `i` of `part`'s shard in `chunk`: from the source where the part covers it,
    // else from `existing` (the encoded old chunk) or the fill value.
    // Returns false when the part does not touch the chunk.
    @Sendable func build(_ i: Int, _ part: ChunkPart, _ chunk: UnsafeMutableRawBufferPointer, existing: [UInt8]?) throws -> Bool {
      let origin = zip(ShardIndex.coordinates(i, grid: grid), innerShape).map(*)
      guard let o = Overlap(box: origin, shape: innerShape, region: part.region, arrayShape: part.validShape),
        let base = chunk.baseAddress
      else { return false }
      let whole = o.coversBox, edge = o.boxCrossesEdge
      if !whole, let existing {
        try existing.withUnsafeBytes { try inner.decode($0, into: chunk) }
      } else if !whole || edge {
        ElementOps.fill(chunk, with: fill.bytes)
      }
      ElementOps.copyRegion(from: src.pointer, shape: sourceShape, origin: zip(part.bufferOrigin, o.inRegion).map(+),
        to: base, shape: innerShape, origin: o.inBox, extent: o.extent, elementSize: elementSize)
      return true
    }
    @Sendable func isEmpty(_ chunk: UnsafeMutableRawBufferPointer) -> Bool {
      !keepEmpty && ElementOps.allEqual(UnsafeRawBufferPointer(chunk), to: fill.bytes)
    }
    let cache = indexCache
    @Sendable func put(_ key: String, _ shard: UnsafeRawBufferPointer?) throws {
      if let shard { try store.set(key, bytes: shard) } else { try store.delete(key) }
      cache.invalidate(key)
    }

    do {
      try Parallel.forEachWorker(parts.count, width: outerWidth) { outer, s in
        let part = parts[s]
        let key = part.key
        let zero = [Int](repeating: 0, count: shardShape.count)
        let covered = Overlap(box: zero, shape: shardShape, region: part.region, arrayShape: part.validShape)?.coversBox ?? false
        let slotOf = { @Sendable (w: Int) in outerWidth > 1 ? outer : w }
        do {
          if covered, options.skipStoredChunks, try storedShardIsIntact(key, in: store) { return }
          let slot = outerWidth == 1 ? s % arenas.count : outer
          if covered, let arena = arenas[slot] {
            // Fast path: encode every chunk into the arena, pack, write (in the background).
            if outerWidth == 1 { arenaFree[slot].wait() }
            arena.reset()
            do {
              try Parallel.forEachWorker(chunkCount, width: innerWidth) { w, i in
                let chunk = scratch.buffer(slotOf(w), count: innerBytes)
                guard try build(i, part, chunk, existing: nil), !isEmpty(chunk) else { return }
                try arena.encode(i, UnsafeRawBufferPointer(chunk))
              }
            } catch {
              if outerWidth == 1 { arenaFree[slot].signal() }
              throw error
            }
            // The shard lock orders this write with concurrent partial updates of the same shard.
            if outerWidth == 1 {
              let free = arenaFree[slot]
              do {
                try writeBehind.submit {
                  defer { free.signal() }
                  try ObjectLocks.withLock(key) { try arena.pack { try put(key, $0) } }
                }
              } catch {
                free.signal()
                throw error
              }
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
              guard bytes.count >= indexSize else {
                throw ZarrError(.corruptData, "shard of \(bytes.count) bytes is smaller than its \(indexSize)-byte index")
              }
              let indexBytes = indexLocation == .start ? Array(bytes[0..<indexSize]) : Array(bytes[(bytes.count - indexSize)...])
              index = try decodeIndex(indexBytes, shardSize: bytes.count)
              existing = bytes
            }
            let (old, oldIndex) = (existing, index)
            let slots = ResultSlots<[UInt8]>(count: chunkCount)
            try Parallel.forEachWorker(chunkCount, width: innerWidth) { w, i in
              let previous = oldIndex?.range(i).flatMap { r in old.map { Array($0[r]) } }
              let chunk = scratch.buffer(slotOf(w), count: innerBytes)
              guard try build(i, part, chunk, existing: previous) else {
                if let previous { slots.set(i, previous) }  // untouched: keep the encoded bytes
                return
              }
              if !isEmpty(chunk) { slots.set(i, try inner.encode(UnsafeRawBufferPointer(chunk))) }
            }
            let encoded = slots.values
            if encoded.allSatisfy({ $0 == nil }) {
              try put(key, nil)
            } else {
              try assemble(encoded).withUnsafeBytes { try put(key, $0) }
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
