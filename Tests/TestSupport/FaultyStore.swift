import Synchronization
import ZarrIO

/// A ``Store`` wrapper for tests that counts operations and injects I/O failures: at the Nth read
/// or write, or at random with a seeded generator (so a failing run can be repeated).
///
///     let store = FaultyStore(MemoryStore(), failingWrite: 3)   // the third write throws
///     let random = FaultyStore(MemoryStore(), seed: 42, writeFailureRate: 0.1)
///
/// Reads are `get` (whole, ranged), `read(_:range:into:)` and `size(of:)`; writes are `set`,
/// `delete` and `deletePrefix`. Listing is neither. An injected failure is a `ZarrError` with code
/// `.storeFailure` naming the key, as a real I/O error would be; nothing is stored by a failed write.
public final class FaultyStore: Store {
  /// The wrapped store.
  public let base: any Store
  private let state: Mutex<State>

  struct State {
    var reads = 0
    var writes = 0
    var failReadAt: Int?
    var failWriteAt: Int?
    var persistent: Bool
    var rng: SplitMix64
    var readFailureRate: Double
    var writeFailureRate: Double
    var writtenKeys: [String] = []
    var failures = 0
  }

  /// Wraps `base`. `failingRead`/`failingWrite`: the 1-based number of the read or write that
  /// fails; with `persistent`, every later one fails too (the disk is gone). The failure rates
  /// make each read or write fail with that probability, drawn from a generator seeded with `seed`.
  public init(
    _ base: any Store, failingRead: Int? = nil, failingWrite: Int? = nil, persistent: Bool = false, seed: UInt64 = 0,
    readFailureRate: Double = 0, writeFailureRate: Double = 0
  ) {
    self.base = base
    state = Mutex(State(failReadAt: failingRead, failWriteAt: failingWrite, persistent: persistent, rng: SplitMix64(seed: seed),
      readFailureRate: readFailureRate, writeFailureRate: writeFailureRate))
  }

  /// Reads so far (including failed ones).
  public var reads: Int { state.withLock { $0.reads } }
  /// Writes so far (including failed ones).
  public var writes: Int { state.withLock { $0.writes } }
  /// Keys of the successful `set` calls, in order.
  public var writtenKeys: [String] { state.withLock { $0.writtenKeys } }
  /// Failures injected so far.
  public var failures: Int { state.withLock { $0.failures } }

  /// Stops injecting failures and resets the counters (e.g. before a resumed run).
  public func heal() {
    state.withLock { s in
      s.failReadAt = nil
      s.failWriteAt = nil
      s.readFailureRate = 0
      s.writeFailureRate = 0
      s.reads = 0
      s.writes = 0
      s.writtenKeys = []
    }
  }

  private func count(write: Bool, _ key: String, _ what: String) throws {
    let fail = state.withLock { s -> Bool in
      let n: Int
      let at: Int?
      let rate: Double
      if write {
        s.writes += 1
        (n, at, rate) = (s.writes, s.failWriteAt, s.writeFailureRate)
      } else {
        s.reads += 1
        (n, at, rate) = (s.reads, s.failReadAt, s.readFailureRate)
      }
      var f = at.map { s.persistent ? n >= $0 : n == $0 } ?? false
      if rate > 0, s.rng.nextDouble() < rate { f = true }
      if f { s.failures += 1 }
      return f
    }
    if fail {
      throw ZarrError(.storeFailure, "injected I/O failure on \(what) \(write ? "write" : "read")", key: key)
    }
  }

  /// Counts a read, then reads from the base store.
  public func get(_ key: String) throws -> [UInt8]? {
    try count(write: false, key, "get")
    return try base.get(key)
  }
  /// Counts a read, then reads a range from the base store.
  public func get(_ key: String, range: ByteRange) throws -> [UInt8]? {
    try count(write: false, key, "ranged get")
    return try base.get(key, range: range)
  }
  /// Counts a read, then reads ranges from the base store.
  public func get(_ key: String, ranges: [ByteRange]) throws -> (parts: [[UInt8]], size: Int)? {
    try count(write: false, key, "ranged get")
    return try base.get(key, ranges: ranges)
  }
  /// Counts a read, then reads into `buffer` from the base store.
  public func read(_ key: String, range: Range<Int>, into buffer: UnsafeMutableRawBufferPointer) throws -> Int? {
    try count(write: false, key, "ranged read")
    return try base.read(key, range: range, into: buffer)
  }
  /// Counts a read, then asks the base store for the size.
  public func size(of key: String) throws -> Int? {
    try count(write: false, key, "size")
    return try base.size(of: key)
  }
  /// Counts a write, then stores in the base store.
  public func set(_ key: String, _ value: [UInt8]) throws {
    try count(write: true, key, "set")
    try base.set(key, value)
    state.withLock { $0.writtenKeys.append(key) }
  }
  /// Counts a write, then stores the bytes in the base store.
  public func set(_ key: String, bytes: UnsafeRawBufferPointer) throws {
    try count(write: true, key, "set")
    try base.set(key, bytes: bytes)
    state.withLock { $0.writtenKeys.append(key) }
  }
  /// Counts a write, then deletes from the base store.
  public func delete(_ key: String) throws {
    try count(write: true, key, "delete")
    try base.delete(key)
  }
  /// Counts a write, then deletes the prefix from the base store.
  public func deletePrefix(_ prefix: String) throws {
    try count(write: true, prefix, "deletePrefix")
    try base.deletePrefix(prefix)
  }
  /// Lists the base store (not counted).
  public func list(prefix: String) throws -> [String] { try base.list(prefix: prefix) }
  /// Lists a directory of the base store (not counted).
  public func listDirectory(_ prefix: String) throws -> (keys: [String], prefixes: [String]) { try base.listDirectory(prefix) }
}

/// A small, fast, seeded random generator (SplitMix64), so injected failures repeat from run to run.
public struct SplitMix64: RandomNumberGenerator, Sendable {
  private var state: UInt64
  /// A generator starting from `seed`.
  public init(seed: UInt64) { state = seed }
  /// The next 64 random bits.
  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
  /// A double in `0..<1`.
  public mutating func nextDouble() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
