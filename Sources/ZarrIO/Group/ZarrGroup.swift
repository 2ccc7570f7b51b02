/// A Zarr group (v3 or v2): attributes and child nodes.
public struct ZarrGroup: Sendable {
  /// The store holding the group.
  public let store: any Store
  /// The node path in the store (`""` for the root).
  public let path: String
  /// The group's metadata, as this value last read or wrote it.
  public let metadata: GroupMetadata

  /// A group value from metadata already read; reads and writes nothing.
  public init(store: any Store, path: String, metadata: GroupMetadata) {
    self.store = store
    self.path = normalizePath(path)
    self.metadata = metadata
  }

  /// The group's user attributes.
  public var attributes: JSONObject { metadata.attributes }
  /// The Zarr format version the group is stored in.
  public var zarrFormat: ZarrFormat { metadata.zarrFormat }

  /// Creates a group (and any missing ancestor groups).
  /// - Throws: `.nodeExists` if a node is there and `overwrite` is false; with `overwrite` the old
  ///   node and everything below it is removed.
  public static func create(
    in store: any Store, path: String = "", attributes: JSONObject = [:], format: ZarrFormat = .v3,
    overwrite: Bool = false
  ) throws -> ZarrGroup {
    let path = normalizePath(path)
    try prepareNode(at: path, in: store, format: format, overwrite: overwrite)
    let group = ZarrGroup(store: store, path: path, metadata: GroupMetadata(zarrFormat: format, attributes: attributes))
    try group.writeMetadata()
    return group
  }

  /// Opens the group at `path`.
  public static func open(in store: any Store, path: String = "") throws -> ZarrGroup {
    let path = normalizePath(path)
    guard case .group(let meta) = try NodeMetadata.read(store, path) else {
      throw ZarrError(.nodeExists, "the node at '\(path)' is an array, not a group", key: path)
    }
    return ZarrGroup(store: store, path: path, metadata: meta)
  }

  /// Makes room for a new node at `path`: refuses (or with `overwrite` removes) an existing node,
  /// and writes a group document for every ancestor that has no node yet.
  static func prepareNode(at path: String, in store: any Store, format: ZarrFormat, overwrite: Bool) throws {
    if let existing = try NodeKind.detect(store, path) {
      guard overwrite else { throw ZarrError(.nodeExists, "a \(existing) already exists at '\(path)'", key: path) }
      try store.deletePrefix(path)
    }
    try createMissingAncestors(of: path, in: store, format: format)
  }

  /// Writes the `.zattrs` of a v2 node (removing it when there are no attributes).
  static func writeV2Attributes(_ attributes: JSONObject, at path: String, in store: any Store) throws {
    if attributes.isEmpty {
      try store.delete(joinKey(path, ".zattrs"))
    } else {
      try store.set(joinKey(path, ".zattrs"), JSONValue.object(attributes).serializedBytes())
    }
  }

  /// Writes a group document for every ancestor of `path` that has no node yet.
  static func createMissingAncestors(of path: String, in store: any Store, format: ZarrFormat) throws {
    let parts = path.split(separator: "/")
    guard !parts.isEmpty else { return }
    for depth in 0..<parts.count {
      let ancestor = parts[0..<depth].joined(separator: "/")
      switch try NodeKind.detect(store, ancestor) {
      case .group?: continue
      case .array?: throw ZarrError(.nodeExists, "cannot create a node inside the array at '\(ancestor)'", key: ancestor)
      case nil:
        try ZarrGroup(store: store, path: ancestor, metadata: GroupMetadata(zarrFormat: format)).writeMetadata()
      }
    }
  }

  func writeMetadata() throws {
    switch metadata.zarrFormat {
    case .v3:
      try store.set(joinKey(path, "zarr.json"), metadata.v3JSON.serializedBytes())
    case .v2:
      try store.set(joinKey(path, ".zgroup"), JSONValue.object(["zarr_format": 2]).serializedBytes())
      try ZarrGroup.writeV2Attributes(metadata.attributes, at: path, in: store)
    }
  }

  /// Replaces the attributes and rewrites the metadata; returns the updated group.
  public func setAttributes(_ attributes: JSONObject) throws -> ZarrGroup {
    var meta = metadata
    meta.attributes = attributes
    meta.consolidated = nil
    let g = ZarrGroup(store: store, path: path, metadata: meta)
    try g.writeMetadata()
    return g
  }

  /// The direct children: names and kinds, sorted by name.
  ///
  /// Lists the store; sub-directories without node metadata are skipped (v3 has no implicit groups).
  public func children() throws -> [(name: String, kind: NodeKind)] {
    var out: [(String, NodeKind)] = []
    for name in try store.listDirectory(path).prefixes {
      if let kind = try NodeKind.detect(store, joinKey(path, name)) { out.append((name, kind)) }
    }
    return out
  }

  /// Opens a child (or deeper descendant) by relative path.
  public func node(_ relativePath: String) throws -> ZarrNode {
    try ZarrNode.open(in: store, path: joinKey(path, normalizePath(relativePath)))
  }

  /// Creates an array below this group.
  public func createArray(_ name: String, metadata: ArrayMetadata, overwrite: Bool = false) throws -> ZarrArray {
    try ZarrArray.create(in: store, path: joinKey(path, normalizePath(name)), metadata: metadata, overwrite: overwrite)
  }

  /// Creates a group below this group, in this group's Zarr format.
  public func createGroup(_ name: String, attributes: JSONObject = [:], overwrite: Bool = false) throws -> ZarrGroup {
    try ZarrGroup.create(in: store, path: joinKey(path, normalizePath(name)), attributes: attributes,
      format: metadata.zarrFormat, overwrite: overwrite)
  }
}

/// Any Zarr node: an array or a group.
public enum ZarrNode: Sendable {
  /// An array.
  case array(ZarrArray)
  /// A group.
  case group(ZarrGroup)

  /// Opens whatever node is at `path`.
  public static func open(in store: any Store, path: String = "") throws -> ZarrNode {
    let path = normalizePath(path)
    switch try NodeMetadata.read(store, path) {
    case .array(let m): return .array(try ZarrArray(store: store, path: path, metadata: m))
    case .group(let m): return .group(ZarrGroup(store: store, path: path, metadata: m))
    }
  }

  /// The node path in the store (`""` for the root).
  public var path: String {
    switch self {
    case .array(let a): return a.path
    case .group(let g): return g.path
    }
  }

  /// The node's user attributes.
  public var attributes: JSONObject {
    switch self {
    case .array(let a): return a.attributes
    case .group(let g): return g.attributes
    }
  }
}
