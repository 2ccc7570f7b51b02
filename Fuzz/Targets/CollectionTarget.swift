import OMEZarr
import ZarrIO

/// RFC-8 documents: the bytes are a JSON file `c/collection.json`, the same object is the
/// attributes of the group `c/group.zarr`, and `c/sub.json` holds them again (so references can
/// nest and loop); a small image `c/image.ome.zarr` is there to be found. The document is read and
/// detected, resolved (following references inside `c/`), and its transformation graph built.
enum CollectionTarget {
  /// An NGFF 0.5 image with one 8×8 level.
  static let imageAttributes = Array(#"""
    {"zarr_format": 3, "node_type": "group", "attributes": {"ome": {"version": "0.5", "multiscales": [{
      "axes": [{"name": "y", "type": "space"}, {"name": "x", "type": "space"}],
      "datasets": [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1, 1]}]}]}]}}}
    """#.utf8)

  @Sendable static func run(_ bytes: [UInt8]) {
    MemoryLocationScheme.reset()
    let store = MemoryLocationScheme.storage
    try? store.set("c/collection.json", bytes)
    try? store.set("c/sub.json", bytes)
    if let object = try? JSONValue.parse(bytes) {
      let group: JSONValue = ["zarr_format": 3, "node_type": "group", "attributes": object]
      try? store.set("c/group.zarr/zarr.json", group.serializedBytes(pretty: false))
    }
    try? store.set("c/image.ome.zarr/zarr.json", imageAttributes)
    let image = MemoryPrefixStore(prefix: "c/image.ome.zarr", location: MemoryLocationScheme.location("c/image.ome.zarr"))
    Seeds.writeArray(image, "0", format: .v3)

    for path in ["c/collection.json", "c/group.zarr"] {
      let location = MemoryLocationScheme.location(path)
      _ = CollectionDocument.detect(at: location)
      guard let doc = try? CollectionDocument.read(at: location) else { continue }
      var options = CollectionResolver.Options()
      options.maxDepth = 4
      let resolved = CollectionResolver.resolve(doc, options: options)
      _ = resolved.all.count
      _ = try? TransformGraph(collection: doc)
      _ = doc.root.json
    }
  }
}
