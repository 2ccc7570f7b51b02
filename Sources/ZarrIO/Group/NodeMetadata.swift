/// The metadata of a group (v3 `zarr.json`, or v2 `.zgroup` + `.zattrs`).
public struct GroupMetadata: Sendable, Hashable {
  /// The Zarr format version the group is stored in.
  public var zarrFormat: ZarrFormat
  /// The user attributes (v3 `attributes`, v2 `.zattrs`).
  public var attributes: JSONObject
  /// Top-level fields we do not model that said `must_understand: false`; written back unchanged.
  public var extraFields: JSONObject
  /// Consolidated metadata of the descendants, when the group carries it.
  public var consolidated: ConsolidatedMetadata?

  /// New group metadata with `attributes`, nothing else.
  public init(zarrFormat: ZarrFormat = .v3, attributes: JSONObject = [:]) {
    self.zarrFormat = zarrFormat
    self.attributes = attributes
    self.extraFields = [:]
    self.consolidated = nil
  }

  /// Parses a group `zarr.json`.
  public init(v3 json: JSONValue) throws(ZarrError) {
    guard let o = json.objectValue else { throw ZarrError(.invalidMetadata, "group metadata must be a JSON object", pointer: "") }
    guard o["zarr_format"] == .int(3) else { throw ZarrError(.invalidMetadata, "zarr_format must be 3", pointer: "/zarr_format") }
    guard o["node_type"] == .string("group") else {
      throw ZarrError(.invalidMetadata, "node_type must be \"group\"", pointer: "/node_type")
    }
    self.init()
    for (key, value) in o {
      switch key {
      case "zarr_format", "node_type": break
      case "attributes":
        guard let a = value.objectValue else { throw ZarrError(.invalidMetadata, "attributes must be an object", pointer: "/attributes") }
        attributes = a
      case "consolidated_metadata":
        if !value.isNull { consolidated = try ConsolidatedMetadata(v3: value) }
      default:
        guard value["must_understand"] == .bool(false) else {
          throw ZarrError(.unsupported,
            "unknown field \"\(key)\" (fields an implementation may ignore must say \"must_understand\": false)",
            pointer: "/" + pointerToken(key))
        }
        extraFields[key] = value
      }
    }
  }

  /// The `zarr.json` document (consolidated metadata is not rewritten: it would go stale).
  public var v3JSON: JSONValue {
    var o: JSONObject = ["zarr_format": 3, "node_type": "group"]
    if !attributes.isEmpty { o["attributes"] = .object(attributes) }
    for (k, v) in extraFields { o[k] = v }
    return .object(o)
  }
}

/// Metadata of every node below a group, stored in the group (zarr-python's convention).
public struct ConsolidatedMetadata: Sendable, Hashable {
  /// Node metadata by path relative to the group (`"a"`, `"a/b"`).
  public var nodes: [String: NodeMetadata]

  /// Consolidated metadata of `nodes`, keyed by path relative to the group.
  public init(nodes: [String: NodeMetadata]) { self.nodes = nodes }

  /// Reads v3 inline consolidated metadata: `{"kind": "inline", "must_understand": false, "metadata": {...}}`.
  public init(v3 json: JSONValue) throws(ZarrError) {
    let p = "/consolidated_metadata"
    guard let o = json.objectValue else { throw ZarrError(.invalidMetadata, "consolidated_metadata must be an object", pointer: p) }
    if let kind = o["kind"], kind != .string("inline") {
      throw ZarrError(.unsupported, "consolidated_metadata kind \(kind.serialized(pretty: false)) is not supported", pointer: p + "/kind")
    }
    guard let meta = o["metadata"]?.objectValue else {
      throw ZarrError(.invalidMetadata, "consolidated_metadata needs a \"metadata\" object", pointer: p + "/metadata")
    }
    var nodes: [String: NodeMetadata] = [:]
    for (path, doc) in meta {
      do {
        nodes[normalizePath(path)] = try NodeMetadata(v3: doc)
      } catch {
        throw error.under(p + "/metadata/" + pointerToken(path))
      }
    }
    self.nodes = nodes
  }

  /// Reads a v2 `.zmetadata` document: `{"metadata": {".zgroup": ..., "a/.zarray": ..., "a/.zattrs": ...}}`.
  public init(v2 json: JSONValue) throws(ZarrError) {
    guard let meta = json["metadata"]?.objectValue else {
      throw ZarrError(.invalidMetadata, ".zmetadata needs a \"metadata\" object", pointer: "/metadata")
    }
    var nodes: [String: NodeMetadata] = [:]
    for (key, doc) in meta {
      let parts = key.split(separator: "/")
      guard let last = parts.last else { continue }
      let path = parts.dropLast().joined(separator: "/")
      let attrs = meta[joinKey(path, ".zattrs")]?.objectValue ?? [:]
      do {
        switch last {
        case ".zarray": nodes[path] = .array(try ArrayMetadata(v2: doc, attributes: attrs))
        case ".zgroup": nodes[path] = .group(GroupMetadata(zarrFormat: .v2, attributes: attrs))
        default: break
        }
      } catch {
        throw error.under("/metadata/" + pointerToken(key))
      }
    }
    nodes.removeValue(forKey: "")
    self.nodes = nodes
  }
}

/// The metadata of any node.
public enum NodeMetadata: Sendable, Hashable {
  /// The metadata of an array.
  case array(ArrayMetadata)
  /// The metadata of a group.
  case group(GroupMetadata)

  /// Parses a v3 `zarr.json` of either kind.
  public init(v3 json: JSONValue) throws(ZarrError) {
    switch json["node_type"] {
    case .string("array")?: self = .array(try ArrayMetadata(v3: json))
    case .string("group")?: self = .group(try GroupMetadata(v3: json))
    default:
      if json["zarr_format"] != .int(3) {
        throw ZarrError(.invalidMetadata, "zarr_format must be 3", pointer: "/zarr_format")
      }
      throw ZarrError(.invalidMetadata, "node_type must be \"array\" or \"group\"", pointer: "/node_type")
    }
  }

  /// The Zarr format version the node is stored in.
  public var zarrFormat: ZarrFormat {
    switch self {
    case .array(let a): return a.zarrFormat
    case .group(let g): return g.zarrFormat
    }
  }

  /// The node's user attributes.
  public var attributes: JSONObject {
    switch self {
    case .array(let a): return a.attributes
    case .group(let g): return g.attributes
    }
  }

  /// Reads the metadata of the node at `path`: v3 `zarr.json` first, then v2 `.zarray`/`.zgroup`.
  /// - Throws: `.notFound` if there is no node; parse errors name the document's key.
  public static func read(_ store: any Store, _ path: String) throws -> NodeMetadata {
    let path = normalizePath(path)
    let v3Key = joinKey(path, "zarr.json")
    if let bytes = try store.get(v3Key) {
      do {
        return try NodeMetadata(v3: try JSONValue.parse(bytes))
      } catch {
        throw error.at(key: v3Key)
      }
    }
    let attrsKey = joinKey(path, ".zattrs")
    func attributes() throws -> JSONObject {
      guard let bytes = try store.get(attrsKey) else { return [:] }
      do {
        guard let o = try JSONValue.parse(bytes).objectValue else {
          throw ZarrError(.invalidMetadata, ".zattrs must hold a JSON object", pointer: "")
        }
        return o
      } catch {
        throw error.at(key: attrsKey)
      }
    }
    let arrayKey = joinKey(path, ".zarray")
    if let bytes = try store.get(arrayKey) {
      do {
        return .array(try ArrayMetadata(v2: try JSONValue.parse(bytes), attributes: try attributes()))
      } catch {
        throw error.at(key: arrayKey)
      }
    }
    let groupKey = joinKey(path, ".zgroup")
    if let bytes = try store.get(groupKey) {
      do {
        let doc = try JSONValue.parse(bytes)
        guard doc["zarr_format"] == .int(2) else {
          throw ZarrError(.invalidMetadata, "zarr_format must be 2", pointer: "/zarr_format")
        }
        var g = GroupMetadata(zarrFormat: .v2, attributes: try attributes())
        let consolidatedKey = joinKey(path, ".zmetadata")
        if let cbytes = try store.get(consolidatedKey) {
          do {
            g.consolidated = try ConsolidatedMetadata(v2: try JSONValue.parse(cbytes))
          } catch {
            throw error.at(key: consolidatedKey)
          }
        }
        return .group(g)
      } catch {
        throw error.at(key: groupKey)
      }
    }
    throw ZarrError(.notFound, "no Zarr node at '\(path.isEmpty ? "/" : path)' (no zarr.json, .zarray or .zgroup)", key: v3Key)
  }
}

/// What kind of node is stored at a path.
public enum NodeKind: String, Sendable, Hashable, CustomStringConvertible {
  /// An array, or a group.
  case array, group
  /// `"array"` or `"group"`.
  public var description: String { rawValue }

  /// The kind of node at `path` by its metadata key alone, or `nil` if there is none.
  public static func detect(_ store: any Store, _ path: String) throws -> NodeKind? {
    if let bytes = try store.get(joinKey(path, "zarr.json")) {
      return (try? JSONValue.parse(bytes))?["node_type"] == .string("group") ? .group : .array
    }
    if try store.exists(joinKey(path, ".zarray")) { return .array }
    if try store.exists(joinKey(path, ".zgroup")) { return .group }
    return nil
  }
}
