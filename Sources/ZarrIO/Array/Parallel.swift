import Dispatch
import Synchronization

/// Runs work items on up to `width` threads, stopping at the first error: the one parallel-for of
/// the package (ZarrIO, OMEZarr and the converter all use it).
///
/// Memory stays bounded: at most `width` items are in flight at once.
package enum Parallel {
  /// The number of cores this process may use.
  package static var processorCount: Int {
    #if canImport(Glibc) || canImport(Musl)
      let n = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
      return max(n, 1)
    #else
      return max(ProcessInfoShim.activeProcessorCount, 1)
    #endif
  }

  /// Runs `body` for every item in `0..<count` on up to `width` threads; rethrows the first error.
  package static func forEach(_ count: Int, width: Int, _ body: @Sendable (Int) throws -> Void) throws {
    try forEachWorker(count, width: width) { _, i in try body(i) }
  }

  /// Like ``forEach(_:width:_:)``, also passing the worker number (`0..<width`): a worker runs its
  /// items one after another, so per-worker scratch space needs no lock.
  package static func forEachWorker(_ count: Int, width: Int, _ body: @Sendable (_ worker: Int, _ item: Int) throws -> Void) throws {
    if count == 0 { return }
    let threads = max(1, min(width, count))
    if threads == 1 {
      for i in 0..<count { try body(0, i) }
      return
    }
    let next = Atomic<Int>(0)
    let failure = Mutex<(any Error)?>(nil)
    let failed = Atomic<Bool>(false)
    withoutActuallyEscaping(body) { body in
      let work: @Sendable (Int) -> Void = { worker in
        while !failed.load(ordering: .relaxed) {
          let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
          if i >= count { return }
          do {
            try body(worker, i)
          } catch {
            failure.withLock { if $0 == nil { $0 = error } }
            failed.store(true, ordering: .relaxed)
            return
          }
        }
      }
      // Dispatch runs no more threads than there are cores (on Linux even when they block), so
      // loops wider than that, whose items wait for a remote store, get threads of their own.
      if threads <= processorCount {
        DispatchQueue.concurrentPerform(iterations: threads, execute: work)
      } else {
        BlockingThreads.run(threads, work)
      }
    }
    if let e = failure.withLock({ $0 }) { throw e }
  }
}

extension Parallel {
  /// The threads a loop over `store` uses: the store's requests in flight when it is remote (they
  /// mostly wait), else `cores`.
  package static func ioWidth(_ store: any Store, cores: Int) -> Int {
    max(cores, store.ioConcurrency ?? 0)
  }
}

/// Lets at most `width` threads at a time through, so that CPU work (decoding, encoding) stays on
/// the cores while more threads wait for a remote store. A gate of width 0 lets everyone through.
package final class CoreGate: Sendable {
  private let slots: DispatchSemaphore?

  /// A gate for `width` threads when `threads` is larger (else none is needed).
  package init(width: Int, threads: Int) {
    slots = threads > width ? DispatchSemaphore(value: max(1, width)) : nil
  }

  /// Runs `body` once a slot is free.
  package func run<T>(_ body: () throws -> T) rethrows -> T {
    guard let slots else { return try body() }
    slots.wait()
    defer { slots.signal() }
    return try body()
  }
}

/// Threads of their own for work that blocks (remote requests): Dispatch keeps no more threads
/// running than there are cores, however long they wait.
package enum BlockingThreads {
  private final class Job {
    let work: @Sendable (Int) -> Void
    let index: Int
    init(_ work: @escaping @Sendable (Int) -> Void, _ index: Int) {
      self.work = work
      self.index = index
    }
  }

  /// Runs `work(0)` ... `work(count - 1)` at the same time, one thread each (`work(0)` on the
  /// calling thread), and returns when all have.
  package static func run(_ count: Int, _ work: @escaping @Sendable (Int) -> Void) {
    var started: [pthread_t] = []
    for i in 1..<max(1, count) {
      if let t = start(Job(work, i)) { started.append(t) } else { work(i) }
    }
    work(0)
    for t in started { pthread_join(t, nil) }
  }

  /// Runs `work` on a new thread that nobody waits for (it signals its own completion).
  package static func detach(_ work: @escaping @Sendable () -> Void) {
    if let t = start(Job({ _ in work() }, 0)) { pthread_detach(t) } else { work() }
  }

  /// A started thread running `job`, or `nil` when none could be created.
  private static func start(_ job: Job) -> pthread_t? {
    let context = Unmanaged.passRetained(job).toOpaque()
    #if canImport(Darwin)
      var thread: pthread_t? = nil
    #else
      var thread = pthread_t()
    #endif
    let rc = pthread_create(&thread, nil, { context in
      guard let context else { return nil }
      let job = Unmanaged<Job>.fromOpaque(context).takeRetainedValue()
      job.work(job.index)
      return nil
    }, context)
    guard rc == 0 else {
      Unmanaged<Job>.fromOpaque(context).release()
      return nil
    }
    return thread
  }
}

/// Grow-only byte buffers, one per worker, reused across the items of one parallel loop.
final class WorkerBuffers: @unchecked Sendable {
  private var buffers: [UnsafeMutableRawBufferPointer]

  init(workers: Int) {
    buffers = [UnsafeMutableRawBufferPointer](repeating: UnsafeMutableRawBufferPointer(start: nil, count: 0), count: max(workers, 1))
  }

  /// Worker `worker`'s buffer with at least `count` bytes (contents undefined).
  /// Only that worker may call this for its number while the loop runs.
  func buffer(_ worker: Int, count: Int) -> UnsafeMutableRawBufferPointer {
    if buffers[worker].count < count {
      buffers[worker].deallocate()
      buffers[worker] = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, 1), alignment: 64)
    }
    return UnsafeMutableRawBufferPointer(rebasing: buffers[worker][0..<count])
  }

  deinit {
    for b in buffers { b.deallocate() }
  }
}

/// One result slot per work item, filled by parallel workers: the one result box of the package.
package final class ResultSlots<T: Sendable>: Sendable {
  private let storage: Mutex<[T?]>

  /// `count` empty slots.
  package init(count: Int) { storage = Mutex([T?](repeating: nil, count: count)) }

  /// Stores the result of item `i`.
  package func set(_ i: Int, _ value: T) { storage.withLock { $0[i] = value } }

  /// The result of item `i`, if set.
  package subscript(_ i: Int) -> T? { storage.withLock { $0[i] } }

  /// Every slot, in item order (`nil` where no result was set).
  package var values: [T?] { storage.withLock { $0 } }
}

/// A pointer (raw, typed, buffer or opaque) handed to worker threads: the one Sendable pointer box
/// of the package.
///
/// Sound only when the threads touch disjoint parts of the memory, or one at a time (under a lock).
package struct SendablePointer<Pointer>: @unchecked Sendable {
  /// The wrapped pointer.
  package let pointer: Pointer
  /// Wraps `pointer`.
  package init(_ pointer: Pointer) { self.pointer = pointer }
}

/// Striped locks that serialise read-modify-write of one stored object within this process.
enum ObjectLocks {
  final class Stripe: Sendable {
    let mutex = Mutex(())
  }
  static let stripes: [Stripe] = (0..<256).map { _ in Stripe() }

  /// Runs `body` while holding the lock of `key`.
  static func withLock<R>(_ key: String, _ body: () throws -> R) throws -> R {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in key.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
    let stripe = stripes[Int(h % UInt64(stripes.count))]
    return try stripe.mutex.withLock { _ in try body() }
  }
}

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#else
  import Foundation
  enum ProcessInfoShim { static var activeProcessorCount: Int { ProcessInfo.processInfo.activeProcessorCount } }
#endif
