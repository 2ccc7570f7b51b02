import ZarrIO

/// One field of view of a plate: which well it belongs to and its image.
public struct PlateField: Sendable {
  /// The name of the well's row, ASCII letters and digits (`"A"`).
  public var row: String
  /// The name of the well's column, ASCII letters and digits (`"1"`).
  public var column: String
  /// The field's path inside the well (`"0"`, `"1"`, ...).
  public var path: String
  /// The identifier of the plate acquisition the field was imaged in, if the plate lists acquisitions.
  public var acquisition: Int?
  /// The field's full-resolution image.
  public var image: any LevelSource
  /// How the field's image is written (axes, pyramid, chunks, version).
  public var options: ImageOptions

  /// Creates a field of the well at `row`/`column`, stored at `path` inside the well.
  public init(row: String, column: String, path: String, acquisition: Int? = nil, image: any LevelSource, options: ImageOptions) {
    self.row = row
    self.column = column
    self.path = path
    self.acquisition = acquisition
    self.image = image
    self.options = options
  }
}

/// Writes high-content-screening plates: field images, well groups, the plate group.
public enum PlateWriter {
  /// Writes a plate at `path`: every field as an image at `<row>/<column>/<field>`, each well's
  /// `well` metadata, then the `plate` metadata (rows and columns in the given order).
  @discardableResult
  public static func write(
    to store: any Store, at path: String = "", name: String? = nil, rows: [String], columns: [String],
    fields: [PlateField], acquisitions: [Plate.Acquisition]? = nil, version: NGFFVersion = .latest05,
    overwrite: Bool = false
  ) throws -> OMENode {
    for r in rows + columns where !isPlateName(r[...]) {
      throw OMEZarrError(.invalidArgument, "plate row and column names must be alphanumeric: '\(r)'")
    }
    let root = try ZarrGroup.create(in: store, path: path, format: version.zarrFormat, overwrite: overwrite)
    var wells: [String: [Well.Image]] = [:]
    var order: [String] = []
    for f in fields {
      guard rows.contains(f.row), columns.contains(f.column) else {
        throw OMEZarrError(.invalidArgument, "field \(f.row)/\(f.column)/\(f.path) is outside the plate's rows and columns")
      }
      var opts = f.options
      opts.version = version
      try ImageWriter.write(f.image, to: store, at: joinKey(root.path, f.row, f.column, f.path), options: opts)
      let well = "\(f.row)/\(f.column)"
      if wells[well] == nil { order.append(well) }
      wells[well, default: []].append(Well.Image(path: f.path, acquisition: f.acquisition))
    }
    let nested: String? = version.hasCoordinateSystems ? nil : version.description
    for well in order {
      var meta = OMEAttributes()
      meta.version = version.description
      var w = Well(images: wells[well] ?? [])
      if case .v04 = version { w.version = nested }
      meta.well = w
      let g = try ZarrGroup.open(in: store, path: joinKey(root.path, well))
      _ = try g.setAttributes(meta.applied(to: g.attributes))
    }
    var plate = Plate(name: name, rows: rows.map(Plate.Named.init), columns: columns.map(Plate.Named.init),
      wells: order.map { w in
        let parts = w.split(separator: "/").map(String.init)
        return Plate.WellRef(path: w, rowIndex: rows.firstIndex(of: parts[0]) ?? 0, columnIndex: columns.firstIndex(of: parts[1]) ?? 0)
      }, acquisitions: acquisitions, fieldCount: wells.values.map(\.count).max())
    // 0.4 and 0.5 (whose text still requires it) keep a version inside the plate.
    plate.version = nested
    var meta = OMEAttributes()
    meta.version = version.description
    meta.plate = plate
    let g = try root.setAttributes(meta.applied(to: root.attributes))
    return OMENode(zarr: .group(g), kind: .plate, metadata: meta)
  }
}
