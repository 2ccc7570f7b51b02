import ZarrIO

extension CollectionDocument {
  /// The RFC-8 document at `location` when there is one: a group whose `ome` attributes, or a JSON
  /// file whose `ome` object, is an RFC-8 node; `nil` for anything else (an image, a plain group,
  /// an unreadable location).
  public static func detect(at location: StoreLocation) -> CollectionDocument? {
    var location = location
    if location.name == "zarr.json" { location = location.parent }
    let ome: JSONObject?
    switch location.entry() {
    case .absent: return nil
    case .object:
      ome = (try? location.read()).flatMap { $0 }.flatMap { try? JSONValue.parse($0) }?["ome"]?.objectValue
    case .prefix, nil:
      if location.isRemote && location.name.hasSuffix(".json") { return try? read(at: location) }
      ome = (try? ZarrGroup.open(in: location.openStore()))?.attributes["ome"]?.objectValue
    }
    guard let ome, isNode(ome) else { return nil }
    return try? read(at: location)
  }
}

extension Validator {
  /// Validates what is at `location`: an RFC-8 collection (a group or a JSON document, with its
  /// references resolved as `resolution` allows), a Zarr hierarchy (a store root), or a single
  /// metadata document (a JSON file: `zarr.json` or `.zattrs` content).
  /// - Throws: `ZarrError` when nothing is there or it cannot be read (`.notFound`, `.storeFailure`,
  ///   `.invalidJSON`); problems of the data itself are findings, not errors.
  public func validate(_ location: StoreLocation, resolution: CollectionResolver.Options = .init()) throws -> ValidationReport {
    let entry = location.entry()
    if entry == .absent { throw ZarrError(.notFound, "'\(location)' does not exist") }
    if let collection = CollectionDocument.detect(at: location) {
      return validate(collection: collection, resolution: resolution)
    }
    if entry == .object {
      guard let bytes = try location.read() else { throw ZarrError(.notFound, "'\(location)' does not exist") }
      let document: JSONValue
      do { document = try JSONValue.parse(bytes) } catch {
        throw ZarrError(.invalidJSON, "'\(location)' is not valid JSON: \(error)")
      }
      return validate(document: document)
    }
    return try validate(store: try location.openStore())
  }
}
