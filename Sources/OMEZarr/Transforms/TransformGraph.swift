import ZarrIO

/// A coordinate system in a hierarchy: the node that declares it (its store path) and its name.
/// An array's own coordinate system (the pixel grid of a level) has the array's path and no name.
public struct CoordinateSystemID: Sendable, Hashable, Comparable, CustomStringConvertible {
  /// The store path of the node declaring the system, or of the array for an array's system.
  public var path: String
  /// The system's name in that node; `nil` for an array's own coordinate system.
  public var name: String?

  /// Identifies the system `name` of the node at `path` (`nil` name: the array at `path`).
  public init(path: String, name: String?) {
    self.path = path
    self.name = name
  }

  /// `path/name`, `name` at the root, or the array path.
  public var description: String {
    guard let name else { return path.isEmpty ? "/" : path }
    return path.isEmpty ? name : "\(path)/\(name)"
  }

  /// Orders by path, then by name.
  public static func < (a: Self, b: Self) -> Bool { (a.path, a.name ?? "") < (b.path, b.name ?? "") }
}

/// The coordinate systems of a hierarchy and the transformations between them (RFC-5, NGFF 0.6):
/// systems are nodes, transformations edges, walked in either direction.
///
/// It gathers, starting from one node, every multiscale's coordinate systems (0.4/0.5 images get one
/// named `physical`), each level's transformation from its array coordinate system, multiscale-wide
/// transformations, `scene` transformations, and the nodes those reference by `path` (sub-images,
/// label images), up to ``maxNodes``. Older 0.6 drafts' spellings are read too: string references,
/// `inverseOf`, flattened `byDimension` items.
///
///     var graph = try TransformGraph(node: try OMENode.open(path: "scene.ome.zarr"))
///     let world = try graph.transform(points: [[0, 10, 20]], from: "tile_1/physical", to: "world")
public struct TransformGraph: Sendable {
  /// A transformation between two systems, with where it was declared.
  public struct Edge: Sendable {
    /// The system the transformation maps from.
    public var input: CoordinateSystemID
    /// The system the transformation maps to.
    public var output: CoordinateSystemID
    /// The transformation as declared.
    public var transformation: Transformation
    /// The node whose metadata holds it (parameter paths resolve against it).
    public var node: String
    /// Where in that node's OME metadata, e.g. `/scene/coordinateTransformations/0`.
    public var pointer: String
  }

  /// The store the hierarchy is read from.
  public let store: any Store
  /// The node the graph was built from.
  public let root: String
  /// Declared coordinate systems with their axes.
  public internal(set) var systems: [CoordinateSystemID: [Axis]] = [:]
  /// Array coordinate systems seen (level arrays), with their dimension when known.
  public internal(set) var arrays: [CoordinateSystemID: Int?] = [:]
  /// Every transformation gathered, as declared (forward direction).
  public internal(set) var edges: [Edge] = []
  /// Nodes read so far.
  public internal(set) var nodes: Set<String> = []
  /// Where relative system names (`sub/path/name`) are resolved from: the root node, or the
  /// directory of a standalone collection document.
  var base: String
  /// RFC-8 node ids that stand for a system: a singlescale's id names its array's system.
  var aliases: [CoordinateSystemID: CoordinateSystemID] = [:]
  /// The most nodes read while following references.
  public var maxNodes = 1000

  /// Builds the graph of `node` and everything its transformations reference.
  public init(node: OMENode) throws {
    store = node.store
    root = node.path
    base = node.path
    try add(node)
  }

  /// Builds the graph of the node at `path` in `store`.
  public init(store: any Store, path: String = "") throws {
    try self.init(node: try OMENode.open(in: store, path: path))
  }

  // MARK: Gathering

  mutating func add(_ node: OMENode) throws {
    guard nodes.insert(node.path).inserted else { return }
    try checkNodeLimit(node.path)
    let ome = node.metadata
    let prefix = ome.namespaced == true ? "/ome" : ""
    for (i, original) in (ome.multiscales ?? []).enumerated() {
      let ms = original.axes != nil && original.coordinateSystems == nil
        ? ((try? Upgrade.toCoordinateSystems(original)) ?? original) : original
      let mp = "\(prefix)/multiscales/\(i)"
      for cs in ms.coordinateSystems ?? [] { systems[CoordinateSystemID(path: node.path, name: cs.name)] = cs.axes }
      for (j, d) in ms.datasets.enumerated() {
        let array = CoordinateSystemID(path: node.resolve(d.path), name: nil)
        if arrays[array] == nil { arrays[array] = .some(nil) }
        for (k, t) in d.coordinateTransformations.enumerated() {
          // The input is the level's array, whatever the reference says (the specification's rule).
          let output = t.output.map { reference($0, in: node) } ?? ms.intrinsicSystem.map { CoordinateSystemID(path: node.path, name: $0.name) }
          guard let output else { continue }
          edges.append(Edge(input: array, output: output, transformation: t, node: node.path,
            pointer: "\(mp)/datasets/\(j)/coordinateTransformations/\(k)"))
        }
      }
      for (k, t) in (ms.coordinateTransformations ?? []).enumerated() {
        try addEdge(t, in: node, pointer: "\(mp)/coordinateTransformations/\(k)")
      }
    }
    if let scene = ome.scene {
      for cs in scene.coordinateSystems ?? [] { systems[CoordinateSystemID(path: node.path, name: cs.name)] = cs.axes }
      for (k, t) in scene.coordinateTransformations.enumerated() {
        try addEdge(t, in: node, pointer: "\(prefix)/scene/coordinateTransformations/\(k)")
      }
    }
    // Bare coordinate systems and transformations (0.6 documents outside an image; older drafts).
    let extra = ome.extra
    if let list = extra["coordinateSystems"]?.arrayValue {
      for (i, v) in list.enumerated() {
        let cs = try CoordinateSystem(json: v, pointer: "\(prefix)/coordinateSystems/\(i)")
        systems[CoordinateSystemID(path: node.path, name: cs.name)] = cs.axes
      }
    }
    if let list = extra["coordinateTransformations"]?.arrayValue {
      for (k, v) in list.enumerated() {
        let p = "\(prefix)/coordinateTransformations/\(k)"
        try addEdge(try Transformation(json: v, pointer: p), in: node, pointer: p)
      }
    }
    resolveArrayNames()
  }

  func checkNodeLimit(_ path: String) throws {
    guard nodes.count <= maxNodes else {
      throw OMEZarrError(.unsupported, "more than \(maxNodes) nodes referenced by transformations", path: path)
    }
  }

  /// Older drafts referenced an array's system by a bare string, read as a name: an undeclared
  /// name that is the path of a known array names that array's system.
  mutating func resolveArrayNames() {
    for i in edges.indices {
      for keyPath in [\Edge.input, \Edge.output] as [WritableKeyPath<Edge, CoordinateSystemID>] {
        let id = edges[i][keyPath: keyPath]
        guard let name = id.name, systems[id] == nil else { continue }
        let array = CoordinateSystemID(path: StorePath.resolve(name, from: id.path), name: nil)
        if arrays[array] != nil { edges[i][keyPath: keyPath] = array }
      }
    }
  }

  private mutating func addEdge(_ t: Transformation, in node: OMENode, pointer: String) throws {
    guard let i = t.input, let o = t.output else {
      throw OMEZarrError(.invalidMetadata, "a \(t.type) transformation needs an input and an output", path: node.path, pointer: pointer)
    }
    edges.append(Edge(input: reference(i, in: node), output: reference(o, in: node), transformation: t, node: node.path,
      pointer: pointer))
    for ref in [i, o] {
      guard let p = ref.path else { continue }
      try follow(StorePath.resolve(p, from: node.path))
    }
  }

  /// Reads the node at `path` (a sub-image, a label image, an RFC-8 document) if it has not been read.
  mutating func follow(_ path: String) throws {
    guard !nodes.contains(path) else { return }
    if path.hasSuffix(".json") {
      try addDocument(at: path)
      return
    }
    let child: OMENode
    do {
      child = try OMENode.open(in: store, path: path)
    } catch let e as ZarrError where e.code == .notFound {
      return  // metadata-only documents: the reference stays a name without axes
    }
    if let ome = child.zarr.attributes["ome"]?.objectValue, CollectionDocument.isNode(ome) {
      try addDocument(at: path)
      return
    }
    if case .array(let a) = child.zarr {
      arrays[CoordinateSystemID(path: path, name: nil)] = a.shape.count
      return
    }
    try add(child)
  }

  /// The system a reference names, relative to the node holding it. A reference with only a path
  /// names that node's intrinsic system, or an array's own system.
  private func reference(_ r: CoordinateSystemRef, in node: OMENode) -> CoordinateSystemID {
    let path = r.path.map { StorePath.resolve($0, from: node.path) } ?? node.path
    return CoordinateSystemID(path: path, name: r.name ?? r.id)
  }

  // MARK: Finding systems

  /// The system `spec` names: a name declared at the root node, else a name declared once anywhere
  /// in the graph, else an array (level) path, else `node/path/name`; or a JSON reference
  /// `{"name": …, "path": …}`.
  /// - Throws: `.invalidArgument` when the name is unknown or ambiguous.
  public mutating func system(_ spec: String) throws -> CoordinateSystemID {
    if spec.hasPrefix("{"), let json = try? JSONValue.parse(spec), json["path"]?.objectValue != nil {
      // An RFC-8 reference: {"id": ..., "path": {"type": ..., "path": ...}}.
      let r = try NodeReference(json: json, pointer: "")
      var id = CoordinateSystemID(path: root, name: r.id)
      if let p = r.path {
        let key = documentKey(p.path, from: base)
        try follow(key)
        id = CoordinateSystemID(path: key, name: r.id)
      }
      id = aliases[id] ?? id
      guard isKnown(id) else { throw unknown(spec) }
      return id
    }
    if spec.hasPrefix("{"), let json = try? JSONValue.parse(spec) {
      let r = try CoordinateSystemRef(json: json, pointer: "")
      let path = r.path.map { StorePath.resolve($0, from: base) } ?? root
      if r.path != nil { try follow(path) }
      let id = CoordinateSystemID(path: path, name: r.name)
      guard isKnown(id) else { throw unknown(spec) }
      return id
    }
    let atRoot = CoordinateSystemID(path: root, name: spec)
    if isKnown(atRoot) { return atRoot }
    if let alias = aliases[atRoot] { return alias }
    let named = Set(allSystems.filter { $0.name == spec })
    if named.count == 1, let only = named.first { return only }
    if named.count > 1 {
      throw OMEZarrError(.invalidArgument,
        "coordinate system '\(spec)' is ambiguous: it is declared in \(named.sorted().map { "'\($0)'" }.joined(separator: ", "))")
    }
    let array = CoordinateSystemID(path: StorePath.resolve(spec, from: base), name: nil)
    if arrays[array] != nil || edges.contains(where: { $0.input == array || $0.output == array }) { return array }
    if let slash = spec.lastIndex(of: "/") {
      let path = StorePath.resolve(String(spec[..<slash]), from: base)
      try follow(path)
      let id = CoordinateSystemID(path: path, name: String(spec[spec.index(after: slash)...]))
      if isKnown(id) { return id }
      try follow(array.path)
      resolveArrayNames()
      if arrays[array] != nil { return array }
    }
    throw unknown(spec)
  }

  private func unknown(_ spec: String) -> OMEZarrError {
    let known = allSystems.sorted().map { "'\($0)'" }
    return OMEZarrError(.invalidArgument,
      "unknown coordinate system '\(spec)'" + (known.isEmpty ? "" : "; known: " + known.prefix(20).joined(separator: ", ")))
  }

  /// Every system: declared, array, or referenced by a transformation.
  public var allSystems: Set<CoordinateSystemID> {
    var all = Set(systems.keys).union(arrays.keys)
    for e in edges { all.insert(e.input); all.insert(e.output) }
    return all
  }

  private func isKnown(_ id: CoordinateSystemID) -> Bool {
    systems[id] != nil || arrays[id] != nil || edges.contains { $0.input == id || $0.output == id }
  }

  /// The number of axes of a system, when known (declared axes, or the array's shape).
  public func dimension(of id: CoordinateSystemID) -> Int? {
    if let axes = systems[id] { return axes.count }
    if let d = arrays[id] ?? nil { return d }
    if id.name == nil, let a = try? ZarrArray.open(in: store, path: id.path) { return a.shape.count }
    return nil
  }

  // MARK: Paths

  /// One step of a path: an edge walked forward or backward.
  public struct Step: Sendable, CustomStringConvertible {
    /// The transformation walked.
    public var edge: Edge
    /// Whether the edge is walked backwards, from its output to its input, through its inverse.
    public var inverted: Bool
    /// The step for messages: the transformation's type and name, and the systems it goes between.
    public var description: String {
      let t = edge.transformation
      let what = t.name.map { "\(t.type) '\($0)'" } ?? t.type
      return inverted ? "inverse of \(what) (\(edge.output) -> \(edge.input))" : "\(what) (\(edge.input) -> \(edge.output))"
    }
  }

  /// The shortest chain of transformations from `source` to `target` (forward edges preferred).
  /// - Throws: `.inconsistent` when the systems are not connected, `.unsupported` when the only
  ///   connection needs the inverse of a transformation that has none.
  public func path(from source: CoordinateSystemID, to target: CoordinateSystemID) throws -> [Step] {
    if source == target { return [] }
    if let steps = search(source, target, allowNonInvertible: false) { return steps }
    if let steps = search(source, target, allowNonInvertible: true), let bad = steps.first(where: { $0.inverted }) {
      throw OMEZarrError(.unsupported,
        "'\(source)' and '\(target)' are connected only through the inverse of \(bad.edge.transformation.type) at \(bad.edge.pointer) (node '\(bad.edge.node.isEmpty ? "/" : bad.edge.node)'), which cannot be inverted")
    }
    throw OMEZarrError(.inconsistent, "no transformation path from '\(source)' to '\(target)'")
  }

  private func search(_ source: CoordinateSystemID, _ target: CoordinateSystemID, allowNonInvertible: Bool) -> [Step]? {
    var previous: [CoordinateSystemID: (CoordinateSystemID, Step)] = [:]
    var queue = [source], head = 0
    var seen: Set<CoordinateSystemID> = [source]
    // The edges leaving each system (forward ones first, in declaration order), built once, so the
    // search is linear in the size of the graph.
    var leaving: [CoordinateSystemID: [(CoordinateSystemID, Step)]] = [:]
    for e in edges { leaving[e.input, default: []].append((e.output, Step(edge: e, inverted: false))) }
    for e in edges where allowNonInvertible || e.transformation.mayHaveInverse {
      leaving[e.output, default: []].append((e.input, Step(edge: e, inverted: true)))
    }
    while head < queue.count {
      let here = queue[head]
      head += 1
      let next = leaving[here] ?? []
      for (to, step) in next where seen.insert(to).inserted {
        previous[to] = (here, step)
        if to == target {
          var steps: [Step] = []
          var at = target
          while let (from, s) = previous[at] {
            steps.append(s)
            at = from
          }
          return steps.reversed()
        }
        queue.append(to)
      }
    }
    return nil
  }

  /// The mapping from `source` to `target`: the transformations on the path, inverted where walked
  /// backwards, composed.
  public func mapping(from source: CoordinateSystemID, to target: CoordinateSystemID) throws -> CoordinateMapping {
    let steps = try path(from: source, to: target)
    guard !steps.isEmpty else {
      guard let d = dimension(of: source) else {
        throw OMEZarrError(.invalidArgument, "the dimension of '\(source)' is unknown")
      }
      return .identity(d)
    }
    var parts: [CoordinateMapping] = []
    for s in steps { parts.append(try mapping(of: s)) }
    return parts.count == 1 ? parts[0] : try CoordinateMapping(chaining: parts)
  }

  /// The mapping of one step: its transformation with the dimensions of its systems, inverted when
  /// walked backwards. Errors name the step and where it was declared.
  private func mapping(of s: Step) throws(OMEZarrError) -> CoordinateMapping {
    let e = s.edge
    do {
      let t = e.transformation.resolvingAxisNames(input: systems[e.input], output: systems[e.output])
      let m = try CoordinateMapping(t, inputDimension: dimension(of: e.input), outputDimension: dimension(of: e.output),
        parameters: ParameterSource(store: store, base: e.node))
      return s.inverted ? try m.inverse() : m
    } catch {
      throw OMEZarrError(error.code, "\(s): \(error.message)", path: e.node, pointer: e.pointer)
    }
  }

  /// Maps points between two systems named as ``system(_:)`` accepts.
  public mutating func transform(points: [[Double]], from source: String, to target: String) throws -> [[Double]] {
    let s = try system(source), t = try system(target)
    return try mapping(from: s, to: t).apply(points: points)
  }
}

extension Transformation {
  /// Older drafts named the axes of `byDimension` items (`"input_axes": ["dim_0"]`) instead of
  /// indexing them: the index form, looking the names up in the input and output systems (an
  /// array's system has the axes `dim_0`, `dim_1`, ...). Unchanged when a name is not found.
  func resolvingAxisNames(input: [Axis]?, output: [Axis]?) -> Transformation {
    guard case .other("byDimension") = kind, let items = extra["transformations"]?.arrayValue else { return self }
    func index(_ name: String, _ axes: [Axis]?) -> Int? {
      if let axes { return axes.firstIndex { $0.name == name } }
      return name.hasPrefix("dim_") ? Int(name.dropFirst(4)) : nil
    }
    var parts: [ByDimensionPart] = []
    for item in items {
      guard var o = item.objectValue else { return self }
      for (keys, axes) in [(["inputAxes", "input_axes"], input), (["outputAxes", "output_axes"], output)] {
        for k in keys {
          guard let names = o[k]?.arrayValue?.compactMap(\.stringValue), !names.isEmpty else { continue }
          let indices = names.compactMap { index($0, axes) }
          guard indices.count == names.count else { return self }
          o[k] = .array(indices.map { .int(Int64($0)) })
        }
      }
      guard let part = try? ByDimensionPart(json: .object(o), pointer: "") else { return self }
      parts.append(part)
    }
    var t = self
    t.kind = .byDimension(parts)
    t.extra["transformations"] = nil
    return t
  }

  /// False for transformations that can never be inverted (a projection that drops axes, a
  /// coordinates field with nearest interpolation); others may still fail (a singular affine, a
  /// type this library does not read).
  var mayHaveInverse: Bool {
    switch kind {
    case .projectAxis(let dropped, let created): return dropped.isEmpty && created.isEmpty
    case .coordinates(let i): return i != "nearest"
    case .sequence(let list): return list.allSatisfy(\.mayHaveInverse)
    case .byDimension(let parts): return parts.allSatisfy(\.transformation.mayHaveInverse)
    default: return true
    }
  }
}

extension OMENode {
  /// The coordinate systems and transformations reachable from this node.
  public func transformGraph() throws -> TransformGraph { try TransformGraph(node: self) }

  /// Maps points from one coordinate system to another (names as ``TransformGraph/system(_:)`` accepts).
  public func transform(points: [[Double]], from source: String, to target: String) throws -> [[Double]] {
    var graph = try transformGraph()
    return try graph.transform(points: points, from: source, to: target)
  }
}

extension OMEImage {
  /// The mapping from level `level`'s array coordinates (pixel centres at integers) to the image's
  /// intrinsic (physical) coordinate system.
  public func levelMapping(_ level: Int) throws -> CoordinateMapping {
    guard multiscale.datasets.indices.contains(level) else {
      throw OMEZarrError(.invalidArgument, "level \(level) does not exist (\(multiscale.datasets.count) levels)")
    }
    guard let intrinsic = multiscale.intrinsicSystem else {
      throw OMEZarrError(.invalidMetadata, "the image has no coordinate system", path: node.path)
    }
    let graph = try node.transformGraph()
    let array = CoordinateSystemID(path: node.resolve(multiscale.datasets[level].path), name: nil)
    return try graph.mapping(from: array, to: CoordinateSystemID(path: node.path, name: intrinsic.name))
  }

  /// Physical coordinates of continuous pixel indices of level `level` (pixel `i` spans `[i-0.5, i+0.5)`).
  public func physicalCoordinates(ofPixels pixels: [[Double]], level: Int = 0) throws -> [[Double]] {
    try levelMapping(level).apply(points: pixels)
  }

  /// Continuous pixel indices in level `level` of physical coordinates; the pixel containing a point
  /// is `floor(index + 0.5)` per axis.
  public func pixelCoordinates(ofPhysical points: [[Double]], level: Int = 0) throws -> [[Double]] {
    try levelMapping(level).inverse().apply(points: points)
  }
}
