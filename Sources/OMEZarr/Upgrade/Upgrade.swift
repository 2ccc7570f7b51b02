import ZarrIO

/// Upgrades OME-Zarr hierarchies: 0.4 (Zarr v2) to 0.5 (Zarr v3, sharded, re-encoded), and 0.4/0.5
/// to 0.6 (RFC-5 coordinate systems), for images, labels, plates, wells and bioformats2raw roots.
///
/// The whole tree below the node is rewritten: groups get converted metadata (unknown keys kept),
/// arrays are re-encoded when the Zarr format changes and copied as stored otherwise, and other
/// files (e.g. `OME/METADATA.ome.xml`) are copied unchanged. Each group's metadata is written after
/// its children, so an interrupted upgrade never looks complete.
public enum Upgrade {
  /// How arrays are re-encoded and whether an existing destination is replaced.
  public struct Options: Sendable {
    /// Compression of re-encoded arrays.
    public var compressor: Compressor = .zstd(level: 3)
    /// Shard re-encoded arrays (shards from the source chunks, see ``ZarrIO/ArrayMetadata/defaultShardShape(shape:chunkShape:dataType:)``).
    public var sharded = true
    /// Replace an existing destination.
    public var overwrite = false
    /// The defaults: zstd level 3, sharded, no overwrite.
    public init() {}
  }

  /// Rewrites the hierarchy at `source` as `version` at `path` in `destination`.
  @discardableResult
  public static func upgrade(
    _ source: OMENode, to version: NGFFVersion, in destination: any Store, at path: String = "", options: Options = Options()
  ) throws -> OMENode {
    let from = source.version ?? .latest04
    guard from.familyOrder < 2 || version.familyOrder >= from.familyOrder else {
      throw OMEZarrError(.unsupported, "cannot downgrade \(from) metadata to \(version)")
    }
    if from.zarrFormat == .v3, version.zarrFormat == .v2 {
      throw OMEZarrError(.unsupported, "cannot write \(version) (Zarr v2) from \(from) (Zarr v3)")
    }
    guard case .group = source.zarr else {
      throw OMEZarrError(.wrongKind, "upgrade works on OME-Zarr groups; this node is an array", path: source.path)
    }
    let target = normalizePath(path)
    if try NodeKind.exists(destination, target) {
      guard options.overwrite else {
        throw OMEZarrError(.invalidArgument, "the destination '\(target.isEmpty ? "/" : target)' already holds a node")
      }
      try destination.deletePrefix(target)
    }
    // Writing inside the source tree (same store, target below the source) must not copy the copy.
    let skip = source.store.isSame(as: destination) ? target : nil
    if let skip, skip == source.path || source.path.hasPrefix(skip + "/") || skip.isEmpty {
      throw OMEZarrError(.invalidArgument, "the destination '\(skip)' contains the source '\(source.path)'")
    }
    try copyGroup(source.store, source.path, into: destination, target, version: version, skip: skip, options: options)
    return try OMENode.open(in: destination, path: target)
  }

  /// Rewrites one group and everything below it.
  static func copyGroup(
    _ store: any Store, _ path: String, into destination: any Store, _ target: String, version: NGFFVersion,
    skip: String?, options: Options
  ) throws {
    let node = try OMENode.open(in: store, path: path)
    guard case .group(let group) = node.zarr else { return }
    let converted: OMEAttributes
    do {
      converted = try convert(node.metadata, to: version)
    } catch {
      throw error.omeAt(path: path)
    }
    // The image's axes name the dimensions of its level arrays.
    let levelAxes = converted.multiscales?.first?.levelAxes
    let datasetPaths = Set(converted.multiscales?.first?.datasets.map { normalizePath($0.path) } ?? [])
    _ = try ZarrGroup.create(in: destination, path: target, format: version.zarrFormat, overwrite: true)
    let listing = try store.listDirectory(path)
    for name in listing.prefixes {
      let childPath = joinKey(path, name), childTarget = joinKey(target, name)
      if childPath == skip { continue }
      switch try NodeKind.detect(store, childPath) {
      case .array?:
        try copyArray(store, childPath, into: destination, childTarget, version: version,
          dimensionNames: datasetPaths.contains(name) ? levelAxes?.map(\.name) : nil, options: options)
      case .group?:
        try copyGroup(store, childPath, into: destination, childTarget, version: version, skip: skip, options: options)
      case nil:
        // A directory without Zarr metadata (e.g. the OME/ folder of old bioformats2raw output).
        try copyFiles(store, childPath, into: destination, childTarget)
      }
    }
    for key in listing.keys where !zarrMetadataKeys.contains(key) {
      if let bytes = try store.get(joinKey(path, key)) { try destination.set(joinKey(target, key), bytes) }
    }
    // Metadata last.
    var attributes = group.attributes
    attributes["ome"] = nil
    for k in OMEAttributes.topLevelKeys { attributes[k] = nil }
    if !converted.isEmpty { attributes = converted.applied(to: attributes) }
    let written = try ZarrGroup.open(in: destination, path: target)
    _ = try written.setAttributes(attributes)
  }


  static let zarrMetadataKeys: Set<String> = ["zarr.json", ".zgroup", ".zattrs", ".zarray", ".zmetadata"]

  /// Copies every key below `path` unchanged.
  static func copyFiles(_ store: any Store, _ path: String, into destination: any Store, _ target: String) throws {
    for key in try store.list(prefix: path) {
      let rel = String(key.dropFirst(path.count)).drop(while: { $0 == "/" })
      if let bytes = try store.get(key) { try destination.set(joinKey(target, String(rel)), bytes) }
    }
  }

  /// Copies an array: as stored when the Zarr format stays, re-encoded (sharded v3) when it changes.
  static func copyArray(
    _ store: any Store, _ path: String, into destination: any Store, _ target: String, version: NGFFVersion,
    dimensionNames: [String]?, options: Options
  ) throws {
    let source = try ZarrArray.open(in: store, path: path)
    if source.metadata.zarrFormat == version.zarrFormat {
      var meta = source.metadata
      if meta.zarrFormat == .v3, let names = dimensionNames, names.count == meta.shape.count { meta.dimensionNames = names }
      try copyFiles(store, path, into: destination, target)
      _ = try ZarrArray(store: destination, path: target, metadata: meta).writeMetadata()
      return
    }
    let m = source.metadata
    let chunks = m.chunkShape
    var meta: ArrayMetadata
    if options.sharded {
      meta = .sharded(shape: m.shape, dataType: m.dataType,
        shardShape: ArrayMetadata.defaultShardShape(shape: m.shape, chunkShape: chunks, dataType: m.dataType),
        innerChunkShape: chunks, compressor: options.compressor, fillValue: m.fillValue, attributes: m.attributes)
    } else {
      meta = ArrayMetadata(shape: m.shape, dataType: m.dataType, chunkShape: chunks, fillValue: m.fillValue,
        codecs: [Codecs.bytes(endian: m.dataType.hasEndianness ? .little : nil)] + options.compressor.codecs(for: m.dataType),
        attributes: m.attributes)
    }
    meta.dimensionNames = dimensionNames.flatMap { $0.count == m.shape.count ? $0 : nil }
    let array = try ZarrArray.create(in: destination, path: target, metadata: meta, overwrite: true)
    // Whole shards at a time: each is encoded once, never read back.
    for box in gridBoxes(shape: array.shape, cell: array.chunkShape) {
      try array.write(try source.read(box), at: box.map(\.lowerBound))
    }
  }

  /// OME metadata converted to `version`: nested versions dropped (0.5 keeps `plate.version`),
  /// and for 0.6 each multiscale's axes become a coordinate system that every level maps to.
  public static func convert(_ ome: OMEAttributes, to version: NGFFVersion) throws -> OMEAttributes {
    var out = ome
    if ome.isEmpty { return out }
    out.version = version.description
    out.namespaced = nil
    let isV04: Bool
    if case .v04 = version { isV04 = true } else { isV04 = false }
    let nested = isV04 ? version.description : nil
    if var list = out.multiscales {
      for i in list.indices {
        list[i].version = nested
        if version.hasCoordinateSystems, list[i].coordinateSystems == nil {
          list[i] = try toCoordinateSystems(list[i])
        }
      }
      out.multiscales = list
    }
    if var o = out.omero, o.version != nil { o.version = nested; out.omero = o }
    if var l = out.imageLabel { l.version = nested; out.imageLabel = l }
    if var w = out.well { w.version = nested; out.well = w }
    if var p = out.plate { p.version = version.hasCoordinateSystems ? nil : version.description; out.plate = p }
    return out
  }

  /// A 0.4/0.5 multiscale in 0.6 form: axes -> coordinate system "physical"; each level's (and the
  /// multiscale-wide) scale and translation -> one transformation from the level to that system.
  static func toCoordinateSystems(_ m: Multiscale) throws -> Multiscale {
    guard let axes = m.axes else { return m }
    let system = "physical"
    var out = m
    out.axes = nil
    out.coordinateSystems = [CoordinateSystem(name: system, axes: axes)]
    for i in out.datasets.indices {
      guard let st = m.scaleAndTranslation(level: i) else {
        throw OMEZarrError(.unsupported, "level \(i) has transformations other than scale and translation",
          pointer: "/multiscales/0/datasets/\(i)/coordinateTransformations")
      }
      let path = out.datasets[i].path
      let kind: Transformation.Kind = st.translation.allSatisfy { $0 == 0 }
        ? .scale(st.scale) : .sequence([.scale(st.scale), .translation(st.translation)])
      out.datasets[i].coordinateTransformations = [
        Transformation(kind, input: CoordinateSystemRef(path: path), output: CoordinateSystemRef(name: system))
      ]
    }
    out.coordinateTransformations = nil
    return out
  }
}

extension NodeKind {
  /// Whether any node is stored at `path`.
  static func exists(_ store: any Store, _ path: String) throws -> Bool {
    try store.exists(joinKey(path, "zarr.json")) || store.exists(joinKey(path, ".zgroup")) || store.exists(joinKey(path, ".zarray"))
  }
}
