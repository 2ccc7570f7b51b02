import Foundation
#if canImport(FoundationXML)
  import FoundationXML
#endif

/// The OME-XML of a bioformats2raw collection (`OME/METADATA.ome.xml`, the original file's),
/// carried over into an export and updated, rather than rebuilt: instruments, annotations,
/// acquisition dates and every ID stay as they were.
///
/// Only the exported images remain, in the export's order (the others, and the references to
/// them, are removed). Each one's `Pixels` is updated from what was written: dimension order
/// (XYZCT), type, sizes, physical sizes, channel names, one `TiffData` in place of the original's
/// (its `Plane` elements go when the planes changed: a crop or a choice of channels).
enum OMEXMLCarryOver {
  /// `original` updated for `images` (the series indices exported, in order) described by
  /// `descriptions`; `nil` when it does not parse, declares a document type or entities, or does
  /// not hold those images.
  static func update(_ original: String, images: [Int], descriptions: [ExportedImageDescription], planesChanged: Bool,
    uuid: String, creator: String) -> String?
  {
    // OME-XML needs no document type: one with entities (which could pull files in) is rebuilt.
    guard !original.contains("<!DOCTYPE"), !original.contains("<!ENTITY") else { return nil }
    guard let document = try? XMLDocument(xmlString: original), let root = document.rootElement(),
      root.localName == "OME"
    else { return nil }
    let all = elements(of: root, named: "Image")
    // A series exported twice would repeat an ID: such a file is described anew.
    guard !all.isEmpty, images.allSatisfy({ all.indices.contains($0) }), images.count == descriptions.count,
      Set(images).count == images.count
    else { return nil }
    // The exported images, in order, where the first image was.
    guard let firstIndex = all.first.flatMap({ $0.index }) else { return nil }
    let kept = images.map { all[$0] }
    let keptIDs = Set(kept.compactMap { $0.attribute(forName: "ID")?.stringValue })
    let removedIDs = Set(all.compactMap { $0.attribute(forName: "ID")?.stringValue }).subtracting(keptIDs)
    for image in all { image.detach() }
    for (offset, image) in kept.enumerated() { insert(image, into: root, at: firstIndex + offset) }
    // References to images that are not in the file.
    for reference in descendants(of: root, named: "ImageRef") {
      guard let id = reference.attribute(forName: "ID")?.stringValue, removedIDs.contains(id) else { continue }
      if let parent = reference.parent as? XMLElement, parent.localName == "WellSample" {
        parent.detach()
      } else {
        reference.detach()
      }
    }
    for (image, description) in zip(kept, descriptions) {
      guard let pixels = elements(of: image, named: "Pixels").first else { return nil }
      update(pixels, description, planesChanged: planesChanged)
    }
    set(root, "UUID", uuid)
    set(root, "Creator", creator)
    return document.xmlString
  }

  /// `pixels` described as written.
  static func update(_ pixels: XMLElement, _ d: ExportedImageDescription, planesChanged: Bool) {
    set(pixels, "DimensionOrder", "XYZCT")
    set(pixels, "Type", OMEXMLBuilder.pixelType(d.dataType) ?? d.dataType.description)
    set(pixels, "SizeX", String(d.sizeX))
    set(pixels, "SizeY", String(d.sizeY))
    set(pixels, "SizeZ", String(d.sizeZ))
    set(pixels, "SizeC", String(d.sizeC))
    set(pixels, "SizeT", String(d.sizeT))
    set(pixels, "BigEndian", "false")
    if d.rgbSamples != nil { set(pixels, "Interleaved", "true") } else { pixels.removeAttribute(forName: "Interleaved") }
    for (axis, size) in [("X", d.physicalSizeX), ("Y", d.physicalSizeY), ("Z", d.physicalSizeZ)] {
      guard let size, ConvertLimits.isPhysicalSize(size.value), let unit = size.unit.flatMap(OMEXMLBuilder.omeUnit) else { continue }
      set(pixels, "PhysicalSize" + axis, OMEXMLBuilder.number(size.value))
      set(pixels, "PhysicalSize" + axis + "Unit", unit)
    }
    for child in (pixels.children ?? []).reversed() {
      guard let element = child as? XMLElement, let name = element.localName else { continue }
      if ["TiffData", "BinData", "MetadataOnly"].contains(name) || (planesChanged && name == "Plane") { element.detach() }
    }
    // The channels: as many as written, with the names the image has now.
    let channels = elements(of: pixels, named: "Channel")
    if planesChanged || channels.count != (d.rgbSamples == nil ? d.sizeC : 1) {
      // The channels first (as the schema orders them), then what followed them: children are
      // unlinked and appended one by one, never inserted at an index (linear in their number).
      let others = (pixels.children ?? []).filter { ($0 as? XMLElement)?.localName != "Channel" }
      for child in pixels.children ?? [] { child.detach() }
      for channel in (try? XMLElement(xmlString: channelsFragment(d)))?.children ?? [] {
        channel.detach()
        pixels.addChild(channel)
      }
      for child in others { pixels.addChild(child) }
    } else {
      for (channel, exported) in zip(channels, d.channels) where exported.name != nil {
        set(channel, "Name", exported.name ?? "")
      }
    }
    let afterChannels = (pixels.children ?? []).lastIndex { ($0 as? XMLElement)?.localName == "Channel" }.map { $0 + 1 } ?? 0
    let tiffData = XMLElement(name: "TiffData", uri: pixels.uri)
    tiffData.addAttribute(attribute("IFD", String(d.firstIFD)))
    tiffData.addAttribute(attribute("PlaneCount", String(d.planeCount)))
    if let file = d.file {
      let uuid = XMLElement(name: "UUID", uri: pixels.uri)
      uuid.stringValue = file.uuid
      uuid.addAttribute(attribute("FileName", file.name))
      tiffData.addChild(uuid)
    }
    insert(tiffData, into: pixels, at: afterChannels)
  }

  /// The `Channel` elements the builder writes for `d`, wrapped in one element.
  static func channelsFragment(_ d: ExportedImageDescription) -> String {
    "<C xmlns=\"\(OMEXMLBuilder.namespace)\">" + OMEXMLBuilder.channelElements(d, index: 0) + "</C>"
  }

  /// Inserts `child` at `index` (appended at the end: Foundation on Linux cannot insert into an
  /// element without children).
  static func insert(_ child: XMLNode, into parent: XMLElement, at index: Int) {
    if index >= parent.childCount { parent.addChild(child) } else { parent.insertChild(child, at: index) }
  }

  static func elements(of parent: XMLElement, named name: String) -> [XMLElement] {
    (parent.children ?? []).compactMap { $0 as? XMLElement }.filter { $0.localName == name }
  }

  static func descendants(of parent: XMLElement, named name: String) -> [XMLElement] {
    var found: [XMLElement] = []
    for child in (parent.children ?? []).compactMap({ $0 as? XMLElement }) {
      if child.localName == name { found.append(child) }
      found += descendants(of: child, named: name)
    }
    return found
  }

  static func attribute(_ name: String, _ value: String) -> XMLNode {
    let node = XMLNode(kind: .attribute)
    node.name = name
    node.stringValue = value
    return node
  }

  /// Sets attribute `name`, leaving out characters XML 1.0 cannot hold (as ``OMEXMLBuilder`` does).
  static func set(_ element: XMLElement, _ name: String, _ value: String) {
    element.removeAttribute(forName: name)
    var text = String.UnicodeScalarView()
    text.append(contentsOf: value.unicodeScalars.filter(OMEXMLBuilder.isXMLCharacter))
    element.addAttribute(attribute(name, String(text)))
  }
}
