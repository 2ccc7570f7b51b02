import ZarrIO

/// An RFC-8 document: a node stored under `ome` in a Zarr group's `zarr.json`
/// (`attributes.ome`) or in a standalone JSON file (`{"ome": …}`).
///
///     var doc = try CollectionDocument.read(path: "collection.json")
///     doc.root.nodes?.append(CollectionNode(type: "multiscale", name: "raw", path: NodePath(type: "zarr", path: "./raw.ome.zarr")))
///     try doc.write()
public struct CollectionDocument: Sendable {
  /// Where the document is kept: in a Zarr group's `zarr.json`, or as a JSON file.
  public enum Storage: String, Sendable { case zarrGroup = "zarr", jsonFile = "json" }

  /// The document's top node.
  public var root: CollectionNode
  /// The group or the JSON file (a path or a URL).
  public let location: StoreLocation
  /// Whether the document is a group's attributes or a JSON file.
  public let storage: Storage
  /// Keys beside `ome` (other group attributes, or other keys of the JSON file), kept on write.
  public var otherKeys: JSONObject = [:]

  /// A document with `root` at `location`.
  public init(root: CollectionNode, location: StoreLocation, storage: Storage) {
    self.root = root
    self.location = location
    self.storage = storage
  }

  /// A new document at `location`: a JSON file when its name ends in `.json`, else a Zarr group.
  public static func new(at location: StoreLocation, root: CollectionNode) -> CollectionDocument {
    var root = root
    if root.version == nil { root.version = CollectionNode.currentVersion }
    return CollectionDocument(root: root, location: location, storage: location.name.hasSuffix(".json") ? .jsonFile : .zarrGroup)
  }

  /// The location relative paths in this document resolve against: the group, or what holds the
  /// JSON file.
  public var baseLocation: StoreLocation { storage == .zarrGroup ? location : location.parent }

  /// The location references may not leave unless allowed: what holds the document (the JSON
  /// file's directory, or the directory the collection group is in, so that members beside the
  /// group, `../image.ome.zarr`, resolve).
  public var rootLocation: StoreLocation { location.parent }

  /// Whether the document was read from a remote location (a URL).
  public var isRemote: Bool { location.isRemote }

  /// Reads the document at `text` (a path or a URL, see ``read(at:)``).
  public static func read(path text: String) throws -> CollectionDocument {
    try read(at: try StoreLocation(text))
  }

  /// Reads the document at `location`: a JSON file, a Zarr group (or its `zarr.json`). Where the
  /// scheme cannot tell files from prefixes (HTTP), a name ending in `.json` is a JSON file.
  /// - Throws: `OMEZarrError` when there is no RFC-8 node there or it is malformed.
  public static func read(at location: StoreLocation) throws -> CollectionDocument {
    var location = location
    if location.name == "zarr.json" { location = location.parent }
    let entry = location.entry()
    let storage: Storage
    switch entry {
    case .absent: throw OMEZarrError(.invalidArgument, "'\(location)' does not exist")
    case .prefix: storage = .zarrGroup
    case .object: storage = .jsonFile
    case nil: storage = location.name.hasSuffix(".json") ? .jsonFile : .zarrGroup
    }
    guard let object = try loadObject(location, storage: storage) else {
      let localGroup = storage == .zarrGroup && entry != nil
      throw OMEZarrError(.invalidArgument, localGroup ? "'\(location)' is not a Zarr group (no zarr.json or .zgroup)" : "'\(location)' does not exist")
    }
    return try CollectionDocument(object: object, location: location, storage: storage)
  }

  /// The document held by `object` (a group's attributes, or a JSON file's object) at `location`.
  init(object: JSONObject, location: StoreLocation, storage: Storage) throws {
    guard let ome = object["ome"] else {
      throw OMEZarrError(.wrongKind, "'\(location)' has no \"ome\" metadata")
    }
    let root: CollectionNode
    do {
      root = try CollectionNode(json: ome, pointer: storage == .zarrGroup ? "/attributes/ome" : "/ome")
    } catch {
      throw error.at(path: location.description)
    }
    self.init(root: root, location: location, storage: storage)
    otherKeys = JSONObject(object.entries.filter { $0.key != "ome" }.map { ($0.key, $0.value) })
  }

  /// The attributes of the group at `location`, or the object of the JSON file there; `nil` when
  /// nothing is there.
  static func loadObject(_ location: StoreLocation, storage: Storage) throws -> JSONObject? {
    if storage == .zarrGroup {
      do {
        return try ZarrGroup.open(in: location.openStore()).attributes
      } catch let e as ZarrError where e.code == .notFound {
        return nil
      }
    }
    guard let bytes = try location.read() else { return nil }
    guard let o = try JSONValue.parse(bytes).objectValue else {
      throw OMEZarrError(.invalidMetadata, "'\(location)' is not a JSON object")
    }
    return o
  }

  /// Whether the metadata `ome` object is an RFC-8 node (or a seed-design collection).
  public static func isNode(_ ome: JSONObject) -> Bool {
    OMENodeKind.isCollectionNode(ome)
  }

  /// Writes the document atomically, creating the group if needed.
  /// - Throws: `OMEZarrError.invalidArgument` when the location cannot be written (a URL of a
  ///   read-only scheme); store failures as they are.
  public func write() throws {
    var object = otherKeys
    object["ome"] = root.json
    let store: any Store
    do {
      store = try (storage == .zarrGroup ? location : location.parent).openStore(create: true)
    } catch let e as ZarrError where e.code == .invalidArgument {
      throw OMEZarrError(.invalidArgument, "cannot write '\(location)': \(e.message)")
    }
    switch storage {
    case .zarrGroup:
      if let group = try? ZarrGroup.open(in: store) {
        _ = try group.setAttributes(object)
      } else {
        _ = try ZarrGroup.create(in: store, attributes: object)
      }
    case .jsonFile:
      try store.set(location.name, JSONValue.object(object).serializedBytes(pretty: true) + [10])
    }
  }

  /// `target` as a reference from this document (``baseLocation``), as `./x` or `../x`.
  public func relativePath(to target: StoreLocation) -> String { baseLocation.relativeReference(to: target) }
}

/// Resolves the `path`s of an RFC-8 tree safely: only inside the collection's root directory unless
/// allowed, never a URL unless allowed, with cycles and depth bounded. Nothing is followed that
/// the options forbid; such nodes are reported instead.
///
/// A collection read from a URL has that URL's directory as its root: its relative paths are
/// followed without `allowRemote`, other URLs need it, and it may never point at local files.
public struct CollectionResolver: Sendable {
  public struct Options: Sendable {
    /// Fetch `http(s)://` documents and the metadata of images they name (no pixel data).
    public var allowRemote = false
    /// Follow paths that leave the root directory (`..` above it, absolute `file://` URLs elsewhere).
    public var allowOutside = false
    /// The most documents followed in one chain.
    public var maxDepth = 16
    public init() {}
  }

  /// What resolving a node found.
  public enum Status: String, Sendable {
    /// The node's children are inline.
    case inline
    /// The path leads to a readable node.
    case resolved
    case missing
    /// Not followed: the path leaves the collection's root.
    case outside
    /// Not followed: a URL (`--allow-remote`).
    case remote
    /// Not followed: the document is already being resolved further up.
    case cycle
    /// Not followed: too many documents deep.
    case tooDeep = "too-deep"
    /// Followed, but the target is malformed or cannot be read.
    case invalid
  }

  /// One resolved node with its children.
  public struct Resolved: Sendable {
    public var node: CollectionNode
    /// The JSON pointer of the node in its document.
    public var pointer: String
    /// The document holding the node.
    public var document: StoreLocation
    /// What resolving found.
    public var status: Status
    /// Where the node's path led.
    public var location: StoreLocation?
    /// What is there: an OMENode kind (`image`, `label-image`, `plate`, ...), `collection`, an
    /// RFC-8 node type, or `array`.
    public var kind: String?
    public var version: String?
    /// Level 0 shape and data type of an image (or an array's).
    public var shape: [Int]?
    public var dataType: String?
    public var message: String?
    public var children: [Resolved] = []

    /// Every resolved node of the tree, depth first.
    public var all: [Resolved] { [self] + children.flatMap(\.all) }
  }

  /// What may be followed.
  public let options: Options
  /// The location paths must stay in.
  public let root: StoreLocation

  /// A resolver that keeps inside `root`.
  public init(root: StoreLocation, options: Options = Options()) {
    self.root = root
    self.options = options
  }

  /// Resolves a whole document, inside `root` (default: the document's ``CollectionDocument/rootLocation``).
  public static func resolve(_ doc: CollectionDocument, options: Options = Options(), root: StoreLocation? = nil) -> Resolved {
    let r = CollectionResolver(root: root ?? doc.rootLocation, options: options)
    let pointer = doc.storage == .zarrGroup ? "/attributes/ome" : "/ome"
    var top = r.visit(doc.root, pointer: pointer, in: doc, depth: 0, chain: [doc.location])
    top.kind = top.kind ?? doc.root.type.rawValue
    top.version = top.version ?? doc.root.version
    top.location = top.location ?? doc.location
    return top
  }

  func visit(_ node: CollectionNode, pointer: String, in doc: CollectionDocument, depth: Int, chain: [StoreLocation]) -> Resolved {
    var out = Resolved(node: node, pointer: pointer, document: doc.location, status: .inline)
    if let nodes = node.nodes {
      out.children = nodes.enumerated().map { visit($1, pointer: "\(pointer)/nodes/\($0)", in: doc, depth: depth, chain: chain) }
      if node.path == nil { return out }
    }
    guard let path = node.path else {
      out.kind = node.type.rawValue
      return out
    }
    if path.type != "zarr" && path.type != "json" {
      out.location = try? doc.baseLocation.resolving(path.path)
      out.status = .invalid
      out.message = "path type '\(path.type)' is not understood; the node is kept as it is"
      return out
    }
    // Where the path leads: a URL as given, else relative to the document (`/x` from its root).
    let target: StoreLocation
    do {
      target = try doc.baseLocation.resolving(path.path)
    } catch {
      out.status = .invalid
      out.message = "\(error)"
      return out
    }
    out.location = target
    if doc.location.isRemote && target.isFile {
      out.status = .outside
      out.message = "not followed: a remote document may not point at local files ('\(path.path)')"
      return out
    }
    let remote = target.isRemote
    if remote && !options.allowRemote && !isInside(target) {
      out.status = .remote
      out.message = "not fetched: a remote URL (allow with --allow-remote)"
      return out
    }
    if !remote && !options.allowOutside && !isInside(target) {
      out.status = .outside
      out.message = "not followed: '\(path.path)' leaves the collection's root '\(root)' (allow with --allow-outside)"
      return out
    }
    if chain.contains(target) {
      out.status = .cycle
      out.message = "not followed: '\(path.path)' leads back to a document already being read (a cycle)"
      return out
    }
    if depth >= options.maxDepth {
      out.status = .tooDeep
      out.message = "not followed: more than \(options.maxDepth) documents deep"
      return out
    }
    do {
      // Read the target once: a JSON document, or a Zarr node that is an RFC-8 document or an image.
      let child: CollectionDocument
      if path.type == "zarr" {
        // Schemes that can tell (files) separate "nothing there" from "not a Zarr node".
        let entry = target.entry()
        let zarr: ZarrNode
        do {
          guard entry != .absent else { throw ZarrError(.notFound, "'\(target)' does not exist") }
          zarr = try ZarrNode.open(in: try target.openStore())
        } catch let e as ZarrError where e.code == .notFound {
          let local = entry != nil && entry != .absent
          out.status = local ? .invalid : .missing
          out.message = local
            ? "'\(path.path)' is not a Zarr node (no zarr.json, .zgroup, .zarray or .zattrs)" : "'\(path.path)' does not exist"
          return out
        }
        guard let ome = zarr.attributes["ome"]?.objectValue, CollectionDocument.isNode(ome) else {
          describe(try OMENode(zarr), into: &out)
          return out
        }
        child = try CollectionDocument(object: zarr.attributes, location: target, storage: .zarrGroup)
      } else {
        guard let object = try CollectionDocument.loadObject(target, storage: .jsonFile) else {
          out.status = .missing
          out.message = "'\(path.path)' does not exist"
          return out
        }
        child = try CollectionDocument(object: object, location: target, storage: .jsonFile)
      }
      let sub = visit(child.root, pointer: child.storage == .zarrGroup ? "/attributes/ome" : "/ome", in: child,
        depth: depth + 1, chain: chain + [target])
      out.children = sub.children.isEmpty ? out.children : sub.children
      out.kind = child.root.type.rawValue
      out.version = child.root.version
      out.status = sub.status == .inline || sub.status == .resolved ? .resolved : sub.status
      out.message = sub.message
    } catch {
      out.status = .invalid
      out.message = "\(error)"
    }
    return out
  }

  /// Fills in what an OME-Zarr node is: its kind, version, and level-0 (or array) shape and type.
  private func describe(_ node: OMENode, into out: inout Resolved) {
    out.status = .resolved
    out.kind = node.kind.rawValue
    out.version = node.version?.description
    switch node.zarr {
    case .array(let a):
      out.shape = a.shape
      out.dataType = a.metadata.dataType.description
    case .group:
      if let ms = node.metadata.multiscales?.first, let first = ms.datasets.first,
        let a = try? ZarrArray.open(in: node.store, path: node.resolve(first.path))
      {
        out.shape = a.shape
        out.dataType = a.metadata.dataType.description
      }
    }
  }

  /// Whether `location` is inside the root, following symbolic links: a collection may follow
  /// its own relative paths, on disk or under its URL; a URL is never inside a local root.
  public func isInside(_ location: StoreLocation) -> Bool {
    root.canonical.contains(location.canonical)
  }
}
