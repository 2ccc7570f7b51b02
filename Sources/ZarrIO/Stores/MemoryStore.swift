import Synchronization

/// A store in memory, safe to share between threads.
public final class MemoryStore: Store {
  private let values = Mutex<[String: [UInt8]]>([:])

  /// An empty store.
  public init() {}

  /// The value of `key`, or `nil` if absent.
  public func get(_ key: String) throws -> [UInt8]? { values.withLock { $0[key] } }

  /// The length of the value of `key`, or `nil` if absent.
  public func size(of key: String) throws -> Int? { values.withLock { $0[key]?.count } }

  /// Stores `value` under `key`, replacing any previous one.
  public func set(_ key: String, _ value: [UInt8]) throws { values.withLock { $0[key] = value } }

  /// Stores a value unless the key exists, atomically.
  public func create(_ key: String, _ value: [UInt8]) throws -> Bool {
    values.withLock {
      if $0[key] != nil { return false }
      $0[key] = value
      return true
    }
  }

  /// Removes `key`, if present.
  public func delete(_ key: String) throws { _ = values.withLock { $0.removeValue(forKey: key) } }

  /// Removes `prefix` itself and every key below it.
  public func deletePrefix(_ prefix: String) throws {
    values.withLock { v in
      for k in v.keys where prefix.isEmpty || k == prefix || k.hasPrefix(prefix + "/") { v.removeValue(forKey: k) }
    }
  }

  /// Every key below `prefix`, sorted.
  public func list(prefix: String) throws -> [String] {
    values.withLock { v in
      v.keys.filter { prefix.isEmpty || $0.hasPrefix(prefix + "/") }.sorted()
    }
  }

  /// The names of keys directly below `prefix` and of the sub-prefixes, each sorted.
  public func listDirectory(_ prefix: String) throws -> (keys: [String], prefixes: [String]) {
    StorePath.children(of: try list(prefix: prefix), under: prefix)
  }

  /// Every key and its value (for tests and diagnostics).
  public var snapshot: [String: [UInt8]] { values.withLock { $0 } }
}
