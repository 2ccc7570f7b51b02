/// A reusable buffer in which a shard object is built without per-chunk allocations.
///
/// Each inner chunk is encoded straight into its own slot (sized by the inner chain's bound on the
/// encoded size); ``pack(_:)`` then moves the chunks together in C order and adds the index. The
/// memory is reused from shard to shard, so pages are touched once.
final class ShardArena: @unchecked Sendable {
  let sharding: ShardingCodec
  let slotSize: Int
  private let header: Int
  private let buffer: UnsafeMutableRawBufferPointer
  /// Encoded length per chunk, -1 when empty; each worker writes only its own chunks' entries.
  private let lengths: UnsafeMutableBufferPointer<Int>

  /// An arena for `sharding`, or `nil` when its inner codecs cannot bound their encoded size.
  init?(_ sharding: ShardingCodec) {
    guard let bound = sharding.inner.maxEncodedSize else { return nil }
    self.sharding = sharding
    self.slotSize = bound
    self.header = sharding.indexLocation == .start ? sharding.indexSize : 0
    let total = header + sharding.chunkCount * bound + sharding.indexSize
    buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: total, alignment: 64)
    lengths = UnsafeMutableBufferPointer<Int>.allocate(capacity: sharding.chunkCount)
    lengths.initialize(repeating: -1)
  }

  deinit {
    buffer.deallocate()
    lengths.deallocate()
  }

  /// Marks every chunk empty (before building the next shard).
  func reset() { lengths.update(repeating: -1) }

  /// Encodes `chunk` (one decoded inner chunk) into slot `i`.
  func encode(_ i: Int, _ chunk: UnsafeRawBufferPointer) throws(ZarrError) {
    let slot = UnsafeMutableRawBufferPointer(rebasing: buffer[(header + i * slotSize)..<(header + (i + 1) * slotSize)])
    lengths[i] = try sharding.inner.encode(chunk, into: slot)
  }

  /// Stores already encoded bytes in slot `i` (an untouched chunk of a partial update).
  /// - Returns: `false` if they do not fit the slot.
  func store(_ i: Int, _ bytes: [UInt8]) -> Bool {
    guard bytes.count <= slotSize else { return false }
    bytes.withUnsafeBytes { if $0.count > 0 { (buffer.baseAddress! + header + i * slotSize).copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
    lengths[i] = bytes.count
    return true
  }

  /// Packs the chunks in C order, writes the index, and passes the shard object to `body`
  /// (`nil` when every chunk is empty).
  func pack<R>(_ body: (UnsafeRawBufferPointer?) throws -> R) throws -> R {
    var entries = [UInt64](repeating: ShardingCodec.empty, count: 2 * sharding.chunkCount)
    var offset = header
    var any = false
    for i in 0..<sharding.chunkCount where lengths[i] >= 0 {
      let n = lengths[i]
      let from = header + i * slotSize
      if from != offset, n > 0 { (buffer.baseAddress! + offset).copyMemory(from: buffer.baseAddress! + from, byteCount: n) }
      entries[2 * i] = UInt64(offset)
      entries[2 * i + 1] = UInt64(n)
      offset += n
      any = true
    }
    guard any else { return try body(nil) }
    let index = try sharding.encodeIndex(ShardIndex(entries: entries))
    let indexOffset = sharding.indexLocation == .start ? 0 : offset
    index.withUnsafeBytes { (buffer.baseAddress! + indexOffset).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    let end = sharding.indexLocation == .start ? offset : offset + index.count
    return try body(UnsafeRawBufferPointer(rebasing: buffer[0..<end]))
  }
}
