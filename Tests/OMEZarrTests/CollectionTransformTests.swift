import Foundation
import Testing
import ZarrIO
import TestSupport
@testable import OMEZarr

/// RFC-8 coordinate systems and transformations in the graph: ids scoped to documents, singlescale
/// ids as array systems, multiscale-level and array-level transformations, a collection's scene
/// joining members (an RFC-8 multiscale and a 0.5 image).
@Suite struct CollectionTransformTests {
  static func json(_ text: String) throws -> JSONValue { try JSONValue.parse(Array(text.utf8)) }

  /// tiles.json: a scene with `world`; tile_0.zarr: an RFC-8 multiscale with s0 (its transformation
  /// inline) and s1 (its transformation in its own zarr.json); tile_1.ome.zarr: a 0.5 image.
  static func tiles() throws -> URL {
    let dir = try makeTemporaryDirectory("rfc8-cs")
    let store = try FilesystemStore(root: dir.path, create: true)
    let axes = #"[{"name": "y", "type": "space", "unit": "micrometer"}, {"name": "x", "type": "space", "unit": "micrometer"}]"#
    _ = try ZarrGroup.create(in: store, path: "tile_0.zarr", attributes: try json("""
      {"ome": {"version": "0.9.dev3", "type": "multiscale", "id": "tile_0", "name": "Tile 0",
        "nodes": [
          {"type": "singlescale", "id": "s0", "name": "s0", "path": {"type": "zarr", "path": "./s0"},
           "attributes": {"coordinateTransformations": [
             {"type": "scale", "scale": [0.5, 0.5], "input": {"id": "s0"}, "output": {"id": "physical"}}]}},
          {"type": "singlescale", "id": "s1", "name": "s1", "path": {"type": "zarr", "path": "./s1"}}],
        "attributes": {"coordinateSystems": [{"id": "physical", "axes": \(axes)}]}}}
      """).objectValue ?? [:])
    _ = try ZarrArray.create(in: store, path: "tile_0.zarr/s0", metadata: ArrayMetadata(shape: [16, 16], dataType: .uint8, chunkShape: [8, 8]))
    _ = try ZarrArray.create(in: store, path: "tile_0.zarr/s1", metadata: ArrayMetadata(shape: [8, 8], dataType: .uint8, chunkShape: [8, 8],
      attributes: try json("""
        {"ome": {"version": "0.9.dev3", "type": "singlescale", "id": "s1", "name": "s1",
          "attributes": {"coordinateTransformations": [
            {"type": "sequence", "input": {"id": "s1"}, "output": {"id": "physical", "path": {"type": "json", "path": "../zarr.json"}},
             "transformations": [{"type": "scale", "scale": [1, 1]}, {"type": "translation", "translation": [0.25, 0.25]}]}]}}}
        """).objectValue ?? [:]))
    let data = try ArrayBuffer(shape: [10, 10], dataType: .uint8, elements: [UInt8](repeating: 0, count: 100))
    var options = ImageOptions(axes: [.space("y"), .space("x")])
    options.scale = [2, 2]
    options.levels = 1
    try ImageWriter.write(data, to: store, at: "tile_1.ome.zarr", options: options)
    try Data("""
      {"ome": {"version": "0.9.dev3", "type": "collection", "id": "tiles", "name": "Tiles",
        "attributes": {"scene": {
          "coordinateSystems": [{"id": "world", "axes": \(axes)}],
          "coordinateTransformations": [
            {"type": "translation", "translation": [0, 100], "output": {"id": "world"},
             "input": {"id": "physical", "path": {"type": "zarr", "path": "./tile_0.zarr"}}},
            {"type": "translation", "translation": [50, 0], "output": {"id": "world"},
             "input": {"id": "physical", "path": {"type": "zarr", "path": "./tile_1.ome.zarr"}}}]}},
        "nodes": [
          {"type": "multiscale", "id": "tile_0", "name": "Tile 0", "path": {"type": "zarr", "path": "./tile_0.zarr"}},
          {"type": "multiscale", "id": "tile_1", "name": "Tile 1", "path": {"type": "zarr", "path": "./tile_1.ome.zarr"}}]}}
      """.utf8).write(to: dir.appendingPathComponent("tiles.json"))
    return dir
  }

  @Test func scenesJoinMembersAndSinglescalesAreArrays() throws {
    let dir = try Self.tiles()
    defer { try? FileManager.default.removeItem(at: dir) }
    let doc = try CollectionDocument.read(path: dir.appendingPathComponent("tiles.json").path)
    var graph = try TransformGraph(collection: doc)
    #expect(graph.systems[CoordinateSystemID(path: "tiles.json", name: "world")]?.map(\.name) == ["y", "x"])
    #expect(graph.systems[CoordinateSystemID(path: "tile_0.zarr", name: "physical")] != nil)

    // s0 pixels (its inline scale) -> tile_0 physical -> world.
    #expect(try graph.transform(points: [[2, 4]], from: "tile_0.zarr/s0", to: "world") == [[1, 102]])
    // s1 by an RFC-8 reference; its transformation is in its own zarr.json, output referenced by path.
    let s1 = #"{"id": "s1", "path": {"type": "zarr", "path": "./tile_0.zarr"}}"#
    #expect(try graph.system(s1) == CoordinateSystemID(path: "tile_0.zarr/s1", name: nil))
    #expect(try graph.transform(points: [[1, 1]], from: s1, to: "world") == [[1.25, 101.25]])
    // Across the scene into the 0.5 image's level 0 (pixel size 2): world -> tile_1 physical -> pixels.
    #expect(try graph.transform(points: [[60, 10]], from: "world", to: "tile_1.ome.zarr/0") == [[5, 5]])
    // From one tile to the other through world, and back.
    let there = try graph.transform(points: [[3, 7]], from: "tile_0.zarr/s0", to: "tile_1.ome.zarr/physical")
    let expected: [[Double]] = [[-48.5, 103.5]]
    #expect(there == expected)
    #expect(try graph.transform(points: there, from: "tile_1.ome.zarr/physical", to: "tile_0.zarr/s0") == [[3, 7]])
    // The path names its steps; unknown ids say what is known.
    let steps = try graph.path(from: graph.system("tile_0.zarr/s0"), to: graph.system("tile_1.ome.zarr/0"))
    #expect(steps.count == 4 && steps.map(\.inverted) == [false, false, true, true])
    #expect { try graph.system("nowhere") } throws: { "\($0)".contains("unknown coordinate system 'nowhere'") }
  }

  @Test func documentsOutsideTheCollectionAreNotRead() throws {
    let dir = try Self.tiles()
    defer { try? FileManager.default.removeItem(at: dir) }
    // A scene whose reference leaves the directory: the edge exists, but nothing outside is read.
    try Data("""
      {"ome": {"version": "0.9.dev3", "type": "collection", "name": "escape",
        "attributes": {"scene": {"coordinateSystems": [{"id": "world", "axes": ["y", "x"]}],
          "coordinateTransformations": [{"type": "identity", "output": {"id": "world"},
            "input": {"id": "physical", "path": {"type": "zarr", "path": "../../../etc"}}}]}},
        "nodes": []}}
      """.utf8).write(to: dir.appendingPathComponent("escape.json"))
    let doc = try CollectionDocument.read(path: dir.appendingPathComponent("escape.json").path)
    let graph = try TransformGraph(collection: doc)
    #expect(graph.nodes == ["escape.json"])
    #expect(graph.edges.count == 1)
  }
}
