import ZarrIO

/// What an OME-Zarr node is, decided from its metadata keys.
///
/// There is one classifier, ``classify(ome:isArray:)``, working from the raw metadata: ``OMENode``,
/// the ``Validator`` and RFC-8 document detection all use it, so they agree on every node.
public enum OMENodeKind: String, Sendable, Hashable, CustomStringConvertible {
  /// A multiscale image (`multiscales`).
  case image
  /// A label image (`image-label`; without `multiscales` it is a malformed label image).
  case labelImage = "label-image"
  /// A labels group (`labels`: a list of label images).
  case labels
  /// A high-content-screening plate (`plate`).
  case plate
  /// A well of a plate (`well`).
  case well
  /// A bioformats2raw root (`bioformats2raw.layout`) holding several images.
  case bioformats2raw
  /// The `OME/` group of a bioformats2raw root (`series`).
  case series
  /// A 0.6 scene relating images (`scene`).
  case scene
  /// An RFC-8 collection (`ome.type == "collection"`, or a typed node with `nodes`).
  case collection
  /// Coordinate systems and transformations between them, outside an image (0.6 documents).
  case transformations
  /// A Zarr array.
  case array
  /// A group without OME metadata.
  case group

  /// The kind's name as the CLI and reports print it (`label-image`).
  public var description: String { rawValue }

  /// The kind of a node whose OME metadata object is `ome` (`attributes.ome` for 0.5+, the attributes
  /// themselves for 0.4); any array is `.array`.
  ///
  /// `plate` takes precedence over `bioformats2raw.layout` (the spec's rule), and `image-label` makes
  /// a label image with or without `multiscales` (without, it is malformed; the validator says so).
  public static func classify(ome: JSONObject, isArray: Bool = false) -> OMENodeKind {
    if isArray { return .array }
    let type = ome["type"]?.stringValue.map(CollectionNodeType.init(rawValue:))
    if type == .collection || ome["nodes"] != nil && ome["type"] != nil { return .collection }
    if ome["plate"] != nil { return .plate }
    if ome["well"] != nil { return .well }
    if ome["bioformats2raw.layout"] != nil { return .bioformats2raw }
    if ome["multiscales"] != nil || ome["image-label"] != nil { return ome["image-label"] != nil ? .labelImage : .image }
    if ome["labels"] != nil { return .labels }
    if ome["series"] != nil { return .series }
    if ome["scene"] != nil { return .scene }
    if ome["coordinateTransformations"] != nil || ome["coordinateSystems"] != nil || ome["arrayCoordinateSystem"] != nil
      || type != nil && ome["version"] == nil && ome["nodes"] == nil {
      return .transformations
    }
    return .group
  }

  /// The kind of a node from its Zarr attributes (v3 `attributes`, v2 `.zattrs`).
  public static func classify(attributes: JSONObject, isArray: Bool = false) -> OMENodeKind {
    classify(ome: OMEMetadataObject(attributes: attributes).object, isArray: isArray)
  }

  /// Whether the metadata object `ome` is an RFC-8 node document: a `type` (or the draft's `node_type`)
  /// that is a known or prefixed node type, or any typed node with `nodes`; or the seed design's
  /// `collection` object with `members`.
  public static func isCollectionNode(_ ome: JSONObject) -> Bool {
    if let t = (ome["type"] ?? ome["node_type"])?.stringValue {
      return CollectionNodeType(rawValue: t).isNodeType || ome["nodes"] != nil
    }
    return ome["collection"]?.objectValue?["members"] != nil
  }
}

/// Where a node's OME metadata lives in its Zarr attributes: under `ome` (0.5 and later) or as
/// top-level keys (0.4 and earlier). Every reader of OME metadata starts here.
struct OMEMetadataObject {
  /// The OME metadata object: `attributes.ome` when it is an object, else the attributes themselves.
  var object: JSONObject
  /// Whether the metadata is under `ome` (0.5+).
  var isNamespaced: Bool

  init(attributes: JSONObject) {
    if let o = attributes["ome"]?.objectValue {
      object = o
      isNamespaced = true
    } else {
      object = attributes
      isNamespaced = false
    }
  }

  /// The keys a 0.4 node carries its `version` in, in the order they are consulted
  /// (`multiscales` means its first entry).
  static let versionKeys04 = ["multiscales", "plate", "well", "image-label"]

  /// The version as written: `ome.version`, else the 0.4 places (``nestedVersion``).
  var declaredVersion: String? { object["version"]?.stringValue ?? nestedVersion }

  /// The 0.4 version: `multiscales[0].version`, `plate.version`, `well.version` or
  /// `image-label.version`, whichever comes first.
  var nestedVersion: String? {
    for key in Self.versionKeys04 {
      let value = key == "multiscales" ? object[key]?.arrayValue?.first : object[key]
      if let v = value?["version"]?.stringValue { return v }
    }
    return nil
  }
}
