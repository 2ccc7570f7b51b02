import Foundation
import OMEZarr
import TestSupport
import Testing
import ZarrIO

/// `ome2zarr view`: the viewer URL and its neuroglancer state (channels with names, colours and
/// windows; physical scales; labels as segmentation layers), vizarr's `?source=`, and a viewer
/// client served from the same address. (The real-browser test is still to come.)
@Suite("ome2zarr view", .serialized)
struct ViewCommandTests {
  /// Starts `ome2zarr view ARGUMENTS --json --no-open` and reads its first line.
  static func view(_ arguments: [String], log: URL? = nil) throws -> (process: Process, line: JSONValue) {
    let (p, _, line) = try startLineProcess(CLI.binary, ["view"] + arguments + ["--json", "--no-open"] + (log == nil ? [] : ["--log"]),
      errors: log)
    return (p, try JSONValue.parse(Array(line.utf8)))
  }

  static func stop(_ p: Process) {
    kill(p.processIdentifier, SIGTERM)
    p.waitUntilExit()
  }

  /// A 2-channel 2-D image (its omero names, colours and windows from the converter) and a label image.
  static func image() throws -> (dir: URL, zarr: String) {
    let dir = try CLI.temporaryDirectory()
    let tiff = dir.appendingPathComponent("in.ome.tif").path, labels = dir.appendingPathComponent("cells.tif").path
    try ConvertCommandTests.makeStack(tiff, planes: 2, size: 64)
    try ConvertCommandTests.makeStack(labels, planes: 2, size: 64)
    let zarr = dir.appendingPathComponent("img.ome.zarr").path
    let r = try CLI.ome2zarr("convert", tiff, zarr, "--quiet", "--axes", "cyx", "--scale", "1,0.5,0.25", "--units", "micrometer",
      "--label", "cells=" + labels)
    try #require(r.status == 0, "\(r.stderr)")
    return (dir, zarr)
  }

  @Test func neuroglancerStateShowsWhatTheMetadataSays() throws {
    let (_, zarr) = try Self.image()
    let (p, line) = try Self.view([zarr])
    defer { Self.stop(p) }
    let url = try #require(line["url"]?.stringValue)
    let state = try #require(line["state"])
    #expect(state["dimensions"] == ["y": [.double(5e-7), "m"], "x": [.double(2.5e-7), "m"]])
    let layers = try #require(state["layers"]?.arrayValue)
    #expect(layers.count == 3)
    // Names, colours and windows as the image's omero gives them.
    let channels = try #require(try OMENode.open(path: zarr).image()?.omero?.channels)
    #expect(channels.count == 2)
    #expect(layers.map { $0["name"]?.stringValue ?? "" } == channels.map { $0.label ?? "?" } + ["labels/cells"])
    #expect(layers.map { $0["type"]?.stringValue ?? "" } == ["image", "image", "segmentation"])
    #expect(layers[0]["source"]?.stringValue == url + "|zarr3:")
    #expect(layers[2]["source"]?.stringValue == url + "labels/cells/|zarr3:")
    #expect(layers[0]["localPosition"] == [0] && layers[1]["localPosition"] == [1])
    for (layer, channel) in zip(layers, channels) {
      #expect(layer["shaderControls"]?["color"]?.stringValue == "#" + (channel.color ?? "?").lowercased())
      #expect(layer["shaderControls"]?["normalized"]?["range"] == [.double(channel.window?.start ?? -1), .double(channel.window?.end ?? -1)])
      #expect(layer["blend"]?.stringValue == "additive")
    }
    #expect(state["layout"]?.stringValue == "xy")
    // The URL carries the state after #!, percent-encoded.
    let link = try #require(line["viewer_url"]?.stringValue)
    #expect(link.hasPrefix("https://neuroglancer-demo.appspot.com/#!"))
    let decoded = try #require(String(link.dropFirst("https://neuroglancer-demo.appspot.com/#!".count)).removingPercentEncoding)
    #expect(try JSONValue.parse(decoded) == state)
  }

  @Test func vizarrAndAClientFromTheSameAddress() throws {
    let (dir, zarr) = try Self.image()
    do {
      let (p, line) = try Self.view([zarr, "--viewer", "vizarr"])
      defer { Self.stop(p) }
      let url = try #require(line["url"]?.stringValue)
      #expect(line["viewer_url"]?.stringValue == "https://hms-dbmi.github.io/vizarr/?source=" + url)
    }
    // A client directory is served at /v/TOKEN/ (index.html for the directory), the image beside it.
    let client = dir.appendingPathComponent("client")
    try FileManager.default.createDirectory(at: client, withIntermediateDirectories: true)
    try Data("<html>viewer</html>".utf8).write(to: client.appendingPathComponent("index.html"))
    try Data("main();".utf8).write(to: client.appendingPathComponent("main.js"))
    let (q, served) = try Self.view([zarr, "--client", client.path])
    defer { Self.stop(q) }
    let token = try #require(served["token"]?.stringValue)
    let port = try #require(served["port"]?.intValue)
    let link = try #require(served["viewer_url"]?.stringValue)
    #expect(link.hasPrefix("http://127.0.0.1:\(port)/v/\(token)/#!"))
    let index = try ServeCommandTests.client(["raw", "http://127.0.0.1:\(port)/", "/v/\(token)/"])
    #expect(index["status"]?.intValue == 200 && index["body"]?.stringValue == "<html>viewer</html>")
    #expect(index["headers"]?["content-type"]?.stringValue == "text/html; charset=utf-8")
    let js = try ServeCommandTests.client(["raw", "http://127.0.0.1:\(port)/", "/v/\(token)/main.js"])
    #expect(js["status"]?.intValue == 200 && js["headers"]?["content-type"]?.stringValue == "text/javascript")
    #expect(try ServeCommandTests.client(["raw", "http://127.0.0.1:\(port)/", "/v/wrongtoken/main.js"])["status"]?.intValue == 404)
    #expect(try ServeCommandTests.client(["raw", "http://127.0.0.1:\(port)/", "/v/\(token)/../main.js"])["status"]?.intValue == 403)
  }

  @Test func notAnImageIsRefused() throws {
    let (_, zarr) = try Self.image()
    let r = try CLI.ome2zarr("view", zarr + "/labels", "--no-open")
    #expect(r.status == 1 && r.stderr.contains("not an image"), "\(r.stderr)")
  }

  /// Headless Chromium runs the neuroglancer client of the `neuroglancer` package on the state
  /// `view` printed, for a directory and for a `.ozx`: the dimensions are as written, the voxels
  /// the browser decoded equal level 0 of the image and of the label image, the chunks were
  /// fetched from our server (its log), and a screenshot is kept.
  @Test(arguments: ["directory", "archive"])
  func aRealBrowserShowsTheImageAndItsLabels(_ kind: String) throws {
    try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium"), "no chromium: run scripts/setup")
    try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver"), "no chromium-driver: run scripts/setup")
    let (dir, zarr) = try Self.image()
    var target = zarr
    if kind == "archive" {
      target = dir.appendingPathComponent("img.ozx").path
      #expect(try CLI.ome2zarr("pack", zarr, target).status == 0)
    }
    let log = dir.appendingPathComponent("access.log")
    let (p, line) = try Self.view([target], log: log)
    defer { Self.stop(p) }
    let viewJSON = dir.appendingPathComponent("view.json")
    try Data(line.serializedBytes(pretty: false)).write(to: viewJSON)
    let shot = dir.appendingPathComponent("neuroglancer-\(kind).png")
    let python = try #require(testPython, "no Python test venv")
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Python/browser_view.py").path
    let r = try runProcess(python, [script, viewJSON.path, zarr, shot.path])
    try #require(r.status == 0, "browser_view.py: \(r.stderrText)")
    let result = try JSONValue.parse(Array(r.stdoutText.utf8))
    #expect(result["dimensions"] == ["y": [.double(5e-7), "m"], "x": [.double(2.5e-7), "m"]], "\(result.serialized())")
    let layers = try #require(result["layers"]?.objectValue)
    #expect(layers.count == 3)
    for (name, layer) in layers {
      #expect(layer["identical"] == true, "\(name): \(layer.serialized())")
      #expect(layer["shape"] == layer["expected_shape"], "\(name)")
    }
    #expect(layers["labels/cells"] != nil)
    // The chunks came from our server: shards of level 0 and of the labels, by range.
    let token = try #require(line["token"]?.stringValue)
    let requests = try String(contentsOf: log, encoding: .utf8).split(separator: "\n")
    let chunks = requests.filter { $0.hasPrefix("GET /\(token)/0/c/") && $0.contains(" 206 ") }
    let labelChunks = requests.filter { $0.hasPrefix("GET /\(token)/labels/cells/0/c/") && $0.contains(" 206 ") }
    #expect(!chunks.isEmpty && !labelChunks.isEmpty, "\(requests)")
    #expect(try Data(contentsOf: shot).starts(with: [0x89, 0x50, 0x4E, 0x47]))
    print("neuroglancer (\(kind)): \(requests.count) requests, \(chunks.count + labelChunks.count) ranged chunk reads; screenshot \(shot.path)")
  }
}
