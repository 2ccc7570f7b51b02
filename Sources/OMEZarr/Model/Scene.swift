import ZarrIO

/// 0.6 `scene`: coordinate systems and transformations between images.
public struct Scene: Sendable, Hashable {
  public var coordinateSystems: [CoordinateSystem]?
  public var coordinateTransformations: [Transformation]
  public var extra: JSONObject = [:]

  public init(coordinateSystems: [CoordinateSystem]? = nil, coordinateTransformations: [Transformation]) {
    self.coordinateSystems = coordinateSystems
    self.coordinateTransformations = coordinateTransformations
  }

  public init(json: JSONValue, pointer: String) throws(OMEZarrError) {
    var r = try ObjectReader(json, pointer: pointer, what: "scene")
    let systems = try r.list("coordinateSystems") { (v, p) throws(OMEZarrError) in try CoordinateSystem(json: v, pointer: p) }
    let transforms = try r.list("coordinateTransformations") { (v, p) throws(OMEZarrError) in
      try Transformation(json: v, pointer: p)
    } ?? []
    self.init(coordinateSystems: systems, coordinateTransformations: transforms)
    extra = r.rest
  }

  public var json: JSONValue {
    var w = ObjectWriter()
    w.set("coordinateSystems", coordinateSystems.map { .array($0.map(\.json)) })
    w.set("coordinateTransformations", .array(coordinateTransformations.map(\.json)))
    w.merge(extra)
    return w.json
  }
}
