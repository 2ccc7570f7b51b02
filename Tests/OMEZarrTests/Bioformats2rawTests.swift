import Testing
import ZarrIO
@testable import OMEZarr

@Suite("bioformats2raw collections")
struct Bioformats2rawTests {
  /// A 0.4 bioformats2raw root: `bioformats2raw.layout`, `OME/` with `series` and the OME-XML, two images.
  static func makeRoot(_ store: any Store) throws {
    _ = try ZarrGroup.create(in: store, attributes: ["bioformats2raw.layout": 3], format: .v2)
    _ = try ZarrGroup.create(in: store, path: "OME", attributes: ["series": ["0", "1"]], format: .v2)
    try store.set("OME/METADATA.ome.xml", Array("<OME><Image ID=\"Image:0\"/><Image ID=\"Image:1\"/></OME>".utf8))
    for (i, shape) in [[10, 12], [6, 8]].enumerated() {
      var o = ImageOptions(axes: [.space("y"), .space("x")], version: .latest04)
      o.chunkShape = [4, 4]
      let data = try ArrayBuffer(shape: shape, dataType: .uint8, elements: (0..<shape.reduce(1, *)).map { UInt8($0 % 251) })
      try ImageWriter.write(data, to: store, at: String(i), options: o)
    }
  }

  @Test func opensSeriesAndUpgrades() throws {
    let store = MemoryStore()
    try Self.makeRoot(store)
    let root = try OMENode.open(in: store)
    #expect(root.kind == .bioformats2raw)
    #expect(root.metadata.bioformats2rawLayout == 3)
    let ome = try root.child("OME")
    #expect(ome.kind == .series)
    #expect(ome.metadata.series == ["0", "1"])
    #expect(try root.child("1").image()?.levels[0].shape == [6, 8])

    let up = try Upgrade.upgrade(root, to: .latest05, in: store, at: "v05")
    #expect(up.kind == .bioformats2raw)
    #expect(up.version == .latest05)
    let series = try up.child("OME")
    #expect(series.metadata.series == ["0", "1"])
    #expect(try store.get("v05/OME/METADATA.ome.xml") == store.get("OME/METADATA.ome.xml"))
    #expect(try store.get("v05/zarr.json").map { try JSONValue.parse($0)["attributes"]?["ome"]?["bioformats2raw.layout"] } == 3)
    for i in ["0", "1"] {
      #expect(try up.child(i).image()?.levels[0].read() == root.child(i).image()?.levels[0].read())
    }
  }
}
