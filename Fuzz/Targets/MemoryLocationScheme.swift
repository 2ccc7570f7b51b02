import Synchronization
import ZarrIO

/// `fuzzmem://fuzz/…` locations: one store in memory that targets fill before each input, so that
/// documents which reference each other (RFC-8 collections) resolve without touching the disk.
final class MemoryLocationScheme: LocationScheme {
  /// The storage behind every `fuzzmem` location.
  static let storage = MemoryStore()
  /// Registers the scheme once.
  static let registered: Bool = {
    LocationSchemes.register(MemoryLocationScheme())
    return true
  }()

  /// The location of `path` (`/`-separated, below the root).
  static func location(_ path: String) -> StoreLocation {
    _ = registered
    return StoreLocation(scheme: "fuzzmem", authority: "fuzz", components: path.split(separator: "/").map(String.init))
  }

  /// Empties the storage.
  static func reset() { try? storage.deletePrefix("") }

  var schemes: [String] { ["fuzzmem"] }

  func store(at location: StoreLocation, create: Bool) throws -> any Store {
    MemoryPrefixStore(prefix: location.components.joined(separator: "/"), location: location)
  }

  func entry(at location: StoreLocation) -> StoreEntry? {
    let key = location.components.joined(separator: "/")
    if (try? Self.storage.get(key)) != nil { return .object }
    return ((try? Self.storage.list(prefix: key)) ?? []).isEmpty ? .absent : .prefix
  }
}

/// The keys of ``MemoryLocationScheme/storage`` below a prefix.
struct MemoryPrefixStore: Store {
  let prefix: String
  let location: StoreLocation?

  init(prefix: String, location: StoreLocation) {
    self.prefix = prefix
    self.location = location
  }

  private var base: MemoryStore { MemoryLocationScheme.storage }
  private func full(_ key: String) -> String { prefix.isEmpty ? key : key.isEmpty ? prefix : prefix + "/" + key }
  private func strip(_ key: String) -> String { prefix.isEmpty ? key : String(key.dropFirst(prefix.count + 1)) }

  func get(_ key: String) throws -> [UInt8]? { try base.get(full(key)) }
  func set(_ key: String, _ value: [UInt8]) throws { try base.set(full(key), value) }
  func delete(_ key: String) throws { try base.delete(full(key)) }
  func deletePrefix(_ p: String) throws { try base.deletePrefix(full(p)) }
  func list(prefix p: String) throws -> [String] { try base.list(prefix: full(p)).map(strip) }
  func listDirectory(_ p: String) throws -> (keys: [String], prefixes: [String]) { try base.listDirectory(full(p)) }
}
