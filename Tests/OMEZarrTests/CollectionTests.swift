import Foundation
import Testing
import ZarrIO
import TestSupport

@testable import OMEZarr

/// RFC-8 collections: models, earlier forms, documents, resolution, validation, builders.
@Suite struct CollectionTests {
  static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/rfc8")

  /// JSON text with `//` comments and trailing commas removed (the RFC's `jsonc` examples).
  static func stripJSONC(_ text: String) -> String {
    var out = "", inString = false, escaped = false
    var chars = Array(text)[...]
    while let c = chars.first {
      chars = chars.dropFirst()
      if inString {
        out.append(c)
        if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { inString = false }
      } else if c == "/" && chars.first == "/" {
        while let n = chars.first, n != "\n" { chars = chars.dropFirst() }
      } else {
        if c == "\"" { inString = true }
        out.append(c)
      }
    }
    return out.replacingOccurrences(of: ",\\s*([}\\]])", with: "$1", options: .regularExpression)
  }

  /// Semantic JSON equality (key order ignored).
  static func sameJSON(_ a: JSONValue, _ b: JSONValue) -> Bool {
    let x = try? JSONSerialization.jsonObject(with: Data(a.serializedBytes()), options: .fragmentsAllowed) as? NSObject
    let y = try? JSONSerialization.jsonObject(with: Data(b.serializedBytes()), options: .fragmentsAllowed) as? NSObject
    return x != nil && x == y
  }

  /// Every fixture document that is JSON (after stripping comments) and holds a node under `ome`.
  static func documents() throws -> [(String, JSONValue)] {
    let files = try FileManager.default.subpathsOfDirectory(atPath: fixtures.path)
      .filter { $0.hasSuffix(".json") || $0.hasSuffix(".jsonc") }.sorted()
    return files.compactMap { f in
      guard let text = try? String(contentsOf: fixtures.appendingPathComponent(f), encoding: .utf8),
        let json = try? JSONValue.parse(f.hasSuffix(".jsonc") ? stripJSONC(text) : text),
        let ome = (json["ome"] ?? json["attributes"]?["ome"])?.objectValue, CollectionDocument.isNode(ome)
      else { return nil }
      return (f, .object(ome))
    }
  }

  @Test func examplesRoundTrip() throws {
    let docs = try Self.documents()
    #expect(docs.count >= 25, "\(docs.count) documents")
    var identical = 0
    for (file, ome) in docs {
      let node = try CollectionNode(json: ome, pointer: "/ome")
      // Writing and reading again gives the same node, and (for the current form) the same JSON.
      let again = try CollectionNode(json: node.json, pointer: "")
      #expect(again == node, "\(file)")
      if Self.sameJSON(node.json, ome) { identical += 1 }
      #expect(!node.name.isEmpty || node.type != "collection", "\(file): a collection without a name")
    }
    // Documents in older forms (string paths, node_type, seed members) are rewritten; the rest are identical.
    #expect(identical >= docs.count / 2, "\(identical) of \(docs.count) identical")
    print("rfc8 examples: \(docs.count) documents round-trip, \(identical) written back identical")
  }

  /// The seed design's jrc_hela-1 collection (members with types and per-member rendering attributes).
  static let seed: JSONValue = [
    "version": "0.6", "collection": [
      "name": "jrc_hela-1",
      "members": [
        ["type": "image", "name": "fibsem-uint8", "path": "./fibsem-uint8.ome.zarr",
         "attributes": ["example-viewer:settings": ["contrastLimits": [0, 255], "isDisabled": false]]],
        ["type": "image", "name": "endo_pred", "path": "./endo_pred.ome.zarr",
         "attributes": ["example-viewer:settings": ["colormap": "magenta", "isDisabled": true]]],
        ["type": "collection", "name": "endo_seg", "path": "https://example.org/jrc_hela-1/endo_seg.json"],
      ],
    ],
  ]

  /// The same collection in the current draft's form.
  static let current: JSONValue = [
    "version": "0.6", "type": "collection", "name": "jrc_hela-1",
    "nodes": [
      ["type": "multiscale", "name": "fibsem-uint8", "path": ["type": "zarr", "path": "./fibsem-uint8.ome.zarr"],
       "attributes": ["example-viewer:settings": ["contrastLimits": [0, 255], "isDisabled": false]]],
      ["type": "multiscale", "name": "endo_pred", "path": ["type": "zarr", "path": "./endo_pred.ome.zarr"],
       "attributes": ["example-viewer:settings": ["colormap": "magenta", "isDisabled": true]]],
      ["type": "collection", "name": "endo_seg", "path": ["type": "json", "path": "https://example.org/jrc_hela-1/endo_seg.json"]],
    ],
  ]

  @Test func earlierFormsGiveTheSameTree() throws {
    let fromSeed = try CollectionNode(json: Self.seed, pointer: "/ome")
    let fromCurrent = try CollectionNode(json: Self.current, pointer: "/ome")
    #expect(fromSeed == fromCurrent)
    #expect(Self.sameJSON(fromSeed.json, Self.current))
    // Draft A: string paths, `node_type`.
    let draftA: JSONValue = [
      "version": "0.6", "node_type": "collection", "name": "jrc_hela-1",
      "nodes": [
        ["type": "multiscale", "name": "fibsem-uint8", "path": "./fibsem-uint8.ome.zarr",
         "attributes": ["example-viewer:settings": ["contrastLimits": [0, 255], "isDisabled": false]]],
        ["type": "multiscale", "name": "endo_pred", "path": "./endo_pred.ome.zarr",
         "attributes": ["example-viewer:settings": ["colormap": "magenta", "isDisabled": true]]],
        ["type": "collection", "name": "endo_seg", "path": "https://example.org/jrc_hela-1/endo_seg.json"],
      ],
    ]
    #expect(try CollectionNode(json: draftA, pointer: "") == fromCurrent)
    // Bare-string references; labels with the old spellings.
    let labels = try LabelsAttribute(json: ["source": ["raw"], "labelAttributes": [["label-value": 1, "rgba": [255, 0, 0, 255]]]],
      pointer: "")
    #expect(labels.source == [NodeReference(id: "raw")] && labels.labelAttributes.first?.color == [255, 0, 0, 255])
  }

  /// Two images (0.5) in `dir`: `raw.ome.zarr` and `seg.ome.zarr` (a label image).
  static func images(in dir: URL) throws {
    let data = try ArrayBuffer(shape: [16, 16], dataType: .uint8, elements: [UInt8](repeating: 1, count: 256))
    let store = try FilesystemStore(root: dir.path, create: true)
    let image = try ImageWriter.write(data, to: store, at: "raw.ome.zarr", options: ImageOptions(axes: [.space("y"), .space("x")]))
    try ImageWriter.writeLabels(data, name: "cells", of: image)
    try ImageWriter.write(data, to: store, at: "seg.ome.zarr", options: ImageOptions(axes: [.space("y"), .space("x")]))
  }

  static func temporary() throws -> URL {
    try makeTemporaryDirectory("collection")
  }

  @Test func buildResolveAndValidate() throws {
    let dir = try Self.temporary()
    try Self.images(in: dir)
    // A group collection holding a JSON sub-collection, and images beside it.
    var doc = CollectionDocument.new(at: try StoreLocation(dir.appendingPathComponent("study.zarr").path),
      root: CollectionNode(type: "collection", name: "study", nodes: []))
    let raw = try CollectionBuilder.member(try StoreLocation(dir.appendingPathComponent("raw.ome.zarr").path), in: doc)
    doc.root.nodes?.append(raw)
    var sub = CollectionDocument.new(at: try StoreLocation(dir.appendingPathComponent("more/seg.json").path),
      root: CollectionNode(type: "collection", name: "segmentations", nodes: []))
    sub.root.nodes = [try CollectionBuilder.member(try StoreLocation(dir.appendingPathComponent("seg.ome.zarr").path), in: sub),
                      try CollectionBuilder.member(try StoreLocation(dir.appendingPathComponent("raw.ome.zarr/labels/cells").path), in: sub)]
    CollectionBuilder.assignIDs(&sub.root)
    try sub.write()
    let subMember = try CollectionBuilder.member(sub.location, in: doc)
    doc.root.nodes?.append(subMember)
    CollectionBuilder.assignIDs(&doc.root)
    try doc.write()
    #expect(doc.root.nodes?.map(\.path?.path) == ["../raw.ome.zarr", "../more/seg.json"])
    #expect(sub.root.nodes?.map(\.path?.path) == ["../seg.ome.zarr", "../raw.ome.zarr/labels/cells"])
    #expect(sub.root.nodes?[1].attributes?["labels"] == .object([:]))

    let read = try CollectionDocument.read(at: doc.location)
    #expect(read.root == doc.root)
    let tree = CollectionResolver.resolve(read)
    #expect(tree.all.map(\.status) == [.inline, .resolved, .resolved, .resolved, .resolved])
    #expect(tree.children[0].kind == "image" && tree.children[0].shape == [16, 16] && tree.children[0].version == "0.5")
    #expect(tree.children[1].children.map(\.kind) == ["image", "label-image"])
    let report = Validator().validate(collection: read)
    #expect(report.isValid, "\(report.findings)")
    #expect(report.nodesChecked >= 5)
  }

  @Test func brokenReferencesAreReportedNotFollowed() throws {
    let dir = try Self.temporary()
    try Self.images(in: dir)
    func write(_ name: String, _ nodes: [JSONValue], extra: JSONObject = [:]) throws {
      var ome: JSONObject = ["version": "0.9.dev3", "type": "collection", "name": .string(name), "nodes": .array(nodes)]
      for (k, v) in extra { ome[k] = v }
      try Data(JSONValue.object(["ome": .object(ome)]).serializedBytes()).write(to: dir.appendingPathComponent("\(name).json"))
    }
    func ref(_ name: String, _ type: String, _ path: String, id: String? = nil) -> JSONValue {
      var o: JSONObject = ["type": type == "json" ? "collection" : "multiscale", "name": .string(name),
                           "path": ["type": .string(type), "path": .string(path)]]
      if let id { o["id"] = .string(id) }
      return .object(o)
    }
    try write("a", [ref("b", "json", "./b.json"), ref("raw", "zarr", "./raw.ome.zarr", id: "x"), ref("raw", "zarr", "./seg.ome.zarr", id: "x")])
    try write("b", [ref("back", "json", "./a.json"), ref("gone", "zarr", "./gone.zarr"), ref("up", "zarr", "../../etc"),
                    ref("abs", "zarr", "file:///etc"), ref("web", "zarr", "https://example.org/data/image.ome.zarr"),
                    ref("nested-web", "json", "http://example.org/collection.json")])
    let doc = try CollectionDocument.read(path: dir.appendingPathComponent("a.json").path)
    let tree = CollectionResolver.resolve(doc)
    let b = try #require(tree.children.first)
    #expect(b.status == .resolved)
    #expect(b.children.map(\.status) == [.cycle, .missing, .outside, .outside, .remote, .remote])
    let report = Validator().validate(collection: doc)
    let rules = Set(report.findings.map(\.rule))
    // The referenced images add their own warnings (no multiscale name, no label colours).
    #expect(rules == ["collection.cycle", "collection.path", "collection.outside", "collection.remote", "collection.id",
                      "collection.name", "multiscales.name", "label.colors"], "\(report.findings)")
    #expect(!report.isValid)
    // Findings about b.json name it and point into it.
    #expect(report.findings.contains { $0.rule == "collection.cycle" && $0.path == "b.json" && $0.pointer == "/ome/nodes/0/path" })
    // With --allow-outside the escapes are followed (and found missing or not a node).
    var options = CollectionResolver.Options()
    options.allowOutside = true
    let followed = CollectionResolver.resolve(doc, options: options)
    #expect(followed.children[0].children[2].status != .outside)
    // Depth is bounded.
    options.maxDepth = 1
    #expect(CollectionResolver.resolve(doc, options: options).children[0].children[1].status == .tooDeep)
  }

  @Test func collectionsFromPlatesBioformats2rawAndFolders() throws {
    let dir = try Self.temporary()
    let store = try FilesystemStore(root: dir.path, create: true)
    let data = try ArrayBuffer(shape: [8, 8], dataType: .uint16, elements: [UInt16](repeating: 7, count: 64))
    let o = ImageOptions(axes: [.space("y"), .space("x")])
    try PlateWriter.write(to: store, at: "plate.ome.zarr", rows: ["A", "B"], columns: ["1", "2"], fields: [
      PlateField(row: "A", column: "1", path: "0", acquisition: 0, image: data, options: o),
      PlateField(row: "A", column: "1", path: "1", acquisition: 1, image: data, options: o),
      PlateField(row: "B", column: "2", path: "0", acquisition: 0, image: data, options: o),
    ], acquisitions: [Plate.Acquisition(id: 0, name: "first"), Plate.Acquisition(id: 1)])
    let plate = try CollectionBuilder.collection(from: try StoreLocation(dir.appendingPathComponent("plate.ome.zarr").path),
      output: try StoreLocation(dir.appendingPathComponent("plate.json").path))
    try plate.write()
    #expect(plate.root.attributes?["plate"]?["rows"] == [["id": "A"], ["id": "B"]])
    #expect(plate.root.attributes?["plate"]?["acquisitions"] == [["id": "0", "name": "first"], ["id": "1"]])
    #expect(plate.root.nodes?.map(\.name) == ["A1", "B2"])
    let a1 = try #require(plate.root.nodes?.first)
    #expect(a1.attributes?["well"] == ["row": ["id": "A"], "column": ["id": "1"]])
    #expect(a1.nodes?.map(\.path?.path) == ["./plate.ome.zarr/A/1/0", "./plate.ome.zarr/A/1/1"])
    #expect(a1.nodes?[1].attributes?["acquisition"] == ["id": "1"])
    let report = Validator().validate(collection: try CollectionDocument.read(at: plate.location))
    #expect(report.isValid, "\(report.findings)")
    let read = try CollectionDocument.read(at: plate.location)
    #expect(try read.root.plate?.rows.map(\.id) == ["A", "B"])
    #expect(try read.root.nodes?[0].well?.row == NodeReference(id: "A"))
    #expect(try read.root.nodes?[0].nodes?[1].acquisition == NodeReference(id: "1"))
    // A well naming a row the plate does not have, a field naming an unknown acquisition.
    var broken = read
    broken.root.nodes?[1].attributes?["well"] = ["row": ["id": "Z"], "column": ["id": "2"]]
    broken.root.nodes?[0].nodes?[0].attributes?["acquisition"] = ["id": "9"]
    let bad = Validator().validate(collection: broken)
    #expect(bad.findings.filter { $0.rule == "collection.well" }.map(\.pointer) == ["/ome/nodes/1/attributes/well/row"])
    #expect(bad.findings.filter { $0.rule == "collection.acquisition" }.map(\.pointer) == ["/ome/nodes/0/nodes/0/attributes/acquisition"])

    // bioformats2raw: one multiscale per series, in order.
    let bf = try FilesystemStore(root: dir.appendingPathComponent("bf.zarr").path, create: true)
    try Bioformats2rawTests.makeRoot(bf)
    let b2r = try CollectionBuilder.collection(from: try StoreLocation(dir.appendingPathComponent("bf.zarr").path), output: try StoreLocation(dir.appendingPathComponent("bf.json").path))
    #expect(b2r.root.nodes?.map(\.path?.path) == ["./bf.zarr/0", "./bf.zarr/1"])
    #expect(b2r.root.nodes?.map(\.type) == ["multiscale", "multiscale"])

    // A folder: every OME-Zarr node in it, natural order, ids unique.
    let folder = try CollectionBuilder.collection(from: try StoreLocation(dir.path), output: try StoreLocation(dir.appendingPathComponent("all.json").path))
    #expect(folder.root.nodes?.map(\.name) == ["bf", "plate"])
    #expect(Set(folder.root.walk().compactMap(\.node.id)).count == folder.root.walk().count)
  }

  /// A collection met while walking a hierarchy gets the full collection rules, with the
  /// hierarchy's root as its boundary.
  @Test func collectionsInsideAHierarchy() throws {
    let dir = try Self.temporary()
    defer { try? FileManager.default.removeItem(at: dir) }
    try Self.images(in: dir)
    let store = try FilesystemStore(root: dir.path)
    let study: JSONValue = ["version": "0.9.dev3", "type": "collection", "name": "study", "nodes": [
      ["type": "multiscale", "name": "raw", "path": ["type": "zarr", "path": "../raw.ome.zarr"]],
      ["type": "collection", "name": "more", "path": ["type": "json", "path": "./more.json"]],
      ["type": "multiscale", "name": "escape", "path": ["type": "zarr", "path": "../../outside.zarr"]],
    ]]
    _ = try ZarrGroup.create(in: store, path: "study.zarr", attributes: ["ome": study])
    let more: JSONValue = ["ome": ["version": "0.9.dev3", "type": "collection", "name": "more", "nodes": [
      ["type": "collection", "name": "back", "path": ["type": "zarr", "path": "."]],
      ["type": "multiscale", "name": "seg", "path": ["type": "zarr", "path": "../seg.ome.zarr"]],
      ["type": "multiscale", "name": "seg", "path": ["type": "zarr", "path": "../seg.ome.zarr"]],
    ]]]
    try Data(more.serializedBytes()).write(to: dir.appendingPathComponent("study.zarr/more.json"))
    // The store walk (not the collection entry point) meets the collection group.
    let report = try Validator().validate(store: store, path: "study.zarr")
    let byRule = Dictionary(grouping: report.findings, by: \.rule)
    // The JSON document is read (its duplicate name found), the way back is a cycle, the escape is not followed.
    #expect(byRule["collection.name"]?.first?.path == "study.zarr/more.json", "\(report.findings)")
    #expect(byRule["collection.cycle"]?.first?.path == "study.zarr/more.json")
    #expect(byRule["collection.outside"]?.first?.path == "study.zarr")
    #expect(byRule["collection.outside"]?.first?.pointer == "/ome/nodes/2/path")
    // Besides these, only the referenced images' own warnings (no names, no label colours).
    #expect(Set(byRule.keys).subtracting(["multiscales.name", "label.colors"]) == ["collection.name", "collection.cycle", "collection.outside"],
      "\(report.findings)")
    #expect(report.findings.filter { $0.rule.hasPrefix("collection") }.count == 3)
    // Validating the collection document directly, with the same boundary, agrees.
    let direct = Validator().validate(collection: try CollectionDocument.read(path: dir.appendingPathComponent("study.zarr").path),
      root: try StoreLocation(dir.path))
    #expect(direct.findings.map(\.rule).sorted() == report.findings.map(\.rule).sorted())
  }
}
