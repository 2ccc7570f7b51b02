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
    "0.6/scene/scene_stitching.json": "transforms.reference",  // STALE 0.6.dev4: "output": "world" (objects since dev4)
    // STALE: 0.6 metadata at the top of the attributes with the version inside multiscales (0.4 style).
    "0.6/multiscales_strict/multiscales_example_relative.json": "version.namespace",
  ]

  @Test(arguments: SpecExampleTests.files.filter { !SpecExampleTests.malformedUpstream.contains($0) })
  func examplesValidate(_ file: String) throws {
    let text = try String(contentsOf: SpecExampleTests.root.appendingPathComponent(file), encoding: .utf8)
    let doc = try JSONValue.parse(SpecExampleTests.stripComments(text))
    let report = Validator().validate(document: doc)
    if let rule = Self.invalid[file] {
      #expect(Set(report.errors.map(\.rule)) == [rule], "\(file): expected exactly \(rule), got \(report.errors)")
    } else {
      #expect(report.isValid, "\(file): \(report.errors)")
      #expect(report.kind != .group, "\(file): not recognised")
    }
  }
}

/// The validator on the specification's attribute test fixtures (ome/ngff-spec `tests/attributes`).
@Suite("validate: specification test fixtures")
struct SpecFixtureValidationTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/spec-tests")

  static var files: [String] {
    let names = (FileManager.default.enumerator(atPath: root.path)?.allObjects as? [String]) ?? []
    return names.filter { $0.hasSuffix(".json") && ($0.hasPrefix("valid/") || $0.hasPrefix("invalid/")) }.sorted()
  }

  /// The rule each invalid fixture is about (its file name says which; the descriptions are still TODO upstream).
  static let expected: [String: String] = [
    "invalid/image/duplicate_axes.json": "axes.unique-names",
    "invalid/image/duplicate_scale.json": "transforms.scale-count",
    "invalid/image/empty_transformations.json": "transforms.scale-count",
    "invalid/image/invalid_axes_count.json": "axes.count",
    "invalid/image/invalid_axis_type.json": "axes.space-count",
    "invalid/image/invalid_channels_color.json": "schema.type",
    "invalid/image/invalid_channels_window.json": "schema.type",
    "invalid/image/invalid_multiscales_transformations.json": "schema.type",
    "invalid/image/invalid_path.json": "datasets.path",
    "invalid/image/invalid_transformation_type.json": "transforms.scale-count",
    "invalid/image/missing_axes.json": "coordinate-systems.missing",  // neither 0.5 axes nor 0.6 coordinateSystems
    "invalid/image/missing_axes_name.json": "axes.name",
    "invalid/image/missing_datasets.json": "datasets.missing",
    "invalid/image/missing_path.json": "datasets.path",
    "invalid/image/missing_scale.json": "transforms.scale-count",
    "invalid/image/missing_space_axes.json": "axes.space-count",
    "invalid/image/missing_transformations.json": "transforms.missing",
    "invalid/image/no_axes.json": "axes.count",
    "invalid/image/no_datasets.json": "datasets.empty",
    "invalid/image/no_multiscales.json": "multiscales.empty",
    "invalid/image/one_space_axes.json": "axes.space-count",
    "invalid/image/too_many_axes.json": "axes.count",
    "invalid/image/too_many_space_axes.json": "axes.space-count",
    "invalid/label/colors_duplicate.json": "label.unique-values",
    "invalid/label/colors_no_label_value.json": "label.label-value",
    "invalid/label/colors_rgba_length.json": "label.rgba",
    "invalid/label/colors_rgba_type.json": "label.rgba",
    "invalid/label/empty_colors.json": "label.colors",
    "invalid/label/empty_properties.json": "label.properties",
    "invalid/label/properties_no_label_value.json": "label.label-value",
    "invalid/plate/acquisition_negative_starttime.json": "schema.type",
    "invalid/plate/acquisition_noninteger_endtime.json": "schema.type",
    "invalid/plate/acquisition_noninteger_starttime.json": "schema.type",
    "invalid/plate/acquisition_zero_maximumfieldcount.json": "plate.field-count",
    "invalid/plate/duplicate_columns.json": "plate.unique-names",
    "invalid/plate/duplicate_rows-2.json": "plate.unique-names",
    "invalid/plate/duplicate_rows.json": "plate.unique-names",
    "invalid/plate/empty_columns.json": "plate.columns",
    "invalid/plate/empty_rows.json": "plate.rows",
    "invalid/plate/empty_wells.json": "schema.type",
    "invalid/plate/missing_acquisition_id.json": "plate.acquisition-id",
    "invalid/plate/missing_column_name.json": "plate.columns",
    "invalid/plate/missing_columns.json": "plate.columns",
    "invalid/plate/missing_row_name.json": "plate.rows",
    "invalid/plate/missing_rows.json": "plate.rows",
    "invalid/plate/missing_well_columnIndex.json": "plate.well-index",
    "invalid/plate/missing_well_path.json": "plate.wells",
    "invalid/plate/missing_well_rowIndex.json": "plate.well-index",
    "invalid/plate/missing_wells.json": "plate.wells",
    "invalid/plate/negative_acquisition_id.json": "plate.acquisition-id",
    "invalid/plate/negative_endtime.json": "schema.type",
    "invalid/plate/non_alphanumeric_column.json": "plate.name-pattern",
    "invalid/plate/non_integer_acquisition_id.json": "plate.acquisition-id",
    "invalid/plate/non_integer_acquisition_maximumfieldcount.json": "plate.field-count",
    "invalid/plate/well_1group.json": "plate.well-path",
    "invalid/plate/well_3groups.json": "plate.well-path",
    "invalid/plate/zero_field_count.json": "plate.field-count",
    "invalid/well/duplicate_images.json": "well.unique-paths",
    "invalid/well/empty_images.json": "well.images",
    "invalid/well/non_integer_acquisition_id.json": "schema.type",
  ]

  /// What an invalid fixture necessarily breaks besides its rule: the plate fixtures name their
  /// wells' rows and columns inconsistently (see ``validButAgainstTheSpec``), axes lists of the
  /// wrong size no longer fit the scales, and a missing coordinate system leaves the level's
  /// transformation pointing nowhere.
  static let alsoFound: [String: Set<String>] = [
    "invalid/image/invalid_axes_count.json": ["axes.space-count", "transforms.length"],
    "invalid/image/no_axes.json": ["axes.space-count", "transforms.length"],
    "invalid/image/too_many_axes.json": ["axes.order", "axes.channel-count"],
    "invalid/image/invalid_transformation_type.json": ["transforms.vector"],  // a translation without "translation"
    "invalid/image/missing_axes.json": ["transforms.output"],
    "invalid/plate/acquisition_negative_starttime.json": ["plate.well-index"],
    "invalid/plate/acquisition_noninteger_endtime.json": ["plate.well-index"],
    "invalid/plate/acquisition_noninteger_starttime.json": ["plate.well-index"],
    "invalid/plate/acquisition_zero_maximumfieldcount.json": ["plate.well-index"],
    "invalid/plate/duplicate_columns.json": ["plate.well-index"],
    "invalid/plate/duplicate_rows-2.json": ["plate.well-index", "plate.unique-wells"],
    "invalid/plate/duplicate_rows.json": ["plate.well-index"],
    "invalid/plate/empty_columns.json": ["plate.well-index"],
    "invalid/plate/empty_rows.json": ["plate.well-index"],
    "invalid/plate/missing_acquisition_id.json": ["plate.well-index"],
    "invalid/plate/missing_column_name.json": ["plate.well-index"],
    "invalid/plate/missing_columns.json": ["plate.well-index"],
    "invalid/plate/missing_row_name.json": ["plate.well-index"],
    "invalid/plate/missing_rows.json": ["plate.well-index"],
    "invalid/plate/negative_acquisition_id.json": ["plate.well-index"],
    "invalid/plate/negative_endtime.json": ["plate.well-index"],
    "invalid/plate/non_alphanumeric_column.json": ["plate.well-path"],
    "invalid/plate/non_integer_acquisition_id.json": ["plate.well-index"],
    "invalid/plate/non_integer_acquisition_maximumfieldcount.json": ["plate.well-index"],
    "invalid/plate/zero_field_count.json": ["plate.well-index"],
  ]

  /// "Valid" fixtures that break a MUST of the specification text, so we report them. Following the
  /// specification over its draft fixtures (whose descriptions are still TODO upstream):
  static let validButAgainstTheSpec: [String: String] = [
    // The scale has 2 values for 3 axes; the spec: the scale "MUST have the same length as axes".
    // (The case means to show that a time axis with a length unit is only a warning.)
    "valid/image/mismatch_axes_units.json": "transforms.length",
    // The plate fixtures swap rows and columns: rows are named "1"/"A1", columns "A", yet the well path
    // is "A/1" (the spec: path = "<row name>/<column name>", with rowIndex/columnIndex naming the same).
    "valid/plate/minimal_acquisitions.json": "plate.well-index",
    "valid/plate/minimal_no_acquisitions.json": "plate.well-index",
    "valid/plate/non_alphanumeric_row.json": "plate.well-index",
  ]

  @Test func fixturesArePresent() {
    #expect(Self.files.filter { $0.hasPrefix("valid/") }.count == 12)
    #expect(Self.files.filter { $0.hasPrefix("invalid/") }.count == 60)
    #expect(Set(Self.expected.keys) == Set(Self.files.filter { $0.hasPrefix("invalid/") }))
  }

  @Test(arguments: SpecFixtureValidationTests.files)
  func fixtureValidates(_ file: String) throws {
    let doc = try JSONValue.parse(String(contentsOf: Self.root.appendingPathComponent(file), encoding: .utf8))
    let report = Validator().validate(document: doc)
    if let rule = Self.expected[file] ?? Self.validButAgainstTheSpec[file] {
      let expected = Set([rule]).union(Self.alsoFound[file] ?? [])
      #expect(Set(report.errors.map(\.rule)) == expected, "\(file): expected exactly \(expected), got \(report.errors)")
    } else {
      #expect(report.isValid, "\(file): \(report.errors)")
    }
  }
}

/// The validator on the rest of ome/ngff-spec's test fixtures: `tests/attributes/spec` (documents) and
/// `tests/zarr` (metadata-only hierarchies; `zarr/strict` with `--strict`). They were written across the
/// 0.6 drafts (dev1 to rc0) and 0.9.dev; we follow 0.6 (as released, the same rules as rc0) and
/// 0.9.dev2 (RFC-3, RFC-4), so the cases below disagree with their folder, each for a stated reason.
/// Everything else must land on its folder's side.
@Suite("validate: specification conformance fixtures")
struct SpecConformanceTests {
  static let root = SpecFixtureValidationTests.root

  /// Documents and hierarchy roots, relative to `root`.
  static var cases: [String] {
    let fm = FileManager.default
    let names = (fm.enumerator(atPath: root.path)?.allObjects as? [String]) ?? []
    var out: [String] = []
    for n in names.sorted() {
      if n.hasPrefix("spec/"), n.hasSuffix(".json") { out.append(n) }
      if n.hasPrefix("zarr/"), n.hasSuffix("/zarr.json") {
        let dir = String(n.dropLast("/zarr.json".count))
        let parent = (dir as NSString).deletingLastPathComponent
        if !fm.fileExists(atPath: root.appendingPathComponent(parent + "/zarr.json").path) { out.append(dir) }
      }
    }
    return out
  }

  static let plateRowsSwapped = "the fixture swaps rows and columns: the well path 'A/1' names row 'A', but rowIndex 0 is row '1'"
  static let stringReferences = "input/output as strings: the 0.6 schema (coordinate_transformations, inputOutput) requires objects since dev4"
  static let draftAxes = "0.6.dev3 drafts relaxed the axis rules; 0.6rc0 keeps 2-5 axes with 2-3 of type space"

  /// Valid by folder, rejected by us (with the rule), and why.
  static let rejectedValid: [String: (rule: String, why: String)] = [
    "zarr/spec/valid/image/custom_type_axes.ome.zarr": ("transforms.reference", stringReferences),
    "zarr/spec/valid/image/invalid_axis_units.ome.zarr": ("transforms.reference", stringReferences),
    "zarr/spec/valid/image/missing_name.ome.zarr": ("transforms.reference", stringReferences),
    "zarr/spec/valid/image/untyped_axes.ome.zarr": ("transforms.reference", stringReferences),
    "zarr/strict/valid/image/image_metadata.ome.zarr": ("transforms.reference", stringReferences),
    "zarr/strict/valid/image/multiscales_example.ome.zarr": ("transforms.reference", stringReferences),
    "zarr/spec/valid/image/mismatch_axes_units.ome.zarr": ("transforms.length", "3 axes but a scale of 2 values"),
    "zarr/valid/image/mismatch_axes_units_zarr.ome.zarr": ("transforms.length", "3 axes but a scale of 2 values"),
    "spec/valid/image/mismatch_axes_units.json": ("transforms.length", "3 axes but a scale of 2 values"),
    "zarr/spec/valid/image/gt5_axes.ome.zarr": ("axes.count", draftAxes),
    "zarr/spec/valid/image/missing_space_axes.ome.zarr": ("axes.space-count", draftAxes),
    "spec/valid/image/custom_plus_space_axis.json": ("axes.space-count", draftAxes),
    "spec/valid/image/one_space_axes.json": ("axes.space-count", draftAxes),
    "zarr/spec/valid/plate/minimal_acquisitions.ome.zarr": ("plate.well-index", plateRowsSwapped),
    "zarr/spec/valid/plate/minimal_no_acquisitions.ome.zarr": ("plate.well-index", plateRowsSwapped),
    "zarr/spec/valid/plate/non_alphanumeric_row.ome.zarr": ("plate.well-index", plateRowsSwapped),
    "zarr/strict/valid/plate/strict_acquisitions.ome.zarr": ("plate.well-index", plateRowsSwapped),
    "zarr/strict/valid/plate/strict_acquisitions_zarr.ome.zarr": ("plate.well-index", plateRowsSwapped),
    "zarr/strict/valid/plate/strict_no_acquisitions.ome.zarr": ("plate.well-index", plateRowsSwapped),
    "zarr/strict/valid/plate/strict_no_acquisitions_zarr.ome.zarr": ("plate.well-index", plateRowsSwapped),
    "zarr/valid/plate/minimal_acquisitions_zarr.ome.zarr": ("plate.well-index", plateRowsSwapped),
    "zarr/valid/plate/minimal_no_acquisitions_zarr.ome.zarr": ("plate.well-index", plateRowsSwapped),
    "zarr/valid/plate/non_alphanumeric_row_zarr.ome.zarr": ("plate.well-index", plateRowsSwapped),
    "spec/valid/plate/minimal_acquisitions.json": ("plate.well-index", plateRowsSwapped),
    "zarr/spec/valid/transforms/2d/basic/sequenceScaleTranslation_multiscale.zarr": ("transforms.type",
      "a level's transformation must be scale, identity or sequence[scale, translation] (0.6rc0)"),
    "zarr/spec/valid/transforms/3d/axis_dependent/byDimension.zarr": ("transforms.type",
      "a level's transformation must be scale, identity or sequence[scale, translation] (0.6rc0)"),
    "zarr/spec/valid/transforms/2d/simple/rotationParams.zarr": ("transforms.vector", "scale/translation from a path was removed in 0.6.dev3"),
    "zarr/strict/valid/image/image_omero.ome.zarr": ("transforms.input", "a level's transformation must start from its own array"),
    "spec/valid/image/multiscales_transform_additional_transforms.json": ("transforms.by-dimension",
      "byDimension must cover every output axis exactly once (0.6rc0); it leaves z out"),
    "spec/valid/transforms/mapAxis_up.json": ("transforms.type", "a 0.6.dev4 mapAxis that adds axes; 0.6rc0 has projectAxis for that"),
    "spec/valid/transforms/newAxis.json": ("transforms.type", "newAxis (0.6.dev4) became projectAxis in 0.6rc0"),
    "spec/valid/transforms/newAxis2.json": ("transforms.type", "newAxis (0.6.dev4) became projectAxis in 0.6rc0"),
    // 0.9.dev fixtures (RFC-3 and RFC-4 cases) with the same upstream slips as the 0.6 ones.
    "spec/valid/image/single_axis.json": ("transforms.length", "1 axis but a scale of 2 values"),
    "zarr/spec/valid/image/single_axis.ome.zarr": ("transforms.reference", stringReferences),
    "zarr/spec/valid/image/custom_axis_type.ome.zarr": ("transforms.reference", stringReferences),
    "zarr/spec/valid/image/many_axes.ome.zarr": ("transforms.reference", stringReferences),
    "zarr/spec/valid/image/one_space_axes.ome.zarr": ("transforms.reference", stringReferences),
    "zarr/spec/valid/image/orientation.ome.zarr": ("transforms.reference", stringReferences),
    "spec/valid/plate/minimal_no_acquisitions.json": ("plate.well-index", plateRowsSwapped),
    "spec/valid/plate/non_alphanumeric_row.json": ("plate.well-index", plateRowsSwapped),
  ]

  /// Invalid by folder, accepted by us, and why.
  static let acceptedInvalid: [String: String] = [
    "spec/invalid/image/multiscales_bad_uuid.json": "a draft 'uuid' field that 0.6rc0 does not define; unknown keys are allowed",
    "spec/invalid/scene/scene_input_output_not_object.json": "0.6.dev3 still allowed string input/output (objects only since dev4)",
  ]

  @Test func fixturesAgreeWithTheirFolders() throws {
    let cases = Self.cases
    #expect(cases.count >= 300, "\(cases.count) cases")
    var checked = 0, checked09 = 0
    for c in cases {
      var options = Validator.Options()
      options.metadataOnly = true
      options.strict = c.hasPrefix("zarr/strict/")
      let report: ValidationReport
      if c.hasPrefix("zarr/") {
        report = try Validator(options: options).validate(store: FilesystemStore(root: Self.root.appendingPathComponent(c).path))
      } else {
        let doc = try JSONValue.parse(String(contentsOf: Self.root.appendingPathComponent(c), encoding: .utf8))
        report = Validator(options: options).validate(document: doc)
      }
      if case .v09? = report.version {
        // 0.9.dev drafts are validated as 0.9, never reported as unknown.
        #expect(!report.errors.contains { $0.rule == "version.unknown" }, "\(c)")
        checked09 += 1
      }
      let valid = c.contains("/valid/")
      if let expected = Self.rejectedValid[c] {
        #expect(report.errors.contains { $0.rule == expected.rule }, "\(c): expected \(expected.rule) (\(expected.why)), got \(report.errors)")
      } else if Self.acceptedInvalid[c] != nil {
        #expect(report.isValid, "\(c): now rejected: drop it from acceptedInvalid")
      } else if valid {
        #expect(report.isValid, "\(c): \(report.errors)")
      } else {
        #expect(!report.isValid, "\(c): an invalid fixture passes")
      }
      checked += 1
    }
    #expect(checked >= 300)
    #expect(checked09 >= 30, "\(checked09) 0.9 cases")
  }
}
