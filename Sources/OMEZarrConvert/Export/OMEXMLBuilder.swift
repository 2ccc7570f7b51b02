import OMEZarr
import ZarrIO

/// One image of an exported OME-TIFF, as its OME-XML describes it.
///
/// Sizes, physical sizes and positions come from the NGFF image (units as NGFF names them, UDUNITS);
/// ``OMEXMLBuilder`` turns them into one `Image` element with its `Pixels`, `Channel`s, `TiffData` and
/// `Plane`s. Planes are in `XYZCT` order: Z fastest, then C, then T.
public struct ExportedImageDescription: Sendable {
  /// The image's `Name` (left out when empty).
  public var name: String
  /// The pixel type: int8 ... uint32 keep their names, float32 is `float`, float64 is `double`.
  public var dataType: DataType
  /// The image size along X, Y, Z, C and T; with ``rgbSamples``, `sizeC` is the number of samples.
  public var sizeX, sizeY, sizeZ, sizeC, sizeT: Int
  /// The pixel size along X, Y and Z with its NGFF unit name (`PhysicalSize*`, written only when > 0).
  public var physicalSizeX, physicalSizeY, physicalSizeZ: (value: Double, unit: String?)?
  /// The time between time points with its NGFF unit name (`TimeIncrement`, written only when > 0 with a unit).
  public var timeIncrement: (value: Double, unit: String?)?
  /// The channels (`sizeC` entries; one entry for an RGB image); missing entries get a bare `Channel`.
  public var channels: [ExportedChannel]
  /// 3 or 4 for an RGB(A) image stored interleaved: one `Channel` with that `SamplesPerPixel`, no `Color`.
  public var rgbSamples: Int?
  /// The file's IFD that holds the image's first plane (`TiffData IFD`).
  public var firstIFD: Int
  /// The file holding the planes when the document is not in it (a companion `.companion.ome`): its
  /// name beside the document and its `OME` `UUID`, written as the `TiffData`'s `UUID` element.
  public var file: (name: String, uuid: String)?
  /// The position of the image's first pixel (from the NGFF translation) with its NGFF unit name;
  /// when set and the image has at most ``OMEXMLBuilder/maxPlaneElements`` planes, each plane gets a
  /// `Plane` element with `PositionX/Y/Z` (Z advanced by ``physicalSizeZ`` per slice when the units agree).
  public var planePositions: (x: Double, y: Double, z: Double, unit: String?)?

  /// An image description; optional metadata defaults to absent.
  public init(
    name: String, dataType: DataType, sizeX: Int, sizeY: Int, sizeZ: Int = 1, sizeC: Int = 1, sizeT: Int = 1,
    physicalSizeX: (value: Double, unit: String?)? = nil, physicalSizeY: (value: Double, unit: String?)? = nil,
    physicalSizeZ: (value: Double, unit: String?)? = nil, timeIncrement: (value: Double, unit: String?)? = nil,
    channels: [ExportedChannel] = [], rgbSamples: Int? = nil, firstIFD: Int = 0,
    planePositions: (x: Double, y: Double, z: Double, unit: String?)? = nil
  ) {
    self.name = name
    self.dataType = dataType
    self.sizeX = sizeX
    self.sizeY = sizeY
    self.sizeZ = sizeZ
    self.sizeC = sizeC
    self.sizeT = sizeT
    self.physicalSizeX = physicalSizeX
    self.physicalSizeY = physicalSizeY
    self.physicalSizeZ = physicalSizeZ
    self.timeIncrement = timeIncrement
    self.channels = channels
    self.rgbSamples = rgbSamples
    self.firstIFD = firstIFD
    self.planePositions = planePositions
  }

  /// The number of TIFF planes (IFDs at full resolution): Z × T × C, with C counted once for RGB.
  public var planeCount: Int { Self.product([sizeZ, sizeT, rgbSamples != nil ? 1 : sizeC]) }

  /// The product of `sizes`, `Int.max` when it overflows.
  static func product(_ sizes: [Int]) -> Int {
    var n = 1
    for s in sizes {
      let (p, overflow) = n.multipliedReportingOverflow(by: max(s, 0))
      if overflow { return Int.max }
      n = p
    }
    return n
  }
}

/// One channel of an exported image: its `Name` and colour.
public struct ExportedChannel: Sendable, Hashable {
  /// The channel's `Name`, when known.
  public var name: String?
  /// The omero colour, hex `RRGGBB` (or `RRGGBBAA`); anything else is left out.
  public var color: String?

  /// A channel with an optional name and omero colour.
  public init(name: String? = nil, color: String? = nil) {
    self.name = name
    self.color = color
  }
}

/// A plate in an exported OME-TIFF: its size and wells, each with the images that are its fields.
public struct ExportedPlate: Sendable, Hashable {
  /// A well: its place and its fields, as indices into the document's images.
  public struct Well: Sendable, Hashable {
    /// Row and column (from 0).
    public var row: Int, column: Int
    /// The images that are this well's fields, in order.
    public var images: [Int]
    /// A well at (`row`, `column`) with fields `images`.
    public init(row: Int, column: Int, images: [Int]) {
      self.row = row
      self.column = column
      self.images = images
    }
  }

  /// The plate's name.
  public var name: String?
  /// The row and column names (they decide the naming conventions: letters or numbers).
  public var rowNames: [String], columnNames: [String]
  /// The wells with fields.
  public var wells: [Well]

  /// A plate of `rowNames.count` × `columnNames.count` wells.
  public init(name: String? = nil, rowNames: [String], columnNames: [String], wells: [Well]) {
    self.name = name
    self.rowNames = rowNames
    self.columnNames = columnNames
    self.wells = wells
  }

  /// `letter` when every name is letters, `number` when every name is digits, else none.
  static func convention(_ names: [String]) -> String? {
    if !names.isEmpty, names.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isLetter } }) { return "letter" }
    if !names.isEmpty, names.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }) { return "number" }
    return nil
  }
}

/// Builds the OME-XML (2016-06 schema) of an exported OME-TIFF from NGFF-derived descriptions.
public enum OMEXMLBuilder {
  /// The OME 2016-06 namespace.
  static let namespace = "http://www.openmicroscopy.org/Schemas/OME/2016-06"
  /// More planes than this get no `Plane` elements (the document would grow without bound).
  public static let maxPlaneElements = 10_000

  /// The OME-XML document (2016-06 schema) for `images`, UTF-8, with the XML declaration.
  ///
  /// IDs are `Image:n`, `Pixels:n` and `Channel:n:c` with `n` the index in `images`; `uuid` (`urn:uuid:…`)
  /// and `creator` are written as given (escaped). Lengths without a known unit are written in
  /// `pixel` (and left out when 1); time increments without a known unit are left out (OME would
  /// read them as seconds).
  /// A `plate` comes before the images (as the schema orders them), each well's fields referring
  /// to them by index; `WellSample` indices run over the whole plate.
  public static func document(images: [ExportedImageDescription], plate: ExportedPlate? = nil, uuid: String,
    creator: String) -> String
  {
    var x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    x += "<OME xmlns=\"\(namespace)\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\""
    x += " xsi:schemaLocation=\"\(namespace) \(namespace)/ome.xsd\""
    x += attribute("UUID", uuid) + attribute("Creator", creator) + ">\n"
    if let plate {
      x += "  <Plate ID=\"Plate:0\"" + (plate.name.map { attribute("Name", $0) } ?? "")
      if let c = ExportedPlate.convention(plate.columnNames) { x += attribute("ColumnNamingConvention", c) }
      if let r = ExportedPlate.convention(plate.rowNames) { x += attribute("RowNamingConvention", r) }
      x += attribute("Rows", String(plate.rowNames.count)) + attribute("Columns", String(plate.columnNames.count)) + ">\n"
      var sample = 0
      for (w, well) in plate.wells.enumerated() {
        x += "    <Well ID=\"Well:0:\(w)\"" + attribute("Column", String(well.column)) + attribute("Row", String(well.row)) + ">\n"
        for (f, image) in well.images.enumerated() {
          x += "      <WellSample ID=\"WellSample:0:\(w):\(f)\"" + attribute("Index", String(sample)) + ">"
          x += "<ImageRef ID=\"Image:\(image)\"/></WellSample>\n"
          sample += 1
        }
        x += "    </Well>\n"
      }
      x += "  </Plate>\n"
    }
    for (n, image) in images.enumerated() { appendImage(image, index: n, to: &x) }
    x += "</OME>\n"
    return x
  }

  /// OME's signed RGBA integer for an omero colour (`FF0000` -> -16776961; `FFFFFF` -> -1), nil when not hex.
  ///
  /// Six hex digits are `RRGGBB` (opaque), eight are `RRGGBBAA`.
  public static func omeColor(_ hex: String) -> Int32? {
    let digits = hex.utf8
    guard digits.count == 6 || digits.count == 8,
      digits.allSatisfy({ (0x30...0x39).contains($0) || (0x41...0x46).contains($0) || (0x61...0x66).contains($0) }),
      let value = UInt32(hex, radix: 16)
    else { return nil }
    return Int32(bitPattern: digits.count == 6 ? value << 8 | 0xFF : value)
  }

  /// The OME unit symbol for a NGFF (UDUNITS) unit name (`micrometer` -> `µm` with U+00B5), nil if unknown.
  ///
  /// Names must be as NGFF models hold them (``Units/canonical(_:)``): `um` is nil.
  public static func omeUnit(_ udunits: String) -> String? { Units.omeSymbols[udunits] }

  /// The OME `PixelType` of a data type, nil for types OME-TIFF cannot hold (bool, 64-bit integers,
  /// float16, raw); complex types map to `complex` and `double-complex`.
  static func pixelType(_ dataType: DataType) -> String? {
    switch dataType {
    case .int8, .int16, .int32, .uint8, .uint16, .uint32: return dataType.name
    case .float32: return "float"
    case .float64: return "double"
    case .complex64: return "complex"
    case .complex128: return "double-complex"
    default: return nil
    }
  }

  // MARK: - Elements

  /// The `Channel` elements of image `n`: one per channel, or one holding the samples of
  /// colour pixels (the OME-XML carry-over writes them too).
  static func channelElements(_ image: ExportedImageDescription, index n: Int) -> String {
    var x = ""
    if let samples = image.rgbSamples {
      x += "      <Channel" + attribute("ID", "Channel:\(n):0")
      if let name = image.channels.first?.name { x += attribute("Name", name) }
      x += attribute("SamplesPerPixel", "\(samples)") + "/>\n"
    } else {
      for c in 0..<max(image.sizeC, 0) {
        let channel = c < image.channels.count ? image.channels[c] : ExportedChannel()
        x += "      <Channel" + attribute("ID", "Channel:\(n):\(c)")
        if let name = channel.name { x += attribute("Name", name) }
        x += attribute("SamplesPerPixel", "1")
        if let color = channel.color.flatMap(omeColor) { x += attribute("Color", "\(color)") }
        x += "/>\n"
      }
    }
    return x
  }

  private static func appendImage(_ image: ExportedImageDescription, index n: Int, to x: inout String) {
    x += "  <Image" + attribute("ID", "Image:\(n)") + (image.name.isEmpty ? "" : attribute("Name", image.name)) + ">\n"
    x += "    <Pixels" + attribute("ID", "Pixels:\(n)") + attribute("DimensionOrder", "XYZCT")
    x += attribute("Type", pixelType(image.dataType) ?? image.dataType.name)
    if image.rgbSamples != nil { x += attribute("Interleaved", "true") }
    x += attribute("BigEndian", "false")
    x += attribute("SizeX", "\(image.sizeX)") + attribute("SizeY", "\(image.sizeY)")
    x += attribute("SizeZ", "\(image.sizeZ)") + attribute("SizeC", "\(image.sizeC)")
    x += attribute("SizeT", "\(image.sizeT)")
    x += physicalSize("PhysicalSizeX", image.physicalSizeX) + physicalSize("PhysicalSizeY", image.physicalSizeY)
    x += physicalSize("PhysicalSizeZ", image.physicalSizeZ)
    if let t = image.timeIncrement, isPositive(t.value), let unit = t.unit.flatMap({ symbol($0, in: Units.time) }) {
      x += attribute("TimeIncrement", number(t.value)) + attribute("TimeIncrementUnit", unit)
    }
    x += ">\n"

    x += channelElements(image, index: n)

    let planes = image.planeCount
    x += "      <TiffData" + attribute("IFD", "\(image.firstIFD)") + attribute("PlaneCount", "\(planes)")
    if let file = image.file {
      x += "><UUID" + attribute("FileName", file.name) + ">" + escape(file.uuid) + "</UUID></TiffData>\n"
    } else {
      x += "/>\n"
    }
    if let p = image.planePositions, planes <= maxPlaneElements { appendPlanes(image, position: p, to: &x) }
    x += "    </Pixels>\n  </Image>\n"
  }

  /// One `Plane` per plane in XYZCT order, at the image's position; Z advances by the physical Z size
  /// when it is in the position's unit.
  private static func appendPlanes(
    _ image: ExportedImageDescription, position p: (x: Double, y: Double, z: Double, unit: String?),
    to x: inout String
  ) {
    let unit = p.unit.flatMap(lengthUnit) ?? "reference frame"
    var dz = 0.0
    if let z = image.physicalSizeZ, isPositive(z.value), z.unit.flatMap(lengthUnit) == p.unit.flatMap(lengthUnit) {
      dz = z.value
    }
    func position(_ axis: String, _ value: Double) -> String {
      value.isFinite ? attribute("Position\(axis)", number(value)) + attribute("Position\(axis)Unit", unit) : ""
    }
    let xy = position("X", p.x) + position("Y", p.y)
    let channels = image.rgbSamples != nil ? 1 : image.sizeC
    for t in 0..<max(image.sizeT, 0) {
      for c in 0..<max(channels, 0) {
        for z in 0..<max(image.sizeZ, 0) {
          x += "      <Plane" + attribute("TheZ", "\(z)") + attribute("TheT", "\(t)") + attribute("TheC", "\(c)")
          x += xy + position("Z", p.z + Double(z) * dz) + "/>\n"
        }
      }
    }
  }

  /// `PhysicalSize*` and its unit: a positive size with a known length unit, or in `pixel` without
  /// one (left out when 1: an uncalibrated pixel says nothing).
  private static func physicalSize(_ key: String, _ size: (value: Double, unit: String?)?) -> String {
    guard let size, isPositive(size.value) else { return "" }
    if let unit = size.unit.flatMap(lengthUnit) {
      return attribute(key, number(size.value)) + attribute(key + "Unit", unit)
    }
    return size.value == 1 ? "" : attribute(key, number(size.value)) + attribute(key + "Unit", "pixel")
  }

  /// The OME symbol of a unit named in `names` (``Units/space`` or ``Units/time``), nil for others.
  private static func symbol(_ udunits: String, in names: Set<String>) -> String? {
    names.contains(udunits) ? Units.omeSymbols[udunits] : nil
  }

  /// The OME symbol of a length unit, nil for time units and unknown names.
  private static func lengthUnit(_ udunits: String) -> String? { symbol(udunits, in: Units.space) }

  private static func isPositive(_ value: Double) -> Bool { value.isFinite && value > 0 }

  /// A number as the shortest text that reads back as the same `Double`.
  static func number(_ value: Double) -> String { value.description }

  /// ` key="value"` with `value` escaped.
  static func attribute(_ key: String, _ value: String) -> String { " \(key)=\"\(escape(value))\"" }

  /// Whether XML 1.0 can hold `s` (control characters other than tab, line feed and carriage
  /// return, U+FFFE and U+FFFF cannot).
  static func isXMLCharacter(_ s: Unicode.Scalar) -> Bool {
    (s.value >= 0x20 || s == "\t" || s == "\n" || s == "\r") && s.value != 0xFFFE && s.value != 0xFFFF
  }

  /// `text` safe in an XML 1.0 attribute value: `& < > " '` as entities, tab and line breaks as
  /// character references (so parsers keep them), other characters XML 1.0 forbids dropped.
  static func escape(_ text: String) -> String {
    var out = ""
    out.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
    for s in text.unicodeScalars {
      switch s {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      case "'": out += "&apos;"
      case "\t": out += "&#9;"
      case "\n": out += "&#10;"
      case "\r": out += "&#13;"
      default:
        if isXMLCharacter(s) { out.unicodeScalars.append(s) }
      }
    }
    return out
  }
}
