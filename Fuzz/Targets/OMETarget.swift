import OMEZarr
import ZarrIO

/// OME attributes: the bytes as the root `zarr.json` of a v3 hierarchy (and as the `.zattrs` of a
/// v2 one) that holds small arrays at the usual paths; then the model, the node, the validator
/// (document and store, chunks decoded) and the transformation graph.
enum OMETarget {
  @Sendable static func run(_ bytes: [UInt8]) {
    guard let document = try? JSONValue.parse(bytes) else { return }
    _ = Validator().validate(document: document)
    var strict = Validator.Options()
    strict.strict = true
    _ = Validator(options: strict).validate(document: document)
    if let attributes = document.objectValue {
      for candidate in [attributes, attributes["attributes"]?.objectValue ?? [:]] {
        if let ome = try? OMEAttributes(attributes: candidate) { _ = ome.applied(to: candidate) }
      }
    }
    let v3 = MemoryStore()
    try? v3.set("zarr.json", bytes)
    Seeds.writeImageArrays(v3, format: .v3)
    let v2 = MemoryStore()
    try? v2.set(".zgroup", Array(#"{"zarr_format": 2}"#.utf8))
    try? v2.set(".zattrs", bytes)
    Seeds.writeImageArrays(v2, format: .v2)
    for store in [v3, v2] { exercise(store) }
  }

  static func exercise(_ store: MemoryStore) {
    var options = Validator.Options()
    options.data = true
    options.maxNodes = 200
    _ = try? Validator(options: options).validate(store: store)
    guard let node = try? OMENode.open(in: store) else { return }
    _ = node.version
    guard var graph = try? node.transformGraph() else { return }
    let systems = graph.systems.keys.sorted()
    guard let from = systems.first, let to = systems.last else { return }
    if let mapping = try? graph.mapping(from: from, to: to) {
      _ = try? mapping.apply(points: [Array(repeating: 1.5, count: mapping.inputDimension)])
      _ = mapping.affineMatrix
    }
    _ = try? graph.system(from.description)
  }
}
