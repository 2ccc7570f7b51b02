import ArgumentParser
import OMEZarr
import ZarrIO

/// `ome2zarr info PATH`: the tree of groups and arrays with their layout.
struct Info: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Show what an OME-Zarr (or any Zarr) hierarchy holds.",
    usage: "ome2zarr info <path> [<options>]",
    discussion: """
      OME-Zarr groups are described by kind and version:
      - images with their axes and units, levels (shape, data type, chunk and shard shape, scale and translation), codecs, channels with colors and windows, and labels;
      - label groups;
      - plates (rows, columns, wells, fields, acquisitions) and wells;
      - bioformats2raw roots with their series.

      Other nodes are listed as a tree of groups and arrays with shape, data type, chunk (and shard) shape, codecs, fill value and dimension names.

      With --stats, each array and each level of an image also shows how many of its objects (chunks, or shards when sharded) are stored and their size in bytes.

      --json prints one JSON object described by Schemas/info.schema.json.

      Exit codes: 0 success, 1 invalid metadata, 2 PATH cannot be read.
      """)

  @Argument(help: "Path of a Zarr hierarchy (a directory holding zarr.json, .zgroup or .zarray, or an http(s) URL of one), or an RFC-8 collection JSON file.")
  var path: String

  @Flag(help: "Print JSON instead of text.")
  var json = false

  @Option(help: "How many levels of children to show (default: all).")
  var depth: Int?

  @Flag(help: "Also count the stored chunks and bytes of each array and image level (lists the store).")
  var stats = false

  @OptionGroup var resolution: Collection.Resolution

  @OptionGroup(title: "Limits") var readLimits: ReadLimitOptions
  @OptionGroup(title: "Remote storage") var remote: RemoteOptions

  func run() throws {
    let location = try StoreLocation(path)
    if let collection = CollectionDocument.detect(at: location) {
      // An RFC-8 collection (group or standalone JSON): its tree, each reference resolved.
      let tree = CollectionResolver.resolve(collection, options: resolution.options)
      if json {
        var doc: JSONObject = ["path": .string(path), "collection": .object(Collection.List.json(tree))]
        if collection.storage == .zarrGroup {
          var walk = NodeSummary.Walk(maxNodes: resolution.maxNodes)
          doc["root"] = try NodeSummary.collect(ZarrNode.open(in: location.openStore()), name: path, depth: 0, stats: false, walk: &walk).json
        }
        print(JSONValue.object(doc).serialized())
      } else {
        print("\(path)  RFC-8 \(collection.root.type) '\(collection.root.name)'\(collection.root.version.map { " (version \($0))" } ?? "")")
        print(Collection.List.render(tree), terminator: "")
      }
      return
    }
    let entry = location.entry()
    if entry == .absent { throw ZarrError(.notFound, "'\(path)' does not exist") }
    if entry == .object {
      throw ZarrError(.notFound, location.isFile ? "'\(path)' is not a directory" : "'\(path)' is an object, not a Zarr node")
    }
    let store = try location.openStore()
    var walk = NodeSummary.Walk(maxNodes: resolution.maxNodes)
    let info = try NodeSummary.collect(ZarrNode.open(in: store), name: path, depth: depth ?? Int.max, stats: stats, walk: &walk)
    if json {
      let doc: JSONValue = ["path": .string(path), "root": info.json]
      print(doc.serialized())
    } else {
      var lines: [String] = []
      info.render(into: &lines, prefix: "", isLast: true, isRoot: true)
      print(lines.joined(separator: "\n"))
    }
  }
}

/// What `info` reports about one node.
struct NodeSummary {
  var name: String
  var node: ZarrNode
  var children: [NodeSummary]
  /// With `--stats`: what the array stores.
  var stored: StoredObjects?
  var ome: OMESummary?

  /// How far `collect` has walked, and how far it may.
  struct Walk {
    /// The most nodes `info` describes (`--max-nodes`).
    var maxNodes: Int
    /// The nodes described so far.
    var count = 0
  }

  /// Describes `node` and, `depth` levels down, its children; refuses a hierarchy of more than
  /// `walk.maxNodes` nodes.
  static func collect(_ node: ZarrNode, name: String, depth: Int, stats: Bool, walk: inout Walk) throws -> NodeSummary {
    walk.count += 1
    guard walk.count <= walk.maxNodes else {
      throw CommandFailure.invalidData(
        "the hierarchy has more than \(walk.maxNodes) nodes; info stops there (raise the limit with --max-nodes)")
    }
    var s = NodeSummary(name: name, node: node, children: [])
    switch node {
    case .group(let g):
      s.ome = try OMESummary(store: g.store, path: g.path)
      if stats, let image = s.ome?.image {
        // One listing per array, however often the multiscale names it.
        var counted: [String: StoredObjects] = [:]
        s.ome?.levelStats = try image.levels.map { level in
          if let known = counted[level.path] { return known }
          let stored = try StoredObjects(level)
          counted[level.path] = stored
          return stored
        }
      }
      let levels = s.ome?.levelPaths ?? []
      if depth > 0, !(s.ome?.summarisesChildren ?? false) {
        // A store that cannot list (HTTP) shows the node and what its metadata names.
        let children: [(name: String, kind: NodeKind)]
        do { children = try g.children() } catch let e as ZarrError where e.code == .unsupported { children = [] }
        for child in children where !levels.contains(child.name) {
          s.children.append(try collect(try g.node(child.name), name: child.name, depth: depth - 1, stats: stats, walk: &walk))
        }
      }
    case .array(let a):
      if stats { s.stored = try StoredObjects(a) }
    }
    return s
  }

  var json: JSONValue {
    var o: JSONObject = ["name": .string(name), "path": .string(node.path)]
    let attrs = node.attributes
    switch node {
    case .group(let g):
      o["node_type"] = "group"
      o["zarr_format"] = .int(Int64(g.zarrFormat.rawValue))
    case .array(let a):
      let m = a.metadata
      o["node_type"] = "array"
      o["zarr_format"] = .int(Int64(m.zarrFormat.rawValue))
      o["shape"] = .array(m.shape.map { .int(Int64($0)) })
      o["data_type"] = .string(m.dataType.name)
      let layout = ChunkLayout(a)
      o["chunk_shape"] = .array(layout.chunkShape.map { .int(Int64($0)) })
      o["shard_shape"] = layout.shardShape.map { .array($0.map { .int(Int64($0)) }) } ?? .null
      o["codecs"] = .array(m.codecs.map(\.json))
      o["fill_value"] = m.v2FillValueIsNull ? .null : m.fillValue.json(for: m.dataType)
      o["dimension_names"] = m.dimensionNames.map { .array($0.map { $0.map(JSONValue.string) ?? .null }) } ?? .null
      o["chunk_key_encoding"] = m.chunkKeyEncoding.json
      stored?.add(to: &o)
    }
    o["attributes"] = ["keys": .array(attrs.keys.map(JSONValue.string)), "ome_version": NGFFVersion.detect(in: attrs).map { .string($0.description) } ?? .null]
    if case .group = node {
      o["ome"] = ome?.json ?? .null
      o["children"] = .array(children.map(\.json))
    }
    return .object(o)
  }

  func render(into lines: inout [String], prefix: String, isLast: Bool, isRoot: Bool) {
    let branch = isRoot ? "" : (isLast ? "└── " : "├── ")
    let childPrefix = isRoot ? "" : prefix + (isLast ? "    " : "│   ")
    // Only for nodes shown without an OME summary (reading the version parses the OME metadata).
    var attrText: String {
      let attrs = node.attributes
      guard !attrs.isEmpty else { return "" }
      var text = "attributes: " + attrs.keys.joined(separator: ", ")
      if let v = NGFFVersion.detect(in: attrs) { text += " (OME-NGFF \(v))" }
      return text
    }
    switch node {
    case .group(let g):
      let pad = childPrefix + (children.isEmpty ? "    " : "│   ")
      if let ome {
        lines.append("\(prefix)\(branch)\(name)  \(ome.title) (Zarr v\(g.zarrFormat.rawValue))")
        for l in (try? ome.lines()) ?? [] { lines.append(pad + l) }
      } else {
        lines.append("\(prefix)\(branch)\(name)  group (Zarr v\(g.zarrFormat.rawValue))")
        if case let text = attrText, !text.isEmpty { lines.append(pad + text) }
      }
      for (i, c) in children.enumerated() {
        c.render(into: &lines, prefix: childPrefix, isLast: i == children.count - 1, isRoot: false)
      }
    case .array(let a):
      let m = a.metadata
      lines.append("\(prefix)\(branch)\(name)  array (Zarr v\(m.zarrFormat.rawValue)) \(m.dataType) \(m.shape)")
      let pad = childPrefix + "    "
      let layout = ChunkLayout(a)
      var chunkLine = "chunks \(layout.chunkShape)"
      if let shard = layout.shardShape { chunkLine += "  shards \(shard)" }
      chunkLine += "  keys \(m.chunkKeyEncoding.key([Int](repeating: 0, count: m.shape.count)))"
      lines.append(pad + chunkLine)
      lines.append(pad + "codecs " + m.codecs.map(NodeSummary.codecText).joined(separator: " -> "))
      let fill = m.v2FillValueIsNull ? "null" : m.fillValue.json(for: m.dataType).serialized(pretty: false)
      var fillLine = "fill value \(fill)"
      if let names = m.dimensionNames {
        fillLine += "  dimensions [" + names.map { $0 ?? "null" }.joined(separator: ", ") + "]"
      }
      lines.append(pad + fillLine)
      if let stored { lines.append(pad + stored.text) }
      if case let text = attrText, !text.isEmpty { lines.append(pad + text) }
    }
  }

  static func codecText(_ c: NamedConfiguration) -> String {
    if c.configuration.isEmpty { return c.name }
    if c.name == "sharding_indexed" {
      let inner = c.configuration["codecs"]?.arrayValue?.compactMap { try? NamedConfiguration(json: $0, pointer: "") } ?? []
      return "sharding_indexed[" + inner.map(codecText).joined(separator: " -> ") + "]"
    }
    let parts = c.configuration.map { "\($0.key)=\($0.value.serialized(pretty: false))" }
    return "\(c.name)(\(parts.joined(separator: ", ")))"
  }
}

/// What `info --stats` counts for an array (a plain array or an image level): its stored chunk
/// objects (shards when sharded) and their bytes, metadata left out.
struct StoredObjects {
  /// Stored chunk (or shard) objects.
  var count: Int
  /// Their total size in bytes.
  var bytes: Int
  /// The objects a full grid would hold.
  var gridCount: Int

  /// Lists the store under `array`.
  init(_ array: ZarrArray) throws {
    let metaNames: Set<String> = ["zarr.json", ".zarray", ".zattrs"]
    count = 0
    bytes = 0
    for key in try array.store.list(prefix: array.path) where !metaNames.contains(String(key.split(separator: "/").last ?? "")) {
      count += 1
      bytes += try array.store.size(of: key) ?? 0
    }
    // A grid of more objects than an Int holds (shape near 2^63, chunks of 1) is reported as Int.max.
    gridCount = CheckedArithmetic.saturatingProduct(array.gridShape)
  }

  /// `stored N of M objects, B bytes`.
  var text: String { "stored \(count) of \(gridCount) objects, \(bytes) bytes" }

  /// Adds `stored_chunks` and `stored_bytes` to a JSON object.
  func add(to object: inout JSONObject) {
    object["stored_chunks"] = .int(Int64(count))
    object["stored_bytes"] = .int(Int64(bytes))
  }
}

/// Chunk and shard shape of an array (a sharded array's inner chunks are its chunks).
struct ChunkLayout {
  var chunkShape: [Int]
  var shardShape: [Int]?

  init(_ array: ZarrArray) {
    chunkShape = array.metadata.innerChunkShape
    shardShape = array.metadata.shardShape
  }
}
