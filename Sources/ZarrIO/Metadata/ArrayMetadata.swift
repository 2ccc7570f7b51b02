/// The Zarr format version of a node.
public enum ZarrFormat: Int, Sendable, Hashable {
  /// Zarr v2: `.zarray`, `.zgroup` and `.zattrs` documents.
  case v2 = 2
  /// Zarr v3: one `zarr.json` per node.
  case v3 = 3
}

/// The metadata of an array, for both Zarr v3 (`zarr.json`) and v2 (`.zarray` + `.zattrs`).
///
/// A v2 array is described with v3 concepts: its `order`, dtype byte order, filters and compressor
/// become the equivalent ``codecs`` chain, so one code path reads and writes both formats.
public struct ArrayMetadata: Sendable, Hashable {
  /// The Zarr format version the array is stored in.
  public var zarrFormat: ZarrFormat
  /// The array's shape, in elements per dimension.
  public var shape: [Int]
  /// The data type of the elements.
  public var dataType: DataType
  /// The regular grid's chunk shape (for a sharded array: the shard shape).
  public var chunkShape: [Int]
  /// How chunk grid coordinates become store keys.
  public var chunkKeyEncoding: ChunkKeyEncoding
  /// The value of elements whose chunk is not stored.
  public var fillValue: FillValue
  /// The codec chain, in encode order.
  public var codecs: [NamedConfiguration]
  /// One name (or `nil`) per dimension, or `nil` when absent.
  public var dimensionNames: [String?]?
  /// The user attributes (v3 `attributes`, v2 `.zattrs`).
  public var attributes: JSONObject
  /// The v3 `storage_transformers` that said `must_understand: false`, written back unchanged (none are applied).
  public var storageTransformers: [NamedConfiguration]
  /// Top-level fields we do not model that said `must_understand: false`; written back unchanged.
  public var extraFields: JSONObject
  /// v2 only: the document said `"fill_value": null`.
  public var v2FillValueIsNull: Bool

  /// Creates v3 array metadata; `codecs` defaults to `bytes` (little-endian) + `zstd` level 1.
  public init(
    shape: [Int], dataType: DataType, chunkShape: [Int], fillValue: FillValue? = nil,
    codecs: [NamedConfiguration]? = nil, chunkKeyEncoding: ChunkKeyEncoding = .default(separator: .slash),
    dimensionNames: [String?]? = nil, attributes: JSONObject = [:], zarrFormat: ZarrFormat = .v3
  ) {
    self.zarrFormat = zarrFormat
    self.shape = shape
    self.dataType = dataType
    self.chunkShape = chunkShape
    self.chunkKeyEncoding = chunkKeyEncoding
    self.fillValue = fillValue ?? .zero(dataType)
    self.codecs = codecs ?? [Codecs.bytes(), Codecs.zstd(level: 1)]
    self.dimensionNames = dimensionNames
    self.attributes = attributes
    self.storageTransformers = []
    self.extraFields = [:]
    self.v2FillValueIsNull = false
  }

  /// Number of chunks along each dimension: `ceil(shape / chunkShape)` (0 where a chunk size is not positive).
  public var gridShape: [Int] {
    zip(shape, chunkShape).map { s, c in c > 0 && s >= 0 ? CheckedArithmetic.ceilDiv(s, c) : 0 }
  }

  /// The JSON pointer of the chunk shape in this array's metadata document.
  var chunkShapePointer: String { zarrFormat == .v2 ? "/chunks" : "/chunk_grid/configuration/chunk_shape" }

  /// Checks shapes, names and the codec chain; called by parsing and before writing.
  ///
  /// Enforces the ``ReadLimits`` in force: at most ``ReadLimits/maxRank`` dimensions, a chunk of at
  /// most ``ReadLimits/maxChunkBytes`` decoded bytes, and an array whose size in bytes fits `Int`.
  public func validate() throws(ZarrError) {
    let limits = ReadLimits.current
    try Self.checkRank(shape.count, limits: limits, pointer: "/shape")
    guard chunkShape.count == shape.count else {
      throw ZarrError(.invalidMetadata,
        "chunk shape \(chunkShape) has \(chunkShape.count) dimensions but shape \(shape) has \(shape.count)",
        pointer: chunkShapePointer)
    }
    for (i, s) in shape.enumerated() where s < 0 {
      throw ZarrError(.invalidMetadata, "shape must not be negative", pointer: "/shape/\(i)")
    }
    for (i, c) in chunkShape.enumerated() where c <= 0 {
      throw ZarrError(.invalidMetadata, "chunk sizes must be positive", pointer: "\(chunkShapePointer)/\(i)")
    }
    guard CheckedArithmetic.product(shape, times: dataType.size) != nil else {
      throw ZarrError(.invalidMetadata, "an array of shape \(shape) of \(dataType) has more than \(Int.max) bytes", pointer: "/shape")
    }
    // Guard against absurd sizes that would overflow or exhaust memory when decoding one chunk.
    guard let chunkBytes = CheckedArithmetic.product(chunkShape, times: dataType.size), chunkBytes <= limits.maxChunkBytes else {
      throw ZarrError(.invalidMetadata,
        "a chunk of shape \(chunkShape) of \(dataType) is larger than the limit of \(limits.maxChunkBytes) bytes (ReadLimits.maxChunkBytes; ome2zarr --max-chunk-size)",
        pointer: chunkShapePointer)
    }
    if let names = dimensionNames, names.count != shape.count {
      throw ZarrError(.invalidMetadata,
        "dimension_names has \(names.count) entries but the array has \(shape.count) dimensions", pointer: "/dimension_names")
    }
    guard fillValue.bytes.count == dataType.size else {
      throw ZarrError(.invalidMetadata, "fill value has the wrong size for \(dataType)", pointer: "/fill_value")
    }
  }

  /// Refuses more than ``ReadLimits/maxRank`` dimensions.
  static func checkRank(_ rank: Int, limits: ReadLimits = .current, pointer: String) throws(ZarrError) {
    guard rank <= limits.maxRank else {
      throw ZarrError(.invalidMetadata, "\(rank) dimensions exceed the limit of \(limits.maxRank)", pointer: pointer)
    }
  }
}

// MARK: - Zarr v3 zarr.json

extension ArrayMetadata {
  static let v3Fields: Set<String> = [
    "zarr_format", "node_type", "shape", "data_type", "chunk_grid", "chunk_key_encoding", "fill_value",
    "codecs", "dimension_names", "attributes", "storage_transformers",
  ]

  /// Parses an array `zarr.json` document.
  public init(v3 json: JSONValue) throws(ZarrError) {
    guard let o = json.objectValue else {
      throw ZarrError(.invalidMetadata, "array metadata must be a JSON object", pointer: "")
    }
    guard o["zarr_format"] == .int(3) else {
      throw ZarrError(.invalidMetadata, "zarr_format must be 3", pointer: "/zarr_format")
    }
    guard o["node_type"] == .string("array") else {
      throw ZarrError(.invalidMetadata, "node_type must be \"array\"", pointer: "/node_type")
    }
    var extra = JSONObject()
    for (key, value) in o where !Self.v3Fields.contains(key) {
      guard value["must_understand"] == .bool(false) else {
        throw ZarrError(.unsupported,
          "unknown field \"\(key)\" (fields an implementation may ignore must say \"must_understand\": false)",
          pointer: "/" + pointerToken(key))
      }
      extra[key] = value
    }

    let shape = try Self.intList(o["shape"], pointer: "/shape", allowEmpty: true)
    try Self.checkRank(shape.count, pointer: "/shape")

    // data_type: a name (or an extension object with that name).
    guard let dt = o["data_type"] else { throw ZarrError(.invalidMetadata, "missing data_type", pointer: "/data_type") }
    let dtName = try NamedConfiguration(json: dt, pointer: "/data_type").name
    guard let dataType = DataType(name: dtName) else {
      throw ZarrError(.unsupported, "unsupported data_type '\(dtName)'", pointer: "/data_type")
    }

    guard let grid = o["chunk_grid"] else {
      throw ZarrError(.invalidMetadata, "missing chunk_grid", pointer: "/chunk_grid")
    }
    let gridExt = try NamedConfiguration(json: grid, pointer: "/chunk_grid")
    guard gridExt.name == "regular" else {
      throw ZarrError(.unsupported, "unsupported chunk_grid '\(gridExt.name)'", pointer: "/chunk_grid/name")
    }
    let chunkShape = try Self.intList(gridExt.configuration["chunk_shape"],
      pointer: "/chunk_grid/configuration/chunk_shape", allowEmpty: true)

    guard let cke = o["chunk_key_encoding"] else {
      throw ZarrError(.invalidMetadata, "missing chunk_key_encoding", pointer: "/chunk_key_encoding")
    }
    let keyEncoding = try ChunkKeyEncoding(json: cke)

    guard let fv = o["fill_value"] else {
      throw ZarrError(.invalidMetadata, "missing fill_value", pointer: "/fill_value")
    }
    let fill = try FillValue.parse(fv, for: dataType)

    guard let codecList = o["codecs"]?.arrayValue, !codecList.isEmpty else {
      throw ZarrError(.invalidMetadata, "codecs must be a non-empty list", pointer: "/codecs")
    }
    var codecs: [NamedConfiguration] = []
    for (i, c) in codecList.enumerated() {
      codecs.append(try NamedConfiguration(json: c, pointer: "/codecs/\(i)"))
    }

    var dimNames: [String?]? = nil
    if let dn = o["dimension_names"], !dn.isNull {
      guard let list = dn.arrayValue else {
        throw ZarrError(.invalidMetadata, "dimension_names must be a list", pointer: "/dimension_names")
      }
      var names: [String?] = []
      for (i, n) in list.enumerated() {
        switch n {
        case .null: names.append(nil)
        case .string(let s): names.append(s)
        default: throw ZarrError(.invalidMetadata, "dimension names must be strings or null", pointer: "/dimension_names/\(i)")
        }
      }
      dimNames = names
    }

    var attrs = JSONObject()
    if let a = o["attributes"] {
      guard let obj = a.objectValue else {
        throw ZarrError(.invalidMetadata, "attributes must be an object", pointer: "/attributes")
      }
      attrs = obj
    }

    var transformers: [NamedConfiguration] = []
    if let st = o["storage_transformers"], !st.isNull {
      guard let list = st.arrayValue else {
        throw ZarrError(.invalidMetadata, "storage_transformers must be a list", pointer: "/storage_transformers")
      }
      for (i, t) in list.enumerated() {
        let ext = try NamedConfiguration(json: t, pointer: "/storage_transformers/\(i)")
        if ext.mustUnderstand {
          throw ZarrError(.unsupported, "unsupported storage transformer '\(ext.name)'", pointer: "/storage_transformers/\(i)")
        }
        transformers.append(ext)
      }
    }

    self.init(shape: shape, dataType: dataType, chunkShape: chunkShape, fillValue: fill, codecs: codecs,
      chunkKeyEncoding: keyEncoding, dimensionNames: dimNames, attributes: attrs)
    self.storageTransformers = transformers
    self.extraFields = extra
    try validate()
  }

  /// The canonical `zarr.json` document.
  public var v3JSON: JSONValue {
    var o: JSONObject = [
      "zarr_format": 3,
      "node_type": "array",
      "shape": .array(shape.map { .int(Int64($0)) }),
      "data_type": .string(dataType.name),
      "chunk_grid": ["name": "regular", "configuration": ["chunk_shape": .array(chunkShape.map { .int(Int64($0)) })]],
      "chunk_key_encoding": chunkKeyEncoding.json,
      "fill_value": fillValue.json(for: dataType),
      "codecs": .array(codecs.map(\.json)),
    ]
    if let names = dimensionNames {
      o["dimension_names"] = .array(names.map { $0.map(JSONValue.string) ?? .null })
    }
    if !attributes.isEmpty { o["attributes"] = .object(attributes) }
    if !storageTransformers.isEmpty { o["storage_transformers"] = .array(storageTransformers.map(\.json)) }
    for (k, v) in extraFields { o[k] = v }
    return .object(o)
  }

  static func intList(_ json: JSONValue?, pointer: String, allowEmpty: Bool) throws(ZarrError) -> [Int] {
    guard let list = json?.arrayValue else {
      throw ZarrError(.invalidMetadata, "expected a list of integers", pointer: pointer)
    }
    var out: [Int] = []
    for (i, v) in list.enumerated() {
      guard let n = v.intValue, n >= 0 else {
        throw ZarrError(.invalidMetadata, "expected a non-negative integer, got \(v.serialized(pretty: false))", pointer: "\(pointer)/\(i)")
      }
      out.append(n)
    }
    if !allowEmpty && out.isEmpty { throw ZarrError(.invalidMetadata, "list must not be empty", pointer: pointer) }
    return out
  }
}

// MARK: - Zarr v2 .zarray

extension ArrayMetadata {
  static let v2Fields: Set<String> = [
    "zarr_format", "shape", "chunks", "dtype", "compressor", "fill_value", "order", "filters", "dimension_separator",
  ]

  /// Parses a v2 `.zarray` document (and the `.zattrs` attributes, if any).
  ///
  /// Unknown keys are ignored, as the v2 spec says.
  public init(v2 json: JSONValue, attributes: JSONObject = [:]) throws(ZarrError) {
    guard let o = json.objectValue else {
      throw ZarrError(.invalidMetadata, "array metadata must be a JSON object", pointer: "")
    }
    guard o["zarr_format"] == .int(2) else {
      throw ZarrError(.invalidMetadata, "zarr_format must be 2", pointer: "/zarr_format")
    }
    let shape = try Self.intList(o["shape"], pointer: "/shape", allowEmpty: true)
    try Self.checkRank(shape.count, pointer: "/shape")
    let chunks = try Self.intList(o["chunks"], pointer: "/chunks", allowEmpty: true)
    guard let dtypeString = o["dtype"]?.stringValue else {
      throw ZarrError(.unsupported, "dtype must be a numpy type string (structured dtypes are not supported)", pointer: "/dtype")
    }
    guard let (dataType, endian) = DataType.parseV2(dtypeString) else {
      throw ZarrError(.unsupported, "unsupported dtype '\(dtypeString)'", pointer: "/dtype")
    }
    var fill = FillValue.zero(dataType)
    var fillIsNull = false
    switch o["fill_value"] {
    case nil, .null?: fillIsNull = true
    case .string(let s)? where dataType.isRaw:
      // Base64 fill values of fixed-length byte types.
      guard let bytes = Base64.decode(s), bytes.count == dataType.size else {
        throw ZarrError(.invalidMetadata, "fill_value is not valid for \(dtypeString)", pointer: "/fill_value")
      }
      fill = FillValue(bytes: bytes)
    case let v?:
      fill = try FillValue.parse(v, for: dataType)
    }

    var separator = ChunkKeyEncoding.Separator.dot
    if let ds = o["dimension_separator"], !ds.isNull {
      guard let s = ds.stringValue, let sep = ChunkKeyEncoding.Separator(rawValue: s) else {
        throw ZarrError(.invalidMetadata, "dimension_separator must be \".\" or \"/\"", pointer: "/dimension_separator")
      }
      separator = sep
    }

    var codecs: [NamedConfiguration] = []
    let order = o["order"]?.stringValue ?? "C"
    switch order {
    case "C": break
    case "F": codecs.append(Codecs.transpose(order: Array((0..<shape.count).reversed())))
    default: throw ZarrError(.invalidMetadata, "order must be \"C\" or \"F\"", pointer: "/order")
    }
    if let filters = o["filters"], !filters.isNull {
      guard let list = filters.arrayValue else {
        throw ZarrError(.invalidMetadata, "filters must be null or a list", pointer: "/filters")
      }
      if let first = list.first {
        throw ZarrError(.unsupported, "v2 filter '\(first["id"]?.stringValue ?? "?")' is not supported", pointer: "/filters/0")
      }
    }
    codecs.append(endian.map { Codecs.bytes(endian: $0) } ?? Codecs.bytes(endian: nil))
    if let comp = o["compressor"], !comp.isNull {
      codecs.append(try Codecs.fromV2Compressor(comp, typesize: dataType.size))
    }

    self.init(shape: shape, dataType: dataType, chunkShape: chunks, fillValue: fill, codecs: codecs,
      chunkKeyEncoding: .v2(separator: separator), attributes: attributes, zarrFormat: .v2)
    self.v2FillValueIsNull = fillIsNull
    try validate()
  }

  /// The `.zarray` document (attributes go to `.zattrs` separately).
  public func v2JSON() throws(ZarrError) -> JSONValue {
    var order = "C"
    var endian: Endian = .little
    var compressor: JSONValue = .null
    var sawBytes = false
    for (i, c) in codecs.enumerated() {
      switch c.name {
      case "transpose" where !sawBytes:
        let expected = Array((0..<shape.count).reversed())
        guard Codecs.transposeOrder(c.configuration, ndim: shape.count) == expected else {
          throw ZarrError(.unsupported, "Zarr v2 can only store C or F order", pointer: "/codecs/\(i)")
        }
        order = "F"
      case "bytes":
        sawBytes = true
        if let e = c.configuration["endian"]?.stringValue, let v = Endian(rawValue: e) { endian = v }
      default:
        guard sawBytes, compressor.isNull else {
          throw ZarrError(.unsupported, "codec '\(c.name)' cannot be expressed in Zarr v2", pointer: "/codecs/\(i)")
        }
        compressor = try Codecs.v2Compressor(c)
      }
    }
    let fill: JSONValue
    if v2FillValueIsNull {
      fill = .null
    } else if case .raw = dataType {
      fill = .string(Base64.encode(fillValue.bytes))
    } else {
      fill = fillValue.json(for: dataType)
    }
    return [
      "zarr_format": 2,
      "shape": .array(shape.map { .int(Int64($0)) }),
      "chunks": .array(chunkShape.map { .int(Int64($0)) }),
      "dtype": .string(dataType.v2Name(endian: endian)),
      "compressor": compressor,
      "fill_value": fill,
      "order": .string(order),
      "filters": .null,
      "dimension_separator": .string(chunkKeyEncoding.separator.rawValue),
    ]
  }
}

/// Minimal RFC 4648 base64 for v2 fill values.
enum Base64 {
  static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

  static func encode(_ bytes: [UInt8]) -> String {
    var out: [UInt8] = []
    var i = 0
    while i < bytes.count {
      let b0 = bytes[i], b1 = i + 1 < bytes.count ? bytes[i + 1] : 0, b2 = i + 2 < bytes.count ? bytes[i + 2] : 0
      out.append(alphabet[Int(b0 >> 2)])
      out.append(alphabet[Int((b0 & 3) << 4 | b1 >> 4)])
      out.append(i + 1 < bytes.count ? alphabet[Int((b1 & 15) << 2 | b2 >> 6)] : UInt8(ascii: "="))
      out.append(i + 2 < bytes.count ? alphabet[Int(b2 & 63)] : UInt8(ascii: "="))
      i += 3
    }
    return String(decoding: out, as: UTF8.self)
  }

  static func decode(_ s: String) -> [UInt8]? {
    var values: [UInt8] = []
    for c in s.utf8 where c != UInt8(ascii: "=") {
      guard let v = alphabet.firstIndex(of: c) else { return nil }
      values.append(UInt8(v))
    }
    var out: [UInt8] = []
    var i = 0
    while i + 1 < values.count {
      out.append(values[i] << 2 | values[i + 1] >> 4)
      if i + 2 < values.count { out.append(values[i + 1] << 4 | values[i + 2] >> 2) }
      if i + 3 < values.count { out.append(values[i + 2] << 6 | values[i + 3]) }
      i += 4
    }
    return out
  }
}
