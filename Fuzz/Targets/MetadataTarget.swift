import ZarrIO

/// Zarr node metadata: the bytes as a v3 `zarr.json`, as a v2 `.zarray` (with and without
/// `.zattrs`), as `.zgroup` + `.zmetadata`; an array that opens gets its metadata written back and
/// read again, and one element read (the fill value: no chunk is stored).
enum MetadataTarget {
  @Sendable static func run(_ bytes: [UInt8]) {
    for key in ["zarr.json", ".zarray", ".zattrs", ".zmetadata"] {
      let store = MemoryStore()
      try? store.set(key, bytes)
      if key == ".zattrs" { try? store.set(".zarray", Seeds.v2ArrayDocument) }
      if key == ".zmetadata" { try? store.set(".zgroup", Array(#"{"zarr_format": 2}"#.utf8)) }
      guard let node = try? NodeMetadata.read(store, "") else { continue }
      _ = NodeKind.detect(store: store)
      guard case .array(let meta) = node, let array = try? ZarrArray(store: store, path: "", metadata: meta) else { continue }
      exercise(array)
      // Canonical on write: what we write must read back.
      let written = MemoryStore()
      if (try? ZarrArray.create(in: written, path: "", metadata: meta)) != nil, (try? ZarrArray.open(in: written)) == nil {
        fuzzFailure("an array whose metadata we accepted does not open after writing it back")
      }
    }
  }

  /// Reads one element at the origin and the grid's first chunk key.
  static func exercise(_ array: ZarrArray) {
    _ = array.gridShape
    _ = array.chunkKey(array.shape.map { _ in 0 })
    guard !array.shape.isEmpty, array.shape.allSatisfy({ $0 > 0 }) else { return }
    _ = try? array.read(array.shape.map { _ in 0..<1 })
  }
}

extension NodeKind {
  /// `detect` at the root of `store`, errors swallowed.
  static func detect(store: any Store) -> NodeKind? { (try? NodeKind.detect(store, "")) ?? nil }
}
