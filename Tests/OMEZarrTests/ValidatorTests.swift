import Testing
import ZarrIO
@testable import OMEZarr

/// A step into JSON: an object key or a list index.
enum Step: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
  case key(String)
  case index(Int)
  init(stringLiteral s: String) { self = .key(s) }
  init(integerLiteral i: Int) { self = .index(i) }
}

extension JSONValue {
  /// This value with the value at `path` replaced (`nil` removes it).
  func setting(_ path: ArraySlice<Step>, to new: JSONValue?) -> JSONValue {
    guard let first = path.first else { return new ?? .null }
    switch (first, self) {
    case (.key(let k), .object(var o)):
      if path.count == 1 { o[k] = new } else { o[k] = (o[k] ?? .object([:])).setting(path.dropFirst(), to: new) }
      return .object(o)
    case (.index(let i), .array(var a)) where a.indices.contains(i):
      if path.count == 1 { if let new { a[i] = new } else { a.remove(at: i) } } else { a[i] = a[i].setting(path.dropFirst(), to: new) }
      return .array(a)
    default:
      return self
    }
  }
}

@Suite("validate")
struct ValidatorTests {
  /// A valid image with two levels' worth of data and a label image, in `version`.
  static func makeImage(_ version: NGFFVersion, store: MemoryStore = MemoryStore()) throws -> MemoryStore {
    var o = ImageOptions(axes: [.channel("c"), .space("y", unit: "micrometer"), .space("x", unit: "micrometer")],
                         scale: [1, 0.5, 0.5], version: version)
    o.chunkShape = [1, 8, 8]
    o.name = "cells"
    o.levels = 3
    let shape = [2, 32, 24]
    let data = try ArrayBuffer(shape: shape, dataType: .uint16, elements: (0..<shape.reduce(1, *)).map { UInt16($0 % 4000) })
    let image = try ImageWriter.write(data, to: store, at: "img", options: o)
    let labels = try ArrayBuffer(shape: shape, dataType: .uint8, elements: (0..<shape.reduce(1, *)).map { UInt8($0 / 200 % 3) })
    try ImageWriter.writeLabels(labels, name: "cells", of: image,
      colors: [ImageLabel.Color(labelValue: 1, rgba: [255, 0, 0, 255]), ImageLabel.Color(labelValue: 2, rgba: [0, 255, 0, 255])])
    return store
  }

  /// The attributes key of a node's metadata document, for either Zarr format.
  static func attributes(_ store: MemoryStore, _ path: String) throws -> (key: String, doc: JSONValue, prefix: [Step]) {
    if let b = try store.get(joinKey(path, "zarr.json")) { return (joinKey(path, "zarr.json"), try JSONValue.parse(b), ["attributes"]) }
    let key = joinKey(path, ".zattrs")
    return (key, try store.get(key).map { try JSONValue.parse($0) } ?? .object([:]), [])
  }

  /// Changes the OME metadata of node `path` at `steps` (relative to `ome` for 0.5+, the attributes for 0.4).
  static func mutate(_ store: MemoryStore, _ path: String, _ steps: [Step], to value: JSONValue?) throws {
    var (key, doc, prefix) = try attributes(store, path)
    if doc["attributes"]?["ome"] != nil { prefix.append("ome") }
    doc = doc.setting(ArraySlice(prefix + steps), to: value)
    try store.set(key, doc.serializedBytes())
  }

  static func rules(_ store: MemoryStore, path: String = "img", _ options: Validator.Options = .init()) throws -> Set<String> {
    Set(try Validator(options: options).validate(store: store, path: path).errors.map(\.rule))
  }

  @Test(arguments: [NGFFVersion.latest04, .latest05, .latest06, .latest09])
  func writtenImagesAreValid(_ version: NGFFVersion) throws {
    let store = try Self.makeImage(version)
    let report = try Validator().validate(store: store, path: "img")
    #expect(report.errors.isEmpty, "\(report.errors)")
    #expect(report.kind == .image)
    #expect(report.version?.sameFamily(as: version) == true)
    #expect(report.nodesChecked >= 3)  // image, labels group, label image
    var options = Validator.Options()
    options.data = true
    options.strict = true
    let strict = try Self.rules(store, options)
    #expect(strict.isEmpty, "\(strict)")
  }

  /// One mutation per rule: each must be caught with exactly that rule id, plus the findings the
  /// mutation necessarily causes elsewhere (`also`; `also05`: only where 0.5 compares the axes with
  /// the arrays' `dimension_names`).
  static let mutations: [(what: String, steps: [Step], value: JSONValue?, rule: String, also: Set<String>, also05: Set<String>)] = [
    // One axis for 3-dimensional levels: also too few space axes, and levels and scales of the wrong length.
    ("axis count", ["multiscales", 0, "axes"], [["name": "x", "type": "space"]], "axes.count",
     ["axes.space-count", "level.ndim", "transforms.length"], []),
    ("duplicate axis name", ["multiscales", 0, "axes", 1, "name"], "x", "axes.unique-names", [], ["level.dimension-names"]),
    ("axis order", ["multiscales", 0, "axes"], [["name": "y", "type": "space"], ["name": "c", "type": "channel"], ["name": "x", "type": "space"]], "axes.order",
     [], ["level.dimension-names"]),
    // y becomes a second channel axis.
    ("one space axis", ["multiscales", 0, "axes", 1, "type"], "channel", "axes.space-count", ["axes.channel-count"], []),
    ("two channel axes", ["multiscales", 0, "axes"], [["name": "c", "type": "channel"], ["name": "d"], ["name": "x", "type": "space"]], "axes.channel-count",
     ["axes.space-count"], ["level.dimension-names"]),
    // The label image keeps its three levels.
    ("no datasets", ["multiscales", 0, "datasets"], [], "datasets.empty", ["label.levels"], []),
    ("dataset without path", ["multiscales", 0, "datasets", 1, "path"], nil, "datasets.path", [], []),
    ("missing level array", ["multiscales", 0, "datasets", 1, "path"], "nothing", "level.missing", [], []),
    ("duplicate level path", ["multiscales", 0, "datasets", 1, "path"], "0", "datasets.unique-paths", [], []),
    ("two scales", ["multiscales", 0, "datasets", 0, "coordinateTransformations"], [["type": "scale", "scale": [1, 1, 1]], ["type": "scale", "scale": [1, 1, 1]]], "transforms.scale-count", [], []),
    ("translation first", ["multiscales", 0, "datasets", 0, "coordinateTransformations"], [["type": "translation", "translation": [0, 0, 0]], ["type": "scale", "scale": [1, 0.5, 0.5]]], "transforms.order", [], []),
    ("scale length", ["multiscales", 0, "datasets", 0, "coordinateTransformations", 0, "scale"], [0.5, 0.5], "transforms.length", [], []),
    ("identity transform", ["multiscales", 0, "datasets", 0, "coordinateTransformations"], [["type": "scale", "scale": [1, 0.5, 0.5]], ["type": "identity"]], "transforms.type", [], []),
    ("levels out of order", ["multiscales", 0, "datasets", 0, "coordinateTransformations", 0, "scale"], [1, 4, 4], "levels.scale-order", [], []),
    ("omero without channels", ["omero"], ["name": "x"], "omero.channels", [], []),
    ("bad color", ["omero", "channels", 0, "color"], "red", "omero.color", [], []),
    ("incomplete window", ["omero", "channels", 0, "window"], ["min": 0, "max": 10], "omero.window", [], []),
    ("multiscales not a list", ["multiscales"], ["axes": []], "schema.type", [], []),
  ]

  @Test(arguments: [NGFFVersion.latest04, .latest05])
  func everyImageMutationIsCaught(_ version: NGFFVersion) throws {
    for (what, steps, value, rule, also, also05) in Self.mutations {
      let store = try Self.makeImage(version)
      if rule.hasPrefix("omero") || steps.first.map({ if case .key("omero") = $0 { true } else { false } }) == true {
        try Self.mutate(store, "img", ["omero"], to: ["channels": [["color": "FF0000", "window": ["min": 0, "max": 9, "start": 0, "end": 9]]]])
      }
      try Self.mutate(store, "img", steps, to: value)
      let found = try Self.rules(store)
      let expected = Set([rule]).union(also).union(version == .latest04 ? [] : also05)
      #expect(found == expected, "\(version) \(what): expected exactly \(expected), got \(found)")
    }
  }

  @Test func hierarchyRulesNeedTheArrays() throws {
    // ndim, dimension_names and dtype across levels, read from the level arrays.
    let store = try Self.makeImage(.latest05)
    try Self.mutate(store, "img", ["multiscales", 0, "axes", 0], to: nil)
    for level in 0..<3 {  // transformations for the two remaining axes
      try Self.mutate(store, "img", ["multiscales", 0, "datasets", .index(level), "coordinateTransformations"], to: [["type": "scale", "scale": [0.5, 0.5]]])
    }
    let errors = try Validator().validate(store: store, path: "img").errors
    #expect(errors.map(\.rule) == ["level.ndim", "level.ndim", "level.ndim"], "\(errors)")  // one per level

    let renamed = try Self.makeImage(.latest05)
    try Self.mutate(renamed, "img", ["multiscales", 0, "axes", 2, "name"], to: "w")
    let found = try Self.rules(renamed)
    #expect(found == ["level.dimension-names"], "\(found)")

    // --metadata-only: levels may be absent, everything else still applies.
    let bare = try Self.makeImage(.latest05)
    for key in try bare.list(prefix: "img/1") { try bare.delete(key) }
    #expect(try Self.rules(bare) == ["level.missing"])
    var options = Validator.Options()
    options.metadataOnly = true
    #expect(try Self.rules(bare, options).isEmpty)
  }

  @Test func labelRules() throws {
    let store = try Self.makeImage(.latest05)
    try Self.mutate(store, "img/labels/cells", ["image-label", "colors", 1, "label-value"], to: 1)
    try Self.mutate(store, "img/labels/cells", ["multiscales", 0, "datasets", 2], to: nil)
    let found = try Self.rules(store)
    #expect(found == ["label.unique-values", "label.levels"], "\(found)")
    let listed = try Self.makeImage(.latest05)
    try Self.mutate(listed, "img/labels", ["labels"], to: ["cells", "ghost"])
    #expect(try Self.rules(listed) == ["labels.missing"])
  }

  @Test func versionsMustAgree() throws {
    let store = try Self.makeImage(.latest05)
    try Self.mutate(store, "img/labels/cells", ["version"], to: "0.6")
    #expect(try Self.rules(store) == ["version.inconsistent"])
    let missing = try Self.makeImage(.latest05)
    try Self.mutate(missing, "img", ["version"], to: nil)
    #expect(try Self.rules(missing) == ["version.missing"])
  }

  @Test(arguments: [NGFFVersion.latest04, .latest05])
  func plateRules(_ version: NGFFVersion) throws {
    func plate() throws -> MemoryStore {
      let store = MemoryStore()
      var fields: [PlateField] = []
      for (r, c) in [("A", "1"), ("B", "2")] {
        let data = try ArrayBuffer(shape: [8, 8], dataType: .uint8, elements: [UInt8](repeating: 3, count: 64))
        var o = ImageOptions(axes: [.space("y"), .space("x")], version: version)
        o.levels = 1
        fields.append(PlateField(row: r, column: c, path: "0", image: data, options: o))
      }
      try PlateWriter.write(to: store, at: "img", name: "p", rows: ["A", "B"], columns: ["1", "2"], fields: fields, version: version)
      return store
    }
    let clean = try Self.rules(plate())
    #expect(clean.isEmpty, "\(clean)")
    // Each mutation, its rule, and what it necessarily breaks besides (renaming a row or column
    // leaves the well path naming the old one; two acquisitions make every field say which).
    let cases: [(String, [Step], JSONValue?, String, Set<String>)] = [
      ("index disagrees with path", ["plate", "wells", 0, "rowIndex"], 1, "plate.well-index", []),
      ("bad name", ["plate", "rows", 0, "name"], "A-1", "plate.name-pattern", ["plate.well-index"]),
      ("duplicate column", ["plate", "columns", 1, "name"], "1", "plate.unique-names", ["plate.well-index"]),
      ("well path with 3 parts", ["plate", "wells", 0, "path"], "A/1/x", "plate.well-path", []),
      ("duplicate acquisition ids", ["plate", "acquisitions"], [["id": 1], ["id": 1]], "plate.acquisition-id", ["well.acquisition"]),
    ]
    for (what, steps, value, rule, also) in cases {
      let store = try plate()
      try Self.mutate(store, "img", steps, to: value)
      let found = try Self.rules(store)
      #expect(found == Set([rule]).union(also), "\(version) \(what): expected exactly \(rule) and \(also), got \(found)")
    }
    // Several acquisitions: every field must say which.
    let store = try plate()
    try Self.mutate(store, "img", ["plate", "acquisitions"], to: [["id": 0], ["id": 1]])
    let found = try Self.rules(store)
    #expect(found == ["well.acquisition"], "\(found)")
  }

  @Test func transformationRules() throws {
    let doc: JSONValue = [
      "coordinateSystems": [["name": "a", "axes": [["name": "y"], ["name": "x"]]], ["name": "b", "axes": [["name": "y"], ["name": "x"]]]],
      "coordinateTransformations": [
        ["type": "rotation", "rotation": [[1, 1], [0, 1]], "input": ["name": "a"], "output": ["name": "b"]],
        ["type": "affine", "affine": [[1, 0], [0, 1]], "input": ["name": "a"], "output": ["name": "b"]],
        ["type": "mapAxis", "mapAxis": [0, 0], "input": ["name": "a"], "output": ["name": "b"]],
        ["type": "scale", "scale": [1, 2, 3], "input": ["name": "a"], "output": ["name": "c"]],
      ],
    ]
    let rules = Set(Validator().validate(document: doc).errors.map(\.rule))
    #expect(rules == ["transforms.rotation", "transforms.affine-shape", "transforms.map-axis", "transforms.output"], "\(rules)")
    let ok: JSONValue = [
      "coordinateSystems": [["name": "a", "axes": [["name": "y"], ["name": "x"]]], ["name": "b", "axes": [["name": "y"], ["name": "x"]]]],
      "coordinateTransformations": [["type": "rotation", "rotation": [[0, -1], [1, 0]], "input": ["name": "a"], "output": ["name": "b"]]],
    ]
    #expect(Validator().validate(document: ok).isValid)
    // A scene whose transformations fall apart into two groups.
    let scene: JSONValue = ["ome": ["version": "0.6", "scene": ["coordinateTransformations": [
      ["type": "translation", "translation": [1, 2], "input": ["path": "a", "name": "physical"], "output": ["path": "b", "name": "physical"]],
      ["type": "translation", "translation": [1, 2], "input": ["path": "c", "name": "physical"], "output": ["path": "d", "name": "physical"]],
    ]]]]
    let sr = Validator().validate(document: scene)
    #expect(sr.kind == .scene)
    #expect(sr.errors.map(\.rule) == ["transforms.graph"], "\(sr.errors)")
  }

  @Test func dataChecksFindCorruptChunks() throws {
    let store = try Self.makeImage(.latest05)
    let key = try #require(try store.list(prefix: "img/0").first { $0.contains("/c/") })
    var bytes = try #require(try store.get(key))
    bytes.removeLast(7)  // a truncated shard: its index is gone
    try store.set(key, bytes)
    try store.set("img/0/c/9/9/9", [1, 2, 3])
    #expect(try Self.rules(store).isEmpty)  // metadata is fine
    var options = Validator.Options()
    options.data = true
    let found = try Self.rules(store, options)
    #expect(found == ["data.decode", "data.outside-grid"], "\(found)")
  }

  @Test func malformedInputNeverCrashes() throws {
    // Wrong types everywhere, a label cycle and many wells.
    let store = MemoryStore()
    // Each junk value and the error rules it must produce (every one a finding, never a crash).
    let junk: [(JSONValue, Set<String>)] = [
      (1, ["schema.type", "datasets.path"]),
      ("x", ["version.unknown", "schema.type", "level.missing"]),
      ([], ["schema.type", "axes.count", "axes.space-count", "datasets.path", "transforms.scale-count"]),
      ([:], ["schema.type", "datasets.path", "omero.channels"]),
      (.null, ["schema.type", "datasets.path"]),
      ([1, 2], ["schema.type", "axes.space-count", "axes.channel-count", "datasets.path", "transforms.scale-count"]),
      (["a": [1]], ["schema.type", "datasets.path", "omero.channels"]),
    ]
    for (i, (j, expected)) in junk.enumerated() {
      let doc: JSONValue = ["zarr_format": 3, "node_type": "group", "attributes": ["ome": [
        "version": j, "multiscales": [["axes": j, "datasets": [["path": j, "coordinateTransformations": j]], "name": j]],
        "omero": j, "image-label": j, "labels": j,
      ]]]
      try store.set("n\(i)/zarr.json", doc.serializedBytes())
      let stored = try Validator().validate(store: store, path: "n\(i)")
      #expect(stored.kind == .labelImage, "\(j)")
      #expect(Set(stored.errors.map(\.rule)) == expected, "\(j): \(stored.errors)")
      // The document alone: the same findings, except those that need the level arrays.
      let alone = Validator().validate(document: doc)
      #expect(alone.kind == .labelImage, "\(j)")
      #expect(Set(alone.errors.map(\.rule)) == expected.subtracting(["level.missing"]), "\(j): \(alone.errors)")
    }
    // A labels group listing itself and its parent.
    let cyc = try Self.makeImage(.latest05)
    try Self.mutate(cyc, "img/labels", ["labels"], to: [".", "..", "../labels", "cells"])
    let cycle = try Validator().validate(store: cyc, path: "img")
    #expect(cycle.errors.map(\.rule) == ["node.cycle", "node.cycle", "node.cycle"], "\(cycle.errors)")
    // 10k wells, none present: one warning each, quickly.
    let wells = (0..<10_000).map { i -> JSONValue in ["path": .string("A/\(i)"), "rowIndex": 0, "columnIndex": .int(Int64(i))] }
    let plate: JSONValue = ["zarr_format": 3, "node_type": "group", "attributes": ["ome": ["version": "0.5", "plate": [
      "rows": [["name": "A"]], "columns": .array((0..<10_000).map { ["name": .string(String($0))] }), "wells": .array(wells)]]]]
    try store.set("plate/zarr.json", plate.serializedBytes())
    let report = try Validator().validate(store: store, path: "plate")
    #expect(report.isValid, "\(report.errors)")
    // One warning per well, and the plate's missing (SHOULD) name and field count.
    #expect(report.warnings.filter { $0.rule == "plate.well-missing" }.count == 10_000)
    #expect(report.warnings.count == 10_002)
    #expect(Set(report.warnings.map(\.rule)) == ["plate.well-missing", "plate.name", "plate.field-count"])
  }

  @Test func bioformats2rawSeriesAreWalked() throws {
    let store = MemoryStore()
    try Bioformats2rawTests.makeRoot(store)
    let report = try Validator().validate(store: store)
    #expect(report.kind == .bioformats2raw)
    #expect(report.isValid, "\(report.errors)")
    #expect(report.nodesChecked >= 4)  // root, OME, two images
    // A series that is not there, and a broken image in the other.
    try Self.mutate(store, "OME", ["series"], to: ["0", "7"])
    try Self.mutate(store, "0", ["multiscales", 0, "axes", 0, "type"], to: "time")
    let bad = try Validator().validate(store: store)
    let rules = Set(bad.errors.map(\.rule))
    #expect(rules == ["bf2raw.series", "axes.space-count"], "\(bad.errors)")
    #expect(bad.errors.first { $0.rule == "axes.space-count" }?.path == "0")
  }

  @Test func collectionsCheckTheirNodes() throws {
    let store = try Self.makeImage(.latest05)
    let collection: JSONValue = ["zarr_format": 3, "node_type": "group", "attributes": ["ome": [
      "version": "0.9.dev3", "type": "collection", "name": "experiment",
      "nodes": [
        ["type": "multiscale", "name": "raw", "path": ["type": "zarr", "path": "./img"]],
        ["type": "multiscale", "name": "raw", "id": "bad id!", "path": ["type": "zarr", "path": "./nothing"]],
        ["type": "table", "name": "t"],
      ]]]]
    try store.set("zarr.json", collection.serializedBytes())
    let report = try Validator().validate(store: store)
    #expect(report.kind == .collection)
    let rules = Set(report.errors.map(\.rule))
    #expect(rules == ["collection.name", "collection.id", "collection.path", "collection.type"], "\(report.errors)")
    #expect(report.nodesChecked >= 4)  // collection, img, labels, label image
  }
}

@Suite("validate: Zarr-level array rules")
struct ArrayRuleTests {
  /// A raw v3 array `zarr.json` with `chunkShape` as the (shard) grid and, if given, a sharding codec
  /// with inner chunks `inner`.
  static func arrayJSON(shape: [Int], chunkShape: [Int], inner: [Int]? = nil) -> JSONValue {
    let ints = { (v: [Int]) -> JSONValue in .array(v.map { .int(Int64($0)) }) }
    var codecs: [JSONValue] = [["name": "bytes", "configuration": ["endian": "little"]]]
    if let inner {
      codecs = [["name": "sharding_indexed", "configuration": [
        "chunk_shape": ints(inner), "codecs": .array(codecs),
        "index_codecs": [["name": "bytes", "configuration": ["endian": "little"]], ["name": "crc32c"]],
        "index_location": "end"]]]
    }
    return ["zarr_format": 3, "node_type": "array", "shape": ints(shape), "data_type": "uint8",
      "chunk_grid": ["name": "regular", "configuration": ["chunk_shape": ints(chunkShape)]],
      "chunk_key_encoding": ["name": "default", "configuration": ["separator": "/"]],
      "fill_value": 0, "codecs": .array(codecs)]
  }

  /// The rule ids of the errors found validating the node at `path`, in order.
  static func errorRules(_ store: MemoryStore, _ path: String) throws -> [String] {
    try Validator().validate(store: store, path: path).errors.map(\.rule)
  }

  @Test func shardShapeNotDivisibleByTheInnerChunks() throws {
    let store = MemoryStore()
    try store.set("a/zarr.json", Self.arrayJSON(shape: [16, 16], chunkShape: [8, 8], inner: [3, 4]).serializedBytes())
    #expect(try Self.errorRules(store, "a") == ["zarr.shard-shape"])
    // The same array with inner chunks that divide the shard is fine.
    try store.set("b/zarr.json", Self.arrayJSON(shape: [16, 16], chunkShape: [8, 8], inner: [4, 4]).serializedBytes())
    #expect(try Self.errorRules(store, "b") == [])
  }

  @Test func nonPositiveChunkShape() throws {
    let store = MemoryStore()
    try store.set("a/zarr.json", Self.arrayJSON(shape: [16, 16], chunkShape: [0, 8]).serializedBytes())
    #expect(try Self.errorRules(store, "a") == ["zarr.chunk-shape"])
    let v2: JSONValue = ["zarr_format": 2, "shape": [16, 16], "chunks": [8, -1], "dtype": "|u1", "compressor": .null,
      "fill_value": 0, "order": "C", "filters": .null]
    try store.set("b/.zarray", v2.serializedBytes())
    #expect(try Self.errorRules(store, "b") == ["zarr.chunk-shape"])
  }
}
