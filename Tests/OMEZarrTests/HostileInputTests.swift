import Foundation
import TestSupport
import Testing
import ZarrIO
@testable import OMEZarr

/// Metadata from strangers: large legal documents are checked in linear time, absurd numbers give
/// errors or findings (never a trap), and walks are bounded.
@Suite("hostile input")
struct HostileInputTests {
  static let twoAxes: JSONValue = [["name": "y", "type": "space"], ["name": "x", "type": "space"]]

  /// A 0.5 image document with `axes` and one level with `transformations`.
  static func image(axes: JSONValue = twoAxes, transformations: JSONValue = [["type": "scale", "scale": [1, 1]]]) -> JSONValue {
    ["zarr_format": 3, "node_type": "group", "attributes": ["ome": [
      "version": "0.5",
      "multiscales": [["name": "i", "type": "mean", "metadata": [:], "axes": axes,
                       "datasets": [["path": "0", "coordinateTransformations": transformations]]]],
    ]]]
  }

  /// A 0.6 scene document with `systems` and `transformations`.
  static func scene(_ systems: [JSONValue], _ transformations: [JSONValue]) -> JSONValue {
    ["zarr_format": 3, "node_type": "group", "attributes": ["ome": [
      "version": "0.6", "scene": ["coordinateSystems": .array(systems), "coordinateTransformations": .array(transformations)],
    ]]]
  }

  static func count(_ report: ValidationReport, _ rule: String) -> Int { report.findings.filter { $0.rule == rule }.count }

  @Test("100,000 axes with one name: each repeat is one finding, found in linear time")
  func duplicateAxisNames() {
    let axes = JSONValue.array(Array(repeating: ["name": "x", "type": "space"], count: 100_000))
    let report = Validator().validate(document: Self.image(axes: axes))
    #expect(Self.count(report, "axes.unique-names") == 99_999)
    #expect(Self.count(report, "axes.count") == 1)
    #expect(report.findings.contains { $0.rule == "axes.unique-names" && $0.pointer == "/ome/multiscales/0/axes/99999/name" })
  }

  @Test("100,000 translations before the scale: order checked in linear time")
  func translationsBeforeScale() {
    let list = JSONValue.array(Array(repeating: ["type": "translation", "translation": [1, 1]], count: 100_000)
      + [["type": "scale", "scale": [1, 1]]])
    let report = Validator().validate(document: Self.image(transformations: list))
    // Each translation before the scale, and the scale for not being first.
    #expect(Self.count(report, "transforms.order") == 100_001)
    #expect(Self.count(report, "transforms.translation-count") == 1)
  }

  @Test("a scene of 30,000 systems: names looked up in constant time, one connected chain")
  func largeScene() {
    let n = 30_000
    let systems = (0..<n).map { i -> JSONValue in ["name": .string("s\(i)"), "axes": Self.twoAxes] }
    let links = (1..<n).map { i -> JSONValue in
      ["type": "identity", "input": ["name": .string("s\(i - 1)")], "output": ["name": .string("s\(i)")]]
    }
    let report = Validator().validate(document: Self.scene(systems, links))
    #expect(report.findings.filter { $0.severity == .error }.isEmpty, "\(report.findings.prefix(3))")
  }

  @Test("transformations between a scene's own systems must fit their axes")
  func sceneParameters() {
    let systems: [JSONValue] = [["name": "a", "axes": Self.twoAxes], ["name": "b", "axes": Self.twoAxes]]
    let byDimension: JSONValue = ["type": "byDimension", "input": ["name": "a"], "output": ["name": "b"], "transformations": [
      ["type": "identity", "inputAxes": [0], "outputAxes": [.int(Int64.max)]],
    ]]
    let report = Validator().validate(document: Self.scene(systems, [byDimension]))
    #expect(report.findings.map(\.rule).sorted() == ["transforms.by-dimension", "transforms.by-dimension"])
    #expect(report.findings.map(\.pointer).sorted()
      == ["/ome/scene/coordinateTransformations/0", "/ome/scene/coordinateTransformations/0/transformations/0"])
  }

  @Test("a transform graph of 10,000 systems in a chain: the path is found and composed in linear time")
  func longTransformChain() throws {
    let n = 10_000
    let systems = (0..<n).map { i -> JSONValue in ["name": .string("s\(i)"), "axes": Self.twoAxes] }
    let links = (1..<n).map { i -> JSONValue in
      ["type": "translation", "translation": [1, 0], "input": ["name": .string("s\(i - 1)")], "output": ["name": .string("s\(i)")]]
    }
    let store = MemoryStore()
    try store.set("zarr.json", Self.scene(systems, links).serializedBytes(pretty: false))
    var graph = try TransformGraph(store: store)
    let points = try graph.transform(points: [[0, 0]], from: "s0", to: "s\(n - 1)")
    #expect(points == [[Double(n - 1), 0]])
  }

  @Test("byDimension with an axis index near 2^63: an error, not a trap")
  func byDimensionHugeAxis() throws {
    let t = try Transformation(json: ["type": "byDimension", "transformations": [
      ["type": "identity", "inputAxes": [0], "outputAxes": [.int(Int64.max)]],
    ]], pointer: "")
    let source = ParameterSource(store: MemoryStore(), base: "")
    #expect(throws: OMEZarrError.self) { try CoordinateMapping(t, inputDimension: nil, outputDimension: nil, parameters: source) }
    do {
      _ = try CoordinateMapping(t, inputDimension: nil, outputDimension: nil, parameters: source)
    } catch {
      #expect(error.message == "byDimension has 65 dimensions; at most 64 are supported")
    }
  }

  @Test("projectAxis creating more axes than the output has: an error, not a trap")
  func projectAxisNegativeInput() throws {
    let t = Transformation(.projectAxis(droppedInputs: [0], createdOutputs: [0, 1, 2, 3, 4]))
    let source = ParameterSource(store: MemoryStore(), base: "")
    do {
      _ = try CoordinateMapping(t, inputDimension: nil, outputDimension: 2, parameters: source)
      Issue.record("no error")
    } catch {
      #expect(error.message == "projectAxis: dropping 1 and creating 5 axes does not fit 2 output axes")
    }
  }

  @Test("a rotation of 100 dimensions is refused, not inverted in cubic time")
  func hugeRotation() throws {
    let n = 100
    let rows = (0..<n).map { i in (0..<n).map { $0 == i ? 1.0 : 0.0 } }
    let t = Transformation(.rotation(rows))
    let source = ParameterSource(store: MemoryStore(), base: "")
    do {
      _ = try CoordinateMapping(t, inputDimension: n, outputDimension: n, parameters: source)
      Issue.record("no error")
    } catch {
      #expect(error.code == .unsupported)
      #expect(error.message == "the input system of rotation has 100 dimensions; at most 64 are supported")
    }
  }

  @Test("collections that reference each other many times over stop at maxNodes")
  func collectionDiamonds() throws {
    let dir = try makeTemporaryDirectory("diamonds")
    // d0 references d1 eight times, d1 references d2 eight times, ...: 8^10 nodes unbounded.
    for k in 0..<11 {
      let nodes: [JSONValue] = k < 10
        ? (0..<8).map { j in ["type": "collection", "name": .string("r\(j)"), "path": ["type": "json", "path": .string("d\(k + 1).json")]] }
        : []
      let doc: JSONValue = ["ome": ["version": "0.9.dev0", "type": "collection", "name": .string("d\(k)"), "nodes": .array(nodes)]]
      try Data(doc.serializedBytes()).write(to: dir.appendingPathComponent("d\(k).json"))
    }
    let doc = try CollectionDocument.read(path: dir.appendingPathComponent("d0.json").path)
    var options = CollectionResolver.Options()
    options.maxNodes = 500
    let tree = CollectionResolver.resolve(doc, options: options)
    let all = tree.all
    // 500 nodes resolved, one saying why the rest are not; the root of each referenced document
    // counts too but is shown as the node that references it.
    #expect(all.count == 251)
    let limited = all.filter { $0.status == .tooMany }
    #expect(limited.count == 1)
    #expect(limited.first?.message == "not followed: the collection has more than 500 nodes (raise the limit with --max-nodes)")
    let report = Validator().validate(collection: doc, resolution: options)
    #expect(report.findings.map(\.rule).contains("walk.limit"))
  }

  @Test("a plate walk stops at maxNodes with a walk.limit error naming the option")
  func walkLimit() throws {
    let store = MemoryStore()
    let wells = (0..<50).map { i -> JSONValue in ["path": .string("A/\(i + 1)"), "rowIndex": 0, "columnIndex": .int(Int64(i))] }
    let plate: JSONValue = ["zarr_format": 3, "node_type": "group", "attributes": ["ome": ["version": "0.5", "plate": [
      "name": "p", "field_count": 1, "rows": [["name": "A"]],
      "columns": .array((0..<50).map { ["name": .string("\($0 + 1)")] }), "wells": .array(wells),
    ]]]]
    try store.set("zarr.json", plate.serializedBytes())
    for i in 0..<50 {
      let well: JSONValue = ["zarr_format": 3, "node_type": "group", "attributes": ["ome": ["version": "0.5", "well": ["images": [["path": "0"]]]]]]
      try store.set("A/\(i + 1)/zarr.json", well.serializedBytes())
    }
    var options = Validator.Options()
    options.maxNodes = 10
    options.metadataOnly = true
    let report = try Validator(options: options).validate(store: store)
    let limits = report.findings.filter { $0.rule == "walk.limit" }
    #expect(limits.count == 1)
    #expect(limits.first?.message == "the hierarchy has more than 10 nodes; the rest was not checked (raise the limit with --max-nodes)")
    #expect(report.nodesChecked == 10)
    #expect(!report.isValid)
  }

  @Test("an RFC-8 plate of 20,000 rows and wells: well rows looked up in constant time")
  func largeCollectionPlate() throws {
    let n = 20_000
    let rows = JSONValue.array((0..<n).map { ["id": .string("r\($0)")] })
    let wells = (0..<n).map { i -> JSONValue in
      ["type": "collection", "name": .string("w\(i)"), "nodes": [],
       "attributes": ["well": ["row": ["id": .string("r\(n - 1 - i)")], "column": ["id": "c"]]]]
    }
    let root: JSONValue = ["version": "0.9.dev0", "type": "collection", "name": "plate",
                           "attributes": ["plate": ["rows": rows, "columns": [["id": "c"]]]], "nodes": .array(wells)]
    let doc = CollectionDocument(root: try CollectionNode(json: root, pointer: "/ome"),
      location: try StoreLocation(makeTemporaryDirectory("plate").appendingPathComponent("c.json").path), storage: .jsonFile)
    let report = Validator().validate(collection: doc)
    #expect(Self.count(report, "collection.well") == 0)
  }

  @Test("numbers too large for a double (1e400 reads as infinity) are errors in scales, affines and windows")
  func infiniteNumbers() throws {
    let image = try JSONValue.parse(#"""
      {"zarr_format": 3, "node_type": "group", "attributes": {"ome": {"version": "0.5",
        "multiscales": [{"name": "i", "type": "mean", "metadata": {}, "axes": [{"name": "y", "type": "space"}, {"name": "x", "type": "space"}],
          "datasets": [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1, 1e400]}]}]}],
        "omero": {"channels": [{"color": "FFFFFF", "window": {"min": 0, "max": 1e400, "start": 0, "end": 1}}]}}}}
      """#)
    let report = Validator().validate(document: image)
    #expect(report.findings.filter { $0.severity == .error }.map { "\($0.rule) \($0.pointer)" }.sorted() == [
      "omero.window /ome/omero/channels/0/window/max",
      "transforms.finite /ome/multiscales/0/datasets/0/coordinateTransformations/0/scale",
    ])
    let systems: [JSONValue] = [["name": "a", "axes": Self.twoAxes], ["name": "b", "axes": Self.twoAxes]]
    let affine = try JSONValue.parse(#"{"type": "affine", "affine": [[1, 0, 0], [0, 1e400, 0]], "input": {"name": "a"}, "output": {"name": "b"}}"#)
    let scene = Validator().validate(document: Self.scene(systems, [affine]))
    #expect(scene.findings.map(\.message) == ["the affine must hold finite numbers, but value 4 is too large (inf)"])
  }
}
