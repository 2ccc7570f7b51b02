import Synchronization

/// Decoded shard indexes of one array, with the size of the shard object they were read from.
///
/// Owned by a ``ShardingCodec`` and so shared by all copies of a ``ZarrArray`` value; entries are
/// dropped when this process writes the shard, and an index whose shard changed size is re-read.
final class ShardIndexCache: Sendable {
  /// A decoded index and the size of the shard it was read from.
  struct Entry: Sendable {
    var index: ShardIndex
    var shardSize: Int
  }
  private let entries = Mutex<[String: Entry]>([:])
  /// Entries kept at most (about 2 KiB each for 128 inner chunks).
  let capacity = 16384

  /// The cached entry of the shard at `key`.
  func get(_ key: String) -> Entry? { entries.withLock { $0[key] } }

  /// Caches `entry` for the shard at `key` (dropping everything when full).
  func set(_ key: String, _ entry: Entry) {
    entries.withLock { e in
      if e.count >= capacity { e.removeAll(keepingCapacity: true) }
      e[key] = entry
    }
  }

  /// Forgets the shard at `key` (after this process wrote or deleted it).
  func invalidate(_ key: String) { _ = entries.withLock { $0.removeValue(forKey: key) } }
}
