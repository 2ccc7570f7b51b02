import Foundation
import ZarrIO

/// An RFC-8 document: a node stored under `ome` in a Zarr group's `zarr.json`
/// (`attributes.ome`) or in a standalone JSON file (`{"ome": …}`).
///
///     var doc = try CollectionDocument.read(path: "collection.json")
///     doc.root.nodes?.append(CollectionNode(type: "multiscale", name: "raw", path: NodePath(type: "zarr", path: "./raw.ome.zarr")))
///     try doc.write()
public struct CollectionDocument: Sendable {
  public enum Storage: String, Sendable { case zarrGroup = "zarr", jsonFile = "json" }

  public var root: CollectionNode
  /// The absolute path of the group directory or JSON file.
  public let location: String
  public let storage: Storage
  /// Keys beside `ome` (other group attributes, or other keys of the JSON file), kept on write.
  public var otherKeys: JSONObject = [:]

  public init(root: CollectionNode, location: String, storage: Storage) {
    self.root = root
    self.location = Self.absolute(location)
    self.storage = storage
  }

  /// A new document at `path`: a JSON file when `path` ends in `.json`, else a Zarr group.
  public static func new(at path: String, root: CollectionNode) -> CollectionDocument {
    var root = root
    if root.version == nil { root.version = CollectionNode.currentVersion }
    return CollectionDocument(root: root, location: path, storage: path.hasSuffix(".json") ? .jsonFile : .zarrGroup)
  }

  /// The directory relative paths in this document resolve against: the group directory, or the
  /// directory of the JSON file.
  public var baseDirectory: String {
    storage == .zarrGroup ? location : Self.parent(location)
  }

  /// The directory (or URL) holding `location`.
  static func parent(_ location: String) -> String {
    guard isHTTPURL(location) else { return (location as NSString).deletingLastPathComponent }
    guard let slash = location.lastIndex(of: "/") else { return location }
    return String(location[..<slash])
  }

  /// The directory references may not leave unless allowed: the one holding the document (the
  /// JSON file's directory, or the directory the collection group is in, so that members beside
  /// the group, `../image.ome.zarr`, resolve).
  public var rootDirectory: String { Self.parent(location) }

  /// Whether the document was read from an `http(s)://` URL (such documents cannot be written).
  public var isRemote: Bool { isHTTPURL(location) }

  /// Reads the document at `path`: a `*.json` file, a Zarr group directory (or its `zarr.json`),
  /// or either of these at an `http(s)://` URL.
  /// - Throws: `OMEZarrError` when there is no RFC-8 node there or it is malformed.
  public static func read(path: String) throws -> CollectionDocument {
    var path = absolute(path)
    if path.hasSuffix("/zarr.json") { path = String(path.dropLast("/zarr.json".count)) }
    let storage: Storage
    if isHTTPURL(path) {
      storage = path.hasSuffix(".json") ? .jsonFile : .zarrGroup
    } else {
      var isDir: ObjCBool = false
      guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
        throw OMEZarrError(.invalidArgument, "'\(path)' does not exist")
      }
      storage = isDir.boolValue ? .zarrGroup : .jsonFile
    }
    guard let object = try loadObject(path, storage: storage) else {
      let localGroup = storage == .zarrGroup && !isHTTPURL(path)
      throw OMEZarrError(.invalidArgument, localGroup ? "'\(path)' is not a Zarr group (no zarr.json or .zgroup)" : "'\(path)' does not exist")
    }
    return try CollectionDocument(object: object, location: path, storage: storage)
  }

  /// The document held by `object` (a group's attributes, or a JSON file's object) at `location`.
  init(object: JSONObject, location: String, storage: Storage) throws {
    guard let ome = object["ome"] else {
      throw OMEZarrError(.wrongKind, "'\(location)' has no \"ome\" metadata")
    }
    let root: CollectionNode
    do {
      root = try CollectionNode(json: ome, pointer: storage == .zarrGroup ? "/attributes/ome" : "/ome")
    } catch {
      throw error.at(path: location)
    }
    self.init(root: root, location: location, storage: storage)
    otherKeys = JSONObject(object.entries.filter { $0.key != "ome" }.map { ($0.key, $0.value) })
  }

  /// The attributes of the group at `location`, or the object of the JSON file there, from disk
  /// or over HTTP; `nil` when nothing is there.
  static func loadObject(_ location: String, storage: Storage) throws -> JSONObject? {
    if storage == .zarrGroup {
      do {
        return try ZarrGroup.open(in: openStore(location)).attributes
      } catch let e as ZarrError where e.code == .notFound {
        return nil
      }
    }
    let bytes: [UInt8]
    if isHTTPURL(location) {
      let parent = parent(location)
      guard let b = try HTTPStore(url: parent).get(String(location.dropFirst(parent.count + 1))) else { return nil }
      bytes = b
    } else {
      guard FileManager.default.fileExists(atPath: location) else { return nil }
      do { bytes = Array(try Data(contentsOf: URL(fileURLWithPath: location))) } catch {
        throw OMEZarrError(.invalidArgument, "cannot read '\(location)': \(error.localizedDescription)")
      }
    }
    guard let o = try JSONValue.parse(bytes).objectValue else {
      throw OMEZarrError(.invalidMetadata, "'\(location)' is not a JSON object")
    }
    return o
  }

  /// Whether the metadata `ome` object is an RFC-8 node (or a seed-design collection).
  public static func isNode(_ ome: JSONObject) -> Bool {
    OMENodeKind.isCollectionNode(ome)
  }

  /// Writes the document: atomically (temporary file and rename), creating the group if needed.
  /// - Throws: for a document read from a URL.
  public func write() throws {
    guard !isRemote else { throw OMEZarrError(.invalidArgument, "'\(location)' is a URL; documents can only be written locally") }
    var object = otherKeys
    object["ome"] = root.json
    switch storage {
    case .zarrGroup:
      let store = try FilesystemStore(root: location, create: true)
      if let group = try? ZarrGroup.open(in: store) {
        _ = try group.setAttributes(object)
      } else {
        _ = try ZarrGroup.create(in: store, attributes: object)
      }
    case .jsonFile:
      let dir = (location as NSString).deletingLastPathComponent
      try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
      try Data(JSONValue.object(object).serializedBytes(pretty: true) + [10]).write(to: URL(fileURLWithPath: location), options: .atomic)
    }
  }

  /// `target` (an absolute path) relative to ``baseDirectory``, as `./x` or `../x`.
  public func relativePath(to target: String) -> String { Self.relativePath(from: baseDirectory, to: target) }

  /// `target` relative to the directory `base`, as `./x` or `../x` (`.` for the directory itself).
  public static func relativePath(from base: String, to target: String) -> String {
    let from = absolute(base).split(separator: "/"), to = absolute(target).split(separator: "/")
    var common = 0
    while common < min(from.count, to.count) && from[common] == to[common] { common += 1 }
    let up = [String](repeating: "..", count: from.count - common)
    let rest = to[common...].map(String.init)
    let parts = up + rest
    if parts.isEmpty { return "." }
    return up.isEmpty ? "./" + parts.joined(separator: "/") : parts.joined(separator: "/")
  }

  /// An absolute, standardized path (no `.`/`..`, no trailing slash); URLs are standardized the same way.
  public static func absolute(_ path: String) -> String {
    if isHTTPURL(path) {
      var u = URL(string: path)?.standardized.absoluteString ?? path
      while u.hasSuffix("/") { u.removeLast() }
      return u
    }
    var p = URL(fileURLWithPath: path).standardizedFileURL.path
    while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
    return p
  }
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
    public var document: String
    public var status: Status
    /// Where the node's path led (absolute path or URL).
    public var location: String?
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

  public let options: Options
  /// The directory paths must stay in.
  public let root: String

  public init(root: String, options: Options = Options()) {
    self.root = CollectionDocument.absolute(root)
    self.options = options
  }

  /// Resolves a whole document, inside `root` (default: the document's ``CollectionDocument/rootDirectory``).
  public static func resolve(_ doc: CollectionDocument, options: Options = Options(), root: String? = nil) -> Resolved {
    let r = CollectionResolver(root: root ?? doc.rootDirectory, options: options)
    let pointer = doc.storage == .zarrGroup ? "/attributes/ome" : "/ome"
    var top = r.visit(doc.root, pointer: pointer, in: doc, depth: 0, chain: [doc.location])
    top.kind = top.kind ?? doc.root.type.rawValue
    top.version = top.version ?? doc.root.version
    top.location = top.location ?? doc.location
    return top
  }

  func visit(_ node: CollectionNode, pointer: String, in doc: CollectionDocument, depth: Int, chain: [String]) -> Resolved {
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
      out.location = path.path
      out.status = .invalid
      out.message = "path type '\(path.type)' is not understood; the node is kept as it is"
      return out
    }
    // Where the path leads: a URL (given, or relative to a remote document) or a local path.
    let target: String
    if path.isRemote {
      target = CollectionDocument.absolute(path.path)
    } else if doc.isRemote {
      guard !path.isFileURL, let base = URL(string: doc.baseDirectory + "/"),
        let url = URL(string: path.path, relativeTo: base)?.absoluteURL, isHTTPURL(url.absoluteString)
      else {
        out.location = path.path
        out.status = .outside
        out.message = "not followed: a remote document may not point at local files ('\(path.path)')"
        return out
      }
      target = CollectionDocument.absolute(url.absoluteString)
    } else {
      var local = path.path
      if path.isFileURL {
        local = URL(string: local)?.path ?? String(local.dropFirst("file://".count))
      } else if !local.hasPrefix("/") {
        local = (doc.baseDirectory as NSString).appendingPathComponent(local)
      }
      target = CollectionDocument.absolute(local)
    }
    out.location = target
    let remote = isHTTPURL(target)
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
        let exists = remote || FileManager.default.fileExists(atPath: target)
        let zarr: ZarrNode
        do {
          guard exists else { throw ZarrError(.notFound, "'\(target)' does not exist") }
          zarr = try ZarrNode.open(in: try openStore(target))
        } catch let e as ZarrError where e.code == .notFound {
          let local = exists && !remote
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

  /// Whether `path` (absolute, standardized) is inside the root, following symbolic links. A URL
  /// is inside a root URL it starts with (a collection read from a URL may follow its own
  /// relative paths); it is never inside a local root.
  public func isInside(_ path: String) -> Bool {
    if isHTTPURL(path) || isHTTPURL(root) {
      return isHTTPURL(path) && isHTTPURL(root) && (path == root || path.hasPrefix(root + "/"))
    }
    let real = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
    let base = URL(fileURLWithPath: root).resolvingSymlinksInPath().path
    return real == base || real.hasPrefix(base.hasSuffix("/") ? base : base + "/")
  }
}
