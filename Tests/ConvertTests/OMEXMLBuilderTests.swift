import Foundation
import OMEZarr
import TestSupport
import Testing
import ZarrIO
@testable import OMEZarrConvert

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// `OMEXMLBuilder`: the OME-XML of an exported OME-TIFF, its colours and units.
@Suite("OMEXMLBuilder")
struct OMEXMLBuilderTests {
  static let uuid = "urn:uuid:12345678-9abc-4def-8123-456789abcdef"

  /// The xsd's `UnitsLength` and `UnitsTime` enumerations (OME 2016-06).
  static let xsdLengths: Set<String> = [
    "Ym", "Zm", "Em", "Pm", "Tm", "Gm", "Mm", "km", "hm", "dam", "m", "dm", "cm", "mm", "\u{B5}m", "nm", "pm", "fm",
    "am", "zm", "ym", "Å", "thou", "li", "in", "ft", "yd", "mi", "ua", "ly", "pc", "pt", "pixel", "reference frame",
  ]
  static let xsdTimes: Set<String> = [
    "Ys", "Zs", "Es", "Ps", "Ts", "Gs", "Ms", "ks", "hs", "das", "s", "ds", "cs", "ms", "\u{B5}s", "ns", "ps", "fs",
    "as", "zs", "ys", "min", "h", "d",
  ]

  /// Every element of a document in order, with its attributes.
  static func elements(_ xml: String) throws -> [(name: String, attributes: [String: String])] {
    final class Collector: NSObject, XMLParserDelegate {
      var elements: [(name: String, attributes: [String: String])] = []
      func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                  attributes: [String: String] = [:]) {
        elements.append((name, attributes))
      }
    }
    let collector = Collector()
    let parser = XMLParser(data: Data(xml.utf8))
    parser.delegate = collector
    parser.shouldProcessNamespaces = true
    try #require(parser.parse(), "not well-formed: \(String(describing: parser.parserError))")
    return collector.elements
  }

  static func fiveD(firstIFD: Int = 0, positions: Bool = true) -> ExportedImageDescription {
    ExportedImageDescription(
      name: "stack", dataType: .uint16, sizeX: 128, sizeY: 64, sizeZ: 4, sizeC: 2, sizeT: 3,
      physicalSizeX: (0.1 + 0.2, "micrometer"), physicalSizeY: (0.25, "micrometer"), physicalSizeZ: (0.5, "micrometer"),
      timeIncrement: (2.5, "second"),
      channels: [ExportedChannel(name: "DAPI", color: "0000FF"), ExportedChannel(name: "GFP", color: "00FF00")],
      firstIFD: firstIFD, planePositions: positions ? (10.5, -2, 1, "micrometer") : nil)
  }

  @Test func colours() {
    #expect(OMEXMLBuilder.omeColor("FF0000") == -16_776_961)
    #expect(OMEXMLBuilder.omeColor("FFFFFF") == -1)
    #expect(OMEXMLBuilder.omeColor("00FF00") == 16_711_935)
    #expect(OMEXMLBuilder.omeColor("0000FF") == 65535)
    #expect(OMEXMLBuilder.omeColor("ff0000") == -16_776_961)
    #expect(OMEXMLBuilder.omeColor("FF000080") == Int32(bitPattern: 0xFF00_0080))
    #expect(OMEXMLBuilder.omeColor("00000000") == 0)
    #expect(OMEXMLBuilder.omeColor("FFFFFFFF") == -1)
    for bad in ["", "FFF", "FF00001", "FF0000FF0", "GGGGGG", "#FF0000", "+FFFFF", "-FFFFF", " FF0000", "FF0000 ",
                "\u{FF10}\u{FF10}0000", "0x0000"]
    {
      #expect(OMEXMLBuilder.omeColor(bad) == nil, "\(bad)")
    }
  }

  @Test func everyNGFFUnitHasAnOMESymbol() {
    for name in Units.space {
      let symbol = OMEXMLBuilder.omeUnit(name)
      #expect(symbol.map { Self.xsdLengths.contains($0) } == true, "\(name) -> \(String(describing: symbol))")
      #expect(symbol.flatMap { Units.canonical($0) } == name)
    }
    for name in Units.time {
      let symbol = OMEXMLBuilder.omeUnit(name)
      #expect(symbol.map { Self.xsdTimes.contains($0) } == true, "\(name) -> \(String(describing: symbol))")
      #expect(symbol.flatMap { Units.canonical($0) } == name)
    }
    #expect(Set(Units.omeSymbols.keys) == Units.space.union(Units.time))
    #expect(Set(Units.omeSymbols.values).count == Units.omeSymbols.count)
    #expect(OMEXMLBuilder.omeUnit("micrometer") == "\u{B5}m")
    #expect(Array(OMEXMLBuilder.omeUnit("micrometer")?.unicodeScalars ?? "".unicodeScalars).first?.value == 0xB5)
    #expect(OMEXMLBuilder.omeUnit("microsecond") == "\u{B5}s")
    #expect(OMEXMLBuilder.omeUnit("angstrom") == "Å")
    #expect(OMEXMLBuilder.omeUnit("minute") == "min")
    #expect(OMEXMLBuilder.omeUnit("megameter") == "Mm")
    #expect(OMEXMLBuilder.omeUnit("megasecond") == "Ms")
    for unknown in ["", "um", "pixel", "Micrometer", "µm", "furlong"] {
      #expect(OMEXMLBuilder.omeUnit(unknown) == nil)
    }
    // OME symbols as written (the reader of OME-TIFF units uses this): case decides before folding.
    #expect(Units.canonical("Mm") == "megameter")
    #expect(Units.canonical("mm") == "millimeter")
    #expect(Units.udunits("Pm") == "petameter" && Units.udunits("pm") == "picometer")
    #expect(Units.udunits("Ms") == "megasecond" && Units.udunits("ms") == "millisecond")
    #expect(Units.canonical("MICRON") == "micrometer" && Units.canonical("KM") == "kilometer")
    #expect(Units.canonical("\u{3BC}m") == "micrometer")
    #expect(Units.canonical("pixel") == nil)
  }

  @Test func pixelTypes() {
    let expected: [DataType: String] = [
      .int8: "int8", .int16: "int16", .int32: "int32", .uint8: "uint8", .uint16: "uint16", .uint32: "uint32",
      .float32: "float", .float64: "double", .complex64: "complex", .complex128: "double-complex",
    ]
    for type in DataType.allCore { #expect(OMEXMLBuilder.pixelType(type) == expected[type], "\(type)") }
  }

  @Test func escaping() throws {
    #expect(OMEXMLBuilder.escape("a&b<\"c\">") == "a&amp;b&lt;&quot;c&quot;&gt;")
    #expect(OMEXMLBuilder.escape("it's") == "it&apos;s")
    #expect(OMEXMLBuilder.escape("a\u{0}b\u{1}c\u{1F}d\u{FFFE}e\u{FFFF}") == "abcde")
    #expect(OMEXMLBuilder.escape("a\tb\nc\rd") == "a&#9;b&#10;c&#13;d")
    #expect(OMEXMLBuilder.escape("µm Å 😀 \u{7F}") == "µm Å 😀 \u{7F}")

    // Names with every special character survive a parse.
    var image = ExportedImageDescription(name: "a&b<\"c\">'\u{7}\td", dataType: .uint8, sizeX: 2, sizeY: 2)
    image.channels = [ExportedChannel(name: "<ch & 1>")]
    let xml = OMEXMLBuilder.document(images: [image], uuid: Self.uuid, creator: "ome2zarr \"test\" & co")
    let parsed = try OMEXMLMetadata.parse(xml)
    #expect(parsed.images.first?.name == "a&b<\"c\">'\td")
    #expect(parsed.images.first?.channels.first?.name == "<ch & 1>")
    #expect(try Self.elements(xml).first?.attributes["Creator"] == "ome2zarr \"test\" & co")
  }

  @Test func fiveDimensionalImage() throws {
    let xml = OMEXMLBuilder.document(images: [Self.fiveD()], uuid: Self.uuid, creator: "ome2zarr 0.9")
    #expect(xml.hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      + "<OME xmlns=\"http://www.openmicroscopy.org/Schemas/OME/2016-06\""))
    #expect(xml.contains(" xsi:schemaLocation=\"http://www.openmicroscopy.org/Schemas/OME/2016-06 "
      + "http://www.openmicroscopy.org/Schemas/OME/2016-06/ome.xsd\""))
    #expect(xml.contains("xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\""))
    #expect(xml.contains(" UUID=\"\(Self.uuid)\" Creator=\"ome2zarr 0.9\">"))
    #expect(xml.contains("<Pixels ID=\"Pixels:0\" DimensionOrder=\"XYZCT\" Type=\"uint16\" BigEndian=\"false\""
      + " SizeX=\"128\" SizeY=\"64\" SizeZ=\"4\" SizeC=\"2\" SizeT=\"3\""
      + " PhysicalSizeX=\"0.30000000000000004\" PhysicalSizeXUnit=\"µm\""))
    #expect(xml.contains(" TimeIncrement=\"2.5\" TimeIncrementUnit=\"s\">"))
    #expect(xml.contains("<Channel ID=\"Channel:0:0\" Name=\"DAPI\" SamplesPerPixel=\"1\" Color=\"65535\"/>"))
    #expect(xml.contains("<TiffData IFD=\"0\" PlaneCount=\"24\"/>"))
    #expect(!xml.contains("Interleaved"))

    // The project's own OME-XML reader reads it back.
    let meta = try OMEXMLMetadata.parse(xml)
    #expect(meta.uuid == Self.uuid)
    let image = try #require(meta.images.first)
    #expect(meta.images.count == 1)
    #expect(image.id == "Image:0" && image.name == "stack" && image.type == "uint16" && image.dimensionOrder == "XYZCT")
    let sizes: [Int] = [image.sizeX, image.sizeY, image.sizeZ, image.sizeC, image.sizeT]
    #expect(sizes == [128, 64, 4, 2, 3])
    #expect(image.physicalSize == ["X": 0.1 + 0.2, "Y": 0.25, "Z": 0.5])
    #expect(image.physicalSizeUnit == ["X": "µm", "Y": "µm", "Z": "µm"])
    #expect(image.timeIncrement == 2.5 && image.timeIncrementUnit == "s")
    #expect(image.channels.map(\.name) == ["DAPI", "GFP"])
    #expect(image.channels.map(\.color) == [65535, 16_711_935])
    #expect(image.channels.map(\.samplesPerPixel) == [1, 1])
    #expect(image.tiffData == [OMEXMLMetadata.TiffData(ifd: 0, planeCount: 24)])
    #expect(image.bigEndian == false && !image.interleaved && image.problems.isEmpty && image.ignored.isEmpty)
    #expect(image.planeCount == 24)

    // Element order as the xsd wants it: Channel*, TiffData, Plane* inside Pixels.
    let names = try Self.elements(xml).map(\.name)
    #expect(names == ["OME", "Image", "Pixels", "Channel", "Channel", "TiffData"]
      + Array(repeating: "Plane", count: 24))
  }

  @Test func planePositions() throws {
    let xml = OMEXMLBuilder.document(images: [Self.fiveD()], uuid: Self.uuid, creator: "t")
    let planes = try Self.elements(xml).filter { $0.name == "Plane" }.map(\.attributes)
    #expect(planes.count == 24)
    // XYZCT: Z fastest, then C, then T.
    let zct = planes.map { [$0["TheZ"], $0["TheC"], $0["TheT"]].compactMap { $0.flatMap { Int($0) } } }
    var expected: [[Int]] = []
    for t in 0..<3 { for c in 0..<2 { for z in 0..<4 { expected.append([z, c, t]) } } }
    #expect(zct == expected)
    #expect(planes.allSatisfy { $0["PositionX"] == "10.5" && $0["PositionY"] == "-2.0" })
    #expect(planes.allSatisfy { p in ["X", "Y", "Z"].allSatisfy { p["Position\($0)Unit"] == "µm" } })
    // Z advances by the physical Z size per slice.
    #expect(planes.prefix(4).map { $0["PositionZ"] } == ["1.0", "1.5", "2.0", "2.5"])
    #expect(xml.contains("<Plane TheZ=\"1\" TheT=\"0\" TheC=\"0\" PositionX=\"10.5\" PositionXUnit=\"µm\""
      + " PositionY=\"-2.0\" PositionYUnit=\"µm\" PositionZ=\"1.5\" PositionZUnit=\"µm\"/>"))

    // Without positions, no planes; without a unit, "reference frame" and Z does not advance in µm.
    let none = OMEXMLBuilder.document(images: [Self.fiveD(positions: false)], uuid: Self.uuid, creator: "t")
    #expect(!none.contains("<Plane"))
    var image = Self.fiveD()
    image.planePositions = (0, .nan, 3, nil)
    let unitless = try Self.elements(OMEXMLBuilder.document(images: [image], uuid: Self.uuid, creator: "t"))
      .filter { $0.name == "Plane" }.map(\.attributes)
    #expect(unitless.allSatisfy { $0["PositionXUnit"] == "reference frame" && $0["PositionZ"] == "3.0" })
    #expect(unitless.allSatisfy { $0["PositionY"] == nil && $0["PositionYUnit"] == nil })

    // More than 10,000 planes: no Plane elements.
    var deep = Self.fiveD()
    deep.sizeZ = 1667  // 1667 * 2 * 3 = 10,002
    let deepXML = OMEXMLBuilder.document(images: [deep], uuid: Self.uuid, creator: "t")
    #expect(!deepXML.contains("<Plane") && deepXML.contains("PlaneCount=\"10002\""))
    deep.sizeZ = 1666  // 9,996
    #expect(try Self.elements(OMEXMLBuilder.document(images: [deep], uuid: Self.uuid, creator: "t"))
      .filter { $0.name == "Plane" }.count == 9996)
  }

  @Test func rgb() throws {
    let image = ExportedImageDescription(
      name: "photo", dataType: .uint8, sizeX: 30, sizeY: 20, sizeZ: 2, sizeC: 3, sizeT: 1,
      channels: [ExportedChannel(name: "RGB", color: "FF0000")], rgbSamples: 3, planePositions: (0, 0, 0, "millimeter"))
    let xml = OMEXMLBuilder.document(images: [image], uuid: Self.uuid, creator: "t")
    #expect(xml.contains("Type=\"uint8\" Interleaved=\"true\" BigEndian=\"false\""))
    #expect(xml.contains("<Channel ID=\"Channel:0:0\" Name=\"RGB\" SamplesPerPixel=\"3\"/>"))
    #expect(!xml.contains("Color="))
    #expect(xml.contains("<TiffData IFD=\"0\" PlaneCount=\"2\"/>"))
    let meta = try #require(try OMEXMLMetadata.parse(xml).images.first)
    #expect(meta.sizeC == 3 && meta.interleaved && meta.channels.count == 1 && meta.samplesPerPixel == 3)
    #expect(meta.planeCount == 2)
    let planes = try Self.elements(xml).filter { $0.name == "Plane" }.map(\.attributes)
    #expect(planes.map { $0["TheC"] } == ["0", "0"] && planes.map { $0["TheZ"] } == ["0", "1"])
    #expect(planes.allSatisfy { $0["PositionZUnit"] == "mm" && $0["PositionZ"] == "0.0" })

    var rgba = image
    rgba.rgbSamples = 4
    rgba.sizeC = 4
    rgba.channels = []
    let rgbaXML = OMEXMLBuilder.document(images: [rgba], uuid: Self.uuid, creator: "t")
    #expect(rgbaXML.contains("<Channel ID=\"Channel:0:0\" SamplesPerPixel=\"4\"/>") && rgbaXML.contains("SizeC=\"4\""))
  }

  @Test func twoImages() throws {
    let first = Self.fiveD()
    var second = ExportedImageDescription(name: "second", dataType: .float32, sizeX: 16, sizeY: 8, sizeC: 3,
      firstIFD: first.firstIFD + first.planeCount)
    second.channels = [ExportedChannel(name: "a"), ExportedChannel(color: "nothex")]  // the third gets a bare Channel
    let xml = OMEXMLBuilder.document(images: [first, second], uuid: Self.uuid, creator: "t")
    let meta = try OMEXMLMetadata.parse(xml)
    #expect(meta.images.map(\.id) == ["Image:0", "Image:1"])
    #expect(meta.images.map(\.type) == ["uint16", "float"])
    #expect(meta.images.map { $0.tiffData.map(\.ifd) } == [[0], [24]])
    #expect(meta.images.map { $0.tiffData.map(\.planeCount) } == [[24], [3]])
    #expect(meta.images[1].channels.map(\.name) == ["a", nil, nil])
    #expect(meta.images[1].channels.map(\.color) == [nil, nil, nil])
    #expect(xml.contains("<Pixels ID=\"Pixels:1\""))
    #expect(xml.contains("<Channel ID=\"Channel:1:2\" SamplesPerPixel=\"1\"/>"))
    #expect(meta.images[1].physicalSize.isEmpty && meta.images[1].timeIncrement == nil)
    let elements = try Self.elements(xml)
    #expect(elements.filter { $0.name == "OME" }.count == 1)
    #expect(elements.last?.name == "TiffData")  // the second image has no positions: no planes
  }

  /// A split set's companion: each image's `TiffData` names its file and that file's UUID.
  @Test func companionNamesEachFile() throws {
    var a = ExportedImageDescription(name: "a", dataType: .uint8, sizeX: 4, sizeY: 4, sizeZ: 2)
    var b = ExportedImageDescription(name: "b", dataType: .uint8, sizeX: 4, sizeY: 4)
    let fixed = try #require(UUID(uuidString: "12345678-9ABC-4DEF-8123-4567FFFFFFFF"))
    let uuids = [Exporter.uuid(fixed, file: 0), Exporter.uuid(fixed, file: 1)]
    #expect(uuids == ["urn:uuid:12345678-9abc-4def-8123-456700000000", "urn:uuid:12345678-9abc-4def-8123-456700000001"])
    #expect(Exporter.uuid(fixed, file: nil) == "urn:uuid:12345678-9abc-4def-8123-4567ffffffff")
    a.file = ("x_s0.ome.tif", uuids[0])
    b.file = ("x_s1.ome.tif", uuids[1])
    let xml = OMEXMLBuilder.document(images: [a, b], uuid: Self.uuid, creator: "t")
    #expect(xml.contains("<TiffData IFD=\"0\" PlaneCount=\"2\"><UUID FileName=\"x_s0.ome.tif\">\(uuids[0])</UUID></TiffData>"))
    let meta = try OMEXMLMetadata.parse(xml)
    #expect(meta.images.map { $0.tiffData.map(\.fileName) } == [["x_s0.ome.tif"], ["x_s1.ome.tif"]])
    // Names: the output's name without its TIFF extension, whatever dots it holds.
    let output = try StoreLocation("/data/run.v1.OME.TIFF")
    #expect(Exporter.splitName(output, 2).name == "run.v1_s2.OME.TIFF")
    #expect(Exporter.companionName(output).name == "run.v1.companion.ome")
    #expect(Exporter.splitName(try StoreLocation("/data/plain"), 0).name == "plain_s0")
    #expect(Exporter.companionName(try StoreLocation("s3://lab/out/x.tif")).description == "s3://lab/out/x.companion.ome")
    #expect(meta.images.map { $0.tiffData.map(\.uuid) } == [[uuids[0]], [uuids[1]]])
  }

  @Test func physicalSizesAndNumbers() throws {
    func pixels(_ edit: (inout ExportedImageDescription) -> Void) throws -> [String: String] {
      var image = ExportedImageDescription(name: "", dataType: .float64, sizeX: 4, sizeY: 4)
      edit(&image)
      let xml = OMEXMLBuilder.document(images: [image], uuid: Self.uuid, creator: "t")
      let elements = try Self.elements(xml)
      #expect(elements.first { $0.name == "Image" }?.attributes["Name"] == nil)  // empty name left out
      return try #require(elements.first { $0.name == "Pixels" }).attributes
    }
    var a = try pixels { $0.physicalSizeX = (1e-7, "meter"); $0.physicalSizeY = (123_456_789.123, "nanometer") }
    #expect(a["Type"] == "double")
    #expect(a["PhysicalSizeX"].flatMap(Double.init) == 1e-7 && a["PhysicalSizeXUnit"] == "m")
    #expect(a["PhysicalSizeY"].flatMap(Double.init) == 123_456_789.123 && a["PhysicalSizeYUnit"] == "nm")
    // Not positive or not finite: left out.
    a = try pixels { $0.physicalSizeX = (0, "micrometer"); $0.physicalSizeY = (-1, "micrometer")
      $0.physicalSizeZ = (.infinity, "micrometer"); $0.timeIncrement = (.nan, "second") }
    #expect(["PhysicalSizeX", "PhysicalSizeY", "PhysicalSizeZ", "TimeIncrement"].allSatisfy { a[$0] == nil })
    #expect(a["PhysicalSizeXUnit"] == nil && a["TimeIncrementUnit"] == nil)
    // No unit: 1 left out, other values in pixel; a time unit on a length or an unknown name counts as none.
    a = try pixels { $0.physicalSizeX = (1, nil); $0.physicalSizeY = (2, nil); $0.physicalSizeZ = (0.5, "second") }
    #expect(a["PhysicalSizeX"] == nil && a["PhysicalSizeXUnit"] == nil)
    #expect(a["PhysicalSizeY"] == "2.0" && a["PhysicalSizeYUnit"] == "pixel")
    #expect(a["PhysicalSizeZ"] == "0.5" && a["PhysicalSizeZUnit"] == "pixel")
    a = try pixels { $0.physicalSizeX = (3, "um") }
    #expect(a["PhysicalSizeX"] == "3.0" && a["PhysicalSizeXUnit"] == "pixel")
    // Time increments need a time unit (OME would read a bare number as seconds).
    a = try pixels { $0.timeIncrement = (2, nil) }
    #expect(a["TimeIncrement"] == nil)
    a = try pixels { $0.timeIncrement = (2, "micrometer") }
    #expect(a["TimeIncrement"] == nil)
    a = try pixels { $0.timeIncrement = (0.125, "millisecond") }
    #expect(a["TimeIncrement"] == "0.125" && a["TimeIncrementUnit"] == "ms")
    a = try pixels { $0.timeIncrement = (90, "minute") }
    #expect(a["TimeIncrement"] == "90.0" && a["TimeIncrementUnit"] == "min")
  }

  /// The documents validate against the OME 2016-06 xsd (as shipped in ome-types) and read back in
  /// ome-types, when the test Python has xmlschema and ome-types (`$OME2ZARR_PYTHON`).
  @Test(.enabled(if: testPython != nil)) func validatesAgainstTheOMESchema() throws {
    let python = try #require(testPython)
    let dir = try makeTemporaryDirectory("omexml")
    defer { try? FileManager.default.removeItem(at: dir) }
    var rgb = ExportedImageDescription(name: "rgb", dataType: .uint8, sizeX: 8, sizeY: 8, sizeC: 3,
      channels: [ExportedChannel(name: "RGB")], rgbSamples: 3, firstIFD: 24, planePositions: (1, 2, 3, nil))
    rgb.physicalSizeX = (2, nil)
    let odd = ExportedImageDescription(name: "a&b<\"c\">'\u{1}", dataType: .int8, sizeX: 1, sizeY: 1,
      physicalSizeX: (1e-20, "parsec"), physicalSizeY: (3e20, "angstrom"), timeIncrement: (1, "day"), firstIFD: 25)
    let documents = [
      OMEXMLBuilder.document(images: [Self.fiveD()], uuid: Self.uuid, creator: "ome2zarr"),
      OMEXMLBuilder.document(images: [Self.fiveD(), rgb, odd], uuid: Self.uuid, creator: "ome2zarr & \"co\""),
    ]
    for (i, d) in documents.enumerated() {
      try Data(d.utf8).write(to: dir.appendingPathComponent("\(i).ome.xml"))
    }
    let r = try runProcess(python, ["-c", """
      import glob, os, sys
      import xmlschema, ome_types
      xsd = xmlschema.XMLSchema(os.path.join(os.path.dirname(ome_types.__file__), "ome-2016-06.xsd"))
      for f in sorted(glob.glob(sys.argv[1] + "/*.ome.xml")):
          xsd.validate(f)
          ome = ome_types.from_xml(f, validate=True)
          px = ome.images[0].pixels
          assert px.size_z == 4 and px.size_c == 2 and px.size_t == 3, px
          assert px.physical_size_x_unit.value == "\\u00b5m", px.physical_size_x_unit
          assert len(px.planes) == 24 and px.planes[1].position_z == 1.5, px.planes[1]
      print("valid")
      """, dir.path])
    #expect(r.status == 0, "\(r.stderrText)")
    let out = r.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(out == "valid" || out.hasPrefix("skipped"), "\(out)")
  }
}
