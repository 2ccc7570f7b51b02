import Testing
import ZarrIO
@testable import OMEZarr

/// The validator on 0.6 as released and on 0.9.dev (RFC-3 axes, RFC-4 orientation, ngff-spec#87
/// omero windows): each rule once passing, once failing, on an image written by ``ImageWriter``.
@Suite("validate: 0.6 final and 0.9 (RFC-3, RFC-4)")
struct NGFF09ValidatorTests {
  /// The steps to axis `i` of the image's (only) coordinate system.
  static func axis(_ i: Int, _ rest: Step...) -> [Step] { ["multiscales", 0, "coordinateSystems", 0, "axes", .index(i)] + rest }

  /// The image `img` (axes c, y, x) in `version`, with `changes` applied to its OME metadata.
  static func image(_ version: NGFFVersion, _ changes: [([Step], JSONValue?)] = []) throws -> MemoryStore {
    let store = try ValidatorTests.makeImage(version)
    for (steps, value) in changes { try ValidatorTests.mutate(store, "img", steps, to: value) }
    return store
  }

  /// The error and warning rule ids of validating `img`.
  static func findings(_ store: MemoryStore) throws -> (errors: Set<String>, warnings: Set<String>) {
    let report = try Validator().validate(store: store, path: "img")
    return (Set(report.errors.map(\.rule)), Set(report.warnings.map(\.rule)))
  }

  static func orientation(_ value: JSONValue) -> JSONValue { ["type": "anatomical", "value": value] }

  @Test func writes06AsReleasedAnd09AsDev2() throws {
    for (version, written) in [(NGFFVersion.latest06, "0.6"), (.latest09, "0.9.dev2")] {
      let store = try Self.image(version)
      let bytes = try #require(try store.get("img/zarr.json"))
      let attrs = try #require(try JSONValue.parse(bytes)["attributes"])
      #expect(attrs["ome"]?["version"] == .string(written))
      let report = try Validator().validate(store: store, path: "img")
      #expect(report.version == NGFFVersion(written))
      #expect(report.errors.isEmpty, "\(report.errors)")
      // Levels start from their own array by path (no name) and end in a named system (no path).
      let level1 = attrs["ome"]?["multiscales"]?.arrayValue?.first?["datasets"]?.arrayValue?.dropFirst().first
      let t = level1?["coordinateTransformations"]?.arrayValue?.first
      #expect(t?["input"] == ["path": "1"])
      #expect(t?["output"] == ["name": "physical"])
    }
  }

  @Test func drafts06StayReadable() throws {
    for draft in ["0.6rc0", "0.6.dev4"] {
      let store = try Self.image(.latest06, [(["version"], .string(draft))])
      try ValidatorTests.mutate(store, "img/labels", ["version"], to: .string(draft))
      try ValidatorTests.mutate(store, "img/labels/cells", ["version"], to: .string(draft))
      let report = try Validator().validate(store: store, path: "img")
      #expect(report.version == .v06(draft))
      #expect(report.errors.isEmpty, "\(draft): \(report.errors)")
    }
  }

  @Test func versions09AreKnown() throws {
    for v in ["0.9", "0.9.dev1", "0.9.dev2"] {
      let store = try Self.image(.latest09, [(["version"], .string(v))])
      try ValidatorTests.mutate(store, "img/labels", ["version"], to: .string(v))
      try ValidatorTests.mutate(store, "img/labels/cells", ["version"], to: .string(v))
      let (errors, _) = try Self.findings(store)
      #expect(errors.isEmpty, "\(v): \(errors)")
    }
    let unknown = try Self.image(.latest09, [(["version"], "0.8")])
    #expect(try Self.findings(unknown).errors.contains("version.unknown"))
  }

  /// 0.6 (and 0.6rc0): a level's input is its own array by path, without a name; the output a name without a path.
  @Test(arguments: [
    ("input by name", ["input"], ["name": "1"], "transforms.input"),
    ("input path and name", ["input"], ["path": "1", "name": "1"], "transforms.input"),
    ("input missing", ["input"], nil, "transforms.input"),
    ("input of another level", ["input"], ["path": "0"], "transforms.input"),
    ("output with a path", ["output"], ["name": "physical", "path": "."], "transforms.output"),
  ] as [(String, [Step], JSONValue?, String)])
  func levelReferences06(_ what: String, _ steps: [Step], _ value: JSONValue?, _ rule: String) throws {
    let store = try Self.image(.latest06, [(["multiscales", 0, "datasets", 1, "coordinateTransformations", 0] + steps, value)])
    #expect(try Self.findings(store).errors == [rule], "\(what)")
  }

  @Test func orientationValue() throws {
    let good = try Self.image(.latest09, [(Self.axis(2, "orientation"), Self.orientation("left-to-right"))])
    #expect(try Self.findings(good).errors.isEmpty)
    let bad = try Self.image(.latest09, [(Self.axis(2, "orientation"), Self.orientation("left-right"))])
    #expect(try Self.findings(bad).errors == ["orientation.value"])
    let missing = try Self.image(.latest09, [(Self.axis(2, "orientation"), ["type": "anatomical"])])
    #expect(try Self.findings(missing).errors == ["orientation.value"])
    let notObject = try Self.image(.latest09, [(Self.axis(2, "orientation"), "left-to-right")])
    #expect(try Self.findings(notObject).errors == ["schema.type"])
  }

  @Test func orientationType() throws {
    let good = try Self.image(.latest09, [(Self.axis(1, "orientation"), ["type": "anatomical", "value": "anterior-to-posterior"])])
    #expect(try Self.findings(good).errors.isEmpty)
    let other = try Self.image(.latest09, [(Self.axis(1, "orientation"), ["type": "radiological", "value": "anterior-to-posterior"])])
    #expect(try Self.findings(other).errors == ["orientation.type"])
    let missing = try Self.image(.latest09, [(Self.axis(1, "orientation"), ["value": "anterior-to-posterior"])])
    #expect(try Self.findings(missing).errors == ["orientation.type"])
  }

  @Test func orientationDuplicate() throws {
    let good = try Self.image(.latest09, [(Self.axis(1, "orientation"), Self.orientation("anterior-to-posterior")),
      (Self.axis(2, "orientation"), Self.orientation("left-to-right"))])
    #expect(try Self.findings(good).errors.isEmpty)
    let inverse = try Self.image(.latest09, [(Self.axis(1, "orientation"), Self.orientation("right-to-left")),
      (Self.axis(2, "orientation"), Self.orientation("left-to-right"))])
    let report = try Validator().validate(store: inverse, path: "img")
    #expect(report.errors.map(\.rule) == ["orientation.duplicate"])
    #expect(report.errors.first?.pointer == "/ome/multiscales/0/coordinateSystems/0/axes/2/orientation/value")
    let same = try Self.image(.latest09, [(Self.axis(1, "orientation"), Self.orientation("left-to-right")),
      (Self.axis(2, "orientation"), Self.orientation("left-to-right"))])
    #expect(try Self.findings(same).errors == ["orientation.duplicate"])
  }

  @Test func orientationAxisType() throws {
    let channel = try Self.image(.latest09, [(Self.axis(0, "orientation"), Self.orientation("left-to-right"))])
    #expect(try Self.findings(channel).errors == ["orientation.axis-type"])
    let space = try Self.image(.latest09, [(Self.axis(1, "orientation"), Self.orientation("dorsal-to-ventral"))])
    #expect(try Self.findings(space).errors.isEmpty)
  }

  /// Before 0.9 the key is not defined: a warning, never an error.
  @Test func orientationBefore09() throws {
    let store = try Self.image(.latest06, [(Self.axis(2, "orientation"), Self.orientation("not-a-direction"))])
    let (errors, warnings) = try Self.findings(store)
    #expect(errors.isEmpty)
    #expect(warnings == ["orientation.version"])
    let plain = try Self.findings(try Self.image(.latest06))
    #expect(plain.warnings.isEmpty)
  }

  /// RFC-3: 0.6's axis MUSTs on number, types and order become SHOULDs (warnings) in 0.9.
  @Test func axisRulesRelaxIn09() throws {
    // One space axis (y becomes a second channel axis).
    let oneSpace: [([Step], JSONValue?)] = [(Self.axis(1, "type"), "channel")]
    #expect(try Self.findings(try Self.image(.latest06, oneSpace)).errors == ["axes.space-count", "axes.channel-count"])
    let relaxed = try Self.findings(try Self.image(.latest09, oneSpace))
    #expect(relaxed.errors.isEmpty)
    #expect(relaxed.warnings == ["axes.space-count"])
    // Channel after the space axes (names kept, so only the types move).
    let order: [([Step], JSONValue?)] = [(Self.axis(0, "type"), "space"), (Self.axis(2, "type"), "channel")]
    #expect(try Self.findings(try Self.image(.latest06, order)).errors == ["axes.order"])
    let free = try Self.findings(try Self.image(.latest09, order))
    #expect(free.errors.isEmpty)
    #expect(free.warnings == ["axes.space-names"])
  }

  @Test func axisShouldsIn09() throws {
    let good = try Self.findings(try Self.image(.latest09))
    #expect(good.errors.isEmpty && good.warnings.isEmpty, "\(good)")
    let named = try Self.findings(try Self.image(.latest09, [(Self.axis(2, "name"), "u")]))
    #expect(named.errors.isEmpty)
    #expect(named.warnings == ["axes.space-names", "level.dimension-names"])
    let time = try Self.findings(try Self.image(.latest09, [(Self.axis(0, "type"), "time")]))
    #expect(time.errors.isEmpty)
    #expect(time.warnings == ["axes.time-name"])
    let cased = try Self.findings(try Self.image(.latest09, [(Self.axis(0, "name"), "X")]))
    #expect(cased.errors.isEmpty)
    #expect(cased.warnings == ["axes.case-names", "level.dimension-names"])
  }

  /// RFC-3 keeps these MUSTs.
  @Test func axisMustsStayIn09() throws {
    let twice = try Self.findings(try Self.image(.latest09, [(Self.axis(1, "name"), "x")]))
    #expect(twice.errors == ["axes.unique-names"])
    let fewer = try Self.findings(try Self.image(.latest09, [(["multiscales", 0, "coordinateSystems", 0, "axes"], [["name": "x", "type": "space"]])]))
    #expect(fewer.errors.contains("level.ndim"))
    #expect(!fewer.errors.contains("axes.count"))
    let none = try Self.findings(try Self.image(.latest09, [(["multiscales", 0, "coordinateSystems", 0, "axes"], [])]))
    #expect(none.errors.contains("axes.count"))
  }

  /// ngff-spec#87 (0.9): a window needs start and end only; 0.6 needs min and max too.
  @Test func omeroWindowIn09() throws {
    let window: [([Step], JSONValue?)] = [(["omero", "channels", 0, "window"], ["start": 0, "end": 100])]
    #expect(try Self.findings(try Self.image(.latest09, window)).errors.isEmpty)
    #expect(try Self.findings(try Self.image(.latest06, window)).errors == ["omero.window"])
    let noEnd: [([Step], JSONValue?)] = [(["omero", "channels", 0, "window"], ["start": 0, "min": 0, "max": 1])]
    #expect(try Self.findings(try Self.image(.latest09, noEnd)).errors == ["omero.window"])
    let bare: [([Step], JSONValue?)] = [(["omero", "channels", 0], [:])]
    #expect(try Self.findings(try Self.image(.latest09, bare)).errors.isEmpty)
  }

  /// Orientation is written in 0.9 only.
  @Test func writerKeepsOrientationFor09Only() throws {
    let axes: [Axis] = [.space("y"), Axis(name: "x", type: .space, unit: "micrometer", orientation: AxisOrientation(.leftToRight))]
    let data = try ArrayBuffer(shape: [8, 8], dataType: .uint8, elements: [UInt8](repeating: 1, count: 64))
    for (version, kept) in [(NGFFVersion.latest09, true), (.latest06, false), (.latest05, false)] {
      let store = MemoryStore()
      let node = try ImageWriter.write(data, to: store, options: ImageOptions(axes: axes, version: version))
      let image = try #require(try node.image())
      #expect((image.axes[1].orientation != nil) == kept, "\(version)")
      #expect(try Validator().validate(store: store).errors.isEmpty)
    }
  }
}
