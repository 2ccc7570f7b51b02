import ZarrIO

/// A high-content-screening plate: rows, columns, wells and acquisitions.
public struct Plate: Sendable, Hashable {
  public struct Acquisition: Sendable, Hashable {
    public var id: Int
    public var name: String?
    public var maximumFieldCount: Int?
    public var description: String?
    public var startTime: Int?
    public var endTime: Int?
    public var extra: JSONObject = [:]

    public init(id: Int, name: String? = nil) {
      self.id = id
      self.name = name
    }

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
    public var name: String
    public var extra: JSONObject = [:]

    public init(_ name: String) { self.name = name }

    public init(json: JSONValue, pointer: String) throws(OMEZarrError) {
      var r = try ObjectReader(json, pointer: pointer, what: "a row or column")
      self.init(try r.requiredString("name", what: "a row or column"))
      extra = r.rest
    }

    public var json: JSONValue {
      var w = ObjectWriter()
      w.set("name", .string(name))
      w.merge(extra)
      return w.json
    }
  }

  public struct WellRef: Sendable, Hashable {
    /// `<row>/<column>`.
    public var path: String
    public var rowIndex: Int
    public var columnIndex: Int
    public var extra: JSONObject = [:]

    public init(path: String, rowIndex: Int, columnIndex: Int) {
      self.path = path
      self.rowIndex = rowIndex
      self.columnIndex = columnIndex
    }

    public init(json: JSONValue, pointer: String) throws(OMEZarrError) {
      var r = try ObjectReader(json, pointer: pointer, what: "a plate well")
      let path = try r.requiredString("path", what: "a plate well")
      // Pre-0.4 wells had only a path; derive the indices later from rows/columns.
      self.init(path: path, rowIndex: try r.int("rowIndex") ?? -1, columnIndex: try r.int("columnIndex") ?? -1)
      extra = r.rest
    }

    public var json: JSONValue {
      var w = ObjectWriter()
      w.set("path", .string(path))
      if rowIndex >= 0 { w.set("rowIndex", .int(Int64(rowIndex))) }
      if columnIndex >= 0 { w.set("columnIndex", .int(Int64(columnIndex))) }
      w.merge(extra)
      return w.json
    }
  }

  public var name: String?
  public var version: String?
  public var rows: [Named]
  public var columns: [Named]
  public var wells: [WellRef]
  public var acquisitions: [Acquisition]?
  public var fieldCount: Int?
  public var extra: JSONObject = [:]

  public init(name: String? = nil, rows: [Named], columns: [Named], wells: [WellRef], acquisitions: [Acquisition]? = nil,
              fieldCount: Int? = nil) {
    self.name = name
    self.rows = rows
    self.columns = columns
    self.wells = wells
    self.acquisitions = acquisitions
    self.fieldCount = fieldCount
  }

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
  public struct Image: Sendable, Hashable {
    public var path: String
    public var acquisition: Int?
    public var extra: JSONObject = [:]

    public init(path: String, acquisition: Int? = nil) {
      self.path = path
      self.acquisition = acquisition
    }

    public init(json: JSONValue, pointer: String) throws(OMEZarrError) {
      var r = try ObjectReader(json, pointer: pointer, what: "a well image")
      self.init(path: try r.requiredString("path", what: "a well image"), acquisition: try r.int("acquisition"))
      extra = r.rest
    }

    public var json: JSONValue {
      var w = ObjectWriter()
      w.set("acquisition", acquisition.map { .int(Int64($0)) })
      w.set("path", .string(path))
      w.merge(extra)
      return w.json
    }
  }

  public var images: [Image]
  public var version: String?
  public var extra: JSONObject = [:]

  public init(images: [Image]) { self.images = images }

  public init(json: JSONValue, pointer: String) throws(OMEZarrError) {
    var r = try ObjectReader(json, pointer: pointer, what: "well")
    images = try r.list("images") { (v, p) throws(OMEZarrError) in try Image(json: v, pointer: p) } ?? []
    version = try r.string("version")
    extra = r.rest
  }

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
