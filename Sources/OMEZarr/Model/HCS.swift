import ZarrIO

/// A high-content-screening plate: rows, columns, wells and acquisitions.
public struct Plate: Sendable, Hashable {
  /// One acquisition (imaging run) of the plate, referenced by the wells' images (`acquisitions[]`).
  public struct Acquisition: Sendable, Hashable {
    /// The acquisition's identifier, unique in the plate; well images refer to it (`id`).
    public var id: Int
    /// A human-readable name for the acquisition (`name`).
    public var name: String?
    /// The largest number of fields of view in any well for this acquisition (`maximumfieldcount`).
    public var maximumFieldCount: Int?
    /// A free-text description of the acquisition (`description`).
    public var description: String?
    /// When the acquisition started, as an epoch timestamp (`starttime`; examples use milliseconds).
    public var startTime: Int?
    /// When the acquisition ended, as an epoch timestamp (`endtime`; examples use milliseconds).
    public var endTime: Int?
    /// Keys this model does not know, kept so they are written back unchanged.
    public var extra: JSONObject = [:]

    /// Creates an acquisition with an identifier and an optional name.
    public init(id: Int, name: String? = nil) {
      self.id = id
      self.name = name
    }

    /// Reads an acquisition from its JSON object; `pointer` locates it in error messages.
    public init(json: JSONValue, pointer: String) throws(OMEZarrError) {
      var r = try ObjectReader(json, pointer: pointer, what: "an acquisition")
      guard let id = try r.int("id") else {
        throw OMEZarrError(.invalidMetadata, "an acquisition needs an integer \"id\"", pointer: pointer)
      }
      self.init(id: id, name: try r.string("name"))
      maximumFieldCount = try r.int("maximumfieldcount")
      description = try r.string("description")
      startTime = try r.int("starttime")
      endTime = try r.int("endtime")
      extra = r.rest
    }

    /// The acquisition as written to metadata, unknown keys kept.
    public var json: JSONValue {
      var w = ObjectWriter()
      w.set("id", .int(Int64(id)))
      w.set("name", name.map(JSONValue.string))
      w.set("maximumfieldcount", maximumFieldCount.map { .int(Int64($0)) })
      w.set("description", description.map(JSONValue.string))
      w.set("starttime", startTime.map { .int(Int64($0)) })
      w.set("endtime", endTime.map { .int(Int64($0)) })
      w.merge(extra)
      return w.json
    }
  }

  /// A row or column: `{"name": "A"}`.
  public struct Named: Sendable, Hashable {
    /// The row or column name, ASCII letters and digits (`name`).
    public var name: String
    /// Keys this model does not know, kept so they are written back unchanged.
    public var extra: JSONObject = [:]

    /// Creates a row or column with the given name.
    public init(_ name: String) { self.name = name }

    /// Reads a row or column from its JSON object; `pointer` locates it in error messages.
    public init(json: JSONValue, pointer: String) throws(OMEZarrError) {
      var r = try ObjectReader(json, pointer: pointer, what: "a row or column")
      self.init(try r.requiredString("name", what: "a row or column"))
      extra = r.rest
    }

    /// The row or column as written to metadata, unknown keys kept.
    public var json: JSONValue {
      var w = ObjectWriter()
      w.set("name", .string(name))
      w.merge(extra)
      return w.json
    }
  }

  /// A well as listed by the plate: its path and its position in the rows and columns (`wells[]`).
  public struct WellRef: Sendable, Hashable {
    /// `<row>/<column>`.
    public var path: String
    /// The well's row index in the plate's `rows` (`rowIndex`); -1 when the metadata omits it (pre-0.4).
    public var rowIndex: Int
    /// The well's column index in the plate's `columns` (`columnIndex`); -1 when the metadata omits it (pre-0.4).
    public var columnIndex: Int
    /// Keys this model does not know, kept so they are written back unchanged.
    public var extra: JSONObject = [:]

    /// Creates a well reference from its path and its 0-based row and column indices.
    public init(path: String, rowIndex: Int, columnIndex: Int) {
      self.path = path
      self.rowIndex = rowIndex
      self.columnIndex = columnIndex
    }

    /// Reads a plate well from its JSON object; `pointer` locates it in error messages.
    public init(json: JSONValue, pointer: String) throws(OMEZarrError) {
      var r = try ObjectReader(json, pointer: pointer, what: "a plate well")
      let path = try r.requiredString("path", what: "a plate well")
      // Pre-0.4 wells had only a path; derive the indices later from rows/columns.
      self.init(path: path, rowIndex: try r.int("rowIndex") ?? -1, columnIndex: try r.int("columnIndex") ?? -1)
      extra = r.rest
    }

    /// The plate well as written to metadata (indices omitted when unknown), unknown keys kept.
    public var json: JSONValue {
      var w = ObjectWriter()
      w.set("path", .string(path))
      if rowIndex >= 0 { w.set("rowIndex", .int(Int64(rowIndex))) }
      if columnIndex >= 0 { w.set("columnIndex", .int(Int64(columnIndex))) }
      w.merge(extra)
      return w.json
    }
  }

  /// A human-readable name for the plate (`name`).
  public var name: String?
  /// The NGFF version nested in the plate (`version`; 0.4 style, superseded by `ome.version` from 0.5 on).
  public var version: String?
  /// The plate's rows, in order; a well's `rowIndex` indexes this list (`rows`).
  public var rows: [Named]
  /// The plate's columns, in order; a well's `columnIndex` indexes this list (`columns`).
  public var columns: [Named]
  /// The wells present in the plate (`wells`).
  public var wells: [WellRef]
  /// The acquisitions the plate was imaged in, if listed (`acquisitions`).
  public var acquisitions: [Acquisition]?
  /// The largest number of fields of view in any well (`field_count`).
  public var fieldCount: Int?
  /// Keys this model does not know, kept so they are written back unchanged.
  public var extra: JSONObject = [:]

  /// Creates a plate from its rows, columns and wells.
  public init(name: String? = nil, rows: [Named], columns: [Named], wells: [WellRef], acquisitions: [Acquisition]? = nil,
              fieldCount: Int? = nil) {
    self.name = name
    self.rows = rows
    self.columns = columns
    self.wells = wells
    self.acquisitions = acquisitions
    self.fieldCount = fieldCount
  }

  /// Reads a plate from its `plate` JSON object; `pointer` locates it in error messages.
  public init(json: JSONValue, pointer: String) throws(OMEZarrError) {
    var r = try ObjectReader(json, pointer: pointer, what: "plate")
    let acquisitions = try r.list("acquisitions") { (v, p) throws(OMEZarrError) in try Acquisition(json: v, pointer: p) }
    let columns = try r.list("columns") { (v, p) throws(OMEZarrError) in try Named(json: v, pointer: p) } ?? []
    let rows = try r.list("rows") { (v, p) throws(OMEZarrError) in try Named(json: v, pointer: p) } ?? []
    let wells = try r.list("wells") { (v, p) throws(OMEZarrError) in try WellRef(json: v, pointer: p) } ?? []
    self.init(name: nil, rows: rows, columns: columns, wells: wells, acquisitions: acquisitions)
    fieldCount = try r.int("field_count")
    name = try r.string("name")
    version = try r.string("version")
    extra = r.rest
  }

  /// The plate as written to metadata, unknown keys kept.
  public var json: JSONValue {
    var w = ObjectWriter()
    w.set("acquisitions", acquisitions.map { .array($0.map(\.json)) })
    w.set("columns", .array(columns.map(\.json)))
    w.set("field_count", fieldCount.map { .int(Int64($0)) })
    w.set("name", name.map(JSONValue.string))
    w.set("rows", .array(rows.map(\.json)))
    w.set("version", version.map(JSONValue.string))
    w.set("wells", .array(wells.map(\.json)))
    w.merge(extra)
    return w.json
  }
}

/// A well: its field-of-view images.
public struct Well: Sendable, Hashable {
  /// One field-of-view image of the well (`images[]`).
  public struct Image: Sendable, Hashable {
    /// The image group's path relative to the well group (`path`).
    public var path: String
    /// The identifier of the plate acquisition the image belongs to (`acquisition`).
    public var acquisition: Int?
    /// Keys this model does not know, kept so they are written back unchanged.
    public var extra: JSONObject = [:]

    /// Creates a well image from its path and optional acquisition identifier.
    public init(path: String, acquisition: Int? = nil) {
      self.path = path
      self.acquisition = acquisition
    }

    /// Reads a well image from its JSON object; `pointer` locates it in error messages.
    public init(json: JSONValue, pointer: String) throws(OMEZarrError) {
      var r = try ObjectReader(json, pointer: pointer, what: "a well image")
      self.init(path: try r.requiredString("path", what: "a well image"), acquisition: try r.int("acquisition"))
      extra = r.rest
    }

    /// The well image as written to metadata, unknown keys kept.
    public var json: JSONValue {
      var w = ObjectWriter()
      w.set("acquisition", acquisition.map { .int(Int64($0)) })
      w.set("path", .string(path))
      w.merge(extra)
      return w.json
    }
  }

  /// The well's field-of-view images (`images`).
  public var images: [Image]
  /// The NGFF version nested in the well (`version`; 0.4 style, superseded by `ome.version` from 0.5 on).
  public var version: String?
  /// Keys this model does not know, kept so they are written back unchanged.
  public var extra: JSONObject = [:]

  /// Creates a well from its field-of-view images.
  public init(images: [Image]) { self.images = images }

  /// Reads a well from its `well` JSON object; `pointer` locates it in error messages.
  public init(json: JSONValue, pointer: String) throws(OMEZarrError) {
    var r = try ObjectReader(json, pointer: pointer, what: "well")
    images = try r.list("images") { (v, p) throws(OMEZarrError) in try Image(json: v, pointer: p) } ?? []
    version = try r.string("version")
    extra = r.rest
  }

  /// The well as written to metadata, unknown keys kept.
  public var json: JSONValue {
    var w = ObjectWriter()
    w.set("images", .array(images.map(\.json)))
    w.set("version", version.map(JSONValue.string))
    w.merge(extra)
    return w.json
  }
}

/// Whether `name` is a valid plate row or column name (or well path part): ASCII letters and digits.
func isPlateName(_ name: Substring) -> Bool {
  !name.isEmpty && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
}
