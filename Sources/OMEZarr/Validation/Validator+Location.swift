import ZarrIO

extension Validator {
  /// Validates what is at `location`: an RFC-8 collection (a group or a JSON document, with its
  /// references resolved as `resolution` allows), a Zarr hierarchy (a store root), or a single
  /// metadata document (a JSON file: `zarr.json` or `.zattrs` content), or a zipped OME-Zarr (its
  /// RFC-9 rules, then its hierarchy).
  /// - Throws: `ZarrError` when nothing is there or it cannot be read (`.notFound`, `.storeFailure`,
  ///   `.invalidJSON`); problems of the data itself are findings, not errors.
  public func validate(_ location: StoreLocation, resolution: CollectionResolver.Options = .init()) throws -> ValidationReport {
    let entry = location.entry()
    if entry == .absent { throw ZarrError(.notFound, "'\(location)' does not exist") }
    if location.isArchive, entry == .prefix { return try validate(archive: location) }
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
