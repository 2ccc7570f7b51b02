import Dispatch
import Synchronization

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
