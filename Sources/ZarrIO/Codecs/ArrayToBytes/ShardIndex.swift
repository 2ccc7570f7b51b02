/// A decoded shard index: `(offset, nbytes)` per inner chunk in C order.
public struct ShardIndex: Sendable, Hashable {
  /// Two numbers per inner chunk, its byte offset and byte length; both `UInt64.max` when it is empty.
  public var entries: [UInt64]

  /// An index from its flat `(offset, nbytes)` pairs.
  public init(entries: [UInt64]) { self.entries = entries }

  /// The byte range of inner chunk `i` (C-order number), or `nil` when it is empty.
  public func range(_ i: Int) -> Range<Int>? {
    let o = entries[2 * i], n = entries[2 * i + 1]
    if o == ShardingCodec.empty && n == ShardingCodec.empty { return nil }
    return Int(o)..<Int(o + n)
  }

  /// Whether every inner chunk is empty.
  public var isEmpty: Bool { entries.allSatisfy { $0 == ShardingCodec.empty } }

  /// The grid coordinates of C-order chunk number `i`.
  static func coordinates(_ i: Int, grid: [Int]) -> [Int] {
    var rest = i
    var out = [Int](repeating: 0, count: grid.count)
    for d in stride(from: grid.count - 1, through: 0, by: -1) {
      out[d] = rest % grid[d]
      rest /= grid[d]
    }
    return out
  }

  /// The C-order number of chunk `coords`.
  static func linear(_ coords: [Int], grid: [Int]) -> Int {
    var i = 0
    for (c, g) in zip(coords, grid) { i = i * g + c }
    return i
  }
}
