import Foundation

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

  /// Parses OME-XML text.
  public static func parse(_ xml: String) throws(ConvertError) -> OMEXMLMetadata {
    let delegate = Delegate()
    let parser = XMLParser(data: Data(xml.utf8))
    parser.delegate = delegate
    parser.shouldProcessNamespaces = true
    guard parser.parse() else {
      throw ConvertError(.unreadable, "invalid OME-XML: \(parser.parserError.map { "\($0)" } ?? "parse error")")
    }
    return delegate.result
  }

  private final class Delegate: NSObject, XMLParserDelegate {
    var result = OMEXMLMetadata()
    var image: Image?
    var tiffData: TiffData?
    var inUUID = false
    var uuidText = ""

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes a: [String: String] = [:]) {
      func int(_ k: String) -> Int? { a[k].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
      func dbl(_ k: String) -> Double? { a[k].flatMap { Double($0.trimmingCharacters(in: .whitespaces)) } }
      switch name {
      case "OME": result.uuid = a["UUID"]
      case "Image": image = Image(id: a["ID"], name: a["Name"])
      case "Pixels":
        guard var img = image else { return }
        img.dimensionOrder = a["DimensionOrder"] ?? "XYZCT"
        img.type = a["Type"] ?? a["PixelType"]
        img.sizeX = int("SizeX") ?? 1
        img.sizeY = int("SizeY") ?? 1
        img.sizeZ = int("SizeZ") ?? 1
        img.sizeC = int("SizeC") ?? 1
        img.sizeT = int("SizeT") ?? 1
        for axis in ["X", "Y", "Z"] {
          if let v = dbl("PhysicalSize\(axis)") { img.physicalSize[axis] = v }
          img.physicalSizeUnit[axis] = a["PhysicalSize\(axis)Unit"] ?? "µm"
        }
        img.timeIncrement = dbl("TimeIncrement")
        img.timeIncrementUnit = a["TimeIncrementUnit"] ?? "s"
        img.interleaved = a["Interleaved"] == "true"
        img.bigEndian = a["BigEndian"].map { $0 == "true" }
        image = img
      case "Channel":
        image?.channels.append(Channel(name: a["Name"], color: a["Color"].flatMap { Int32($0) ?? Int64($0).map { Int32(truncatingIfNeeded: $0) } },
          samplesPerPixel: int("SamplesPerPixel") ?? 1))
      case "TiffData":
        // Without IFD and PlaneCount a TiffData covers every plane; with an IFD alone, one plane.
        let ifd = int("IFD")
        tiffData = TiffData(ifd: ifd ?? 0, firstZ: int("FirstZ") ?? 0, firstC: int("FirstC") ?? 0, firstT: int("FirstT") ?? 0,
          planeCount: int("PlaneCount") ?? int("NumPlanes") ?? (ifd != nil ? 1 : nil))
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
        if let img = image { result.images.append(img) }
        image = nil
      default: break
      }
    }
  }
}
