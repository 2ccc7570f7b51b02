import Foundation
import Testing
import ZarrIO
@testable import OMEZarr

/// Every example document of the NGFF specification (0.4, 0.5, 0.6; Fixtures/spec) read and
/// written back gives the same document, including keys the models do not know.
@Suite("NGFF specification examples")
struct SpecExampleTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/spec")

  static var files: [String] {
    guard let e = FileManager.default.enumerator(atPath: root.path) else { return [] }
    return e.compactMap { $0 as? String }.filter { $0.hasSuffix(".json") }.sorted()
  }

  /// The specification's examples are JSONC: `//` comments are removed (outside strings).
  static func stripComments(_ text: String) -> String {
    var out = ""
    var inString = false, escaped = false
    var chars = Array(text)
    var i = 0
    while i < chars.count {
      let c = chars[i]
      if inString {
        out.append(c)
        if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { inString = false }
      } else if c == "\"" {
        inString = true
        out.append(c)
      } else if c == "/", i + 1 < chars.count, chars[i + 1] == "/" {
        while i < chars.count, chars[i] != "\n" { i += 1 }
        continue
      } else {
        out.append(c)
      }
      i += 1
    }
    chars = []
    return out
  }

  /// The attributes object of a document: a whole `zarr.json`, `{"ome": ...}`, or 0.4 top-level keys.
  static func attributes(_ doc: JSONValue) -> JSONObject? {
    if let a = doc["attributes"]?.objectValue { return a }
    return doc.objectValue
  }

  /// Numbers compared by value (1 == 1.0); objects by key, not order; the pre-0.6.dev4 string form
  /// of `input`/`output` equal to its object form (`"in"` == `{"name": "in"}`).
  static func normalized(_ v: JSONValue) -> JSONValue {
    switch v {
    case .int, .uint, .double: return .double(v.doubleValue ?? 0)
    case .array(let a): return .array(a.map(normalized))
    case .object(let o):
      return .object(JSONObject(o.entries.map { e in
        if ["input", "output"].contains(e.key), let s = e.value.stringValue { return (e.key, ["name": .string(s)]) }
        return (e.key, normalized(e.value))
      }))
    default: return v
    }
  }

  /// Examples that are not valid JSON in the specification repository itself.
  static let malformedUpstream: Set<String> = ["0.6/transformations/displacements/displacement_field.json"]

  @Test func fixturesArePresent() {
    let byVersion = Dictionary(grouping: Self.files) { $0.split(separator: "/").first.map(String.init) ?? "" }
    #expect((byVersion["0.4"]?.count ?? 0) >= 8, "0.4 examples")
    #expect((byVersion["0.5"]?.count ?? 0) >= 8, "0.5 examples")
    #expect((byVersion["0.6"]?.count ?? 0) >= 8, "0.6 examples")
  }

  @Test(arguments: SpecExampleTests.files)
  func roundTrips(_ file: String) throws {
    let text = try String(contentsOf: Self.root.appendingPathComponent(file), encoding: .utf8)
    if Self.malformedUpstream.contains(file) {
      // Invalid JSON upstream (a trailing comma): it must be rejected with a clear error, not misread.
      #expect(throws: ZarrError.self) { try JSONValue.parse(Self.stripComments(text)) }
      return
    }
    let doc = try JSONValue.parse(Self.stripComments(text))
    let attrs = try #require(Self.attributes(doc), "\(file): not an object")
    if attrs["type"] != nil {
      // A single transformation.
      let t = try Transformation(json: .object(attrs), pointer: "")
      #expect(Self.normalized(t.json) == Self.normalized(.object(attrs)), "\(file): written back differs:\n\(t.json.serialized())")
      return
    }
    if let system = attrs["arrayCoordinateSystem"] {
      // A pre-0.6.dev4 array coordinate system.
      let cs = try CoordinateSystem(json: system, pointer: "/arrayCoordinateSystem")
      #expect(Self.normalized(cs.json) == Self.normalized(system), "\(file)")
      return
    }
    if attrs["coordinateTransformations"] != nil, attrs["multiscales"] == nil, attrs["ome"] == nil {
      // A transformations example: coordinate systems and transformations between them.
      let scene = try Scene(json: .object(attrs), pointer: "")
      #expect(Self.normalized(scene.json) == Self.normalized(.object(attrs)), "\(file): written back differs:\n\(scene.json.serialized())")
      #expect(try Scene(json: scene.json, pointer: "") == scene)
      return
    }
    let ome = try OMEAttributes(attributes: attrs)
    #expect(!ome.isEmpty, "\(file): no OME metadata found")
    let written = ome.applied(to: attrs)
    #expect(Self.normalized(.object(written)) == Self.normalized(.object(attrs)),
      "\(file): written back differs:\n\(JSONValue.object(written).serialized())")
    // And the written form reads back to the same model.
    #expect(try OMEAttributes(attributes: written) == ome, "\(file)")
  }
}

/// The validator on the specification's own example documents.
@Suite("validate: specification examples")
struct SpecExampleValidationTests {
  /// Examples the validator rejects, with the rule that rejects them. All are either meant to be invalid
  /// (`*Invalid*`) or written in syntax older than 0.6rc0 (marked STALE in Fixtures/spec/README.md).
  static let invalid: [String: String] = [
    "0.6/transformations/byDimensionInvalid1.json": "transforms.by-dimension",  // output axis 2 of a 2-D system
    "0.6/transformations/byDimensionInvalid2.json": "transforms.by-dimension",  // an output axis covered twice
    "0.6/transformations/mapAxis1.json": "transforms.type",  // STALE: object-form mapAxis ({"x": "i"})
    "0.6/transformations/mapAxis2.json": "transforms.map-axis",  // STALE: mapAxis as projection ([1, 1, 0])
    "0.6/subspace/subspaceMultidim.json": "transforms.type",  // STALE 0.6.dev3: byDimension on a level
    // STALE: 0.6 metadata at the top of the attributes with the version inside multiscales (0.4 style).
    "0.6/multiscales_strict/multiscales_example_relative.json": "version.namespace",
  ]

  @Test(arguments: SpecExampleTests.files.filter { !SpecExampleTests.malformedUpstream.contains($0) })
  func examplesValidate(_ file: String) throws {
    let text = try String(contentsOf: SpecExampleTests.root.appendingPathComponent(file), encoding: .utf8)
    let doc = try JSONValue.parse(SpecExampleTests.stripComments(text))
    let report = Validator().validate(document: doc)
    if let rule = Self.invalid[file] {
      #expect(report.errors.contains { $0.rule == rule }, "\(file): expected \(rule), got \(report.errors)")
    } else {
      #expect(report.isValid, "\(file): \(report.errors)")
      #expect(report.kind != .group, "\(file): not recognised")
    }
  }
}
