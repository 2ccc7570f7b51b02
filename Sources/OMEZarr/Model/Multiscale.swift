import ZarrIO

/// One resolution level of a multiscale image: `{"path": "0", "coordinateTransformations": [...]}`.
public struct Dataset: Sendable, Hashable {
  /// The level's array path, relative to the multiscale group (`path`).
  public var path: String
  /// The transformations from the level's array indices to the image's coordinates (`coordinateTransformations`).
  public var coordinateTransformations: [Transformation]
  /// Keys this model does not know, kept so they are written back unchanged.
  public var extra: JSONObject = [:]

  /// Creates a level from its array path and its transformations.
  public init(path: String, coordinateTransformations: [Transformation]) {
    self.path = path
    self.coordinateTransformations = coordinateTransformations
  }

  /// Reads a dataset from its JSON object; `pointer` locates it in error messages.
  public init(json: JSONValue, pointer: String) throws(OMEZarrError) {
    var r = try ObjectReader(json, pointer: pointer, what: "a dataset")
    self.init(path: try r.requiredString("path", what: "a dataset"),
      coordinateTransformations: try r.list("coordinateTransformations") { (v, p) throws(OMEZarrError) in
        try Transformation(json: v, pointer: p)
      } ?? [])
    extra = r.rest
  }

  /// The dataset as written to metadata, unknown keys kept.
  public var json: JSONValue {
    var w = ObjectWriter()
    w.set("path", .string(path))
    w.set("coordinateTransformations", .array(coordinateTransformations.map(\.json)))
    w.merge(extra)
    return w.json
  }

  /// The scale and translation this level's transformations amount to (`nil` when they are not
  /// scale/translation/identity, or lengths disagree with `ndim`).
  public func scaleAndTranslation(ndim: Int) -> (scale: [Double], translation: [Double])? {
    Transformation.scaleAndTranslation(coordinateTransformations, ndim: ndim)
  }
}

extension Transformation {
  /// Composes a list of identity/scale/translation (and sequences of them) into one scale and one
  /// translation, applied in order: x -> s * x + t.
  public static func scaleAndTranslation(_ list: [Transformation], ndim: Int) -> (scale: [Double], translation: [Double])? {
    var s = [Double](repeating: 1, count: ndim), t = [Double](repeating: 0, count: ndim)
    func apply(_ tr: Transformation) -> Bool {
      switch tr.kind {
      case .identity: return true
      case .scale(let v):
        guard v.count == ndim else { return false }
        for i in 0..<ndim {
          s[i] *= v[i]
          t[i] *= v[i]
        }
        return true
      case .translation(let v):
        guard v.count == ndim else { return false }
        for i in 0..<ndim { t[i] += v[i] }
        return true
      case .sequence(let inner): return inner.allSatisfy(apply)
      default: return false
      }
    }
    return list.allSatisfy(apply) ? (s, t) : nil
  }
}

/// A multiscale image description (one entry of `multiscales`).
///
/// 0.4/0.5 describe the axes in ``axes``; 0.6 in ``coordinateSystems`` (the datasets map to the
/// first, "intrinsic" one unless their output names another).
public struct Multiscale: Sendable, Hashable {
  /// A name for the image (`name`).
  public var name: String?
  /// The nested version of 0.4 and earlier.
  public var version: String?
  /// The image's axes, in array dimension order (`axes`; 0.4/0.5).
  public var axes: [Axis]?
  /// The coordinate systems, the intrinsic one first (`coordinateSystems`; 0.6).
  public var coordinateSystems: [CoordinateSystem]?
  /// The resolution levels, level 0 (full resolution) first (`datasets`).
  public var datasets: [Dataset]
  /// Transformations that apply to every level (0.4/0.5), or to other coordinate systems (0.6) (`coordinateTransformations`).
  public var coordinateTransformations: [Transformation]?
  /// The downsampling method (e.g. `gaussian`, `mean`).
  public var type: String?
  /// Details of the downsampling (method, version, arguments), kept as written (`metadata`).
  public var metadata: JSONValue?
  /// Keys this model does not know, kept so they are written back unchanged.
  public var extra: JSONObject = [:]

  /// Creates a multiscale from its levels and either 0.4/0.5 axes or 0.6 coordinate systems.
  public init(name: String? = nil, axes: [Axis]? = nil, coordinateSystems: [CoordinateSystem]? = nil, datasets: [Dataset],
              type: String? = nil, metadata: JSONValue? = nil) {
    self.name = name
    self.axes = axes
    self.coordinateSystems = coordinateSystems
    self.datasets = datasets
    self.type = type
    self.metadata = metadata
  }

  /// Reads one `multiscales` entry from its JSON object; `pointer` locates it in error messages.
  public init(json: JSONValue, pointer: String) throws(OMEZarrError) {
    var r = try ObjectReader(json, pointer: pointer, what: "a multiscales entry")
    let version = try r.string("version")
    let name = try r.string("name")
    let axes = try r.list("axes") { (v, p) throws(OMEZarrError) in try Axis(json: v, pointer: p) }
    let systems = try r.list("coordinateSystems") { (v, p) throws(OMEZarrError) in try CoordinateSystem(json: v, pointer: p) }
    guard let datasets = try r.list("datasets", { (v, p) throws(OMEZarrError) in try Dataset(json: v, pointer: p) }) else {
      throw OMEZarrError(.invalidMetadata, "a multiscales entry needs \"datasets\"", pointer: pointer)
    }
    self.init(name: name, axes: axes, coordinateSystems: systems, datasets: datasets)
    self.version = version
    coordinateTransformations = try r.list("coordinateTransformations") { (v, p) throws(OMEZarrError) in
      try Transformation(json: v, pointer: p)
    }
    type = try r.string("type")
    metadata = r.value("metadata")
    extra = r.rest
  }

  /// The multiscale entry as written to metadata, unknown keys kept.
  public var json: JSONValue {
    var w = ObjectWriter()
    w.set("version", version.map(JSONValue.string))
    w.set("name", name.map(JSONValue.string))
    w.set("axes", axes.map { .array($0.map(\.json)) })
    w.set("coordinateSystems", coordinateSystems.map { .array($0.map(\.json)) })
    w.set("datasets", .array(datasets.map(\.json)))
    w.set("coordinateTransformations", coordinateTransformations.map { .array($0.map(\.json)) })
    w.set("type", type.map(JSONValue.string))
    w.set("metadata", metadata)
    w.merge(extra)
    return w.json
  }

  /// The system the levels' pixels map to: 0.6 the output of the datasets' transformations (else the
  /// first coordinate system); 0.4/0.5 a system named `physical` (as ``Upgrade`` names it) with their ``axes``.
  public var intrinsicSystem: CoordinateSystem? {
    if let systems = coordinateSystems, !systems.isEmpty {
      if let target = datasets.first?.coordinateTransformations.first?.output?.name,
        let cs = systems.first(where: { $0.name == target })
      {
        return cs
      }
      return systems[0]
    }
    return axes.map { CoordinateSystem(name: "physical", axes: $0) }
  }

  /// The axes of the levels (0.4/0.5 ``axes``; 0.6 the intrinsic coordinate system's).
  public var levelAxes: [Axis] { intrinsicSystem?.axes ?? [] }

  /// Scale and translation of level `i` in the intrinsic system, including (0.4/0.5) the
  /// multiscale-wide transformations, which apply after the level's own.
  public func scaleAndTranslation(level i: Int) -> (scale: [Double], translation: [Double])? {
    let n = levelAxes.count
    guard datasets.indices.contains(i), let own = datasets[i].scaleAndTranslation(ndim: n) else { return nil }
    guard coordinateSystems == nil, let global = coordinateTransformations, !global.isEmpty else { return own }
    guard let g = Transformation.scaleAndTranslation(global, ndim: n) else { return own }
    return (zip(own.scale, g.scale).map(*), (0..<n).map { own.translation[$0] * g.scale[$0] + g.translation[$0] })
  }
}
