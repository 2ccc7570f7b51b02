import Testing
import ZarrIO
@testable import OMEZarr

@Suite("NGFF models")
struct ModelTests {
  @Test(arguments: [
    ("0.4", "0.4"), ("0.3", "0.4"), ("0.5", "0.5"), ("0.5-dev2", "0.5"), ("0.6", "0.6"), ("0.6.dev4", "0.6"),
    ("0.6rc0", "0.6"), ("0.6rc1", "0.6"), ("0.6dev1", "0.6"), ("0.9", "0.9.dev2"), ("0.9.dev1", "0.9.dev2"),
    ("0.9.dev2", "0.9.dev2"), ("0.9.dev3", "0.9.dev2"),
  ])
  func versionFamilies(_ s: String, _ canonical: String) throws {
    let v = try #require(NGFFVersion(s))
    #expect(v.canonical.description == canonical)
    #expect(v.description == s)
  }

  @Test func unknownVersionsAreNotGuessed() {
    #expect(NGFFVersion("1.0") == nil)
    #expect(NGFFVersion("0.7") == nil)
    #expect(NGFFVersion("0.90") == nil)
  }

  /// 0.6 is written as released ("0.6", no longer "0.6rc0"); the drafts are still read as 0.6.
  @Test func writesTheReleased06() throws {
    #expect(NGFFVersion.latest06.description == "0.6")
    #expect(NGFFVersion("0.6rc0") == .v06("0.6rc0"))
    #expect(NGFFVersion("0.6rc0")?.sameFamily(as: .latest06) == true)
    #expect(NGFFVersion("0.6rc0")?.forWriting == .v06("0.6"))
    let attrs = try #require(try JSONValue.parse(#"{"ome": {"version": "0.6rc0", "multiscales": []}}"#).objectValue)
    #expect(NGFFVersion.detect(in: attrs) == .v06("0.6rc0"))
  }

  /// 0.9: its own family; "0.9" is written as 0.9.dev2, the published dev releases as given.
  @Test func the09Family() {
    #expect(NGFFVersion("0.9") == .v09("0.9"))
    #expect(NGFFVersion("0.9")?.forWriting == .v09("0.9.dev2"))
    #expect(NGFFVersion("0.9.dev1")?.forWriting == .v09("0.9.dev1"))
    #expect(NGFFVersion("0.9.dev7")?.forWriting == .v09("0.9.dev2"))
    #expect(NGFFVersion.latest09.zarrFormat == .v3)
    #expect(NGFFVersion.latest09.hasCoordinateSystems)
    #expect(NGFFVersion.latest09.hasAxisOrientation)
    #expect(!NGFFVersion.latest06.hasAxisOrientation)
    #expect(!NGFFVersion.latest06.sameFamily(as: .latest09))
  }

  /// RFC-4 orientation: read in any version, unknown keys kept, written as type, value, then the rest.
  @Test func orientationRoundTrips() throws {
    let text = #"{"name": "x", "type": "space", "orientation": {"note": 1, "value": "left-to-right", "type": "anatomical"}, "z": 2}"#
    let axis = try Axis(json: JSONValue.parse(text), pointer: "/axes/0")
    #expect(axis.orientation == AxisOrientation(type: "anatomical", value: "left-to-right").with(extra: ["note": 1]))
    #expect(axis.orientation?.direction == .leftToRight)
    #expect(axis.extra == ["z": 2])
    #expect(axis.json.serialized(pretty: false) == #"{"name":"x","type":"space","orientation":{"type":"anatomical","value":"left-to-right","note":1},"z":2}"#)
    // Values outside the vocabulary are kept (the validator reports them).
    let odd = try Axis(json: JSONValue.parse(#"{"name": "y", "orientation": {"type": "radiological", "value": "up"}}"#), pointer: "")
    #expect(odd.orientation == AxisOrientation(type: "radiological", value: "up"))
    #expect(odd.orientation?.direction == nil)
    #expect(odd.orientation?.description == "radiological:up")
    // Not an object with string type and value: kept as written in extra.
    let bad = try Axis(json: JSONValue.parse(#"{"name": "z", "orientation": {"value": 3}}"#), pointer: "")
    #expect(bad.orientation == nil)
    #expect(bad.extra == ["orientation": ["value": 3]])
    #expect(bad.json.serialized(pretty: false) == #"{"name":"z","orientation":{"value":3}}"#)
    #expect(Axis(name: "z", type: .space, orientation: AxisOrientation(.superiorToInferior)).json.serialized(pretty: false)
      == #"{"name":"z","type":"space","orientation":{"type":"anatomical","value":"superior-to-inferior"}}"#)
  }

  @Test func anatomicalDirectionsHaveInverses() {
    #expect(AnatomicalDirection.allCases.count == 24)
    #expect(AnatomicalDirection.leftToRight.inverse == .rightToLeft)
    #expect(AnatomicalDirection.apexToBase.inverse == .baseToApex)
    #expect(AnatomicalDirection.dorsalToPalmar.inverse == .palmarToDorsal)
    #expect(AnatomicalDirection.allCases.allSatisfy { $0.inverse != $0 && $0.inverse.inverse == $0 })
  }

  @Test func classifiesNodesByTheirKeys() throws {
    func kind(_ json: String) throws -> OMENodeKind {
      OMENodeKind.classify(attributes: try #require(try JSONValue.parse(json).objectValue))
    }
    #expect(try kind(#"{"multiscales": [{"axes": [], "datasets": []}]}"#) == .image)
    #expect(try kind(#"{"ome": {"version": "0.5", "multiscales": [{"axes": [], "datasets": []}], "image-label": {}}}"#) == .labelImage)
    #expect(try kind(#"{"ome": {"version": "0.5", "labels": ["a"]}}"#) == .labels)
    #expect(try kind(#"{"plate": {"rows": [], "columns": [], "wells": []}, "bioformats2raw.layout": 3}"#) == .plate)
    #expect(try kind(#"{"ome": {"version": "0.5", "bioformats2raw.layout": 3}}"#) == .bioformats2raw)
    #expect(try kind(#"{"ome": {"version": "0.5", "series": ["0"]}}"#) == .series)
    #expect(try kind(#"{"well": {"images": [{"path": "0"}]}}"#) == .well)
    #expect(try kind(#"{"ome": {"version": "0.6", "scene": {"coordinateTransformations": []}}}"#) == .scene)
    #expect(try kind(#"{"ome": {"version": "0.9.dev3", "type": "collection", "name": "c", "nodes": []}}"#) == .collection)
    #expect(try kind(#"{"other": 1}"#) == .group)
  }

  @Test func keepsUnknownKeysEverywhere() throws {
    let text = """
      {"ome": {"version": "0.5", "_creator": {"name": "x"},
        "multiscales": [{"name": "m", "axes": [{"name": "y", "type": "space", "orientation": "up"}, {"name": "x", "type": "space"}],
          "datasets": [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1, 1], "note": 3}], "extra": true}],
          "custom": [1]}],
        "omero": {"channels": [{"color": "FF0000", "window": {"min": 0, "max": 1, "start": 0, "end": 1, "gamma": 2}, "x": 1}]}},
       "user": {"keep": "me"}}
      """
    let attrs = try JSONValue.parse(text).objectValue!
    let ome = try OMEAttributes(attributes: attrs)
    #expect(ome.extra["_creator"] == ["name": "x"])
    #expect(ome.multiscales?[0].axes?[0].extra["orientation"] == "up")
    #expect(ome.multiscales?[0].axes?[0].orientation == nil)
    #expect(ome.multiscales?[0].datasets[0].coordinateTransformations[0].extra["note"] == 3)
    #expect(ome.multiscales?[0].extra["custom"] == [1])
    #expect(ome.omero?.channels[0].window?.extra["gamma"] == 2)
    #expect(SpecExampleTests.normalized(.object(ome.applied(to: attrs))) == SpecExampleTests.normalized(.object(attrs)))
  }

  @Test func readsLegacyTransformationForms() throws {
    // String input/output, inverseOf, flattened byDimension with snake_case axes.
    let t = try Transformation(json: JSONValue.parse("""
      {"type": "byDimension", "input": "in", "output": "out", "transformations": [
        {"type": "scale", "scale": [10], "input_axes": [1], "output_axes": [1]},
        {"transformation": {"type": "translation", "translation": [2]}, "inputAxes": [0], "outputAxes": [0]}]}
      """), pointer: "")
    #expect(t.input == CoordinateSystemRef(name: "in"))
    guard case .byDimension(let parts) = t.kind else {
      Issue.record("not byDimension: \(t.kind)")
      return
    }
    #expect(parts.map(\.inputAxes) == [[1], [0]])
    #expect(parts[0].transformation.kind == .scale([10]))
    // Written in the current form.
    #expect(t.json["transformations"]?.arrayValue?[0]["inputAxes"] == [1])
    #expect(t.json["input"] == ["name": "in"])
    let inv = try Transformation(json: JSONValue.parse(#"{"type": "inverseOf", "transformation": {"type": "scale", "scale": [2, 2]}}"#), pointer: "")
    #expect(inv.kind == .inverseOf(.scale([2, 2])))
    // Unreadable parameters are kept verbatim.
    let odd = try Transformation(json: JSONValue.parse(#"{"type": "mapAxis", "mapAxis": {"x": "i"}, "input": "a", "output": "b"}"#), pointer: "")
    #expect(odd.kind == .other("mapAxis"))
    #expect(odd.json["mapAxis"] == ["x": "i"])
  }

  @Test func scaleAndTranslationPerLevel() throws {
    let v05 = try Multiscale(json: JSONValue.parse("""
      {"axes": [{"name": "y", "type": "space"}, {"name": "x", "type": "space"}],
       "datasets": [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [0.5, 0.5]}]},
                    {"path": "1", "coordinateTransformations": [{"type": "scale", "scale": [1, 1]}, {"type": "translation", "translation": [0.25, 0.25]}]}],
       "coordinateTransformations": [{"type": "scale", "scale": [2, 2]}]}
      """), pointer: "")
    #expect(v05.scaleAndTranslation(level: 0)?.scale == [1, 1])
    #expect(v05.scaleAndTranslation(level: 1)?.scale == [2, 2])
    #expect(v05.scaleAndTranslation(level: 1)?.translation == [0.5, 0.5])
    let v06 = try Upgrade.toCoordinateSystems(v05)
    #expect(v06.coordinateSystems?.first?.axes.map(\.name) == ["y", "x"])
    #expect(v06.scaleAndTranslation(level: 1)?.translation == [0.5, 0.5])
    #expect(v06.datasets[1].coordinateTransformations[0].input == CoordinateSystemRef(path: "1"))
  }

  @Test func unitsAreCanonicalised() {
    #expect(Units.canonical("um") == "micrometer")
    #expect(Units.canonical("µm") == "micrometer")
    #expect(Units.canonical("Nanometer") == "nanometer")
    #expect(Units.canonical("parsecs") == nil)
  }

  @Test func invalidMetadataNamesThePointer() {
    do {
      _ = try OMEAttributes(attributes: JSONValue.parse(#"{"ome": {"version": "0.5", "multiscales": [{"axes": [], "datasets": [{"nopath": 1}]}]}}"#).objectValue!)
      Issue.record("accepted a dataset without path")
    } catch let e as OMEZarrError {
      #expect(e.pointer == "/ome/multiscales/0/datasets/0")
    } catch {
      Issue.record("\(error)")
    }
  }
}

extension AxisOrientation {
  /// The orientation with `extra` as its unknown keys.
  func with(extra: JSONObject) -> AxisOrientation {
    var o = self
    o.extra = extra
    return o
  }
}
