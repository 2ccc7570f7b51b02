import Foundation
import ZarrIO

/// RFC-8 collections in the transformation graph.
///
/// Systems are identified by id, scoped to their document: `(document key, id)`, where the key is
/// the document's path in the collection's store (a group's path, or a `.json` file's). A
/// singlescale node's id stands for its array's own (pixel) system. Transformations are read from
/// `attributes.coordinateTransformations` of any node (singlescale: its level; multiscale: its
/// levels by singlescale id; older drafts: collections) and from a collection's
/// `attributes.scene`. References `{"id", "path"?}` with a path name a system in another
/// document, which is read too; so are the documents of member nodes, as long as they are inside
/// the collection's directory (or URL). Members that are 0.4–0.6 images join as themselves.
extension TransformGraph {
  /// Builds the graph of an RFC-8 collection document and the documents it references.
  public init(collection doc: CollectionDocument) throws {
    let dir = doc.rootLocation
    store = try dir.openStore()
    let key = dir.key(of: doc.location) ?? ""
    root = key
    base = doc.storage == .zarrGroup ? key : Self.parentKey(key)
    try addDocument(doc.root, at: key, storage: doc.storage)
  }

  static func parentKey(_ key: String) -> String { StorePath.parent(key) }

  /// The store key of the document a path names from `base`: `zarr.json` dropped, a JSON file kept.
  /// Paths that leave the store (`../` above it, URLs elsewhere) give `nil`.
  func documentKey(_ path: String, from base: String) -> String {
    var p = path
    if p.hasSuffix("/zarr.json") { p.removeLast("/zarr.json".count) } else if p == "zarr.json" { p = "." }
    return StorePath.resolve(p, from: base)
  }

  /// Reads the RFC-8 document at `key` (a `.json` file or a Zarr node's `zarr.json`).
  mutating func addDocument(at key: String) throws {
    guard !nodes.contains(key) else { return }
    let object: JSONObject
    let storage: CollectionDocument.Storage
    if key.hasSuffix(".json") {
      guard let bytes = try store.get(key) else { return }
      guard let o = try JSONValue.parse(bytes).objectValue else {
        throw OMEZarrError(.invalidMetadata, "'\(key)' is not a JSON object", path: key)
      }
      object = o
      storage = .jsonFile
    } else {
      object = try ZarrNode.open(in: store, path: key).attributes
      storage = .zarrGroup
    }
    guard let ome = object["ome"] else { return }
    let top: CollectionNode
    do {
      top = try CollectionNode(json: ome, pointer: storage == .zarrGroup ? "/attributes/ome" : "/ome")
    } catch {
      throw error.at(path: key)
    }
    try addDocument(top, at: key, storage: storage)
  }

  private mutating func addDocument(_ top: CollectionNode, at key: String, storage: CollectionDocument.Storage) throws {
    guard nodes.insert(key).inserted else { return }
    try checkNodeLimit(key)
    let base = storage == .zarrGroup ? key : Self.parentKey(key)
    let prefix = storage == .zarrGroup ? "/attributes/ome" : "/ome"
    var followLater: [String] = []

    /// The system a reference names.
    func system(_ ref: NodeReference) -> CoordinateSystemID {
      guard let p = ref.path, !p.isURL else { return CoordinateSystemID(path: key, name: ref.id) }
      let target = documentKey(p.path, from: base)
      followLater.append(target)
      return CoordinateSystemID(path: target, name: ref.id)
    }

    func visit(_ node: CollectionNode, _ pointer: String) throws {
      let attributes = node.attributes ?? [:]
      if node.type == .singlescale, let id = node.id {
        // The singlescale's id is its array's system: the array its path names, or this document.
        var array = key
        if let p = node.path, !p.isURL { array = documentKey(p.path, from: base) }
        let arrayID = CoordinateSystemID(path: array, name: nil)
        if arrays[arrayID] == nil { arrays[arrayID] = .some(nil) }
        aliases[CoordinateSystemID(path: key, name: id)] = arrayID
      }
      for (source, at) in [(attributes, "/attributes"), (attributes["scene"]?.objectValue ?? [:], "/attributes/scene")] {
        for (i, v) in (source["coordinateSystems"]?.arrayValue ?? []).enumerated() {
          let cs = try IdentifiedCoordinateSystem(json: v, pointer: "\(pointer)\(at)/coordinateSystems/\(i)")
          systems[CoordinateSystemID(path: key, name: cs.id)] = cs.axes
        }
        for (i, v) in (source["coordinateTransformations"]?.arrayValue ?? []).enumerated() {
          let p = "\(pointer)\(at)/coordinateTransformations/\(i)"
          guard let o = v.objectValue, let input = o["input"], let output = o["output"] else {
            throw OMEZarrError(.invalidMetadata, "a transformation needs an input and an output", path: key, pointer: p)
          }
          let from = system(try NodeReference(json: input, pointer: p + "/input"))
          let to = system(try NodeReference(json: output, pointer: p + "/output"))
          let t = try Transformation(json: Self.withoutReferences(v), pointer: p)
          edges.append(Edge(input: from, output: to, transformation: t, node: base, pointer: p))
        }
      }
      // Members stored elsewhere: their documents carry their systems (a singlescale's array may
      // carry its own transformation in its zarr.json).
      if let p = node.path, !p.isURL, p.type == "zarr" || p.type == "json" {
        followLater.append(documentKey(p.path, from: base))
      }
      for (i, child) in (node.nodes ?? []).enumerated() { try visit(child, "\(pointer)/nodes/\(i)") }
    }
    try visit(top, prefix)
    for target in followLater where !target.hasPrefix("..") {
      try follow(target)
    }
    resolveAliases()
  }

  /// Replaces singlescale ids by their arrays' systems in every edge.
  mutating func resolveAliases() {
    for i in edges.indices {
      if let a = aliases[edges[i].input] { edges[i].input = a }
      if let a = aliases[edges[i].output] { edges[i].output = a }
    }
  }

  /// A transformation's JSON without RFC-8 `input`/`output` references (here and in nested
  /// steps), which the graph has already read; the rest parses as an RFC-5 transformation.
  static func withoutReferences(_ v: JSONValue) -> JSONValue {
    guard var o = v.objectValue else { return v }
    for k in ["input", "output"] where o[k]?.objectValue != nil || o[k]?.stringValue != nil { o[k] = nil }
    for k in ["transformations", "transformation"] {
      if let list = o[k]?.arrayValue { o[k] = .array(list.map(withoutReferences)) }
      else if let one = o[k], one.objectValue != nil { o[k] = withoutReferences(one) }
    }
    return .object(o)
  }
}
