import ZarrIO

/// An RFC-8 node: a collection, a multiscale image, a single-scale image, or a prefixed custom
/// type (kept as written).
///
/// Reads the current draft (v1, 2026-08), its predecessors (string paths, `node_type`) and the seed
/// design's `collection` object with `members`; writes the current draft.
public struct CollectionNode: Sendable, Hashable {
  /// `collection`, `multiscale`, `singlescale`, or `prefix:name`.
  public var type: CollectionNodeType
  /// The node's identifier, unique in its document; references and transformations use it (`id`).
  public var id: String?
  /// The node's name, unique in the enclosing collection (`name`).
  public var name: String
  /// The NGFF version (root node only).
  public var version: String?
  /// Inline children (collections: any node; multiscales: single-scale nodes).
  public var nodes: [CollectionNode]?
  /// Where the node's own metadata lives (instead of `nodes`).
  public var path: PathReference?
  /// Attributes: `coordinateSystems`, `coordinateTransformations`, `labels`, `plate`, `well`,
  /// `acquisition`, `scene`, and prefixed keys (e.g. rendering settings), as written.
  public var attributes: JSONObject?
  /// Keys this model does not know, kept so they are written back unchanged.
  public var extra: JSONObject = [:]

  /// The version this library writes for RFC-8 documents (as ngff-zarr does for RFC-8 nodes).
  public static let currentVersion = "0.9.dev3"

  /// A node of `type` named `name`, holding `nodes` inline or pointing to its metadata at `path`.
  public init(type: CollectionNodeType, name: String, id: String? = nil, nodes: [CollectionNode]? = nil, path: PathReference? = nil,
              attributes: JSONObject? = nil) {
    self.type = type
    self.name = name
    self.id = id
    self.nodes = nodes
    self.path = path
    self.attributes = attributes
  }

  /// Whether this node is a collection.
  public var isCollection: Bool { type == .collection }

  /// Reads a node. `json` is a node object, or (the seed design) an `ome` object holding a
  /// `collection` with `members`.
  public init(json: JSONValue, pointer: String) throws(OMEZarrError) {
    var r = try ObjectReader(json, pointer: pointer, what: "a node")
    if r.has("collection") && !r.has("type") {
      // Seed design: {"version", "collection": {"name", "members": [{"type": "image", "path", ...}]}}.
      let version = try r.string("version")
      let inner = try r.required("collection", what: "a collection document")
      try self.init(seed: inner, pointer: r.child("collection"))
      self.version = version
      for (k, v) in r.rest { extra[k] = v }
      return
    }
    let t0 = try r.string("type"), t1 = try r.string("node_type")
    guard let type = t0 ?? t1 else {
      throw OMEZarrError(.invalidMetadata, "a node needs a string \"type\"", pointer: pointer)
    }
    let id = try r.string("id")
    let name = try r.string("name")
    let version = try r.string("version")
    var path: PathReference?
    if let p = r.value("path"), !p.isNull { path = try PathReference(json: p, pointer: r.child("path")) }
    let nodes = try r.list("nodes") { (v, p) throws(OMEZarrError) in try CollectionNode(json: v, pointer: p) }
    var attributes: JSONObject?
    if let a = r.value("attributes"), !a.isNull {
      guard let o = a.objectValue else {
        throw OMEZarrError(.invalidMetadata, "\"attributes\" must be an object", pointer: r.child("attributes"))
      }
      attributes = o
    }
    self.init(type: CollectionNodeType(type), name: name ?? id ?? path.map { Self.defaultName(for: $0.path) } ?? "", id: id, nodes: nodes,
      path: path, attributes: attributes)
    self.version = version
    extra = r.rest
  }

  /// The seed design's collection object: `{"name", "members": [{"type", "path", "name"?, "attributes"?}]}`.
  private init(seed json: JSONValue, pointer: String) throws(OMEZarrError) {
    var r = try ObjectReader(json, pointer: pointer, what: "a collection")
    type = .collection
    name = try r.string("name") ?? ""
    id = try r.string("id")
    let members = try r.list("members") { (v, p) throws(OMEZarrError) -> CollectionNode in
      var m = try ObjectReader(v, pointer: p, what: "a member")
      let type = try m.string("type") ?? "image"
      var node: CollectionNode
      if m.has("members") {
        node = try CollectionNode(seed: v, pointer: p)
      } else {
        let path = try m.value("path").map { (v) throws(OMEZarrError) in try PathReference(json: v, pointer: m.child("path")) }
        node = CollectionNode(type: Self.seedTypes[type] ?? CollectionNodeType(type), name: try m.string("name") ?? path.map { Self.defaultName(for: $0.path) } ?? "",
          id: try m.string("id"), path: path)
        if let a = m.value("attributes")?.objectValue { node.attributes = a }
        node.extra = m.rest
      }
      if type == "labels" {
        var a = node.attributes ?? [:]
        if a["labels"] == nil { a["labels"] = .object([:]) }
        node.attributes = a
      }
      return node
    }
    nodes = members ?? []
    if let a = r.value("attributes")?.objectValue { attributes = a }
    extra = r.rest
  }

  /// Seed member types and their RFC-8 node types.
  static let seedTypes: [String: CollectionNodeType] = ["image": .multiscale, "labels": .multiscale, "collection": .collection]

  /// A display name for a node known only by its path: the last component without `.ome.zarr`,
  /// `.zarr` or `.json`.
  public static func defaultName(for path: String) -> String {
    var last = path.split(separator: "/").last.map(String.init) ?? path
    for suffix in [".ome.zarr", ".zarr", ".json"] where last.hasSuffix(suffix) {
      last = String(last.dropLast(suffix.count))
      break
    }
    return last
  }

  /// The node as written in a document (unknown keys kept).
  public var json: JSONValue {
    var w = ObjectWriter()
    w.set("version", version.map(JSONValue.string))
    w.set("type", .string(type.rawValue))
    w.set("id", id.map(JSONValue.string))
    w.set("name", .string(name))
    w.set("path", path?.json)
    w.set("nodes", nodes.map { .array($0.map(\.json)) })
    w.set("attributes", attributes.map(JSONValue.object))
    w.merge(extra)
    return w.json
  }

  // MARK: Navigating

  /// Every node of this (inline) tree, depth first, with its JSON pointer below `pointer`.
  public func walk(pointer: String = "") -> [(node: CollectionNode, pointer: String)] {
    var out = [(self, pointer)]
    for (i, n) in (nodes ?? []).enumerated() { out += n.walk(pointer: "\(pointer)/nodes/\(i)") }
    return out
  }

  /// The inline sub-collection at `names` (e.g. `["wells", "A1"]`), if any.
  public func child(named names: [String]) -> CollectionNode? {
    guard let first = names.first else { return self }
    return nodes?.first { $0.name == first }?.child(named: Array(names.dropFirst()))
  }

  /// Applies `change` to the inline sub-collection at `names`, creating missing collections.
  public mutating func modify(at names: [String], _ change: (inout CollectionNode) throws -> Void) rethrows {
    guard let first = names.first else { return try change(&self) }
    var list = nodes ?? []
    if let i = list.firstIndex(where: { $0.name == first }) {
      try list[i].modify(at: Array(names.dropFirst()), change)
    } else {
      var sub = CollectionNode(type: .collection, name: first, id: nil, nodes: [])
      try sub.modify(at: Array(names.dropFirst()), change)
      list.append(sub)
    }
    nodes = list
  }

  // MARK: Typed attributes

  /// `attributes.labels`: marks a multiscale as a label image.
  public var labels: LabelsAttribute? {
    get throws(OMEZarrError) {
      guard let v = attributes?["labels"] else { return nil }
      return try LabelsAttribute(json: v, pointer: "/attributes/labels")
    }
  }

  /// `attributes.plate` of a plate collection.
  public var plate: PlateAttribute? {
    get throws(OMEZarrError) {
      guard let v = attributes?["plate"] else { return nil }
      return try PlateAttribute(json: v, pointer: "/attributes/plate")
    }
  }

  /// `attributes.well` of a well collection: its plate row and column.
  public var well: (row: NodeReference, column: NodeReference)? {
    get throws(OMEZarrError) {
      guard let v = attributes?["well"] else { return nil }
      var r = try ObjectReader(v, pointer: "/attributes/well", what: "well")
      let row = try r.required("row", what: "well"), column = try r.required("column", what: "well")
      return (try NodeReference(json: row, pointer: r.child("row")), try NodeReference(json: column, pointer: r.child("column")))
    }
  }

  /// `attributes.acquisition`: the plate acquisition of a field or a group of fields.
  public var acquisition: NodeReference? {
    get throws(OMEZarrError) {
      try attributes?["acquisition"].map { (v) throws(OMEZarrError) in try NodeReference(json: v, pointer: "/attributes/acquisition") }
    }
  }

  /// `attributes.coordinateSystems` (RFC-8: referenced by `id`).
  public var coordinateSystems: [IdentifiedCoordinateSystem]? {
    get throws(OMEZarrError) {
      guard let list = attributes?["coordinateSystems"] else { return nil }
      guard let a = list.arrayValue else {
        throw OMEZarrError(.invalidMetadata, "\"coordinateSystems\" must be a list", pointer: "/attributes/coordinateSystems")
      }
      var out: [IdentifiedCoordinateSystem] = []
      for (i, v) in a.enumerated() { out.append(try IdentifiedCoordinateSystem(json: v, pointer: "/attributes/coordinateSystems/\(i)")) }
      return out
    }
  }
}
