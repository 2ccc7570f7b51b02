import ZarrIO

/// A coordinate system as declared in 0.6 metadata.
struct DeclaredSystem {
  var name: String
  var axes: [DeclaredAxis]
}

extension Walk {
  /// 0.6 coordinate systems: named, unique, each with valid axes.
  func checkCoordinateSystems(_ value: JSONValue?, pointer p: String, sink s: inout FindingSink, imageRules: Bool) -> [DeclaredSystem] {
    guard let value else {
      s.error("coordinate-systems.missing", String(p.dropLast("/coordinateSystems".count)), "0.6 metadata needs \"coordinateSystems\"")
      return []
    }
    guard let list = value.arrayValue, !list.isEmpty else {
      s.error("schema.type", p, "\"coordinateSystems\" must be a non-empty list")
      return []
    }
    var out: [DeclaredSystem] = []
    var seen: Set<String> = []
    for (i, cs) in list.enumerated() {
      let cp = "\(p)/\(i)"
      guard let o = cs.objectValue, let name = o["name"]?.stringValue, !name.isEmpty else {
        s.error("coordinate-systems.name", cp, "coordinate system \(i) needs a non-empty string \"name\"")
        continue
      }
      if !seen.insert(name).inserted { s.error("coordinate-systems.unique", cp + "/name", "the coordinate system name '\(name)' is used twice") }
      var axes: [DeclaredAxis] = []
      if let list = o["axes"]?.arrayValue {
        var names: Set<String> = []
        for (j, a) in list.enumerated() {
          guard let an = a["name"]?.stringValue, !an.isEmpty else {
            s.error("axes.name", "\(cp)/axes/\(j)", "axis \(j) of '\(name)' needs a non-empty string \"name\"")
            continue
          }
          if !names.insert(an).inserted { s.error("axes.unique-names", "\(cp)/axes/\(j)/name", "the axis name '\(an)' is used twice in '\(name)'") }
          let type = a["type"]?.stringValue.map(AxisType.init(rawValue:))
          if let u = a["unit"]?.stringValue { checkUnit(u, type: type, axis: an, pointer: "\(cp)/axes/\(j)/unit", sink: &s) }
          axes.append(DeclaredAxis(name: an, type: type?.rawValue))
        }
        checkOrientations(list, pointer: cp + "/axes", sink: &s)
      } else {
        s.error("coordinate-systems.axes", cp, "coordinate system '\(name)' needs an \"axes\" list")
      }
      out.append(DeclaredSystem(name: name, axes: axes))
    }
    if imageRules, let first = out.first {
      // The image's own (intrinsic) system follows the image axis rules; 0.6 also allows a system of
      // array axes only (index space, at least two).
      if current.hasFreeAxes {
        checkFreeAxisRules(first.axes, pointer: p + "/0/axes", sink: &s)
      } else if first.axes.count >= 2, first.axes.allSatisfy({ $0.type == .array }) {
        if first.axes.count > 5 { s.error("axes.count", p + "/0/axes", "an image needs 2 to 5 axes, but this one has \(first.axes.count)") }
      } else {
        var local = s
        checkAxisRules(first.axes, pointer: p + "/0/axes", sink: &local)
        s = local
      }
    }
    return out
  }

  /// A 0.6 multiscale: coordinate systems, per-level transforms into one system, multiscale-level transforms.
  func checkMultiscale06(_ ms: JSONObject, pointer mp: String, sink s: inout FindingSink) -> (axes: [DeclaredAxis]?, scales: [[Double]?]) {
    let systems = checkCoordinateSystems(ms["coordinateSystems"], pointer: mp + "/coordinateSystems", sink: &s, imageRules: true)
    let byName = Dictionary(systems.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    guard let list = ms["datasets"]?.arrayValue else {
      s.error("datasets.missing", mp, "the multiscale image needs a \"datasets\" list")
      return (systems.first?.axes, [])
    }
    if list.isEmpty { s.error("datasets.empty", mp + "/datasets", "\"datasets\" must list at least one resolution level") }
    var scales: [[Double]?] = []
    var intrinsic: String?
    for (i, d) in list.enumerated() {
      let dp = "\(mp)/datasets/\(i)"
      guard let path = d["path"]?.stringValue else {
        s.error("datasets.path", dp, "level \(i) needs a string \"path\"")
        scales.append(nil)
        continue
      }
      guard let ts = d["coordinateTransformations"]?.arrayValue, ts.count == 1 else {
        s.error("transforms.count", dp + "/coordinateTransformations", "level \(i) needs exactly one coordinate transformation")
        scales.append(nil)
        continue
      }
      let tp = dp + "/coordinateTransformations/0"
      checkReferenceForms(ts[0], pointer: tp, sink: &s)
      let t: Transformation
      do { t = try Transformation(json: ts[0], pointer: tp) } catch {
        s.error("schema.type", error.pointer ?? tp, error.message)
        scales.append(nil)
        continue
      }
      var scale: [Double]?
      switch t.kind {
      case .scale(let v): scale = v
      case .identity: scale = nil
      case .sequence(let parts):
        if parts.count == 2, case .scale(let v) = parts[0].kind, case .translation = parts[1].kind { scale = v } else {
          s.error("transforms.type", tp, "a level's transformation must be scale, identity, or a sequence of scale then translation")
        }
      default:
        s.error("transforms.type", tp + "/type", "a level's transformation must be scale, identity, or a sequence of scale then translation, not \(t.type)")
      }
      checkLevelReferences(t, level: i, path: path, pointer: tp, sink: &s)
      let output = t.output?.name
      if let output {
        if byName[output] == nil {
          s.error("transforms.output", tp + "/output", "level \(i) maps into '\(output)', which is not one of the coordinate systems")
        }
        if let intrinsic, intrinsic != output {
          s.error("transforms.output", tp + "/output", "level \(i) maps into '\(output)' but level 0 maps into '\(intrinsic)'; all levels must share one system")
        }
        if intrinsic == nil { intrinsic = output }
      } else {
        s.error("transforms.output", tp, "the transformation of level \(i) needs an \"output\" coordinate system")
      }
      let dim = output.flatMap { byName[$0]?.axes.count } ?? systems.first?.axes.count
      if let dim { checkParameters(t, inputDim: dim, outputDim: dim, pointer: tp, sink: &s) }
      if let scale, scale.contains(where: { !($0 > 0) }) {
        s.error("transforms.scale-positive", tp, "scale factors must be positive")
      }
      scales.append(scale)
    }
    if let extra = ms["coordinateTransformations"]?.arrayValue {
      for (i, v) in extra.enumerated() {
        let tp = "\(mp)/coordinateTransformations/\(i)"
        checkReferenceForms(v, pointer: tp, sink: &s)
        guard let t = try? Transformation(json: v, pointer: tp) else {
          s.error("schema.type", tp, "transformation \(i) is malformed")
          continue
        }
        let ins = t.input?.name, outs = t.output?.name
        for (ref, what) in [(ins, "input"), (outs, "output")] {
          if let ref, byName[ref] == nil { s.error("transforms.\(what)", "\(tp)/\(what)", "'\(ref)' is not one of the coordinate systems") }
        }
        if let intrinsic, ins != intrinsic, outs != intrinsic {
          s.error("transforms.graph", tp, "a multiscale-level transformation must start or end in the image's system '\(intrinsic)'")
        }
        if let a = ins.flatMap({ byName[$0] }), let b = outs.flatMap({ byName[$0] }) {
          checkParameters(t, inputDim: a.axes.count, outputDim: b.axes.count, pointer: tp, sink: &s)
        }
      }
    }
    let axes = intrinsic.flatMap { byName[$0]?.axes } ?? systems.first?.axes
    return (axes, scales)
  }

  /// A level's transformation starts from the level's own array and ends in a named system. Since
  /// 0.6.dev4 (and in 0.6 and 0.9): `input` is `{"path": "<the dataset's path>"}` without `name`,
  /// `output` has a `name` and no `path`. Older drafts named the array by `name` or a string.
  func checkLevelReferences(_ t: Transformation, level i: Int, path: String, pointer tp: String, sink s: inout FindingSink) {
    guard !current.allowsStringReferences else {
      if let input = t.input, input.path != nil || input.name != nil, (input.path ?? input.name) != path {
        s.error("transforms.input", tp + "/input", "the transformation of level \(i) must start from its own array '\(path)'")
      }
      return
    }
    if let input = t.input {
      if let p = input.path {
        if p != path { s.error("transforms.input", tp + "/input/path", "the transformation of level \(i) must start from its own array '\(path)', not '\(p)'") }
        if input.name != nil { s.error("transforms.input", tp + "/input/name", "the input of level \(i) names its array by \"path\" only; leave out \"name\"") }
      } else {
        s.error("transforms.input", tp + "/input", "the input of level \(i) must give its array as {\"path\": \"\(path)\"}")
      }
    } else {
      s.error("transforms.input", tp, "the transformation of level \(i) needs an \"input\": {\"path\": \"\(path)\"}")
    }
    if let output = t.output, output.path != nil {
      s.error("transforms.output", tp + "/output/path", "the output of level \(i) is a coordinate system of this image: give its \"name\" only, no \"path\"")
    }
  }

  /// `input`/`output` of a transformation are objects `{"name", "path"}` (plain strings before 0.6.dev4).
  func checkReferenceForms(_ json: JSONValue, pointer p: String, sink s: inout FindingSink) {
    guard !current.allowsStringReferences else { return }
    for key in ["input", "output"] {
      if let v = json[key], v.stringValue != nil {
        s.error("transforms.reference", "\(p)/\(key)",
          "\"\(key)\" must be an object like {\"name\": \"...\"} or {\"path\": \"...\"}, not a string (since 0.6.dev4)")
      }
    }
  }

  /// Parameter shapes of one transformation between systems of `inputDim` and `outputDim` axes.
  func checkParameters(_ t: Transformation, inputDim n: Int, outputDim m: Int, pointer p: String, sink s: inout FindingSink) {
    switch t.kind {
    case .scale(let v), .translation(let v):
      checkFinite(v, what: "the \(t.type)", pointer: p, sink: &s)
      if t.path != nil, !current.allowsParameterPaths {
        s.error("transforms.vector", p, "a \(t.type) gives its numbers inline; a \"path\" to an array is not allowed (since 0.6.dev3)")
      }
      if t.path == nil, v.count != n {
        s.error("transforms.length", p, "the \(t.type) has \(v.count) values but the coordinate system has \(n) axes")
      }
      if n != m { s.error("transforms.length", p, "a \(t.type) must map between systems of equal dimension (\(n) -> \(m))") }
    case .mapAxis(let perm):
      if Set(perm) != Set(0..<perm.count) || perm.count != m {
        s.error("transforms.map-axis", p, "mapAxis \(perm) must be a permutation of 0..<\(m)")
      }
    case .affine(let rows):
      checkFinite(rows.flatMap { $0 }, what: "the affine", pointer: p, sink: &s)
      if t.path == nil, rows.count != m || rows.contains(where: { $0.count != n + 1 }) {
        s.error("transforms.affine-shape", p, "the affine must have \(m) rows of \(n + 1) numbers (outputs x (inputs + 1))")
      }
    case .rotation(let r):
      guard t.path == nil else { break }
      checkFinite(r.flatMap { $0 }, what: "the rotation", pointer: p, sink: &s)
      if r.count != n || r.contains(where: { $0.count != n }) || n != m {
        s.error("transforms.rotation", p, "the rotation must be a \(n)x\(n) matrix")
      } else if n > CoordinateMapping.maxDimension {
        s.error("transforms.rotation", p, "the rotation has \(n) dimensions; at most \(CoordinateMapping.maxDimension) are supported")
      } else if !isRotation(r) {
        s.error("transforms.rotation", p, "the rotation matrix must be orthonormal with determinant 1")
      }
    case .sequence(let parts):
      for (i, part) in parts.enumerated() where !isDimensionFree(part) {
        if case .mapAxis = part.kind { continue }
        checkParameters(part, inputDim: n, outputDim: n == m ? n : (i == parts.count - 1 ? m : n),
                        pointer: "\(p)/transformations/\(i)", sink: &s)
      }
    case .byDimension(let parts):
      var covered: [Int] = []
      for (i, part) in parts.enumerated() {
        if part.inputAxes.contains(where: { $0 < 0 || $0 >= n }) || part.outputAxes.contains(where: { $0 < 0 || $0 >= m }) {
          s.error("transforms.by-dimension", "\(p)/transformations/\(i)", "axis indices out of range")
        }
        covered += part.outputAxes
        checkParameters(part.transformation, inputDim: part.inputAxes.count, outputDim: part.outputAxes.count,
                        pointer: "\(p)/transformations/\(i)/transformation", sink: &s)
      }
      if covered.sorted() != Array(0..<m) {
        s.error("transforms.by-dimension", p, "byDimension must cover each output axis exactly once (covers \(covered.sorted()))")
      }
    case .bijection(let f, let inv):
      checkParameters(f, inputDim: n, outputDim: m, pointer: p + "/forward", sink: &s)
      checkParameters(inv, inputDim: m, outputDim: n, pointer: p + "/inverse", sink: &s)
    case .inverseOf(let inner):
      checkParameters(inner, inputDim: m, outputDim: n, pointer: p + "/transformation", sink: &s)
    case .other(let type):
      s.error("transforms.type", p + "/type", "unknown or malformed transformation '\(type)'")
    case .projectAxis(let dropped, let created):
      if dropped.isEmpty && created.isEmpty {
        s.error("transforms.project-axis", p, "projectAxis needs droppedInputs or createdOutputs")
      }
      if Set(dropped).count != dropped.count || dropped.contains(where: { $0 < 0 || $0 >= n }) {
        s.error("transforms.project-axis", p, "droppedInputs \(dropped) must be distinct input axes (0..<\(n))")
      }
      if Set(created).count != created.count || created.contains(where: { $0 < 0 || $0 >= m }) {
        s.error("transforms.project-axis", p, "createdOutputs \(created) must be distinct output axes (0..<\(m))")
      }
      if n - dropped.count + created.count != m {
        s.error("transforms.project-axis", p,
          "projectAxis maps \(n) axes to \(m), but dropping \(dropped.count) and creating \(created.count) gives \(n - dropped.count + created.count)")
      }
    case .identity, .displacements, .coordinates:
      break
    }
  }

  private func isDimensionFree(_ t: Transformation) -> Bool {
    if case .identity = t.kind { return true }
    return false
  }

  /// R·Rᵀ = I and det R = 1, within 1e-6.
  func isRotation(_ r: [[Double]]) -> Bool {
    guard let m = Matrix(r) else { return false }
    return m.isOrthonormal(tolerance: 1e-6) && abs(m.determinant - 1) < 1e-6
  }

  /// A 0.6 scene: transformations between coordinate systems of referenced images.
  mutating func checkScene(_ node: RawNode, version: NGFFVersion) {
    var s = sink(node.path)
    let p = base(node) + "/scene"
    guard let scene = node.ome["scene"]?.objectValue else {
      s.error("schema.type", p, "\"scene\" must be an object")
      add(s)
      return
    }
    let systems = scene["coordinateSystems"].map { checkCoordinateSystems($0, pointer: p + "/coordinateSystems", sink: &s, imageRules: false) } ?? []
    guard let list = scene["coordinateTransformations"]?.arrayValue else {
      s.error("scene.transformations", p, "a scene needs a \"coordinateTransformations\" list")
      add(s)
      return
    }
    var refs: [(String, String, String)] = []
    let systemNames = Set(systems.map(\.name))
    let byName = Dictionary(systems.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    var graph = Graph()
    for cs in systems { graph.add("#" + cs.name) }
    for (i, v) in list.enumerated() {
      let tp = "\(p)/coordinateTransformations/\(i)"
      checkReferenceForms(v, pointer: tp, sink: &s)
      let t: Transformation
      do { t = try Transformation(json: v, pointer: tp) } catch {
        s.error("schema.type", error.pointer ?? tp, error.message)
        continue
      }
      for (ref, what) in [(t.input, "input"), (t.output, "output")] {
        guard let ref else { s.error("scene.reference", tp, "scene transformation \(i) needs an \"\(what)\""); continue }
        if let path = ref.path, let name = ref.name { refs.append((path, name, "\(tp)/\(what)")) }
        else if let name = ref.name, ref.path == nil, !systemNames.contains(name) {
          s.error("scene.reference", "\(tp)/\(what)", "'\(name)' is neither a scene coordinate system nor given with a path")
        }
        if !ref.extra.isEmpty || ref.id != nil {
          s.error("scene.reference", "\(tp)/\(what)", "a reference has only \"name\" and \"path\"")
        }
      }
      if case .other(let type) = t.kind { s.error("transforms.type", tp + "/type", "unknown or malformed transformation '\(type)'") }
      // Between two systems of the scene itself, the parameters must fit their axes.
      if t.input?.path == nil, t.output?.path == nil, let a = t.input?.name.flatMap({ byName[$0] }),
        let b = t.output?.name.flatMap({ byName[$0] })
      {
        checkParameters(t, inputDim: a.axes.count, outputDim: b.axes.count, pointer: tp, sink: &s)
      }
      if let a = t.input?.name, let b = t.output?.name {
        graph.connect((t.input?.path ?? "") + "#" + a, (t.output?.path ?? "") + "#" + b)
      }
    }
    let groups = graph.components
    if groups.count > 1 {
      let names = groups.map { "{" + $0.sorted().map { $0.hasPrefix("#") ? String($0.dropFirst()) : $0 }.joined(separator: ", ") + "}" }
      s.error("transforms.graph", p + "/coordinateTransformations",
        "the scene's transformations do not connect all its coordinate systems; they fall apart into \(groups.count) groups: \(names.joined(separator: " "))")
    }
    add(s)
    guard !documentOnly else { return }
    for (path, name, pointer) in refs {
      let target = joinKey(node.path, path)
      let loaded = load(target)
      var s = sink(node.path)
      guard let image = loaded else {
        if !options.metadataOnly { s.error("scene.reference", pointer, "the referenced image '\(path)' does not exist") }
        add(s)
        continue
      }
      let names = (image.ome["multiscales"]?.arrayValue ?? []).flatMap { $0["coordinateSystems"]?.arrayValue ?? [] }.compactMap { $0["name"]?.stringValue }
      if !names.contains(name) {
        s.error("scene.reference", pointer, "the image '\(path)' has no coordinate system named '\(name)'")
      }
      add(s)
      let (kind, _) = classify(image)
      visit(image, as: kind, context: .none)
    }
  }

  /// Coordinate systems and the transformations between them, outside an image.
  mutating func checkTransformations(_ node: RawNode) {
    var s = sink(node.path)
    let b = base(node)
    if node.isNamespaced, node.ome["version"] != nil, (current.draft06 ?? 99) >= 3 {
      s.error("scene.missing", b, "coordinate systems and transformations between images belong under \"scene\" (since 0.6.dev3)")
    }
    var systems = node.ome["coordinateSystems"].map { checkCoordinateSystems($0, pointer: b + "/coordinateSystems", sink: &s, imageRules: false) } ?? []
    if let a = node.ome["arrayCoordinateSystem"] {
      systems += checkCoordinateSystems(.array([a]), pointer: b + "/arrayCoordinateSystem", sink: &s, imageRules: false)
    }
    let single: JSONValue? = node.ome["type"] != nil ? .array([.object(node.ome)]) : nil
    if let list = node.ome["coordinateTransformations"] ?? single {
      guard let list = list.arrayValue else {
        s.error("schema.type", b + "/coordinateTransformations", "\"coordinateTransformations\" must be a list")
        add(s)
        return
      }
      let byName = Dictionary(systems.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
      for (i, v) in list.enumerated() {
        let tp = single != nil ? b : "\(b)/coordinateTransformations/\(i)"
        let t: Transformation
        do { t = try Transformation(json: v, pointer: tp) } catch {
          s.error("schema.type", error.pointer ?? tp, error.message)
          continue
        }
        var dims: [Int] = []
        for (ref, what) in [(t.input, "input"), (t.output, "output")] {
          guard let name = ref?.name, ref?.path == nil, !systems.isEmpty else { continue }
          if let cs = byName[name] { dims.append(cs.axes.count) } else {
            s.error("transforms.\(what)", "\(tp)/\(what)", "'\(name)' is not one of the coordinate systems")
          }
        }
        if dims.count == 2 { checkParameters(t, inputDim: dims[0], outputDim: dims[1], pointer: tp, sink: &s) }
        else if case .other(let type) = t.kind { s.error("transforms.type", tp + "/type", "unknown or malformed transformation '\(type)'") }
      }
    }
    add(s)
  }

  /// An RFC-8 collection: typed, named nodes; local Zarr nodes are validated too.
  mutating func checkCollection(_ node: RawNode, version: NGFFVersion) {
    // In a store with a location, a collection met on the walk gets the full collection rules (JSON documents,
    // cycles, escapes, URLs), with the hierarchy's root as the boundary.
    if !documentOnly, let storeLocation = store.location, let ome = node.attributes["ome"],
       let top = try? CollectionNode(json: ome, pointer: "/attributes/ome") {
      let doc = CollectionDocument(root: top, location: storeLocation.appending(node.path), storage: .zarrGroup)
      var resolution = CollectionResolver.Options()
      resolution.maxNodes = options.maxNodes
      let report = Validator(options: options).validate(collection: doc, resolution: resolution, root: storeLocation)
      findings += report.findings
      nodesChecked += max(0, report.nodesChecked - 1)
      return
    }
    var s = sink(node.path)
    var ids: Set<String> = []
    var targets: [(String, String)] = []
    checkCollectionNode(node.ome, pointer: base(node), isRoot: true, ids: &ids, targets: &targets, sink: &s)
    add(s)
    guard !documentOnly else { return }
    for (rel, pointer) in targets {
      // A referenced Zarr node is a hierarchy of its own, with its own version.
      let saved = rootVersion
      rootVersion = nil
      defer { rootVersion = saved }
      visitChild(StorePath.resolve(rel, from: node.path), context: .none, from: node.path, pointer: pointer, rule: "collection.path",
                 missing: "the node path '\(rel)' does not exist", missingIsWarning: options.metadataOnly)
    }
  }

  func checkCollectionNode(_ o: JSONObject, pointer p: String, isRoot: Bool, ids: inout Set<String>,
                           targets: inout [(String, String)], sink s: inout FindingSink) {
    guard let type = o["type"]?.stringValue else {
      s.error("collection.type", p, "a collection node needs a string \"type\"")
      return
    }
    if let name = o["name"] {
      if (name.stringValue ?? "").isEmpty { s.error("collection.name", p + "/name", "a node name must be a non-empty string") }
    } else {
      s.error("collection.name", p, "a collection node needs a \"name\"")
    }
    if let id = o["id"] {
      if let str = id.stringValue, !str.isEmpty, str.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) {
        if !ids.insert(str).inserted { s.error("collection.id", p + "/id", "the id '\(str)' is used twice in this document") }
      } else {
        s.error("collection.id", p + "/id", "an id must be letters, digits, '-', '_' or '.'")
      }
    }
    if isRoot, o["version"] == nil { s.error("version.missing", p, "the root node needs a \"version\"") }
    let nodeType = CollectionNodeType(type)
    if !nodeType.isNodeType {
      s.error("collection.type", p + "/type", "unknown node type '\(type)' (custom types need a prefix, like 'mobie:table')")
    }
    let hasNodes = o["nodes"] != nil, path = o["path"]
    if nodeType == .collection || nodeType == .multiscale {
      if hasNodes == (path != nil) && !(isRoot && !hasNodes && path == nil && nodeType == .multiscale) {
        s.error("collection.nodes", p, "a \(type) node has either \"nodes\" or \"path\", not \(hasNodes ? "both" : "neither")")
      }
    }
    if let path {
      let rel: String?
      let kind: String?
      if let str = path.stringValue { rel = str; kind = PathReference(inferring: str).type }
      else if let po = path.objectValue { rel = po["path"]?.stringValue; kind = po["type"]?.stringValue }
      else { rel = nil; kind = nil; s.error("schema.type", p + "/path", "\"path\" must be an object {\"type\", \"path\"}") }
      if let rel, kind == "zarr", !rel.contains("://") || rel.hasPrefix("file://") == false && !rel.contains("://") {
        targets.append((rel.hasPrefix("./") ? String(rel.dropFirst(2)) : rel, p + "/path"))
      }
    }
    if let nodes = o["nodes"] {
      guard let list = nodes.arrayValue else {
        s.error("schema.type", p + "/nodes", "\"nodes\" must be a list")
        return
      }
      var names: Set<String> = []
      for (i, n) in list.enumerated() {
        guard let child = n.objectValue else { s.error("schema.type", "\(p)/nodes/\(i)", "node \(i) must be an object"); continue }
        if let name = child["name"]?.stringValue, !names.insert(name).inserted {
          s.error("collection.name", "\(p)/nodes/\(i)/name", "the name '\(name)' is used twice in this collection")
        }
        if child["version"] != nil, let v = child["version"], v != o["version"], o["version"] != nil {
          s.error("version.inconsistent", "\(p)/nodes/\(i)/version", "a nested node must not declare a different version")
        }
        checkCollectionNode(child, pointer: "\(p)/nodes/\(i)", isRoot: false, ids: &ids, targets: &targets, sink: &s)
      }
    }
  }
}

/// An undirected graph of coordinate systems, for the "connected transform graph" rule.
struct Graph {
  private var parent: [String: String] = [:]

  mutating func add(_ node: String) { if parent[node] == nil { parent[node] = node } }

  mutating func find(_ node: String) -> String {
    add(node)
    var root = node
    while let p = parent[root], p != root { root = p }
    var n = node
    while let p = parent[n], p != root { parent[n] = root; n = p }
    return root
  }

  mutating func connect(_ a: String, _ b: String) {
    let ra = find(a), rb = find(b)
    if ra != rb { parent[ra] = rb }
  }

  /// The connected groups of nodes.
  var components: [[String]] {
    var copy = self
    var groups: [String: [String]] = [:]
    for node in parent.keys { groups[copy.find(node), default: []].append(node) }
    // Each group sorted once, then the groups by their first (smallest) node.
    return groups.values.map { $0.sorted() }.sorted { $0[0] < $1[0] }
  }
}
