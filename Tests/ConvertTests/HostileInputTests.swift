import Foundation
import OMEZarr
import TestSupport
import Testing
import ZarrIO
@testable import OMEZarrConvert

/// Hostile inputs: numbers in TIFF tags, OME-XML and ImageJ descriptions and Zarr metadata that are
/// zero, negative, huge, overflow when multiplied or are not numbers. Each conversion either fails
/// with a clear `ConvertError` or succeeds with repaired metadata (and a warning), and every
/// output passes the validator with data checks.
@Suite("hostile inputs")
struct HostileInputTests {
  /// A TIFF of `count` 8 x 6 uint16 planes with `description` in the first IFD.
  static func tiff(_ dir: URL, _ name: String, description: String?, count: Int = 2) throws -> String {
    let path = dir.appendingPathComponent(name).path
    var options = TIFFWriter.Options()
    options.description = description
    try Corpus.write(path, try Corpus.planes(count, 6, 8), options: options)
    return path
  }

  /// Converts `path` and checks the output with data; returns the summary.
  static func convert(_ path: String, _ dir: URL) throws -> ConvertSummary {
    let out = dir.appendingPathComponent("out.ome.zarr").path
    let source = try InputSource.open([path])[0].source
    let summary = try Converter.convert(source, to: try StoreLocation(out), options: ConvertOptions())
    var options = Validator.Options()
    options.data = true
    let report = try Validator(options: options).validate(try StoreLocation(out))
    #expect(report.errors.map(\.description) == [])
    return summary
  }

  /// The error converting `path` throws (nil when it converts).
  static func error(_ path: String) -> ConvertError? {
    do {
      _ = try InputSource.open([path])
      return nil
    } catch let e as ConvertError { return e } catch { return nil }
  }

  static func ome(_ pixels: String, tiffData: String = "<TiffData/>", extra: String = "") -> String {
    let order = pixels.contains("DimensionOrder") ? "" : "DimensionOrder=\"XYZCT\" "
    return """
    <?xml version="1.0" encoding="UTF-8"?><OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06">\
    <Image ID="Image:0" Name="x"><Pixels ID="Pixels:0" \(order)Type="uint16" SizeX="8" SizeY="6" \
    \(pixels)>\(extra)<Channel ID="Channel:0:0" SamplesPerPixel="1"/>\(tiffData)</Pixels></Image></OME>
    """
  }

  /// A corrupt OME-TIFF (found by the tiff fuzz target) whose metadata describes 48 planes that no
  /// IFD holds: the first plane read went out of range; now opening it is refused.
  @Test func planesThatNoIFDHoldsAreRefusedAtOpen() throws {
    let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("Fuzz/regressions/tiff/planes-not-mapped-to-ifds-read-out-of-range.tif")
    let error = try #require(Self.error(file.path))
    #expect(error.description.contains("the image has 48 planes (shape [48, 8, 8]) but the file maps 0 of them to IFDs"), "\(error)")
  }

  /// Foundation's XMLParser on Linux crashed the process on a processing instruction without data.
  @Test func processingInstructionsWithoutDataDoNotCrashTheXMLParser() throws {
    #expect(String(decoding: XMLText.withProcessingInstructionData(Array("<?x?><a><?p?></a><??>".utf8)), as: UTF8.self)
      == "<?x ?><a><?p ?></a><??>")
    let xml = Self.ome(#"SizeZ="2" SizeC="1" SizeT="1""#).replacingOccurrences(of: "<OME ", with: "<?x?><OME ")
    let metadata = try OMEXMLMetadata.parse(xml)
    #expect(metadata.images.count == 1)
    let dir = try Corpus.dir()
    _ = try Self.convert(try Self.tiff(dir, "pi.ome.tif", description: xml), dir)
  }

  @Test func imageJCountsThatOverflowFallBackToTheIFDsWithAWarning() throws {
    let dir = try Corpus.dir()
    let path = try Self.tiff(dir, "ij.tif", description: "ImageJ=1.11a\nimages=2\nchannels=2\nframes=9223372036854775807\nslices=2\n")
    let summary = try Self.convert(path, dir)
    #expect(summary.levels[0] == [2, 6, 8])
    #expect(summary.warnings.map(\.message) == [
      "ImageJ description: frames=9223372036854775807 is not a count from 1 to 4194304; reading the IFDs as z slices"
    ])
  }

  @Test func imageJZeroAndNonNumericCountsFallBackToTheIFDs() throws {
    let dir = try Corpus.dir()
    let path = try Self.tiff(dir, "ij.tif", description: "ImageJ=1.11a\nimages=99999999999\nslices=0\nframes=-1\nchannels=um\n")
    let summary = try Self.convert(path, dir)
    #expect(summary.levels[0] == [2, 6, 8])
    #expect(summary.warnings.count == 1)
  }

  @Test func imageJSpacingNaNIsLeftOut() throws {
    let dir = try Corpus.dir()
    let path = try Self.tiff(dir, "ij.tif", description: "ImageJ=1.11a\nimages=2\nslices=2\nunit=micron\nspacing=nan\nfinterval=-inf\n")
    let summary = try Self.convert(path, dir)
    #expect(summary.warnings.map(\.message) == [
      "ImageJ description: spacing=nan is not a positive size; left out",
      "ImageJ description: finterval=-inf is not a positive size; left out",
    ])
    let image = try #require(try OMENode.open(path: summary.output).image())
    #expect(image.scale(level: 0) == [1, 1, 1])
  }

  @Test(arguments: [
    ("SizeZ=\"0\" SizeC=\"1\" SizeT=\"1\"", "OME-XML image 0: SizeZ=\"0\" is not an integer from 1 to 4194304"),
    ("SizeZ=\"2\" SizeC=\"-1\" SizeT=\"1\"", "OME-XML image 0: SizeC=\"-1\" is not an integer from 1 to 4194304"),
    ("SizeZ=\"3037000500\" SizeC=\"1\" SizeT=\"3037000500\"", "OME-XML image 0: SizeZ=\"3037000500\" is not an integer from 1 to 4194304"),
    ("SizeZ=\"4194304\" SizeC=\"1\" SizeT=\"4194304\"",
     "OME-XML image 0: SizeZ=4194304 x SizeC=1 x SizeT=4194304 is more than 4194304 planes"),
    ("SizeZ=\"2\" SizeC=\"1\" SizeT=\"1\" DimensionOrder=\"XYZZZ\"",
     "OME-XML image 0: DimensionOrder=\"XYZZZ\" is not XY followed by Z, C and T in some order"),
  ])
  func omeSizesThatAreNotCountsAreRefused(pixels: String, message: String) throws {
    let dir = try Corpus.dir()
    let path = try Self.tiff(dir, "a.ome.tif", description: Self.ome(pixels))
    let e = try #require(Self.error(path))
    #expect(e.code == .unreadable)
    #expect(e.message == message)
    #expect(e.file == path)
  }

  @Test func omeTiffDataWithAHugePlaneCountIsClampedToTheImage() throws {
    let dir = try Corpus.dir()
    let path = try Self.tiff(dir, "a.ome.tif",
      description: Self.ome("SizeZ=\"2\" SizeC=\"1\" SizeT=\"1\"", tiffData: "<TiffData IFD=\"0\" PlaneCount=\"4000000000\"/>"))
    let summary = try Self.convert(path, dir)
    #expect(summary.levels[0] == [2, 6, 8])
  }

  @Test func omeTiffDataIFDOutOfRangeIsAnError() throws {
    let dir = try Corpus.dir()
    let path = try Self.tiff(dir, "a.ome.tif",
      description: Self.ome("SizeZ=\"2\" SizeC=\"1\" SizeT=\"1\"", tiffData: "<TiffData IFD=\"1\" PlaneCount=\"2\"/>"))
    let e = try #require(Self.error(path))
    #expect(e.message == "OME-XML refers to IFD 2, but the file has 2")
  }

  @Test func omePhysicalSizeNaNIsLeftOutWithAWarning() throws {
    let dir = try Corpus.dir()
    let path = try Self.tiff(dir, "a.ome.tif",
      description: Self.ome("SizeZ=\"2\" SizeC=\"1\" SizeT=\"1\" PhysicalSizeX=\"NaN\" PhysicalSizeY=\"0.5\" PhysicalSizeZ=\"1e308\""))
    let summary = try Self.convert(path, dir)
    #expect(summary.warnings.map(\.message) == [
      "OME-XML image 0: PhysicalSizeX=\"NaN\" is not a positive size; left out",
      "OME-XML image 0: PhysicalSizeZ=\"1e308\" is not a positive size; left out",
    ])
    let image = try #require(try OMENode.open(path: summary.output).image())
    #expect(image.scale(level: 0) == [1, 0.5, 1])
  }

  @Test func omeChannelSamplesPerPixelThatIsHugeIsRefused() throws {
    let dir = try Corpus.dir()
    let xml = Self.ome("SizeZ=\"2\" SizeC=\"1\" SizeT=\"1\"").replacingOccurrences(of: "SamplesPerPixel=\"1\"", with: "SamplesPerPixel=\"99999999999\"")
    let path = try Self.tiff(dir, "a.ome.tif", description: xml)
    let e = try #require(Self.error(path))
    #expect(e.message == "OME-XML image 0: Channel SamplesPerPixel=\"99999999999\" is not an integer from 1 to 65535")
  }

  /// A little-endian classic TIFF with one IFD of `tags` (tag, type, value) and 1 KiB of data after it.
  static func handMade(_ tags: [(UInt16, UInt16, UInt32)]) -> [UInt8] {
    var out: [UInt8] = [0x49, 0x49, 42, 0, 8, 0, 0, 0]
    func u16(_ v: UInt16) { out += [UInt8(v & 0xFF), UInt8(v >> 8)] }
    func u32(_ v: UInt32) { for i in 0..<4 { out.append(UInt8((v >> (8 * UInt32(i))) & 0xFF)) } }
    let dataOffset = UInt32(8 + 2 + 12 * tags.count + 4)
    u16(UInt16(tags.count))
    for (tag, type, value) in tags.sorted(by: { $0.0 < $1.0 }) {
      u16(tag)
      u16(type)
      u32(1)
      let v = value == .max ? dataOffset : value
      if type == 3 { u16(UInt16(v)); u16(0) } else { u32(v) }
    }
    u32(0)
    return out + (0..<1024).map { UInt8($0 & 0xFF) }
  }

  @Test func aTileWidthOf2To31IsRefusedBeforeAllocating() throws {
    let dir = try Corpus.dir()
    let path = dir.appendingPathComponent("tile.tif").path
    try Data(Self.handMade([
      (256, 4, 32), (257, 4, 32), (258, 3, 8), (259, 3, 1), (262, 3, 1), (277, 3, 1),
      (322, 4, 1 << 31), (323, 4, 16), (324, 4, .max), (325, 4, 1024),
    ])).write(to: URL(fileURLWithPath: path))
    let source = try TIFFSource(path: path)
    var buffer = [UInt8](repeating: 0, count: 32 * 32)
    #expect(throws: ConvertError(.unsupported, "a tile of 2147483648 x 16 pixels is larger than 1024 MiB", file: path, ifd: 0)) {
      try buffer.withUnsafeMutableBytes { try source.read(plane: [], rows: 0..<32, into: $0) }
    }
  }

  @Test func aZarrWithDuplicateDimensionNamesGetsDefaultAxes() throws {
    let dir = try Corpus.dir()
    let input = dir.appendingPathComponent("in.zarr").path
    var meta = ArrayMetadata(shape: [2, 6, 8], dataType: .uint16, chunkShape: [1, 6, 8])
    meta.dimensionNames = ["y", "y", "x"]
    let a = try ZarrArray.create(in: try StoreLocation(input).openStore(create: true), path: "", metadata: meta)
    try a.write(try Corpus.stack(try Corpus.planes(2, 6, 8)), at: [0, 0, 0])
    let summary = try Self.convert(input, dir)
    #expect(summary.warnings.count == 1)
    let image = try #require(try OMENode.open(path: summary.output).image())
    #expect(image.axes.map(\.name) == ["z", "y", "x"])
  }

  @Test func aZarrWithAnEmptyDimensionIsRefused() throws {
    let dir = try Corpus.dir()
    let input = dir.appendingPathComponent("in.zarr").path
    _ = try ZarrArray.create(in: try StoreLocation(input).openStore(create: true), path: "",
      metadata: ArrayMetadata(shape: [0, 8], dataType: .uint16, chunkShape: [1, 8]))
    let e = try #require(Self.error(input))
    #expect(e.message == "the image shape [0, 8] has an empty dimension; there is nothing to convert")
  }

  @Test func repairedMetadataIsListedInTheJSONSummary() throws {
    var desc = SourceDescription(name: "x", axes: [.space("y"), .space("x", unit: "furlong")], shape: [6, 8], dataType: .uint16,
      scale: [.nan, -2], translation: [.infinity, 1], channels: [Omero.Channel(label: "a", color: "red",
        window: .init(min: .nan, max: 1, start: 0, end: 1))], files: ["in.tif"])
    let warnings = Converter.repair(&desc)
    #expect(desc.scale == [1, 1])
    #expect(desc.translation == [0, 1])
    #expect(desc.axes[1].unit == nil)
    #expect(desc.channels?[0].color == nil && desc.channels?[0].window == nil)
    #expect(warnings.count == 6)
    var summary = ConvertSummary(input: [], output: "o", levels: [], dataType: .uint8, bytesRead: 0, bytesWritten: 0, seconds: 0,
      labels: [], resumed: false)
    summary.warnings = [warnings[0]]
    #expect(summary.json.objectValue?["warnings"] == .array([.string("in.tif: the scale nan of axis 'y' is not a positive size; 1 is used")]))
  }
}
