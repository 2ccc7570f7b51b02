import ZarrIO

/// An opened OME-Zarr node: its kind, version, OME metadata and the Zarr node underneath.
///
///     let node = try OMENode.open(path: "image.ome.zarr")
///     if let image = try node.image() {
///       let level0 = image.levels[0]                  // a ZarrArray
///       let tile = try level0.read([0..<1, 0..<1, 0..<256, 0..<256])
///     }
public struct OMENode: Sendable {
  /// The Zarr group or array underneath.
  public let zarr: ZarrNode
  /// What the node is, classified from its metadata (image, label image, plate, well, ...).
  public let kind: OMENodeKind
  /// The node's OME metadata, for any version.
  public let metadata: OMEAttributes

  /// The store the node is read from.
  public var store: any Store {
    switch zarr {
    case .array(let a): return a.store
    case .group(let g): return g.store
    }
  }
  /// The node's path in the store (`""` is the root).
  public var path: String { zarr.path }
  /// The NGFF version (declared, else 0.4 for unversioned top-level metadata, `nil` for plain Zarr).
  public var version: NGFFVersion? {
    metadata.ngffVersion ?? (metadata.isEmpty ? nil : .v04(metadata.version ?? "0.4"))
  }

  /// Opens the node at `path` in `store`.
  public static func open(in store: any Store, path: String = "") throws -> OMENode {
    try OMENode(try ZarrNode.open(in: store, path: path))
  }

  /// Opens the node at `location` (the root of the store there).
  public static func open(_ location: StoreLocation) throws -> OMENode {
    try open(in: try location.openStore())
  }

  /// Opens the node at `text`: a path or a URL (see ``StoreLocation/init(_:)``).
  public static func open(path text: String) throws -> OMENode {
    try open(try StoreLocation(text))
  }

  /// A node below this one (a relative path; `..` is resolved against this node's path).
  public func child(_ relative: String) throws -> OMENode {
    try OMENode.open(in: store, path: resolve(relative))
  }

  /// `relative` resolved against this node's path (`"../../"` from `a/b/c` is `a`).
  public func resolve(_ relative: String) -> String { StorePath.resolve(relative, from: path) }

  /// The multiscale image of this node (image or label image), with its levels opened.
  public func image(multiscale index: Int = 0) throws -> OMEImage? {
    guard let list = metadata.multiscales, list.indices.contains(index) else { return nil }
    return try OMEImage(node: self, multiscale: list[index])
  }

  /// The label images named by this image's `labels` group, if it has one.
  public func labelNames() throws -> [String] {
    guard let labels = try? child("labels"), labels.kind == .labels else { return [] }
    return labels.metadata.labels ?? []
  }
}


/// A multiscale image with its levels as ZarrIO arrays.
public struct OMEImage: Sendable {
  /// The node that holds the image.
  public let node: OMENode
  /// The multiscale description the levels were opened from.
  public let multiscale: Multiscale
  /// Level 0 (full resolution) first.
  public let levels: [ZarrArray]

  init(node: OMENode, multiscale: Multiscale) throws {
    self.node = node
    self.multiscale = multiscale
    var levels: [ZarrArray] = []
    var opened: [String: ZarrArray] = [:]  // a path listed again (invalid, but seen) is read once
    for (i, d) in multiscale.datasets.enumerated() {
      do {
        let key = node.resolve(d.path)
        if let a = opened[key] {
          levels.append(a)
          continue
        }
        let a = try ZarrArray.open(in: node.store, path: key)
        opened[key] = a
        levels.append(a)
      } catch let e as ZarrError where e.code == .notFound {
        throw OMEZarrError(.inconsistent, "level \(i) (path '\(d.path)') has no array", path: node.path,
          pointer: "/multiscales/0/datasets/\(i)/path")
      }
    }
    self.levels = levels
  }

  /// The axes of the levels, in array dimension order.
  public var axes: [Axis] { multiscale.levelAxes }
  /// The node's per-channel rendering settings (`omero`), if any.
  public var omero: Omero? { node.metadata.omero }

  /// Scale (pixel size) of level `i` per axis.
  public func scale(level i: Int) -> [Double]? { multiscale.scaleAndTranslation(level: i)?.scale }
  /// Translation (position of the first pixel's centre) of level `i` per axis.
  public func translation(level i: Int) -> [Double]? { multiscale.scaleAndTranslation(level: i)?.translation }
}

extension OMENode {
  /// The OME view of a Zarr node already opened (its metadata classified).
  public init(_ zarr: ZarrNode) throws {
    let meta: OMEAttributes
    do {
      meta = try OMEAttributes(attributes: zarr.attributes)
    } catch {
      throw error.omeAt(path: zarr.path)
    }
    var isArray = false
    if case .array = zarr { isArray = true }
    self.init(zarr: zarr, kind: OMENodeKind.classify(attributes: zarr.attributes, isArray: isArray), metadata: meta)
  }
}
