/// The keys of another store below a prefix, as a store of their own: key `k` is `prefix/k` there
/// (an image inside an archive, a member of a collection).
public final class PrefixStore: Store {
  /// The store holding the keys.
  public let base: any Store
  /// The node path the keys lie under (no leading or trailing `/`).
  public let prefix: String

  /// The keys of `base` under `prefix`.
  public init(_ base: any Store, prefix: String) {
    self.base = base
    self.prefix = normalizePath(prefix)
  }

  private func full(_ key: String) -> String { joinKey(prefix, key) }
  private func strip(_ key: String) -> String { prefix.isEmpty ? key : String(key.dropFirst(prefix.count + 1)) }

  /// The value of `prefix/key`.
  public func get(_ key: String) throws -> [UInt8]? { try base.get(full(key)) }
  /// A range of the value of `prefix/key`.
  public func get(_ key: String, range: ByteRange) throws -> [UInt8]? { try base.get(full(key), range: range) }
  /// Ranges of the value of `prefix/key`.
  public func get(_ key: String, ranges: [ByteRange]) throws -> (parts: [[UInt8]], size: Int)? {
    try base.get(full(key), ranges: ranges)
  }
  /// Reads a range of the value of `prefix/key` into `buffer`.
  public func read(_ key: String, range: Range<Int>, into buffer: UnsafeMutableRawBufferPointer) throws -> Int? {
    try base.read(full(key), range: range, into: buffer)
  }
  /// The size of the value of `prefix/key`.
  public func size(of key: String) throws -> Int? { try base.size(of: full(key)) }
  /// Stores `prefix/key`.
  public func set(_ key: String, _ value: [UInt8]) throws { try base.set(full(key), value) }
  /// Stores `prefix/key` from a buffer.
  public func set(_ key: String, bytes: UnsafeRawBufferPointer) throws { try base.set(full(key), bytes: bytes) }
  /// Stores `prefix/key` unless it exists.
  public func create(_ key: String, _ value: [UInt8]) throws -> Bool { try base.create(full(key), value) }
  /// Removes `prefix/key`.
  public func delete(_ key: String) throws { try base.delete(full(key)) }
  /// Removes everything under `prefix/sub`.
  public func deletePrefix(_ sub: String) throws { try base.deletePrefix(full(sub)) }
  /// The keys under `prefix/sub`, relative to `prefix`.
  public func list(prefix sub: String) throws -> [String] { try base.list(prefix: full(sub)).map(strip) }
  /// The direct children of `prefix/sub`.
  public func listDirectory(_ sub: String) throws -> (keys: [String], prefixes: [String]) { try base.listDirectory(full(sub)) }
  /// The bytes stored under `prefix/sub`.
  public func storedBytes(under sub: String) throws -> Int { try base.storedBytes(under: full(sub)) }
  /// The base store's location below the prefix.
  public var location: StoreLocation? { base.location.map { prefix.isEmpty ? $0 : $0.appending(prefix) } }
  /// Removes interrupted writes' leftovers under `prefix/sub`.
  public func deleteTemporaryObjects(under sub: String) throws { try base.deleteTemporaryObjects(under: full(sub)) }
  /// The base store's requests in flight.
  public var ioConcurrency: Int? { base.ioConcurrency }
}
