import OMEZarr
import Synchronization
import ZarrIO

/// A ZIP archive (`.ozx`): opened by `ZipStore` from a store in memory (byte ranges only, as
/// from a bucket), every entry listed and read (whole, by range and into a buffer, capped), and
/// the archive validated as `ome2zarr validate --data` would (RFC-9 rules, then the hierarchy).
enum ZipTarget {
  private static let counter = Atomic<Int>(0)

  @Sendable static func run(_ bytes: [UInt8]) {
    MemoryLocationScheme.reset()
    // A fresh name per input: open archives are cached by location.
    let name = "z/in-\(counter.add(1, ordering: .relaxed).oldValue).ozx"
    try? MemoryLocationScheme.storage.set(name, bytes)
    var limits = ReadLimits.current
    limits.maxChunkBytes = 1 << 20
    ReadLimits.current = limits
    if let store = try? ZipStore(store: MemoryLocationScheme.storage, key: name) {
      for key in ((try? store.list(prefix: "")) ?? []).prefix(64) {
        guard let size = try? store.size(of: key) else { continue }
        _ = try? store.get(key)
        _ = try? store.get(key, range: .suffix(length: min(size, 16)))
        _ = try? store.get(key, ranges: [.range(offset: 0, length: min(size, 8)), .from(offset: size / 2)])
        var buffer = [UInt8](repeating: 0, count: min(size, 32))
        _ = try? buffer.withUnsafeMutableBytes { try store.read(key, range: 0..<$0.count, into: $0) }
        try? store.verify(key)
      }
      _ = try? store.listDirectory("")
    }
    var options = Validator.Options()
    options.data = true
    _ = try? Validator(options: options).validate(MemoryLocationScheme.location(name))
  }
}
