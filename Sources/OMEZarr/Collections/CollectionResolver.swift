import ZarrIO

/// Resolves the `path`s of an RFC-8 tree safely: only inside the collection's root directory unless
/// allowed, never a URL unless allowed, with cycles and depth bounded. Nothing is followed that
/// the options forbid; such nodes are reported instead.
///
/// A collection read from a URL has that URL's directory as its root: its relative paths are
/// followed without `allowRemote`, other URLs need it, and it may never point at local files.
public struct CollectionResolver: Sendable {
  /// What the resolver may follow, and how deep.
  public struct Options: Sendable {
    /// Fetch `http(s)://` documents and the metadata of images they name (no pixel data).
    public var allowRemote = false
    /// Follow paths that leave the root directory (`..` above it, absolute `file://` URLs elsewhere).
    public var allowOutside = false
    /// The most documents followed in one chain.
    public var maxDepth = 16
    /// The most nodes resolved in all (inline and in referenced documents together): a guard
    /// against documents that reference each other many times over (diamonds multiply).
    public var maxNodes = 100_000
    /// The defaults: stay local, stay inside the root, at most 16 documents deep, 100,000 nodes.
    public init() {}
  }

  /// What resolving a node found.
  public enum Status: String, Sendable {
    /// The node's children are inline.
    case inline
    /// The path leads to a readable node.
    case resolved
    /// The path leads to nothing.
    case missing
    /// Not followed: the path leaves the collection's root.
    case outside
    /// Not followed: a URL (`--allow-remote`).
    case remote
    /// Not followed: the document is already being resolved further up.
    case cycle
    /// Not followed: too many documents deep (or nodes nested too deeply).
    case tooDeep = "too-deep"
    /// Not followed: the tree already has the most nodes allowed (``Options/maxNodes``).
    case tooMany = "too-many"
    /// Followed, but the target is malformed or cannot be read.
    case invalid
  }

  /// One resolved node with its children.
  public struct Resolved: Sendable {
    /// The node as written in its document.
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
    /// The NGFF version of what the path led to, or of the node.
    public var version: String?
    /// Level 0 shape and data type of an image (or an array's).
    public var shape: [Int]?
    /// The level-0 (or array's) data type, as Zarr spells it.
    public var dataType: String?
    /// Why the node was not followed or could not be read; `nil` when resolving went fine.
    public var message: String?
    /// The node's resolved children, inline or from the document its path led to.
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
    var walk = Walk()
    var top = r.visit(doc.root, pointer: pointer, in: doc, depth: 0, level: 0, chain: [doc.location], walk: &walk)
    top.kind = top.kind ?? doc.root.type.rawValue
    top.version = top.version ?? doc.root.version
    top.location = top.location ?? doc.location
    return top
  }

  /// The most nodes nested inside each other, over all documents of a chain (each document's own
  /// nesting is bounded by the JSON parser); keeps the recursion far from the end of the stack.
  static let maxLevel = 1_000

  /// What one resolution has done so far: the nodes it resolved, and what each Zarr node that is not
  /// a collection turned out to be, so that a node referenced many times is opened once.
  struct Walk {
    /// The nodes resolved so far, in the whole tree.
    var count = 0
    /// Zarr nodes read so far, by location: the outcome of their first reference.
    var described: [StoreLocation: Resolved] = [:]
  }

  /// Resolves `node` (`level` nodes deep, `depth` documents deep), counting it in `walk`.
  func visit(_ node: CollectionNode, pointer: String, in doc: CollectionDocument, depth: Int, level: Int,
             chain: [StoreLocation], walk: inout Walk) -> Resolved {
    var out = Resolved(node: node, pointer: pointer, document: doc.location, status: .inline)
    walk.count += 1
    if walk.count > options.maxNodes {
      out.status = .tooMany
      out.message = "not followed: the collection has more than \(options.maxNodes) nodes (raise the limit with --max-nodes)"
      return out
    }
    if level >= Self.maxLevel {
      out.status = .tooDeep
      out.message = "not followed: nodes nested more than \(Self.maxLevel) deep"
      return out
    }
    if let nodes = node.nodes {
      for (i, child) in nodes.enumerated() {
        out.children.append(visit(child, pointer: "\(pointer)/nodes/\(i)", in: doc, depth: depth, level: level + 1,
                                  chain: chain, walk: &walk))
        // Past the limit one node says why; the rest are not listed.
        if walk.count > options.maxNodes { break }
      }
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
    if path.type == "zarr", let seen = walk.described[target] {
      // Read before (so inside the root, and not a collection): the same outcome, for this node.
      (out.status, out.message, out.kind, out.version, out.shape, out.dataType) =
        (seen.status, seen.message, seen.kind, seen.version, seen.shape, seen.dataType)
      return out
    }
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
          walk.described[target] = out
          return out
        }
        guard let ome = zarr.attributes["ome"]?.objectValue, CollectionDocument.isNode(ome) else {
          do {
            describe(try OMENode(zarr), into: &out)
          } catch {
            out.status = .invalid
            out.message = "\(error)"
          }
          walk.described[target] = out
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
        depth: depth + 1, level: level, chain: chain + [target], walk: &walk)
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
