import ZarrIO

/// An RFC-8 document: a node stored under `ome` in a Zarr group's `zarr.json`
/// (`attributes.ome`) or in a standalone JSON file (`{"ome": …}`).
///
///     var doc = try CollectionDocument.read(path: "collection.json")
///     doc.root.nodes?.append(CollectionNode(type: "multiscale", name: "raw", path: PathReference(type: "zarr", path: "./raw.ome.zarr")))
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
    if store is any FinishableStore {
      throw OMEZarrError(.invalidArgument, "cannot write '\(location)': a collection is not written as an archive; write a directory, then pack it")
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

extension CollectionDocument {
  /// The RFC-8 document at `location` when there is one: a group whose `ome` attributes, or a JSON
  /// file whose `ome` object, is an RFC-8 node; `nil` for anything else (an image, a plain group,
  /// an unreadable location).
  public static func detect(at location: StoreLocation) -> CollectionDocument? {
    var location = location
    if location.name == "zarr.json" { location = location.parent }
    let storage: Storage
    switch location.entry() {
    case .absent: return nil
    case .object: storage = .jsonFile
    case .prefix: storage = .zarrGroup
    case nil: storage = location.isRemote && location.name.hasSuffix(".json") ? .jsonFile : .zarrGroup
    }
    // Read once: the object decides, and becomes the document.
    guard let object = try? loadObject(location, storage: storage), let ome = object["ome"]?.objectValue, isNode(ome) else {
      return nil
    }
    return try? CollectionDocument(object: object, location: location, storage: storage)
  }
}
