import ZarrIO

/// Every piece of OME metadata a node's attributes can hold, for any version.
///
/// 0.4 and earlier keep them as top-level attribute keys (`multiscales`, `omero`, `labels`,
/// `image-label`, `plate`, `well`, `bioformats2raw.layout`, `series`); 0.5+ under `attributes.ome`
/// with `ome.version`. Keys not modelled are kept in ``extra`` (inside `ome`) or stay in the user
/// attributes (top level), so read -> write loses nothing.
public struct OMEAttributes: Sendable, Hashable {
  /// The version string as written (`ome.version`, or for 0.4 a nested `version`).
  public var version: String?
  /// An image's multiscale descriptions; readers use the first (`multiscales`).
  public var multiscales: [Multiscale]?
  /// The image's per-channel rendering settings (`omero`, transitional).
  public var omero: Omero?
  /// A labels group's list of label image paths.
  public var labels: [String]?
  /// A label image's colors, properties and source image (`image-label`).
  public var imageLabel: ImageLabel?
  /// A plate's rows, columns, wells and acquisitions (`plate`).
  public var plate: Plate?
  /// A well's field-of-view images (`well`).
  public var well: Well?
  /// `bioformats2raw.layout` (always 3).
  public var bioformats2rawLayout: Int?
  /// The `OME/` group's list of series image paths.
  public var series: [String]?
  /// The 0.6 scene: coordinate systems and transformations placing images together (`scene`).
  public var scene: Scene?
  /// Other keys under `ome` (0.5+), e.g. `_creator` or RFC-8 node fields.
  public var extra: JSONObject = [:]
  /// Where the metadata was read from (under `ome`, or top-level keys); `nil` writes the version's
  /// canonical place. Kept so that writing back what was read changes nothing.
  public var namespaced: Bool?

  /// Creates empty metadata, to be filled in before writing.
  public init() {}

  static let topLevelKeys = ["multiscales", "omero", "labels", "image-label", "plate", "well", "bioformats2raw.layout", "series", "scene"]

  /// The version family (`nil` when no version is declared or it is unknown).
  public var ngffVersion: NGFFVersion? { version.flatMap(NGFFVersion.init) }

  /// Whether any OME metadata is present.
  public var isEmpty: Bool {
    version == nil && multiscales == nil && omero == nil && labels == nil && imageLabel == nil && plate == nil
      && well == nil && bioformats2rawLayout == nil && series == nil && scene == nil && extra.isEmpty
  }

  /// Reads OME metadata from a node's attributes: `ome` when present, else top-level 0.4 keys.
  public init(attributes: JSONObject) throws(OMEZarrError) {
    self.init()
    let found = OMEMetadataObject(attributes: attributes)
    let o = found.object
    if found.isNamespaced {
      namespaced = true
      try read(o, pointer: "/ome")
      extra = JSONObject(o.entries.filter { !(["version"] + Self.topLevelKeys).contains($0.key) }.map { ($0.key, $0.value) })
      version = o["version"]?.stringValue
    } else {
      try read(attributes, pointer: "")
      namespaced = isEmpty ? nil : false
      // 0.4 keeps the version inside the objects (unversioned data is read as 0.4 by OMENode).
      version = found.nestedVersion ?? omero?.version
    }
  }

  private mutating func read(_ o: JSONObject, pointer p: String) throws(OMEZarrError) {
    var r = try ObjectReader(.object(o), pointer: p, what: "attributes")
    multiscales = try r.list("multiscales") { (v, ptr) throws(OMEZarrError) in try Multiscale(json: v, pointer: ptr) }
    if let v = r.value("omero"), !v.isNull { omero = try Omero(json: v, pointer: r.child("omero")) }
    labels = try r.list("labels") { (v, ptr) throws(OMEZarrError) -> String in
      guard let s = v.stringValue else { throw OMEZarrError(.invalidMetadata, "label paths must be strings", pointer: ptr) }
      return s
    }
    if let v = r.value("image-label"), !v.isNull { imageLabel = try ImageLabel(json: v, pointer: r.child("image-label")) }
    if let v = r.value("plate"), !v.isNull { plate = try Plate(json: v, pointer: r.child("plate")) }
    if let v = r.value("well"), !v.isNull { well = try Well(json: v, pointer: r.child("well")) }
    bioformats2rawLayout = try r.int("bioformats2raw.layout")
    series = try r.list("series") { (v, ptr) throws(OMEZarrError) -> String in
      guard let s = v.stringValue else { throw OMEZarrError(.invalidMetadata, "series paths must be strings", pointer: ptr) }
      return s
    }
    if let v = r.value("scene"), !v.isNull { scene = try Scene(json: v, pointer: r.child("scene")) }
  }

  /// The OME keys as a JSON object, in canonical order.
  var fields: JSONObject {
    var w = ObjectWriter()
    w.set("bioformats2raw.layout", bioformats2rawLayout.map { .int(Int64($0)) })
    w.set("multiscales", multiscales.map { .array($0.map(\.json)) })
    w.set("omero", omero?.json)
    w.set("labels", labels.map { .array($0.map(JSONValue.string)) })
    w.set("image-label", imageLabel?.json)
    w.set("plate", plate?.json)
    w.set("well", well?.json)
    w.set("series", series.map { .array($0.map(JSONValue.string)) })
    w.set("scene", scene?.json)
    return w.object
  }

  /// `attributes` with this OME metadata written in its version's layout (replacing any OME keys
  /// there, keeping all other keys): under `ome` for 0.5+, at the top level for 0.4.
  public func applied(to attributes: JSONObject) -> JSONObject {
    var out = attributes
    out["ome"] = nil
    if namespaced ?? ngffVersion?.isNamespaced ?? false {
      var ome = JSONObject()
      ome["version"] = version.map(JSONValue.string)
      for (k, v) in fields { ome[k] = v }
      for (k, v) in extra where ome[k] == nil { ome[k] = v }
      out["ome"] = .object(ome)
    } else {
      for k in Self.topLevelKeys { out[k] = nil }
      for (k, v) in fields { out[k] = v }
    }
    return out
  }
}
