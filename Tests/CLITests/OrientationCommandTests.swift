import Foundation
import OMEZarr
import TestSupport
import Testing
import ZarrIO

/// `convert --version 0.9 --orientation ...`, 0.6 written as released, and `info` showing orientation.
@Suite("ome2zarr convert: 0.6, 0.9 and --orientation", .serialized)
struct OrientationCommandTests {
  static let orientation = "z=superior-to-inferior,y=anterior-to-posterior,x=left-to-right"

  /// The image group's `attributes.ome` at `out`.
  static func ome(_ out: String) throws -> JSONValue {
    let doc = try JSONValue.parse([UInt8](try Data(contentsOf: URL(fileURLWithPath: out + "/zarr.json"))))
    return try #require(doc["attributes"]?["ome"])
  }

  @Test func convertWritesOrientationIn09() throws {
    let dir = try CLI.temporaryDirectory()
    let tiff = dir.appendingPathComponent("a.tif").path
    try ConventionsTests.writeTIFF(tiff)
    let out = dir.appendingPathComponent("o.ome.zarr").path
    let r = try CLI.ome2zarr("convert", tiff, out, "--quiet", "--version", "0.9", "--units", "micrometer", "--orientation", Self.orientation)
    #expect(r.status == 0, "\(r.stderr)")
    let ome = try Self.ome(out)
    #expect(ome["version"] == "0.9.dev2")
    let axes = ome["multiscales"]?.arrayValue?.first?["coordinateSystems"]?.arrayValue?.first?["axes"]
    #expect(axes == [
      ["name": "z", "type": "space", "unit": "micrometer", "orientation": ["type": "anatomical", "value": "superior-to-inferior"]],
      ["name": "y", "type": "space", "unit": "micrometer", "orientation": ["type": "anatomical", "value": "anterior-to-posterior"]],
      ["name": "x", "type": "space", "unit": "micrometer", "orientation": ["type": "anatomical", "value": "left-to-right"]],
    ])
    // The validator accepts it with no finding at all.
    let v = try CLI.ome2zarr("validate", out, "--json")
    #expect(v.status == 0, "\(v.stdout)")
    let report = try JSONValue.parse(Array(v.stdout.utf8))
    #expect(report["valid"] == true)
    #expect(report["version"] == "0.9.dev2")
    #expect(report["findings"] == [])
    // info: text and JSON.
    let info = try CLI.ome2zarr("info", out)
    #expect(info.status == 0)
    #expect(info.stdout.contains("axes z (space, micrometer, oriented superior-to-inferior), y (space, micrometer, oriented "
      + "anterior-to-posterior), x (space, micrometer, oriented left-to-right)"), "\(info.stdout)")
    let json = try CLI.ome2zarr("info", out, "--json")
    #expect(json.status == 0)
    let infoDoc = try JSONValue.parse(Array(json.stdout.utf8))
    #expect(infoDoc["root"]?["ome"]?["image"]?["axes"]?.arrayValue?.map { $0["orientation"] } == [
      ["type": "anatomical", "value": "superior-to-inferior"], ["type": "anatomical", "value": "anterior-to-posterior"],
      ["type": "anatomical", "value": "left-to-right"]])
    try CLI.expectMatchesSchema(json.stdout, "info.schema.json")
  }

  @Test func convertWritesTheVersionsAsked() throws {
    let dir = try CLI.temporaryDirectory()
    let tiff = dir.appendingPathComponent("a.tif").path
    try ConventionsTests.writeTIFF(tiff)
    for (asked, written) in [("0.6", "0.6"), ("0.6rc0", "0.6"), ("0.9", "0.9.dev2"), ("0.9.dev1", "0.9.dev1")] {
      let out = dir.appendingPathComponent("\(asked).ome.zarr").path
      let r = try CLI.ome2zarr("convert", tiff, out, "--quiet", "--version", asked)
      #expect(r.status == 0, "\(asked): \(r.stderr)")
      #expect(try Self.ome(out)["version"] == .string(written), "\(asked)")
      let v = try CLI.ome2zarr("validate", out)
      #expect(v.status == 0, "\(asked): \(v.stdout)")
      // No orientation unless asked for.
      #expect(!(try String(contentsOfFile: out + "/zarr.json", encoding: .utf8)).contains("orientation"))
      let info = try CLI.ome2zarr("info", out, "--json")
      #expect(try JSONValue.parse(Array(info.stdout.utf8))["root"]?["ome"]?["image"]?["axes"]?.arrayValue?.first?["orientation"] == .null)
    }
  }

  @Test(arguments: [
    (["--version", "0.9", "--orientation", "z=up"], "unknown orientation 'up' for axis 'z'; the directions are left-to-right, right-to-left,"),
    (["--version", "0.9", "--orientation", "q=left-to-right"], "--orientation names axis 'q', but the image's axes are z,y,x"),
    (["--version", "0.9", "--orientation", "y=left-to-right,x=right-to-left"],
     "--orientation gives 'y' left-to-right and 'x' right-to-left: a direction or its inverse may be used for one axis only"),
    (["--version", "0.9", "--orientation", "x=left-to-right,x=anterior-to-posterior"], "--orientation gives axis 'x' twice"),
    (["--version", "0.9", "--orientation", "z"], "--orientation takes AXIS=DIRECTION pairs such as z=superior-to-inferior,x=left-to-right, not 'z'"),
    (["--orientation", Self.orientation], "--orientation needs --version 0.9: OME-Zarr 0.5 does not define axis orientation (RFC-4 adds it in 0.9)"),
    (["--version", "0.6", "--orientation", Self.orientation], "--orientation needs --version 0.9: OME-Zarr 0.6 does not define axis orientation"),
    (["--version", "0.9", "--axes", "czx", "--orientation", "c=left-to-right"],
     "--orientation names axis 'c' of type channel; only space axes have an orientation"),
  ])
  func badOrientationsAreUsageErrors(_ arguments: [String], _ message: String) throws {
    let dir = try CLI.temporaryDirectory()
    let tiff = dir.appendingPathComponent("a.tif").path
    try ConventionsTests.writeTIFF(tiff)
    let out = dir.appendingPathComponent("bad.ome.zarr").path
    let r = try CLI.ome2zarr(["convert", tiff, out, "--quiet"] + arguments)
    #expect(r.status == 2, "\(arguments): \(r.stderr)")
    #expect(r.stderr.contains(message), "\(r.stderr)")
    #expect(!FileManager.default.fileExists(atPath: out + "/zarr.json"))
  }
}
