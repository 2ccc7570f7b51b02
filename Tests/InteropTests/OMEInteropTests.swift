import Foundation
import OMEZarr
import OMEZarrConvert
import TestSupport
import Testing
import ZarrIO

/// Runs `Python/ome_peers.py`.
enum OMEPeers {
  static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Python/ome_peers.py")

  static func run(_ arguments: [String]) throws -> Data {
    guard let python = testPython else { throw PeerError(message: "no Python test venv: run scripts/test") }
    let r = try runProcess(python, [script.path] + arguments)
    guard r.status == 0 else {
      throw PeerError(message: "ome_peers.py \(arguments.first ?? "") failed (\(r.status)):\n" + String(r.stderrText.suffix(4000)))
    }
    return r.stdout
  }
}

@Suite("OME-Zarr interoperability (ome-zarr-py, ngff-zarr, ome-zarr-models)", .serialized)
struct OMEInteropTests {
  static func ramp(_ shape: [Int], seed: Int) -> ArrayBuffer {
    let n = shape.reduce(1, *)
    let v = (0..<n).map { UInt16(truncatingIfNeeded: ($0 &* 31 &+ seed * 977) % 4099) }
    return try! ArrayBuffer(shape: shape, dataType: .uint16, elements: v)
  }

  @Test("images, labels and plates written by ome-zarr-py and ngff-zarr open correctly")
  func weOpenPeerData() throws {
    let dir = try makeTemporaryDirectory("ome-peers")
    defer { try? FileManager.default.removeItem(at: dir) }
    _ = try OMEPeers.run(["write", dir.path])
    let manifest = try JSONValue.parse([UInt8](Data(contentsOf: dir.appendingPathComponent("manifest.json"))))
    let cases = manifest.arrayValue ?? []
    #expect(cases.count == 8)
    for c in cases {
      let name = c["name"]?.stringValue ?? "?"
      do {
        let path = dir.appendingPathComponent(c["path"]?.stringValue ?? "").path
        let root = dir.appendingPathComponent(name.hasSuffix("_mask") ? String(name.dropLast(5)) + ".zarr" : name + ".zarr")
        let store = try FilesystemStore(root: root.path)
        let rel = String(path.dropFirst(root.path.count)).trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        let node = try OMENode.open(in: store, path: rel)
        #expect(node.kind.rawValue == c["kind"]?.stringValue, "\(name): kind \(node.kind)")
        #expect(node.version?.description == c["version"]?.stringValue, "\(name): version \(String(describing: node.version))")
        if let levels = c["levels"]?.intValue {
          let image = try #require(try node.image(), "\(name): no image")
          #expect(image.levels.count == levels, "\(name): \(image.levels.count) levels")
          if let axes = c["axes"]?.arrayValue?.compactMap(\.stringValue) { #expect(image.axes.map(\.name) == axes, "\(name)") }
          if let scale = c["scale0"]?.arrayValue?.compactMap(\.doubleValue) {
            #expect(zip(image.scale(level: 0) ?? [], scale).allSatisfy { abs($0 - $1) < 1e-9 }, "\(name): scale \(String(describing: image.scale(level: 0)))")
          }
          if let t = c["translation0"]?.arrayValue?.compactMap(\.doubleValue) {
            #expect(zip(image.translation(level: 0) ?? [], t).allSatisfy { abs($0 - $1) < 1e-9 }, "\(name): translation")
          }
          // Level 0 holds exactly the data the peer wrote.
          let want = [UInt8](try Data(contentsOf: dir.appendingPathComponent(name + ".bin")))
          #expect(try image.levels[0].read().bytes == want, "\(name): level 0 values")
          // Every level reads.
          for level in image.levels { _ = try level.read() }
          if let labels = c["labels"]?.arrayValue?.compactMap(\.stringValue) { #expect(try node.labelNames() == labels) }
        }
        if node.kind == .plate {
          let plate = try #require(node.metadata.plate)
          #expect(plate.rows.map(\.name) == c["rows"]?.arrayValue?.compactMap(\.stringValue))
          #expect(plate.columns.map(\.name) == c["columns"]?.arrayValue?.compactMap(\.stringValue))
          #expect(plate.wells.map(\.path) == c["wells"]?.arrayValue?.compactMap(\.stringValue))
          #expect(plate.fieldCount == c["field_count"]?.intValue)
          for w in plate.wells {
            let well = try node.child(w.path)
            #expect(well.kind == .well)
            for f in well.metadata.well?.images ?? [] {
              let field = try well.child(f.path)
              #expect(field.kind == .image)
              #expect(try field.image()?.levels.first?.shape == [32, 32])
            }
          }
        }
      } catch {
        Issue.record("\(name): \(error)")
      }
    }
  }

  @Test("what OMEZarr writes validates in ome-zarr-models and ngff-zarr and opens in ome-zarr-py")
  func peersCheckOurData() throws {
    let dir = try makeTemporaryDirectory("ome-ours")
    defer { try? FileManager.default.removeItem(at: dir) }
    var manifest: [JSONValue] = []
    func entry(_ name: String, _ path: String, kind: String, version: NGFFVersion, image: OMEImage? = nil) throws {
      var e: JSONObject = ["name": .string(name), "path": .string(path), "kind": .string(kind), "version": .string(version.description)]
      if let image {
        e["levels"] = .int(Int64(image.levels.count))
        e["shapes"] = .array(image.levels.map { .array($0.shape.map { .int(Int64($0)) }) })
        e["dtype"] = .string(image.levels[0].dataType.v2Name(endian: .little))
        e["bin"] = .string(name + ".bin")
        try Data(try image.levels[0].read().bytes).write(to: dir.appendingPathComponent(name + ".bin"))
      }
      manifest.append(.object(e))
    }
    for version in [NGFFVersion.latest04, .latest05, .latest06] {
      let tag = version.description.replacingOccurrences(of: ".", with: "")
      let name = "ours_image_\(tag)"
      let store = try FilesystemStore(root: dir.appendingPathComponent(name + ".zarr").path, create: true)
      var options = ImageOptions(axes: [.channel(), .space("z"), .space("y"), .space("x")], scale: [1, 1.5, 0.4, 0.4], version: version)
      options.name = "ours"
      options.chunkShape = [1, 8, 32, 32]
      let image = try ImageWriter.write(Self.ramp([2, 12, 90, 70], seed: 1), to: store, options: options)
      try entry(name, name + ".zarr", kind: "image", version: version, image: try image.image())
      if version.canonical != .latest06 {
        let mask = try ArrayBuffer(shape: [2, 12, 90, 70], dataType: .uint8,
          elements: (0..<(2 * 12 * 90 * 70)).map { UInt8(($0 / 70) % 3 == 0 ? 1 : 0) })
        let label = try ImageWriter.writeLabels(mask, name: "stripes", of: image,
          colors: [.init(labelValue: 1, rgba: [0, 255, 0, 128])], properties: [["label-value": 1, "class": "stripe"]])
        try entry(name + "_stripes", name + ".zarr/labels/stripes", kind: "label-image", version: version, image: try label.image())
        // A plate: 2 x 2 with three wells, two fields in one of them.
        let pname = "ours_plate_\(tag)"
        let pstore = try FilesystemStore(root: dir.appendingPathComponent(pname + ".zarr").path, create: true)
        var fopts = ImageOptions(axes: [.space("y"), .space("x")], version: version)
        fopts.chunkShape = [16, 16]
        let fields = [("A", "1", "0"), ("A", "1", "1"), ("A", "2", "0"), ("B", "2", "0")].enumerated().map { i, f in
          PlateField(row: f.0, column: f.1, path: f.2, acquisition: 0, image: Self.ramp([40, 30], seed: i), options: fopts)
        }
        try PlateWriter.write(to: pstore, name: "ours", rows: ["A", "B"], columns: ["1", "2"], fields: fields,
          acquisitions: [Plate.Acquisition(id: 0, name: "only")], version: version)
        try entry(pname, pname + ".zarr", kind: "plate", version: version)
        try entry(pname + "_well", pname + ".zarr/A/1", kind: "well", version: version)
      }
    }
    // 0.9 (RFC-3, RFC-4) as ngff-zarr reads it: 0.9.dev1, with an anatomical orientation per space axis.
    do {
      let name = "ours_image_09dev1"
      let store = try FilesystemStore(root: dir.appendingPathComponent(name + ".zarr").path, create: true)
      let axes: [Axis] = [.channel(), Axis(name: "z", type: .space, unit: "micrometer", orientation: AxisOrientation(.superiorToInferior)),
        Axis(name: "y", type: .space, unit: "micrometer", orientation: AxisOrientation(.anteriorToPosterior)),
        Axis(name: "x", type: .space, unit: "micrometer", orientation: AxisOrientation(.leftToRight))]
      var options = ImageOptions(axes: axes, scale: [1, 1.5, 0.4, 0.4], version: try #require(NGFFVersion("0.9.dev1")))
      options.chunkShape = [1, 8, 32, 32]
      let image = try ImageWriter.write(Self.ramp([2, 12, 90, 70], seed: 2), to: store, options: options)
      #expect(try Validator().validate(store: store).errors.isEmpty)
      try entry(name, name + ".zarr", kind: "image", version: .v09("0.9.dev1"), image: try image.image())
      var last = manifest.removeLast().objectValue ?? [:]
      last["orientation"] = ["z": "superior-to-inferior", "y": "anterior-to-posterior", "x": "left-to-right"]
      manifest.append(.object(last))
    }
    // Upgrades: ome-zarr-py's 0.4 image (with labels) to 0.5, and our 0.5 image to 0.6.
    let peers = try makeTemporaryDirectory("ome-upgrade-src")
    defer { try? FileManager.default.removeItem(at: peers) }
    _ = try OMEPeers.run(["write", peers.path])
    let old = try OMENode.open(path: peers.appendingPathComponent("omezarrpy_image_04.zarr").path)
    let up5 = try Upgrade.upgrade(old, to: .latest05, in: try FilesystemStore(root: dir.appendingPathComponent("upgraded_05.zarr").path, create: true))
    try entry("upgraded_05", "upgraded_05.zarr", kind: "image", version: .latest05, image: try up5.image())
    try entry("upgraded_05_mask", "upgraded_05.zarr/labels/mask", kind: "label-image", version: .latest05,
      image: try up5.child("labels/mask").image())
    #expect(try up5.image()!.levels[0].read().bytes == old.image()!.levels[0].read().bytes)
    let oldPlate = try OMENode.open(path: peers.appendingPathComponent("omezarrpy_plate_04.zarr").path)
    _ = try Upgrade.upgrade(oldPlate, to: .latest05, in: try FilesystemStore(root: dir.appendingPathComponent("upgraded_plate_05.zarr").path, create: true))
    try entry("upgraded_plate_05", "upgraded_plate_05.zarr", kind: "plate", version: .latest05)
    let up6 = try Upgrade.upgrade(up5, to: .latest06, in: try FilesystemStore(root: dir.appendingPathComponent("upgraded_06.zarr").path, create: true))
    try entry("upgraded_06", "upgraded_06.zarr", kind: "image", version: .latest06, image: try up6.image())
    // A conversion whose input metadata had to be repaired (ImageJ counts that overflow, NaN
    // spacing): what convert writes from hostile input must satisfy the peers too.
    let hostile = dir.appendingPathComponent("hostile.tif").path
    var tiffOptions = TIFFWriter.Options()
    tiffOptions.description = "ImageJ=1.54f\nimages=99999999999\nslices=0\nspacing=nan\nunit=micron\n"
    let writer = try TIFFWriter(path: hostile, options: tiffOptions)
    for z in 0..<3 { try writer.append(Self.ramp([40, 30], seed: z)) }
    let repaired = try Converter.convert(try InputSource.open([hostile])[0].source,
      to: try StoreLocation(dir.appendingPathComponent("repaired_05.zarr").path), options: ConvertOptions())
    #expect(!repaired.warnings.isEmpty, "the hostile ImageJ description was repaired with warnings")
    try entry("repaired_05", "repaired_05.zarr", kind: "image", version: .latest05,
      image: try OMENode.open(path: dir.appendingPathComponent("repaired_05.zarr").path).image())

    try Data(JSONValue.array(manifest).serializedBytes()).write(to: dir.appendingPathComponent("manifest.json"))
    let report = try JSONValue.parse([UInt8](OMEPeers.run(["check", dir.path])))
    for e in manifest {
      let name = e["name"]?.stringValue ?? "?"
      guard let result = report[name]?.objectValue else {
        Issue.record("no result for \(name)")
        continue
      }
      #expect(result.count >= 2, "\(name): \(result)")
      for (peer, outcome) in result {
        #expect(outcome.stringValue?.hasPrefix("ok") == true, "\(peer) on \(name): \(outcome.stringValue ?? "?")")
      }
    }
  }
}
