import Foundation
import OMEZarr
import Testing
import TestSupport
import ZarrIO

@Suite("ome2zarr export")
struct ExportCommandTests {
  /// Runs `export_checks.py MODE ARGUMENTS...` and parses its JSON answer.
  static func check(_ arguments: [String]) throws -> JSONValue { try PythonChecks.run("export_checks.py", arguments) }

  /// What Bio-Formats (QuPath's, Fiji's and OMERO's reader) sees in each file: one entry per file.
  static func bioFormats(_ paths: String...) throws -> [JSONValue] {
    try PythonChecks.run("bioformats_checks.py", ["read"] + paths).arrayValue ?? []
  }

  /// A TIFF that `export_checks.py MODE` writes as `file`, and its conversion to `zarr`.
  static func converted(_ mode: String, _ file: String, _ zarrName: String) throws -> (dir: URL, tiff: String, zarr: String) {
    let dir = try CLI.temporaryDirectory()
    let tiff = dir.appendingPathComponent(file).path
    _ = try check([mode, tiff])
    let zarr = dir.appendingPathComponent(zarrName).path
    let r = try CLI.ome2zarr("convert", tiff, zarr, "--quiet")
    try #require(r.status == 0, "\(r.stderr)")
    return (dir, tiff, zarr)
  }

  /// A 5-D (t, c, z, y, x) OME-TIFF with channel names and physical sizes, and its conversion.
  static func fiveD() throws -> (dir: URL, tiff: String, zarr: String) { try converted("make5d", "5d.ome.tif", "5d.ome.zarr") }

  /// An RGB TIFF (2 planes of 60 x 70, 3 samples per pixel), and its conversion.
  static func rgbSample() throws -> (dir: URL, tiff: String, zarr: String) { try converted("make_rgb", "rgb.tif", "rgb.ome.zarr") }

  /// The bundled sample (16 planes of 96 x 96) converted.
  static func sample() throws -> (dir: URL, zarr: String) {
    let dir = try CLI.temporaryDirectory()
    let tiff = dir.appendingPathComponent("in.ome.tif").path
    try ConvertCommandTests.makeStack(tiff, planes: 16, size: 96)
    let zarr = dir.appendingPathComponent("img.ome.zarr").path
    let r = try CLI.ome2zarr("convert", tiff, zarr, "--quiet", "--chunks", "8,32,32", "--shards", "8,64,64")
    try #require(r.status == 0, "\(r.stderr)")
    return (dir, zarr)
  }

  @Test(arguments: ["deflate", "zstd", "lzw", "none"])
  func aPyramidalOMETIFFThatTifffileReads(_ compression: String) throws {
    let (dir, zarr) = try Self.sample()
    let out = dir.appendingPathComponent("out.ome.tif").path
    let r = try CLI.ome2zarr("export", zarr, out, "--tile", "32", "--compression", compression, "--json")
    try #require(r.status == 0, "\(r.stderr)")
    let summary = try JSONValue.parse(Array(r.stdout.utf8))
    #expect(summary["levels"] == [[96, 96], [48, 48], [24, 24]], "\(summary.serialized())")
    #expect(summary["planes"]?.intValue == 16 && summary["bigtiff"] == false)
    let c = try Self.check(["levels", out, zarr + "/0"])
    #expect(c["is_ome"] == true && c["bigtiff"] == false && c["pages"]?.intValue == 16, "\(c.serialized())")
    #expect(c["shapes"] == [[16, 96, 96], [16, 48, 48], [16, 24, 24]], "\(c.serialized())")
    #expect(c["level0_equal"] == true)
    #expect(c["level_max_diff"] == [0, 0], "\(c.serialized())")
    let tags = c["tags"]
    let expectedCompression = ["deflate": 8, "zstd": 50000, "lzw": 5, "none": 1][compression]
    #expect(tags?["compression"]?.intValue == expectedCompression && tags?["tile"] == [32, 32] && tags?["subifds"]?.intValue == 2)
    #expect(tags?["predictor"]?.intValue == (compression == "none" ? 1 : 2))
    let pixels = c["pixels"]
    #expect(pixels?["DimensionOrder"]?.stringValue == "XYZCT" && pixels?["Type"]?.stringValue == "uint16")
    #expect(pixels?["SizeX"]?.stringValue == "96" && pixels?["SizeZ"]?.stringValue == "16" && pixels?["SizeC"]?.stringValue == "1")
    #expect(c["tiffdata"] == [["IFD": "0", "PlaneCount": "16"]], "\(c.serialized())")
    // Valid against the OME schema, and read by ome-types.
    #expect(c["schema_errors"] == [], "\(c.serialized())")
    #expect(c["model"]?["type"]?.stringValue == "uint16" && c["model"]?["size"] == [1, 1, 16, 96, 96], "\(c.serialized())")
    // libtiff (through convert's reader) decodes it to the same level 0.
    let verify = try CLI.ome2zarr("verify", out, zarr)
    #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
    // Bio-Formats: an OME-TIFF with a valid OME-XML, three resolutions, every plane as tifffile decodes it.
    let bf = try #require(try Self.bioFormats(out).first)
    #expect(bf["format"]?.stringValue == "OME-TIFF" && bf["omexml_valid"] == true, "\(bf.serialized())")
    let series = bf["series"]?.arrayValue?.first
    #expect(series?["size"] == [1, 1, 16, 96, 96] && series?["order"]?.stringValue == "XYZCT", "\(bf.serialized())")
    #expect(series?["type"]?.stringValue == "uint16" && series?["rgb"] == false, "\(bf.serialized())")
    #expect(series?["resolutions"] == [[96, 96], [48, 48], [24, 24]] && series?["max_diff"] == [0, 0, 0], "\(bf.serialized())")
  }

  /// Signed, unsigned and float pixels: the sample format and predictor that each needs, read back
  /// the same by tifffile and Bio-Formats at every resolution.
  @Test(arguments: [DataType.int8, .uint8, .int16, .int32, .float32, .float64])
  func everyPixelTypeOMETIFFHolds(_ type: DataType) throws {
    let dir = try CLI.temporaryDirectory()
    let shape = [3, 40, 50], n = 3 * 40 * 50
    let data: ArrayBuffer
    switch type {
    case .float32: data = try ArrayBuffer(shape: shape, dataType: type, elements: (0..<n).map { Float(sin(Double($0) * 0.37) * 1000) })
    case .float64: data = try ArrayBuffer(shape: shape, dataType: type, elements: (0..<n).map { sin(Double($0) * 0.37) * 1e6 })
    default:  // every bit pattern is a value: negatives included for signed types
      data = try ArrayBuffer(shape: shape, dataType: type,
        bytes: (0..<(n * type.size)).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761) >> 13) })
    }
    let zarr = dir.appendingPathComponent("typed.ome.zarr").path
    var o = ImageOptions(axes: [.space("z"), .space("y"), .space("x")])
    o.chunkShape = [3, 16, 16]
    try ImageWriter.write(data, to: FilesystemStore(root: zarr, create: true), options: o)
    let out = dir.appendingPathComponent("typed.ome.tif").path
    let r = try CLI.ome2zarr("export", zarr, out, "--tile", "16", "--quiet")
    try #require(r.status == 0, "\(r.stderr)")
    let ome = ["int8": "int8", "uint8": "uint8", "int16": "int16", "int32": "int32", "float32": "float", "float64": "double"][type.description]
    let c = try Self.check(["levels", out, zarr + "/0"])
    #expect(c["level0_equal"] == true && c["pixels"]?["Type"]?.stringValue == ome, "\(c.serialized())")
    #expect(c["tags"]?["predictor"]?.intValue == (type.isFloat ? 1 : 2), "\(c.serialized())")
    let bf = try #require(try Self.bioFormats(out).first)
    let series = bf["series"]?.arrayValue?.first
    #expect(bf["omexml_valid"] == true && series?["type"]?.stringValue == ome, "\(bf.serialized())")
    #expect(series?["resolutions"] == [[40, 50], [20, 25], [10, 13]] && series?["max_diff"] == [0, 0, 0], "\(bf.serialized())")
  }

  @Test func fiveDimensionsWithChannelsAndPhysicalSizes() throws {
    let (dir, _, zarr) = try Self.fiveD()
    let out = dir.appendingPathComponent("out.ome.tif").path
    let r = try CLI.ome2zarr("export", zarr, out, "--tile", "16", "--bigtiff", "--quiet")
    try #require(r.status == 0, "\(r.stderr)")
    let c = try Self.check(["levels", out, zarr + "/0"])
    #expect(c["bigtiff"] == true && c["pages"]?.intValue == 24 && c["axes"]?.stringValue == "TCZYX", "\(c.serialized())")
    #expect(c["shapes"] == [[2, 3, 4, 70, 90], [2, 3, 4, 35, 45], [2, 3, 4, 18, 23], [2, 3, 4, 9, 12]], "\(c.serialized())")
    #expect(c["level0_equal"] == true)
    #expect(c["level_max_diff"] == [0, 0, 0], "\(c.serialized())")
    let pixels = c["pixels"]
    #expect(pixels?["SizeT"]?.stringValue == "2" && pixels?["SizeC"]?.stringValue == "3" && pixels?["SizeZ"]?.stringValue == "4")
    #expect(pixels?["PhysicalSizeX"]?.stringValue == "0.25" && pixels?["PhysicalSizeXUnit"]?.stringValue == "µm")
    #expect(pixels?["PhysicalSizeZ"]?.stringValue == "1.5")
    #expect(c["channels"]?.arrayValue?.compactMap { $0["Name"]?.stringValue } == ["DNA", "Actin", "Tubulin"], "\(c.serialized())")
    #expect(c["schema_errors"] == [] && c["model"]?["channels"] == ["DNA", "Actin", "Tubulin"], "\(c.serialized())")
    let bf = try #require(try Self.bioFormats(out).first)
    let series = bf["series"]?.arrayValue?.first
    #expect(bf["omexml_valid"] == true && series?["size"] == [2, 3, 4, 70, 90], "\(bf.serialized())")
    #expect(series?["channels"] == ["DNA", "Actin", "Tubulin"] && series?["max_diff"] == [0, 0, 0, 0], "\(bf.serialized())")
    #expect(series?["physical"] == [[0.25, "µm"], [0.25, "µm"], [1.5, "µm"]], "\(bf.serialized())")
    #expect(series?["time_increment"] == [2.0, "s"], "\(bf.serialized())")
  }

  @Test func aCropOfSomeChannels() throws {
    let (dir, _, zarr) = try Self.fiveD()
    let out = dir.appendingPathComponent("crop.ome.tif").path
    let r = try CLI.ome2zarr("export", zarr, out, "--crop", "1:3,10:50,5:", "--channels", "Tubulin,0", "--tile", "16", "--quiet")
    try #require(r.status == 0, "\(r.stderr)")
    let c = try Self.check(["levels", out, zarr + "/0", "-", "[:, [2, 0], 1:3, 10:50, 5:]"])
    #expect(c["shapes"]?.arrayValue?.first == [2, 2, 2, 40, 85] && c["level0_equal"] == true, "\(c.serialized())")
    #expect(c["model"]?["channels"] == ["Tubulin", "DNA"] && c["schema_errors"] == [], "\(c.serialized())")
    let outside = try CLI.ome2zarr("export", zarr, out, "--crop", "z=0:9", "--overwrite")
    #expect(outside.status == 1 && outside.stderr.contains("region z 0:9 lies outside 0:4"), "\(outside.stderr)")
    // The issue's spelling, --region, is the S3 region on every command: a crop there gets a hint.
    let region = try CLI.ome2zarr("export", zarr, out, "--region", "1:3,10:50,5:", "--overwrite")
    #expect(region.status == 2 && region.stderr.contains("is not an S3 region name (like us-east-1); export crops with --crop"),
      "\(region.stderr)")
    let past = try CLI.ome2zarr("export", zarr, out, "--crop", "z=5:", "--overwrite")
    #expect(past.status == 1 && past.stderr.contains("region z 5:4 lies outside 0:4"), "\(past.stderr)")
    let twice = try CLI.ome2zarr("export", zarr, out, "--channels", "1,DNA,Actin", "--overwrite")
    #expect(twice.status == 1 && twice.stderr.contains("the channels 1,0,1 name one channel twice"), "\(twice.stderr)")
    let missing = try CLI.ome2zarr("export", zarr, out, "--channels", "GFP", "--overwrite")
    #expect(missing.status == 2 && missing.stderr.contains("no channel is named 'GFP'"), "\(missing.stderr)")
  }

  @Test(arguments: ["none", "deflate"])
  func anImageJHyperstackForFiji(_ compression: String) throws {
    let (dir, _, zarr) = try Self.fiveD()
    let out = dir.appendingPathComponent("hyper.tif").path
    var arguments = ["export", zarr, out, "--imagej", "--quiet"]
    if compression != "none" { arguments += ["--compression", compression] }
    let r = try CLI.ome2zarr(arguments)
    try #require(r.status == 0, "\(r.stderr)")
    let c = try Self.check(["imagej", out, zarr + "/0"])
    #expect(c["is_imagej"] == true && c["bigtiff"] == false && c["pages"]?.intValue == 24, "\(c.serialized())")
    #expect(c["axes"]?.stringValue == "TZCYX" && c["shape"] == [2, 4, 3, 70, 90], "\(c.serialized())")
    #expect(c["equal"] == true)
    #expect(c["compression"]?.intValue == (compression == "none" ? 1 : 8))
    let m = c["metadata"]
    #expect(m?["channels"]?.intValue == 3 && m?["slices"]?.intValue == 4 && m?["frames"]?.intValue == 2, "\(c.serialized())")
    #expect(m?["hyperstack"] == true && m?["mode"]?.stringValue == "composite" && m?["unit"]?.stringValue == "micron")
    #expect(m?["spacing"]?.doubleValue == 1.5 && m?["finterval"]?.doubleValue == 2.0, "\(c.serialized())")
    #expect(c["resolution"] == [4, 4], "\(c.serialized())")
    // Bio-Formats reads the hyperstack's channels, slices and frames from the ImageJ description.
    let bf = try #require(try Self.bioFormats(out).first)
    let series = bf["series"]?.arrayValue?.first
    #expect(bf["format"]?.stringValue == "Tagged Image File Format" && series?["size"] == [2, 3, 4, 70, 90], "\(bf.serialized())")
    #expect(series?["max_diff"] == [0], "\(bf.serialized())")
    let zstd = try CLI.ome2zarr("export", zarr, out, "--imagej", "--compression", "zstd", "--overwrite")
    #expect(zstd.status == 1 && zstd.stderr.contains("ImageJ cannot read zstd"), "\(zstd.stderr)")
  }

  /// Free bytes where the tests write their temporary files.
  static var freeTemporaryBytes: UInt64 {
    var stats = statvfs()
    guard statvfs(FileManager.default.temporaryDirectory.path, &stats) == 0 else { return 0 }
    return UInt64(stats.f_bavail) * UInt64(stats.f_frsize)
  }

  /// Above 4 GiB an ImageJ file has ImageJ's own layout: one directory before the planes, which lie
  /// one after another, in a classic TIFF. (4.06 GiB are written: needs 10 GiB free.)
  @Test(.enabled(if: freeTemporaryBytes > 10 << 30, "needs 10 GiB free in the temporary directory"))
  func anImageJHyperstackAbove4GiB() throws {
    let dir = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let zarr = dir.appendingPathComponent("big.ome.zarr").path
    #expect(try Self.check(["make_big", zarr])["bytes"]?.intValue == 65 << 26)
    let out = dir.appendingPathComponent("big.tif").path
    let compressed = try CLI.ome2zarr("export", zarr, out, "--imagej", "--compression", "deflate")
    #expect(compressed.status == 1 && compressed.stderr.contains("passes 4 GiB, where ImageJ reads only uncompressed planes"),
      "\(compressed.stderr)")
    #expect(!FileManager.default.fileExists(atPath: out))
    let r = try CLI.ome2zarr("export", zarr, out, "--imagej", "--json")
    try #require(r.status == 0, "\(r.stderr)")
    let summary = try JSONValue.parse(Array(r.stdout.utf8))
    #expect(summary["bigtiff"] == false && summary["planes"]?.intValue == 65, "\(summary.serialized())")
    let c = try Self.check(["imagej_big", out])
    #expect(c["is_imagej"] == true && c["bigtiff"] == false && c["pages"]?.intValue == 1, "\(c.serialized())")
    #expect(c["axes"]?.stringValue == "ZYX" && c["shape"] == [65, 8192, 8192] && c["images"]?.intValue == 65, "\(c.serialized())")
    #expect(c["planes_equal"] == [true, true, true, true] && (c["last_plane_offset"]?.intValue ?? 0) > 1 << 32, "\(c.serialized())")
    let bf = try PythonChecks.run("bioformats_checks.py", ["planes", out, zarr + "/0", "0", "32", "33", "64"])
    #expect(bf["size"] == [1, 1, 65, 8192, 8192] && bf["equal"] == [true, true, true, true], "\(bf.serialized())")
  }

  @Test func storedLevelsHalvedInXAndYAreWrittenAsTheyAre() throws {
    let dir = try CLI.temporaryDirectory()
    let tiff = dir.appendingPathComponent("in.ome.tif").path
    try ConvertCommandTests.makeStack(tiff, planes: 16, size: 96)
    let zarr = dir.appendingPathComponent("xy.ome.zarr").path
    let c = try CLI.ome2zarr("convert", tiff, zarr, "--xy-only", "--quiet", "--chunks", "8,32,32", "--method", "gaussian")
    try #require(c.status == 0, "\(c.stderr)")
    let out = dir.appendingPathComponent("xy.ome.tif").path
    let r = try CLI.ome2zarr("export", zarr, out, "--tile", "16", "--quiet")
    try #require(r.status == 0, "\(r.stderr)")
    // Gaussian levels are not 2 x 2 means of the level above: equal to the stored arrays, they were
    // reused (levels 0-2); the fourth resolution is derived from the third.
    let m = try Self.check(["stored", out, zarr])
    #expect(m["levels"] == 4 && m["equal"] == [true, true, true], "\(m.serialized())")
    let exported1 = dir.appendingPathComponent("l1.ome.tif").path
    try #require(try CLI.ome2zarr("export", zarr, exported1, "--level", "1", "--no-pyramid", "--quiet").status == 0)
    #expect(try Self.check(["levels", exported1, zarr + "/1"])["level0_equal"] == true)
  }

  /// One encoder and a tiny memory limit (a band of one row of tiles, one plane per slab) write the
  /// same pixels.
  @Test func threadsAndMemoryLimitChangeOnlyTheSpeed() throws {
    let (dir, zarr) = try Self.sample()
    let out = dir.appendingPathComponent("slow.ome.tif").path
    let r = try CLI.ome2zarr("export", zarr, out, "--tile", "32", "--threads", "1", "--memory-limit", "1K", "--quiet")
    try #require(r.status == 0, "\(r.stderr)")
    let c = try Self.check(["levels", out, zarr + "/0"])
    #expect(c["level0_equal"] == true && c["level_max_diff"] == [0, 0], "\(c.serialized())")
    #expect(c["shapes"] == [[16, 96, 96], [16, 48, 48], [16, 24, 24]], "\(c.serialized())")
    let none = try CLI.ome2zarr("export", zarr, out, "--threads", "0", "--overwrite")
    #expect(none.status == 2 && none.stderr.contains("--threads must be between 1 and 4096, not 0"), "\(none.stderr)")
  }

  @Test func oneLevelAsFullResolutionAndNoPyramid() throws {
    let (dir, zarr) = try Self.sample()
    let out = dir.appendingPathComponent("l1.ome.tif").path
    let r = try CLI.ome2zarr("export", zarr, out, "--level", "1", "--no-pyramid", "--json")
    try #require(r.status == 0, "\(r.stderr)")
    let c = try Self.check(["levels", out, zarr + "/1"])
    #expect(c["level0_equal"] == true && c["tags"]?["subifds"]?.intValue == 0, "\(c.serialized())")
  }

  @Test func refusalsLeaveNothingBehind() throws {
    let (dir, zarr) = try Self.sample()
    let out = dir.appendingPathComponent("o.ome.tif").path
    try Data("keep".utf8).write(to: URL(fileURLWithPath: out))
    let exists = try CLI.ome2zarr("export", zarr, out, "--quiet")
    #expect(exists.status == 2 && exists.stderr.contains("already exists; use --overwrite"), "\(exists.stderr)")
    #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == Data("keep".utf8))
    let fresh = dir.appendingPathComponent("n.ome.tif").path
    let level = try CLI.ome2zarr("export", zarr, fresh, "--level", "9")
    #expect(level.status == 1 && level.stderr.contains("level 9 does not exist"), "\(level.stderr)")
    let array = try CLI.ome2zarr("export", zarr + "/0", fresh)
    #expect(array.status == 1 && array.stderr.contains("not an image"), "\(array.stderr)")
    let codec = try CLI.ome2zarr("export", zarr, fresh, "--compression", "lz4")
    #expect(codec.status == 2 && codec.stderr.contains("--compression must be one of"), "\(codec.stderr)")
    let tile = try CLI.ome2zarr("export", zarr, fresh, "--tile", "100")
    #expect(tile.status == 1 && tile.stderr.contains("multiple of 16"), "\(tile.stderr)")
    let names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
    #expect(!names.contains("n.ome.tif") && !names.contains { $0.hasPrefix("__tmp.") }, "\(names)")
    let overwrite = try CLI.ome2zarr("export", zarr, out, "--overwrite", "--quiet")
    #expect(overwrite.status == 0, "\(overwrite.stderr)")
  }

  /// Plane and tile counts, widths and empty axes come from the input: checked before anything is
  /// read or allocated.
  @Test(arguments: [([5_000_000, 16, 16], "planes (T x C x Z), more than an export writes"),
                    ([1, 100_000_000, 100_000_000], "would take more than 33554432 tiles"),
                    ([0, 16, 16], "has nothing to export: its Z axis is empty"),
                    ([1, 512, 67_108_864], "(67108864 pixels wide) would take more than 1024 MiB; use smaller tiles")])
  func hugeOrEmptyImagesAreRefusedBeforeReading(_ shape: [Int], _ message: String) throws {
    let dir = try CLI.temporaryDirectory()
    let zarr = dir.appendingPathComponent("huge.ome.zarr").path
    let store = try FilesystemStore(root: zarr, create: true)
    let axes = #"[{"name": "z", "type": "space"}, {"name": "y", "type": "space"}, {"name": "x", "type": "space"}]"#
    _ = try ZarrGroup.create(in: store, path: "", attributes: try JSONValue.parse(Array("""
      {"ome": {"version": "0.5", "multiscales": [{"axes": \(axes),
        "datasets": [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1, 1, 1]}]}]}]}}
      """.utf8)).objectValue ?? [:])
    _ = try ZarrArray.create(in: store, path: "0", metadata: ArrayMetadata(shape: shape, dataType: .uint8, chunkShape: [1, 4096, 4096],
      codecs: [Codecs.bytes()], dimensionNames: ["z", "y", "x"]))
    let out = dir.appendingPathComponent("huge.ome.tif").path
    let r = try CLI.ome2zarr("export", zarr, out, "--quiet")
    #expect(r.status == 1 && r.stderr.contains(message), "\(r.stderr)")
    #expect(!FileManager.default.fileExists(atPath: out))
  }

  @Test func aCollectionBecomesAMultiImageFileOrOneFilePerImage() throws {
    let dir = try CLI.temporaryDirectory()
    let tiff = dir.appendingPathComponent("two.ome.tif").path
    _ = try Self.check(["make_series", tiff])
    let zarr = dir.appendingPathComponent("two.ome.zarr").path
    let c = try CLI.ome2zarr("convert", tiff, zarr, "--quiet")
    try #require(c.status == 0, "\(c.stderr)")
    let out = dir.appendingPathComponent("both.ome.tif").path
    let r = try CLI.ome2zarr("export", zarr, out, "--tile", "16", "--json")
    try #require(r.status == 0, "\(r.stderr)")
    #expect(try JSONValue.parse(Array(r.stdout.utf8))["images"]?.intValue == 2)
    let m = try Self.check(["multi", out, zarr + "/0/0", zarr + "/1/0"])
    #expect(m["series"] == [[3, 40, 50], [2, 30, 20]] && m["equal"] == [true, true], "\(m.serialized())")
    #expect(m["images"]?.arrayValue?.map { $0["ifd"]?.intValue } == [0, 3], "\(m.serialized())")
    let bf = try #require(try Self.bioFormats(out).first)
    #expect(bf["omexml_valid"] == true, "\(bf.serialized())")
    #expect(bf["series"]?.arrayValue?.map { $0["size"] } == [[1, 1, 3, 40, 50], [1, 1, 2, 30, 20]], "\(bf.serialized())")
    #expect(bf["series"]?.arrayValue?.map { $0["max_diff"]?.arrayValue?.allSatisfy { $0 == 0 } } == [true, true], "\(bf.serialized())")
    // One file per image, and a choice of images.
    let split = dir.appendingPathComponent("each.ome.tif").path
    #expect(try CLI.ome2zarr("export", zarr, split, "--split", "--quiet").status == 0)
    let second = try Self.check(["multi", dir.appendingPathComponent("each_s1.ome.tif").path, zarr + "/1/0"])
    #expect(second["series"] == [[2, 30, 20]] && second["equal"] == [true], "\(second.serialized())")
    let bfSecond = try #require(try Self.bioFormats(dir.appendingPathComponent("each_s1.ome.tif").path).first)
    #expect(bfSecond["series"]?.arrayValue?.map { $0["size"] } == [[1, 1, 2, 30, 20]], "\(bfSecond.serialized())")
    // The set's companion (as raw2ometiff writes): Bio-Formats opens both files through it.
    let set = try #require(try Self.bioFormats(dir.appendingPathComponent("each.companion.ome").path).first)
    #expect(set["omexml_valid"] == true && set["files"] == ["each.companion.ome", "each_s0.ome.tif", "each_s1.ome.tif"],
      "\(set.serialized())")
    #expect(set["series"]?.arrayValue?.map { $0["size"] } == [[1, 1, 3, 40, 50], [1, 1, 2, 30, 20]], "\(set.serialized())")
    #expect(set["series"]?.arrayValue?.map { $0["max_diff"]?.arrayValue?.allSatisfy { $0 == 0 } } == [true, true], "\(set.serialized())")
    // convert opens the set from its companion, as bioformats2raw does: the same two images.
    let back = dir.appendingPathComponent("back.ome.zarr").path
    let b = try CLI.ome2zarr("convert", dir.appendingPathComponent("each.companion.ome").path, back, "--quiet")
    try #require(b.status == 0, "\(b.stderr)")
    for series in ["0", "1"] {
      let a = try #require(try OMENode.open(path: zarr + "/" + series).image())
      let c = try #require(try OMENode.open(path: back + "/" + series).image())
      #expect(try a.levels[0].read() == c.levels[0].read(), "series \(series)")
    }
    let companion = try String(contentsOfFile: dir.appendingPathComponent("each.companion.ome").path, encoding: .utf8)
    let unnamed = dir.appendingPathComponent("unnamed.companion.ome").path
    try companion.replacingOccurrences(of: "FileName=\"each_s0.ome.tif\"", with: "").write(toFile: unnamed, atomically: true, encoding: .utf8)
    let refused = try CLI.ome2zarr("convert", unnamed, dir.appendingPathComponent("refused.ome.zarr").path, "--quiet")
    #expect(refused.status == 2 && refused.stderr.contains("OME-XML image 0 names no TIFF file"), "\(refused.stderr)")
    // A set names files beside it or below, never outside its folder.
    let escaping = dir.appendingPathComponent("escaping.companion.ome").path
    try companion.replacingOccurrences(of: "FileName=\"each_s1.ome.tif\"", with: "FileName=\"../each_s1.ome.tif\"")
      .write(toFile: escaping, atomically: true, encoding: .utf8)
    let outside = try CLI.ome2zarr("convert", escaping, dir.appendingPathComponent("outside.ome.zarr").path, "--quiet")
    #expect(outside.status == 2 && outside.stderr.contains("names '../each_s1.ome.tif', outside the folder of the set"), "\(outside.stderr)")
    let one = dir.appendingPathComponent("one.ome.tif").path
    #expect(try CLI.ome2zarr("export", zarr, one, "--series", "1", "--quiet").status == 0)
    #expect(try Self.check(["multi", one, zarr + "/1/0"])["equal"] == [true])
    let missing = try CLI.ome2zarr("export", zarr, one, "--series", "5", "--overwrite")
    #expect(missing.status == 1 && missing.stderr.contains("series 5 does not exist"), "\(missing.stderr)")
    let twice = try CLI.ome2zarr("export", zarr, one, "--series", "1,0,1", "--split", "--overwrite")
    #expect(twice.status == 2 && twice.stderr.contains("--series lists 1 twice"), "\(twice.stderr)")
    let none = try CLI.ome2zarr("export", zarr, one, "--series", "", "--overwrite")
    #expect(none.status == 2 && none.stderr.contains("--series takes indices: ''"), "\(none.stderr)")
  }

  @Test func anRGBTIFFStaysColourPixelsThroughConvertAndExport() throws {
    let (dir, tiff, zarr) = try Self.rgbSample()
    // convert records the colour pixels beside `ome`, with red, green and blue channels.
    let node = try OMENode.open(path: zarr)
    #expect(node.zarr.attributes["ome2zarr"] == ["rgb": ["axis": "c", "alpha": false]], "\(node.zarr.attributes)")
    #expect(node.metadata.omero?.channels.map(\.color) == ["FF0000", "00FF00", "0000FF"])
    let out = dir.appendingPathComponent("rgb.ome.tif").path
    let r = try CLI.ome2zarr("export", zarr, out, "--tile", "32", "--quiet")
    try #require(r.status == 0, "\(r.stderr)")
    let m = try Self.check(["rgb", out, tiff])
    #expect(m["photometric"]?.intValue == 2 && m["samples"]?.intValue == 3 && m["planar"]?.intValue == 1, "\(m.serialized())")
    #expect(m["equal"] == true && m["shapes"] == [[2, 60, 70, 3], [2, 30, 35, 3], [2, 15, 18, 3]], "\(m.serialized())")
    #expect(m["ome"] == ["size_c": 3, "interleaved": true, "channels": [3]], "\(m.serialized())")
    // Bio-Formats sees one RGB channel of three samples, as QuPath and Fiji show colour.
    let bf = try #require(try Self.bioFormats(out).first)
    let series = bf["series"]?.arrayValue?.first
    #expect(bf["omexml_valid"] == true && series?["rgb"] == true && series?["samples"]?.intValue == 3, "\(bf.serialized())")
    #expect(series?["size"] == [1, 3, 2, 60, 70] && series?["max_diff"] == [0, 0, 0], "\(bf.serialized())")
    // --no-rgb writes three grey channels instead.
    let grey = try CLI.ome2zarr("export", zarr, out, "--no-rgb", "--overwrite", "--quiet")
    #expect(grey.status == 0)
    #expect(try Self.check(["levels", out, zarr + "/0"])["pixels"]?["SizeC"]?.stringValue == "3")
  }

  @Test func aLabelImageIsHalvedByTheMostFrequentLabel() throws {
    let dir = try CLI.temporaryDirectory()
    let image = dir.appendingPathComponent("img.ome.tif").path, labels = dir.appendingPathComponent("cells.ome.tif").path
    _ = try Self.check(["make_labels", image, labels])
    let zarr = dir.appendingPathComponent("img.ome.zarr").path
    let c = try CLI.ome2zarr("convert", image, zarr, "--label", "cells=" + labels, "--quiet")
    try #require(c.status == 0, "\(c.stderr)")
    let out = dir.appendingPathComponent("exported-cells.ome.tif").path
    let r = try CLI.ome2zarr("export", zarr + "/labels/cells", out, "--tile", "16", "--quiet")
    try #require(r.status == 0, "\(r.stderr)")
    let m = try Self.check(["levels", out, zarr + "/labels/cells/0", "labels"])
    #expect(m["level0_equal"] == true && m["pixels"]?["Type"]?.stringValue == "uint32", "\(m.serialized())")
    #expect(m["level_max_diff"] == [0, 0, 0], "no label is invented: \(m.serialized())")
    let bf = try #require(try Self.bioFormats(out).first)
    let series = bf["series"]?.arrayValue?.first
    #expect(series?["type"]?.stringValue == "uint32" && series?["max_diff"] == [0, 0, 0, 0], "\(bf.serialized())")
  }

  @Test func theOriginalOMEXMLOfACollectionIsCarriedOverAndUpdated() throws {
    let dir = try CLI.temporaryDirectory()
    let tiff = dir.appendingPathComponent("two.ome.tif").path
    _ = try Self.check(["make_series", tiff])
    let zarr = dir.appendingPathComponent("two.ome.zarr").path
    try #require(try CLI.ome2zarr("convert", tiff, zarr, "--quiet").status == 0)
    _ = try Self.check(["enrich", zarr + "/OME/METADATA.ome.xml"])
    let both = dir.appendingPathComponent("both.ome.tif").path
    try #require(try CLI.ome2zarr("export", zarr, both, "--tile", "16", "--quiet").status == 0)
    let c = try Self.check(["carried", both])
    let images = c["images"]?.arrayValue ?? []
    #expect(c["instruments"] == ["Lab scope"], "\(c.serialized())")
    #expect(images.count == 2 && images.last?["description"]?.stringValue == "the second series", "\(c.serialized())")
    #expect(images.last?["instrument"]?.stringValue == "Instrument:0")
    #expect(images.map { $0["tiff_data"] } == [[[0, 3]], [[3, 2]]], "\(c.serialized())")
    #expect(images.first?["order"]?.stringValue == "XYZCT")
    // Only the second series: the first image is gone, the second keeps its ID and instrument.
    let second = dir.appendingPathComponent("second.ome.tif").path
    try #require(try CLI.ome2zarr("export", zarr, second, "--series", "1", "--crop", "0:10,0:10", "--quiet").status == 0)
    let s = try Self.check(["carried", second])
    let only = s["images"]?.arrayValue ?? []
    #expect(only.count == 1 && only.first?["id"]?.stringValue == "Image:1", "\(s.serialized())")
    #expect(only.first?["size"] == [2, 10, 10] && only.first?["instrument"]?.stringValue == "Instrument:0", "\(s.serialized())")
    // A document that declares entities (they could pull in local files) is not carried over.
    let metadata = zarr + "/OME/METADATA.ome.xml"
    let text = try String(contentsOfFile: metadata, encoding: .utf8)
    let hostile = text.replacingOccurrences(of: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
      with: "<?xml version=\"1.0\" encoding=\"UTF-8\"?><!DOCTYPE OME [<!ENTITY secret SYSTEM \"file:///etc/hostname\">]>")
    try #require(hostile != text)
    try hostile.write(toFile: metadata, atomically: true, encoding: .utf8)
    let guarded = dir.appendingPathComponent("guarded.ome.tif").path
    try #require(try CLI.ome2zarr("export", zarr, guarded, "--quiet").status == 0)
    #expect(try Self.check(["carried", guarded])["instruments"] == [])
    try text.write(toFile: metadata, atomically: true, encoding: .utf8)
    // A channel name holding a character XML 1.0 cannot carry is written without it.
    _ = try Self.check(["relabel", zarr + "/1", #""DNA\u0001 stain""#])
    let control = dir.appendingPathComponent("control.ome.tif").path
    try #require(try CLI.ome2zarr("export", zarr, control, "--quiet").status == 0)
    let carried = try Self.check(["carried", control])
    #expect(carried["images"]?.arrayValue?.last?["channels"] == ["DNA stain"] && carried["control_characters"] == false,
      "\(carried.serialized())")
    // --rebuild-metadata describes the images from the NGFF metadata alone.
    let rebuilt = dir.appendingPathComponent("rebuilt.ome.tif").path
    try #require(try CLI.ome2zarr("export", zarr, rebuilt, "--rebuild-metadata", "--quiet").status == 0)
    #expect(try Self.check(["carried", rebuilt])["instruments"] == [])
  }

  @Test(arguments: [true, false])
  func jpegForEightBitPixels(_ colour: Bool) throws {
    let (dir, tiff, zarr) = try Self.rgbSample()
    let out = dir.appendingPathComponent("jpeg.ome.tif").path
    let r = try CLI.ome2zarr(["export", zarr, out, "--compression", "jpeg", "--compression-level", "95", "--tile", "16", "--quiet"]
      + (colour ? [] : ["--no-rgb"]))
    try #require(r.status == 0, "\(r.stderr)")
    let back = dir.appendingPathComponent("back.ome.zarr").path
    let c = try CLI.ome2zarr("convert", out, back, "--quiet")
    try #require(c.status == 0, "\(c.stderr)")
    // Far above what a wrong colour space or a lost tile gives (< 15 dB).
    let p = try Self.check(["psnr", out, tiff, back + "/0"])
    #expect(p["compression"]?.intValue == 7, "\(p.serialized())")
    #expect((p["tifffile"]?.doubleValue ?? 0) > 30 && (p["libtiff"]?.doubleValue ?? 0) > 30, "\(p.serialized())")
    if colour {
      // YCbCr with chroma halved in X and Y, as tifffile and libtiff write colour JPEG.
      let m = try Self.check(["rgb", out, tiff])
      #expect(m["photometric"]?.intValue == 6 && m["samples"]?.intValue == 3 && m["subsampling"] == [2, 2], "\(m.serialized())")
    }
    // Bio-Formats' own JPEG decoder: within rounding of libjpeg-turbo's (through tifffile).
    let bf = try #require(try Self.bioFormats(out).first)
    let series = bf["series"]?.arrayValue?.first
    #expect(series?["rgb"] == .bool(colour) && series?["size"] == [1, 3, 2, 60, 70], "\(bf.serialized())")
    #expect(series?["max_diff"]?.arrayValue?.allSatisfy { ($0.doubleValue ?? 99) <= 2 } == true, "\(bf.serialized())")
  }

  @Test func aPlateKeepsItsWellsAndFields() throws {
    let dir = try CLI.temporaryDirectory()
    let plate = dir.appendingPathComponent("plate.ome.zarr").path
    var fields: [PlateField] = []
    for (i, (r, c, f)) in [("A", "1", "0"), ("A", "1", "1"), ("B", "3", "0")].enumerated() {
      let data = try ArrayBuffer(shape: [20, 24], dataType: .uint16, elements: (0..<480).map { UInt16($0 * (i + 1)) })
      var o = ImageOptions(axes: [.space("y"), .space("x")])
      o.levels = 1
      fields.append(PlateField(row: r, column: c, path: f, image: data, options: o))
    }
    try PlateWriter.write(to: FilesystemStore(root: plate, create: true), name: "screen", rows: ["A", "B"],
      columns: ["1", "2", "3"], fields: fields)
    let out = dir.appendingPathComponent("plate.ome.tif").path
    let r = try CLI.ome2zarr("export", plate, out, "--quiet")
    try #require(r.status == 0, "\(r.stderr)")
    let m = try Self.check(["multi", out, plate + "/A/1/0/0", plate + "/A/1/1/0", plate + "/B/3/0/0"])
    #expect(m["equal"] == [true, true, true], "\(m.serialized())")
    #expect(m["plates"] == [["rows": 2, "columns": 3, "wells": [[0, 0, ["Image:0", "Image:1"]], [1, 2, ["Image:2"]]]]],
      "\(m.serialized())")
    // Bio-Formats: three series, and the plate's wells with their fields' images.
    let bf = try #require(try Self.bioFormats(out).first)
    #expect(bf["omexml_valid"] == true && bf["series"]?.arrayValue?.count == 3, "\(bf.serialized())")
    #expect(bf["plates"] == [["name": "screen", "wells": [[0, 0, ["Image:0", "Image:1"]], [1, 2, ["Image:2"]]]]], "\(bf.serialized())")
    // Split: one file per field, each with its own well; the companion holds the whole plate.
    let split = dir.appendingPathComponent("fields.ome.tif").path
    let s = try CLI.ome2zarr("export", plate, split, "--split", "--json")
    try #require(s.status == 0, "\(s.stderr)")
    let summary = try JSONValue.parse(Array(s.stdout.utf8))
    #expect(summary["companion"]?.stringValue == dir.appendingPathComponent("fields.companion.ome").path, "\(summary.serialized())")
    #expect(summary["outputs"]?.arrayValue?.count == 3)
    let field = try Self.check(["multi", dir.appendingPathComponent("fields_s2.ome.tif").path, plate + "/B/3/0/0"])
    #expect(field["equal"] == [true] && field["plates"] == [["rows": 2, "columns": 3, "wells": [[1, 2, ["Image:0"]]]]], "\(field.serialized())")
    let set = try #require(try Self.bioFormats(dir.appendingPathComponent("fields.companion.ome").path).first)
    #expect(set["omexml_valid"] == true && set["series"]?.arrayValue?.count == 3, "\(set.serialized())")
    #expect(set["plates"] == [["name": "screen", "wells": [[0, 0, ["Image:0", "Image:1"]], [1, 2, ["Image:2"]]]]], "\(set.serialized())")
    #expect(set["series"]?.arrayValue?.map { $0["max_diff"] } == [[0], [0], [0]], "\(set.serialized())")
  }

  @Test func tiffToZarrToTIFFToZarrKeepsLevelZeroAndMetadata() throws {
    let (dir, _, first) = try Self.fiveD()
    let exported = dir.appendingPathComponent("a.ome.tif").path
    let e = try CLI.ome2zarr("export", first, exported, "--tile", "32", "--quiet")
    try #require(e.status == 0, "\(e.stderr)")
    let second = dir.appendingPathComponent("b.ome.zarr").path
    let c = try CLI.ome2zarr("convert", exported, second, "--quiet")
    try #require(c.status == 0, "\(c.stderr)")
    let a = try #require(try OMENode.open(path: first).image()), b = try #require(try OMENode.open(path: second).image())
    #expect(try a.levels[0].read() == b.levels[0].read())
    #expect(a.axes.map(\.name) == b.axes.map(\.name) && a.axes.map(\.unit) == b.axes.map(\.unit))
    #expect(a.scale(level: 0) == b.scale(level: 0), "\(String(describing: a.scale(level: 0))) vs \(String(describing: b.scale(level: 0)))")
    #expect(a.omero?.channels.map(\.label) == b.omero?.channels.map(\.label))
  }

  @Test func aBucketIsAnInputAndAnOutput() throws {
    let server = try S3TestServer(authenticated: true)
    defer { server.stop() }
    try server.createBucket("lab")
    let (dir, zarr) = try Self.sample()
    func run(_ arguments: String...) throws -> CLI.Result {
      let r = try server.run(CLI.binary, arguments)
      return CLI.Result(status: r.status, stdout: r.stdoutText, stderr: r.stderrText)
    }
    let local = dir.appendingPathComponent("local.ome.tif").path
    #expect(try CLI.ome2zarr("export", zarr, local, "--tile", "32", "--quiet").status == 0)
    let up = try run("pack", zarr, "s3://lab/img.ozx")
    #expect(up.status == 0, "\(up.stderr)")
    let r = try run("export", "s3://lab/img.ozx", "s3://lab/out/img.ome.tif", "--tile", "32", "--quiet")
    #expect(r.status == 0, "\(r.stderr)")
    let downloaded = dir.appendingPathComponent("download")
    _ = try server.download(bucket: "lab", prefix: "out/", to: downloaded)
    let c = try Self.check(["levels", downloaded.appendingPathComponent("img.ome.tif").path, zarr + "/0"])
    #expect(c["level0_equal"] == true && c["shapes"] == [[16, 96, 96], [16, 48, 48], [16, 24, 24]], "\(c.serialized())")
  }
}

@Suite("ome2zarr export on a full disk", .enabled(if: SmallDisk.available, "needs the right to mount a tmpfs"))
struct ExportFullDiskTests {
  @Test func aFullDiskFailsClearlyAndLeavesNothing() throws {
    let (dir, zarr) = try ExportCommandTests.sample()
    let disk = dir.appendingPathComponent("disk").path
    try SmallDisk.mount(disk, bytes: 64 << 10)
    defer { SmallDisk.unmount(disk) }
    let out = disk + "/out.ome.tif"
    let r = try CLI.ome2zarr("export", zarr, out, "--compression", "none", "--quiet")
    #expect(r.status == 2 && r.stderr.contains("No space left on device") && r.stderr.contains(out), "\(r.stderr)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: disk) == [])
  }
}
