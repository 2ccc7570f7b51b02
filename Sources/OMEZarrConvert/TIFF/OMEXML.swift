import Foundation
import ZarrIO

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// What an OME-TIFF's OME-XML says about its images.
public struct OMEXMLMetadata: Sendable, Hashable {
  /// One `Channel` element of an image's `Pixels`.
  public struct Channel: Sendable, Hashable {
    /// The channel's `Name`, when given.
    public var name: String?
    /// RGBA packed into a signed 32-bit integer, as OME-XML stores it.
    public var color: Int32?
    /// Samples per pixel (`SamplesPerPixel`): 3 for an RGB channel stored in one plane, else 1.
    public var samplesPerPixel: Int = 1
  }

  /// A run of planes stored in IFDs: planes `first ..< first + count` (in DimensionOrder) are in
  /// IFDs `ifd ..< ifd + count` of `fileName` (this file when `nil`).
  public struct TiffData: Sendable, Hashable {
    /// The first IFD of the run (`IFD`, 0 when absent).
    public var ifd: Int
    /// The (z, c, t) of the run's first plane (`FirstZ`, `FirstC`, `FirstT`).
    public var firstZ = 0, firstC = 0, firstT = 0
    /// `nil`: all remaining planes.
    public var planeCount: Int?
    /// The file that holds the IFDs (`UUID`'s `FileName`); `nil` for this file.
    public var fileName: String?
    /// The `UUID` of the file that holds the IFDs, when given.
    public var uuid: String?
  }

  /// One `Image` element: its `Pixels` sizes, order, physical sizes, channels and `TiffData`.
  public struct Image: Sendable, Hashable {
    /// The image's `ID`, e.g. `"Image:0"`.
    public var id: String?
    /// The image's `Name`, when given.
    public var name: String?
    /// The `DimensionOrder` of the planes, e.g. `"XYZCT"` (Z fastest after X and Y).
    public var dimensionOrder = "XYZCT"
    /// The pixel type (`Type`), e.g. `"uint16"` or `"float"`.
    public var type: String?
    /// The image size along X, Y, Z, C and T (`SizeX` ... `SizeT`), in pixels, planes or time points.
    public var sizeX = 1, sizeY = 1, sizeZ = 1, sizeC = 1, sizeT = 1
    /// The pixel size along `"X"`, `"Y"` and `"Z"` (`PhysicalSizeX` ...), in ``physicalSizeUnit``.
    public var physicalSize: [String: Double] = [:]
    /// The unit of each ``physicalSize`` by axis (`PhysicalSizeXUnit` ...; `"µm"` when absent).
    public var physicalSizeUnit: [String: String] = [:]
    /// The time between time points (`TimeIncrement`), in ``timeIncrementUnit``.
    public var timeIncrement: Double?
    /// The unit of ``timeIncrement`` (`TimeIncrementUnit`; `"s"` when absent).
    public var timeIncrementUnit: String?
    /// The image's channels, in order.
    public var channels: [Channel] = []
    /// Where the image's planes are stored, as runs of IFDs.
    public var tiffData: [TiffData] = []
    /// Whether the samples of a pixel are stored together (`Interleaved`).
    public var interleaved = false
    /// Whether the pixels are big-endian (`BigEndian`); `nil` when absent.
    public var bigEndian: Bool?
    /// Why the image's layout cannot be trusted, e.g. `"SizeZ=\"0\" is not an integer from 1 to 4194304"`:
    /// sizes, sample counts, `TiffData` numbers or a `DimensionOrder` out of range or not numbers.
    public var problems: [String] = []
    /// Physical sizes and time increments left out because they are not finite positive sizes.
    public var ignored: [String] = []

    /// Samples per pixel of the TIFF planes (RGB images store 3 samples in one plane).
    public var samplesPerPixel: Int { max(channels.first?.samplesPerPixel ?? 1, 1) }
    /// Channels stored as separate planes.
    public var planeChannels: Int { max(sizeC / samplesPerPixel, 1) }
    /// The number of TIFF planes: Z slices × plane channels × time points.
    public var planeCount: Int { sizeZ * planeChannels * sizeT }

    /// The plane number of (z, c, t) in the image's DimensionOrder.
    public func planeIndex(z: Int, c: Int, t: Int) -> Int {
      var index = 0, stride = 1
      for d in dimensionOrder.dropFirst(2) {
        switch d {
        case "Z": index += z * stride; stride *= sizeZ
        case "C": index += c * stride; stride *= planeChannels
        case "T": index += t * stride; stride *= sizeT
        default: break
        }
      }
      return index
    }
  }

  /// The document's `UUID`, naming the file that carries it.
  public var uuid: String?
  /// The images, in document order.
  public var images: [Image] = []
  /// Set when the XML only points to the file that holds the metadata (`BinaryOnly`).
  public var metadataFile: String?

  /// Parses OME-XML text (from `file`, named in errors).
  public static func parse(_ xml: String, file: String? = nil) throws(ConvertError) -> OMEXMLMetadata {
    let delegate = Delegate()
    let parser = XMLParser(data: Data(XMLText.withProcessingInstructionData(Array(xml.utf8))))
    parser.delegate = delegate
    parser.shouldProcessNamespaces = true
    guard parser.parse() else {
      throw ConvertError(.unreadable, "invalid OME-XML at line \(parser.lineNumber), column \(parser.columnNumber): "
        + xmlErrorText(parser.parserError), file: file)
    }
    return delegate.result
  }

  /// What went wrong, in words: the parser's own description when it has one, else its error code.
  static func xmlErrorText(_ error: (any Error)?) -> String {
    guard let error = error as NSError? else { return "not well-formed XML" }
    let text = error.localizedDescription
    if !text.isEmpty, !text.contains("(null)"), !text.contains("NSXMLParserErrorDomain") { return text }
    let what: String
    switch XMLParser.ErrorCode(rawValue: error.code) {
    case .emptyDocumentError?: what = "the document is empty"
    case .prematureDocumentEndError?: what = "the document ends early"
    case .invalidCharacterError?: what = "invalid character"
    case .undeclaredEntityError?: what = "undeclared entity"
    case .gtRequiredError?: what = "expected '>'"
    case .tagNameMismatchError?: what = "mismatched end tag"
    case .entityRefLoopError?, .entityReferenceMissingSemiError?: what = "bad entity reference"
    default: what = "not well-formed XML"
    }
    return "\(what) (XML error \(error.code))"
  }

  private final class Delegate: NSObject, XMLParserDelegate {
    var result = OMEXMLMetadata()
    var image: Image?
    var tiffData: TiffData?
    var inUUID = false
    var sawPixels = false
    var uuidText = ""

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes a: [String: String] = [:]) {
      func int(_ k: String) -> Int? { a[k].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
      func dbl(_ k: String) -> Double? { a[k].flatMap { Double($0.trimmingCharacters(in: .whitespaces)) } }
      switch name {
      case "OME": result.uuid = a["UUID"]
      case "Image":
        image = Image(id: a["ID"], name: a["Name"])
        sawPixels = false
      case "Pixels":
        guard var img = image else { return }
        sawPixels = true
        var problems: [String] = [], ignored: [String] = []
        // A number attribute: absent is `absent`; a value outside `range` (or not an integer) is a problem.
        func count(_ k: String, _ range: ClosedRange<Int>, absent: Int) -> Int {
          guard let text = a[k] else { return absent }
          guard let v = Int(text.trimmingCharacters(in: .whitespaces)), range.contains(v) else {
            problems.append("\(k)=\"\(text)\" is not an integer from \(range.lowerBound) to \(range.upperBound)")
            return absent
          }
          return v
        }
        // A size attribute: absent is nil; anything but a finite positive number is left out.
        func size(_ k: String) -> Double? {
          guard let text = a[k] else { return nil }
          guard let v = dbl(k), ConvertLimits.isPhysicalSize(v) else {
            ignored.append("\(k)=\"\(text)\" is not a positive size")
            return nil
          }
          return v
        }
        let order = a["DimensionOrder"] ?? "XYZCT"
        if order.count == 5, order.hasPrefix("XY"), Set(order) == Set("XYZCT") { img.dimensionOrder = order } else {
          problems.append("DimensionOrder=\"\(order)\" is not XY followed by Z, C and T in some order")
        }
        img.type = a["Type"] ?? a["PixelType"]
        img.sizeX = count("SizeX", 1...Int(UInt32.max), absent: 1)
        img.sizeY = count("SizeY", 1...Int(UInt32.max), absent: 1)
        img.sizeZ = count("SizeZ", 1...ConvertLimits.maxPlanes, absent: 1)
        img.sizeC = count("SizeC", 1...ConvertLimits.maxPlanes, absent: 1)
        img.sizeT = count("SizeT", 1...ConvertLimits.maxPlanes, absent: 1)
        for axis in ["X", "Y", "Z"] {
          if let v = size("PhysicalSize\(axis)") { img.physicalSize[axis] = v }
          img.physicalSizeUnit[axis] = a["PhysicalSize\(axis)Unit"] ?? "µm"
        }
        img.timeIncrement = size("TimeIncrement")
        img.timeIncrementUnit = a["TimeIncrementUnit"] ?? "s"
        img.interleaved = a["Interleaved"] == "true"
        img.bigEndian = a["BigEndian"].map { $0 == "true" }
        img.problems += problems
        img.ignored += ignored
        image = img
      case "Channel":
        var spp = int("SamplesPerPixel") ?? 1
        if let text = a["SamplesPerPixel"], !(1...Int(UInt16.max)).contains(spp) || int("SamplesPerPixel") == nil {
          image?.problems.append("Channel SamplesPerPixel=\"\(text)\" is not an integer from 1 to \(UInt16.max)")
          spp = 1
        }
        image?.channels.append(Channel(name: a["Name"], color: a["Color"].flatMap { Int32($0) ?? Int64($0).map { Int32(truncatingIfNeeded: $0) } },
          samplesPerPixel: spp))
      case "TiffData":
        // Without IFD and PlaneCount a TiffData covers every plane; with an IFD alone, one plane.
        var bad: [String] = []
        func index(_ k: String) -> Int? {
          guard let text = a[k] else { return nil }
          guard let v = int(k), (0...Int(UInt32.max)).contains(v) else {
            bad.append("TiffData \(k)=\"\(text)\" is not an integer from 0 to \(UInt32.max)")
            return nil
          }
          return v
        }
        let ifd = index("IFD")
        let planes = index("PlaneCount") ?? index("NumPlanes")
        tiffData = TiffData(ifd: ifd ?? 0, firstZ: index("FirstZ") ?? 0, firstC: index("FirstC") ?? 0, firstT: index("FirstT") ?? 0,
          planeCount: planes ?? (ifd != nil ? 1 : nil))
        image?.problems += bad
      case "UUID":
        inUUID = true
        uuidText = ""
        tiffData?.fileName = a["FileName"]
      case "BinaryOnly": result.metadataFile = a["MetadataFile"]
      default: break
      }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
      if inUUID { uuidText += string }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
      switch name {
      case "UUID":
        inUUID = false
        tiffData?.uuid = uuidText.trimmingCharacters(in: .whitespacesAndNewlines)
      case "TiffData":
        if let t = tiffData { image?.tiffData.append(t) }
        tiffData = nil
      case "Image":
        if var img = image {
          if !sawPixels { img.problems.append("the image has no Pixels element") }
          result.images.append(img)
        }
        image = nil
      default: break
      }
    }
  }
}
