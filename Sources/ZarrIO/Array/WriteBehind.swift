import Dispatch
import Synchronization

/// Runs writes in the background, up to `depth` at a time, so that encoding the next shard
/// overlaps writing the previous ones (memory: `depth` extra encoded shards). A local store needs
/// one; a remote store hides its latency with a few.
final class WriteBehind: Sendable {
  /// How many writes may run at once.
  let depth: Int
  private let slot: DispatchSemaphore
  private let failure = Mutex<(any Error)?>(nil)

  /// Up to `depth` writes at once.
  init(depth: Int = 1) {
    self.depth = max(1, depth)
    slot = DispatchSemaphore(value: self.depth)
  }

  /// Waits for a free slot, then starts `work`; rethrows an earlier write's error.
  func submit(_ work: @escaping @Sendable () throws -> Void) throws {
    slot.wait()
    if let e = failure.withLock({ $0 }) {
      slot.signal()
      throw e
    }
    // A thread of its own: a write to a remote store mostly waits, and Dispatch would count it
    // against the cores the encoders need.
    BlockingThreads.detach {
      do { try work() } catch { self.failure.withLock { if $0 == nil { $0 = error } } }
      self.slot.signal()
    }
  }

  /// Waits for every write; rethrows any write's error.
  func finish() throws {
    drain()
    if let e = failure.withLock({ $0 }) { throw e }
  }

  /// Waits until no write runs.
  private func drain() {
    for _ in 0..<depth { slot.wait() }
    for _ in 0..<depth { slot.signal() }
  }

  deinit {
    // Never leave a write running past the call that started it.
    drain()
  }
}
