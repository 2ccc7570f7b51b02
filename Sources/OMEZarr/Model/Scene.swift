import ZarrIO

/// 0.6 `scene`: coordinate systems and transformations between images.
public struct Scene: Sendable, Hashable {
  /// The coordinate systems the scene defines besides those of its images.
  public var coordinateSystems: [CoordinateSystem]?
  /// Transformations between coordinate systems of the images (and the scene's own).
  public var coordinateTransformations: [Transformation]
  /// Keys not modelled, kept as written.
  public var extra: JSONObject = [:]

  /// A scene of `coordinateTransformations` (and optionally its own coordinate systems).
  public init(coordinateSystems: [CoordinateSystem]? = nil, coordinateTransformations: [Transformation]) {
    self.coordinateSystems = coordinateSystems
    self.coordinateTransformations = coordinateTransformations
  }

  /// Reads a `scene` object; `pointer` locates it for error messages.
  public init(json: JSONValue, pointer: String) throws(OMEZarrError) {
    var r = try ObjectReader(json, pointer: pointer, what: "scene")
    let systems = try r.list("coordinateSystems") { (v, p) throws(OMEZarrError) in try CoordinateSystem(json: v, pointer: p) }
    let transforms = try r.list("coordinateTransformations") { (v, p) throws(OMEZarrError) in
      try Transformation(json: v, pointer: p)
    } ?? []
    self.init(coordinateSystems: systems, coordinateTransformations: transforms)
    extra = r.rest
  }

  /// The scene as written in the metadata (unknown keys kept).
  public var json: JSONValue {
    var w = ObjectWriter()
    w.set("coordinateSystems", coordinateSystems.map { .array($0.map(\.json)) })
    w.set("coordinateTransformations", .array(coordinateTransformations.map(\.json)))
    w.merge(extra)
    return w.json
  }
}
