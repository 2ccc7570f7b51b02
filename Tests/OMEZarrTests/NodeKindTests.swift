import Testing
import ZarrIO
@testable import OMEZarr

/// `OMENode`, the validator and RFC-8 detection share one classifier: they must agree on every node.
@Suite("node kinds")
struct NodeKindTests {
  /// One group per kind (0.5 `attributes.ome` unless 0.4 top-level keys are the point).
  static let groups: [(String, JSONValue, OMENodeKind)] = [
    ("image", ["ome": ["version": "0.5", "multiscales": [["axes": [], "datasets": []]]]], .image),
    ("label image", ["ome": ["version": "0.5", "multiscales": [["axes": [], "datasets": []]], "image-label": [:]]], .labelImage),
    ("image-label without multiscales", ["ome": ["version": "0.5", "image-label": ["colors": [["label-value": 1]]]]], .labelImage),
    ("0.4 image-label without multiscales", ["image-label": ["version": "0.4"]], .labelImage),
    ("labels", ["ome": ["version": "0.5", "labels": ["a"]]], .labels),
    ("plate before bioformats2raw", ["plate": ["rows": [], "columns": [], "wells": []], "bioformats2raw.layout": 3], .plate),
    ("well", ["well": ["images": [["path": "0"]]]], .well),
    ("bioformats2raw", ["ome": ["version": "0.5", "bioformats2raw.layout": 3]], .bioformats2raw),
    ("series", ["ome": ["version": "0.5", "series": ["0"]]], .series),
    ("scene", ["ome": ["version": "0.6", "scene": ["coordinateTransformations": []]]], .scene),
    ("collection", ["ome": ["version": "0.9.dev3", "type": "collection", "name": "c", "nodes": []]], .collection),
    ("typed node with nodes", ["ome": ["version": "0.9.dev3", "type": "multiscale", "name": "m", "nodes": []]], .collection),
    ("transformations", ["ome": ["version": "0.6", "coordinateSystems": [["name": "a", "axes": [["name": "x"]]]]]], .transformations),
    ("plain group", ["other": 1], .group),
  ]

  @Test func omeNodeAndValidatorAgreeOnEveryKind() throws {
    let store = MemoryStore()
    for (i, (what, attributes, expected)) in Self.groups.enumerated() {
      let path = "n\(i)"
      let doc: JSONValue = ["zarr_format": 3, "node_type": "group", "attributes": attributes]
      try store.set("\(path)/zarr.json", doc.serializedBytes())
      let node = try OMENode.open(in: store, path: path)
      let report = try Validator().validate(store: store, path: path)
      #expect(node.kind == expected, "\(what): OMENode says \(node.kind)")
      #expect(report.kind == expected, "\(what): the validator says \(report.kind)")
      let object = try #require(attributes.objectValue)
      #expect(OMENodeKind.classify(attributes: object) == expected, "\(what)")
    }
    // An array, whatever its attributes say.
    var array = ArrayRuleTests.arrayJSON(shape: [4], chunkShape: [4])
    array = array.setting(["attributes"], to: ["ome": ["version": "0.5", "multiscales": []]])
    try store.set("arr/zarr.json", array.serializedBytes())
    #expect(try OMENode.open(in: store, path: "arr").kind == .array)
    #expect(try Validator().validate(store: store, path: "arr").kind == .array)
  }

  @Test func imageLabelWithoutMultiscalesIsAMalformedLabelImage() throws {
    let store = MemoryStore()
    let doc: JSONValue = ["zarr_format": 3, "node_type": "group", "attributes": ["ome": [
      "version": "0.5", "image-label": ["colors": [["label-value": 1, "rgba": [255, 0, 0, 255]]]]]]]
    try store.set("zarr.json", doc.serializedBytes())
    let node = try OMENode.open(in: store)
    #expect(node.kind == .labelImage)
    #expect(try node.image() == nil)  // nothing to open
    let report = try Validator().validate(store: store)
    #expect(report.kind == .labelImage)
    #expect(report.errors.map(\.rule) == ["label.multiscales"], "\(report.errors)")
  }

  @Test func collectionNodeDetectionUsesTheSameTypes() throws {
    func isNode(_ json: JSONValue) throws -> Bool { OMENodeKind.isCollectionNode(try #require(json.objectValue)) }
    #expect(try isNode(["type": "collection", "name": "c"]))
    #expect(try isNode(["type": "multiscale", "name": "m", "path": "./a.zarr"]))
    #expect(try isNode(["node_type": "singlescale", "name": "s"]))
    #expect(try isNode(["type": "mobie:table", "name": "t"]))
    #expect(try isNode(["type": "table", "name": "t", "nodes": []]))
    #expect(try !isNode(["type": "table", "name": "t"]))
    #expect(try isNode(["collection": ["members": []]]))
    #expect(try !isNode(["multiscales": []]))
    #expect(CollectionDocument.isNode(["type": "collection"]))
  }

  @Test func openTypesRoundTripUnknownValues() throws {
    let axis = try Axis(json: ["name": "l", "type": "spectrum"], pointer: "")
    #expect(axis.type == AxisType("spectrum"))
    #expect(axis.type?.isKnown == false)
    #expect(axis.json == ["name": "l", "type": "spectrum"])
    #expect(try Axis(json: "z", pointer: "").type == .space)
    #expect(Axis.channel().type == "channel")  // string literals still compare
    let node = try CollectionNode(json: ["type": "mobie:table", "name": "t"], pointer: "")
    #expect(node.type.isPrefixed && !node.type.isKnown)
    #expect(node.json["type"] == "mobie:table")
    #expect(try CollectionNode(json: ["type": "collection", "name": "c", "nodes": []], pointer: "").type == .collection)
  }
}
