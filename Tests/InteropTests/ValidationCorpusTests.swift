import Foundation
import OMEZarr
import TestSupport
import Testing
import ZarrIO

/// `ome2zarr validate` against the peers on a corpus the suite generates (`Python/validation_corpus.py`):
/// valid data from ome-zarr-py and ngff-zarr, and mutations that each break one rule.
@Suite("validation agrees with ome-zarr-models and the official NGFF schemas", .serialized)
struct ValidationCorpusTests {
  struct Case: Decodable {
    var name: String
    var path: String
    var version: String
    var kind: String
    var expect: String
    var schema_level: Bool
    var peers: [String: String]
  }

  /// What a mutation necessarily breaks besides its rule, by mutation name (`also05`: only in 0.5,
  /// which compares the axes with the arrays' `dimension_names`).
  static let alsoFound: [String: Set<String>] = [
    "one_axis": ["axes.space-count", "level.ndim", "transforms.length"],  // one axis for 4-D levels
    "translation_first": ["transforms.translation-count"],  // the levels already have a translation
    "no_datasets": ["label.levels"],  // the label image keeps its levels
    "levels_reversed": ["levels.shape-order"],
    "row_name_pattern": ["plate.well-index"],  // the well path still names row "A"
  ]
  static let also05: [String: Set<String>] = [
    "duplicate_axis_name": ["level.dimension-names"],
    "axes_out_of_order": ["level.dimension-names"],
  ]

  /// Cases where ome-zarr-models accepts data the specification forbids; we follow the specification.
  static let modelsMissRule: [String: String] = [
    // "label-value ... MUST be unique": ome-zarr-models 1.7 checks uniqueness for 0.5 only.
    "label_values_repeat_04": "label values MUST be unique (0.4 text); ome-zarr-models checks this for 0.5 only",
    // "rowIndex/columnIndex ... MUST ... refer to the same row/column as the path": not checked by ome-zarr-models.
    "well_index_disagrees_04": "the well's rowIndex must name the row in its path; ome-zarr-models does not compare them",
    "well_index_disagrees_05": "the well's rowIndex must name the row in its path; ome-zarr-models does not compare them",
    // The 0.5 image schema requires omero "channels"; ome-zarr-models 1.7 ignores omero in 0.5 images.
    "omero_without_channels_05": "omero needs channels (0.5 schema); ome-zarr-models does not model omero in 0.5",
  ]

  @Test("every valid case is valid, every mutation is caught with its rule id, and the peers agree")
  func corpus() throws {
    guard let python = testPython else { throw PeerError(message: "no Python test venv: run scripts/test") }
    let dir = try makeTemporaryDirectory("validation-corpus")
    defer { try? FileManager.default.removeItem(at: dir) }
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Python/validation_corpus.py")
    let r = try runProcess(python, [script.path, "write", dir.path])
    guard r.status == 0 else { throw PeerError(message: "validation_corpus.py failed:\n" + String(r.stderrText.suffix(4000))) }
    let cases = try JSONDecoder().decode([Case].self, from: Data(contentsOf: dir.appendingPathComponent("manifest.json")))
    #expect(cases.count >= 35)
    var checked = 0
    for c in cases {
      let store = try FilesystemStore(root: dir.path)
      let report = try Validator().validate(store: store, path: c.path)
      let rules = Set(report.errors.map(\.rule))
      let schema = c.peers["schema"] ?? "", models = c.peers["ome-zarr-models"] ?? ""
      let ours = c.peers["project-schema"] ?? ""
      if c.expect == "valid" {
        #expect(report.isValid, "\(c.name): \(report.errors)")
        #expect(schema == "valid", "\(c.name): the official schema says \(schema)")
        #expect(models == "valid", "\(c.name): ome-zarr-models says \(models)")
        #expect(ours == "valid", "\(c.name): Schemas/ngff-\(c.version).schema.json says \(ours)")
      } else {
        let mutation = String(c.name.dropLast(3))  // without "_04" / "_05"
        let expected = Set([c.expect]).union(Self.alsoFound[mutation] ?? []).union(c.version == "0.5" ? Self.also05[mutation] ?? [] : [])
        #expect(rules == expected, "\(c.name): expected exactly \(expected), got \(report.errors)")
        // Every error names where: the node path and a pointer into it.
        #expect(report.errors.allSatisfy { !$0.message.isEmpty })
        if c.schema_level {
          #expect(schema.hasPrefix("invalid"), "\(c.name): the official schema accepts a schema-level mutation")
          #expect(ours.hasPrefix("invalid"), "\(c.name): Schemas/ngff-\(c.version).schema.json accepts a schema-level mutation")
        }
        if Self.modelsMissRule[c.name] == nil {
          #expect(models.hasPrefix("invalid"), "\(c.name): ome-zarr-models accepts it")
        } else {
          #expect(models == "valid", "\(c.name): ome-zarr-models now catches this; drop it from modelsMissRule")
        }
      }
      // Schema agreement: where the official schema rejects, so do we.
      if schema.hasPrefix("invalid") { #expect(!report.isValid, "\(c.name): the schema rejects it (\(schema)) but we accept it") }
      if ours.hasPrefix("invalid") { #expect(!report.isValid, "\(c.name): our schema rejects it (\(ours)) but the validator accepts it") }
      checked += 1
    }
    #expect(checked == cases.count)
  }
}
