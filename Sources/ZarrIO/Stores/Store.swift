/// A byte range of a stored value.
public enum ByteRange: Sendable, Hashable {
  /// `length` bytes from `offset`.
  case range(offset: Int, length: Int)
  /// Everything from `offset` to the end.
  case from(offset: Int)
  /// The last `length` bytes.
  case suffix(length: Int)

  /// The absolute bounds within a value of `size` bytes, or `nil` if the range lies outside it.
  public func resolved(size: Int) -> Range<Int>? {
    switch self {
    case .range(let o, let l):
      guard o >= 0, l >= 0, o <= size, l <= size - o else { return nil }
      return o..<(o + l)
    case .from(let o):
      guard o >= 0, o <= size else { return nil }
      return o..<size
    case .suffix(let l):
      guard l >= 0, l <= size else { return nil }
      return (size - l)..<size
    }
  }
}

/// Key/value storage of Zarr nodes.
///
/// Keys use `/` as separator and never start or end with it (`"zarr.json"`, `"raw/0/c/1/2"`).
/// Every method throws ``ZarrError`` (`.storeFailure` for I/O errors) naming the key.
public protocol Store: Sendable {
  /// The whole value, or `nil` if the key is absent.
  func get(_ key: String) throws -> [UInt8]?
  /// Part of a value, or `nil` if the key is absent.
  /// - Throws: `.corruptData` if the range lies outside the value.
  func get(_ key: String, range: ByteRange) throws -> [UInt8]?
  /// Several ranges of one value with the value's total size, or `nil` if the key is absent.
  /// - Throws: `.corruptData` if a range lies outside the value.
  func get(_ key: String, ranges: [ByteRange]) throws -> (parts: [[UInt8]], size: Int)?
  /// Reads `range` of a value into `buffer` (which holds exactly `range.count` bytes) and returns the
  /// value's total size, or `nil` if the key is absent.
  /// - Throws: `.corruptData` if the range lies outside the value.
  func read(_ key: String, range: Range<Int>, into buffer: UnsafeMutableRawBufferPointer) throws -> Int?
  /// The size of a value, or `nil` if the key is absent.
  func size(of key: String) throws -> Int?
  /// Stores a value, replacing any previous one; readers never see a partial value.
  func set(_ key: String, _ value: [UInt8]) throws
  /// Stores the bytes of a buffer (without copying them into an array first).
  func set(_ key: String, bytes: UnsafeRawBufferPointer) throws
  /// Stores a value only if the key is absent, in one step where the store can (a conditional
  /// `If-None-Match: *` PUT, an exclusive link); returns `false`, storing nothing, when it exists.
  func create(_ key: String, _ value: [UInt8]) throws -> Bool
  /// Removes a key (no error if absent).
  func delete(_ key: String) throws
  /// Removes every key under `prefix` (a node path; `""` for everything).
  func deletePrefix(_ prefix: String) throws
  /// Every key under `prefix`, recursively, in sorted order.
  func list(prefix: String) throws -> [String]
  /// The direct children of `prefix`: keys stored there and names of sub-prefixes.
  func listDirectory(_ prefix: String) throws -> (keys: [String], prefixes: [String])
  /// The total size of the values under `prefix` (`""` for everything), in bytes.
  func storedBytes(under prefix: String) throws -> Int
  /// Where the store lives, when it has an address (`nil` for a store in memory): two stores with
  /// the same location are the same storage.
  var location: StoreLocation? { get }
  /// Removes what interrupted writes left behind below `prefix` (temporary objects that are not
  /// keys of the store); nothing for stores whose writes leave nothing behind.
  func deleteTemporaryObjects(under prefix: String) throws
  /// How many requests the store keeps in flight to hide latency (a remote store), or `nil` when
  /// the cores are the limit (local storage): readers and writers use this many I/O threads and
  /// keep decoding and encoding on the cores.
  var ioConcurrency: Int? { get }
}

extension Store {
  /// Reads the whole value and returns the part in `range`.
  public func get(_ key: String, range: ByteRange) throws -> [UInt8]? {
    guard let all = try get(key) else { return nil }
    guard let r = range.resolved(size: all.count) else {
      throw ZarrError(.corruptData, "byte range \(range) lies outside the \(all.count) stored bytes", key: key)
    }
    return Array(all[r])
  }

  /// Reads the whole value once and returns the parts in `ranges`, with its size.
  public func get(_ key: String, ranges: [ByteRange]) throws -> (parts: [[UInt8]], size: Int)? {
    guard let all = try get(key) else { return nil }
    var parts: [[UInt8]] = []
    for range in ranges {
      guard let r = range.resolved(size: all.count) else {
        throw ZarrError(.corruptData, "byte range \(range) lies outside the \(all.count) stored bytes", key: key)
      }
      parts.append(Array(all[r]))
    }
    return (parts, all.count)
  }

  /// Reads the whole value and returns its length.
  public func size(of key: String) throws -> Int? { try get(key)?.count }

  /// Reads `range` through ``get(_:ranges:)`` and copies it into `buffer`.
  public func read(_ key: String, range: Range<Int>, into buffer: UnsafeMutableRawBufferPointer) throws -> Int? {
    guard let (parts, size) = try get(key, ranges: [.range(offset: range.lowerBound, length: range.count)]) else { return nil }
    parts[0].withUnsafeBytes { if $0.count > 0 { buffer.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
    return size
  }

  /// Copies the bytes into an array and stores that.
  public func set(_ key: String, bytes: UnsafeRawBufferPointer) throws {
    try set(key, Array(bytes))
  }

  /// Checks that the key is absent, then stores the value (two steps: stores that can do it in
  /// one provide their own).
  public func create(_ key: String, _ value: [UInt8]) throws -> Bool {
    if try exists(key) { return false }
    try set(key, value)
    return true
  }

  /// Lists the keys and adds up their sizes (one ``size(of:)`` each: stores that list sizes provide their own).
  public func storedBytes(under prefix: String) throws -> Int {
    try list(prefix: prefix).reduce(0) { $0 &+ ((try size(of: $1)) ?? 0) }
  }

  /// `nil`: a local store, limited by the cores.
  public var ioConcurrency: Int? { nil }

  /// `nil`: no address unless the store says otherwise.
  public var location: StoreLocation? { nil }

  /// Nothing to remove, unless the store says otherwise.
  public func deleteTemporaryObjects(under prefix: String) throws {}

  /// Whether two stores are the same storage: the same object, or the same location.
  public func isSame(as other: any Store) -> Bool {
    if (self as AnyObject) === (other as AnyObject) { return true }
    guard let a = location, let b = other.location else { return false }
    return a == b
  }

  /// Whether a key exists.
  public func exists(_ key: String) throws -> Bool { try size(of: key) != nil }
}
