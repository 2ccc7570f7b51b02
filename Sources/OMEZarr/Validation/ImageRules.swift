import ZarrIO

/// An axis as declared, for the checks that compare axes with each other and with arrays.
struct DeclaredAxis {
  var name: String
  var type: AxisType?

  init(name: String, type: String?) {
    self.name = name
    self.type = type.map(AxisType.init(rawValue:))
  }
}

extension Walk {
  /// The pointer prefix of OME metadata in this node's attributes.
  func base(_ node: RawNode) -> String { node.isNamespaced ? "/ome" : "" }

  /// Checks a multiscale image (or label image) and its levels; returns what its labels are checked against.
  mutating func checkImage(_ node: RawNode, version: NGFFVersion, context: NodeContext) -> ImageSummary? {
    var s = sink(node.path)
    let ome = node.ome
    let p = base(node) + "/multiscales"
    guard let list = ome["multiscales"]?.arrayValue else {
      if ome["multiscales"] == nil, ome["image-label"] != nil {
        // An image-label document alone (as the specification's examples show it).
        let msg = "a label image also needs \"multiscales\" (its resolution levels)"
        if documentOnly || options.metadataOnly { s.warning("label.multiscales", base(node), msg) } else { s.error("label.multiscales", base(node), msg) }
        checkImageLabel(node, version: version, sink: &s)
      } else {
        s.error("schema.type", p, "\"multiscales\" must be a list, not \(ome["multiscales"]?.typeName ?? "missing")")
      }
      add(s)
      return nil
    }
    if list.isEmpty { s.error("multiscales.empty", p, "\"multiscales\" must hold at least one multiscale image") }
    var summary: ImageSummary?
    var levelChecks: [(Int, [String], [DeclaredAxis])] = []
    for (m, entry) in list.enumerated() {
      let mp = "\(p)/\(m)"
      guard let ms = entry.objectValue else {
        s.error("schema.type", mp, "each multiscale must be a JSON object, not \(entry.typeName)")
        continue
      }
      let axes: [DeclaredAxis]?
      var scales: [[Double]?] = []
      if version.hasCoordinateSystems, ms["coordinateSystems"] != nil || ms["axes"] == nil {
        let r = checkMultiscale06(ms, pointer: mp, sink: &s)
        axes = r.axes
        scales = r.scales
      } else {
        axes = checkAxes(ms["axes"], pointer: mp + "/axes", version: version, sink: &s)
        scales = checkDatasets04(ms, pointer: mp, axisCount: axes?.count, version: version, sink: &s)
        if let t = ms["coordinateTransformations"] {
          _ = checkScaleTranslation(t, pointer: mp + "/coordinateTransformations", axisCount: axes?.count, version: version, sink: &s)
        }
      }
      if ms["name"]?.stringValue == nil {
        if let n = ms["name"] { s.error("schema.type", mp + "/name", "\"name\" must be a string, not \(n.typeName)") } else {
          s.should("multiscales.name", mp, "the multiscale image should have a \"name\"")
        }
      }
      if ms["type"] == nil {
        s.should("multiscales.type", mp, "the multiscale image should say how its levels were made (\"type\", e.g. \"gaussian\")")
      } else if ms["type"]?.stringValue == nil {
        s.error("schema.type", mp + "/type", "\"type\" must be a string")
      }
      if let m = ms["metadata"], m.objectValue == nil {
        s.error("schema.type", mp + "/metadata", "\"metadata\" must be an object")
      }
      if ms["metadata"] == nil {
        s.should("multiscales.metadata", mp, "the multiscale image should describe its downscaling in \"metadata\"")
      }
      if case .v04 = version {
        if ms["version"] == nil, ome["version"] == nil {
          s.should("version.missing", mp, "the multiscale image should declare its version (\"version\": \"0.4\")")
        }
      }
      checkScaleOrder(scales, pointer: mp + "/datasets", sink: &s)
      let paths = (ms["datasets"]?.arrayValue ?? []).map { $0["path"]?.stringValue }
      var seen: Set<String> = []
      for (i, path) in paths.enumerated() {
        guard let path else { continue }
        if !seen.insert(path).inserted {
          s.error("datasets.unique-paths", "\(mp)/datasets/\(i)/path", "level \(i) repeats the path '\(path)' of an earlier level")
        }
      }
      levelChecks.append((m, paths.map { $0 ?? "" }, axes ?? []))
      if m == 0 {
        summary = ImageSummary(levelCount: paths.count, shapes: [], axisNames: axes?.map(\.name) ?? [])
      }
    }
    if let omero = ome["omero"] {
      checkOmero(omero, pointer: base(node) + "/omero", version: version, sink: &s)
    }
    let isLabel: Bool
    if case .label = context { isLabel = true } else { isLabel = ome["image-label"] != nil }
    if isLabel { checkImageLabel(node, version: version, sink: &s) }
    add(s)

    // Levels: the arrays the datasets point at.
    for (m, paths, axes) in levelChecks {
      let shapes = checkLevels(node, multiscale: m, paths: paths, axes: axes, version: version,
                               isLabel: isLabel, context: context)
      if m == 0 { summary?.shapes = shapes }
    }
    // channel count vs the c axis (needs the level 0 shape)
    if let omero = ome["omero"], let channels = omero["channels"]?.arrayValue, let summary,
       let c = summary.axisNames.firstIndex(of: "c") ?? levelChecks.first?.2.firstIndex(where: { $0.type == .channel }),
       let shape = summary.shapes.first ?? nil, c < shape.count, shape[c] != channels.count {
      var s = sink(node.path)
      s.warning("omero.channel-count", base(node) + "/omero/channels",
        "omero lists \(channels.count) channel(s) but the image has \(shape[c]) along its channel axis")
      add(s)
    }
    return summary
  }

  /// 0.4/0.5 axes: count, types, order, unique names, units.
  func checkAxes(_ value: JSONValue?, pointer p: String, version: NGFFVersion, sink s: inout FindingSink) -> [DeclaredAxis]? {
    guard let value else {
      s.error("axes.missing", String(p.dropLast(5)), "the multiscale image needs \"axes\"")
      return nil
    }
    guard let list = value.arrayValue else {
      s.error("schema.type", p, "\"axes\" must be a list, not \(value.typeName)")
      return nil
    }
    var axes: [DeclaredAxis] = []
    for (i, a) in list.enumerated() {
      let ap = "\(p)/\(i)"
      guard let o = a.objectValue else {
        // 0.3 wrote axes as plain names; 0.4+ needs objects.
        s.error("schema.type", ap, "each axis must be an object with a \"name\", not \(a.typeName)")
        axes.append(DeclaredAxis(name: a.stringValue ?? "", type: nil))
        continue
      }
      guard let name = o["name"]?.stringValue else {
        s.error("axes.name", ap, "axis \(i) needs a string \"name\"")
        axes.append(DeclaredAxis(name: "", type: o["type"]?.stringValue))
        continue
      }
      if name.isEmpty { s.error("axes.name", ap + "/name", "axis \(i) has an empty name") }
      var type: String?
      if let t = o["type"] {
        if let ts = t.stringValue { type = ts } else { s.error("schema.type", ap + "/type", "the type of axis '\(name)' must be a string") }
      }
      if let u = o["unit"] {
        if let us = u.stringValue { checkUnit(us, type: type.map(AxisType.init(rawValue:)), axis: name, pointer: ap + "/unit", sink: &s) } else {
          s.error("schema.type", ap + "/unit", "the unit of axis '\(name)' must be a string")
        }
      }
      if o["units"] != nil, o["unit"] == nil {
        s.warning("axes.units-typo", ap + "/units", "axis '\(name)' has \"units\"; the key is \"unit\", so this unit is ignored")
      }
      axes.append(DeclaredAxis(name: name, type: type))
    }
    checkAxisRules(axes, pointer: p, sink: &s)
    checkOrientations(list, pointer: p, sink: &s)
    return axes
  }

  /// The rules on the axes of an image: 0.4 to 0.6 fix their number, types and order; 0.9 (RFC-3)
  /// keeps only unique names as a MUST (see ``checkFreeAxisRules(_:pointer:sink:)``).
  func checkAxisRules(_ axes: [DeclaredAxis], pointer p: String, sink s: inout FindingSink) {
    if current.hasFreeAxes {
      checkFreeAxisRules(axes, pointer: p, sink: &s)
      return
    }
    if axes.count < 2 || axes.count > 5 {
      s.error("axes.count", p, "an image needs 2 to 5 axes, but this one has \(axes.count)")
    }
    var seen: Set<String> = []
    for (i, a) in axes.enumerated() where !a.name.isEmpty && !seen.insert(a.name).inserted {
      s.error("axes.unique-names", "\(p)/\(i)/name", "the axis name '\(a.name)' is used twice; axis names must be unique")
    }
    let space = axes.filter { $0.type == .space }.count
    if space < 2 || space > 3 {
      s.error("axes.space-count", p, "an image needs 2 or 3 axes of type \"space\", but this one has \(space)")
    }
    if axes.filter({ $0.type == .time }).count > 1 {
      s.error("axes.time-count", p, "an image may have at most one axis of type \"time\"")
    }
    let other = axes.filter { $0.type != .time && $0.type != .space }
    if other.count > 1 {
      s.error("axes.channel-count", p,
        "an image may have at most one axis that is neither space nor time (a channel or custom axis), but it has \(other.count): \(other.map(\.name).joined(separator: ", "))")
    }
    // Order: time, then channel/custom, then space.
    func rank(_ a: DeclaredAxis) -> Int { a.type == .time ? 0 : a.type == .space ? 2 : 1 }
    for i in axes.indices.dropFirst() where rank(axes[i]) < rank(axes[i - 1]) {
      s.error("axes.order", p,
        "the axes are in the order \(axes.map(\.name).joined(separator: ", ")); they must be time first, then channel (or custom), then space")
      break
    }
    let spaceNames = axes.filter { $0.type == .space }.map { $0.name.lowercased() }
    if Set(spaceNames) == ["x", "y", "z"], spaceNames != ["z", "y", "x"] {
      s.warning("axes.zyx", p, "the space axes are \(spaceNames.joined()); they should be in the order zyx")
    } else if Set(spaceNames) == ["x", "y"], spaceNames != ["y", "x"] {
      s.warning("axes.zyx", p, "the space axes are \(spaceNames.joined()); they should be in the order yx")
    }
  }

  /// 0.9 (RFC-3) axis rules. MUST: at least one axis, unique names (the count equal to the arrays'
  /// dimensions is `level.ndim`). SHOULD (warnings): 2 or 3 space axes, named `y`, `x` or `z`, `y`,
  /// `x`; a time axis named `t`; no names that differ only in case.
  func checkFreeAxisRules(_ axes: [DeclaredAxis], pointer p: String, sink s: inout FindingSink) {
    if axes.isEmpty { s.error("axes.count", p, "an image needs at least one axis") }
    var seen: Set<String> = []
    for (i, a) in axes.enumerated() where !a.name.isEmpty && !seen.insert(a.name).inserted {
      s.error("axes.unique-names", "\(p)/\(i)/name", "the axis name '\(a.name)' is used twice; axis names must be unique")
    }
    var folded: [String: String] = [:]
    for (i, a) in axes.enumerated() where !a.name.isEmpty {
      let key = a.name.lowercased()
      if let other = folded[key], other != a.name {
        s.warning("axes.case-names", "\(p)/\(i)/name", "the axis names '\(other)' and '\(a.name)' differ only in case; they should differ otherwise")
      } else if folded[key] == nil {
        folded[key] = a.name
      }
    }
    let space = axes.filter { $0.type == .space }.map(\.name)
    if axes.allSatisfy({ $0.type == .array }) {
      // An index-space system (array axes only) has no space axes to name.
    } else if space.count < 2 || space.count > 3 {
      s.warning("axes.space-count", p, "the image has \(space.count) axes of type \"space\"; it should have 2 or 3")
    } else if !space.isEmpty, space != ["y", "x"], space != ["z", "y", "x"] {
      s.warning("axes.space-names", p, "the space axes are \(space.joined(separator: ", ")); they should be y, x or z, y, x")
    }
    for (i, a) in axes.enumerated() where a.type == .time && a.name != "t" {
      s.warning("axes.time-name", "\(p)/\(i)/name", "the time axis is named '\(a.name)'; it should be named 't'")
    }
  }

  /// RFC-4 `orientation` of each axis in `list` (the raw axes of one coordinate system). In 0.9 it
  /// is an object `{"type": "anatomical", "value": ...}` with one of the 24 directions, only on
  /// space axes, and no direction (or its inverse) twice in the system. Before 0.9 it is a key the
  /// version does not define: a warning.
  func checkOrientations(_ list: [JSONValue], pointer p: String, sink s: inout FindingSink) {
    var used: [AnatomicalDirection: (index: Int, name: String)] = [:]
    for (i, a) in list.enumerated() {
      guard let o = a.objectValue, let orientation = o["orientation"] else { continue }
      let ap = "\(p)/\(i)/orientation"
      let name = o["name"]?.stringValue ?? "\(i)"
      guard current.hasAxisOrientation else {
        s.warning("orientation.version", ap, "axis '\(name)' has an \"orientation\", which OME-Zarr \(current) does not define "
          + "(RFC-4 adds it in 0.9); readers of \(current) ignore it")
        continue
      }
      guard let obj = orientation.objectValue else {
        s.error("schema.type", ap, "the orientation of axis '\(name)' must be an object {\"type\": \"anatomical\", \"value\": ...}, not \(orientation.typeName)")
        continue
      }
      if let type = obj["type"] {
        if type.stringValue != AxisOrientation.anatomicalType {
          s.error("orientation.type", ap + "/type", "the orientation type of axis '\(name)' is \(type.serialized()); the only type is \"anatomical\"")
        }
      } else {
        s.error("orientation.type", ap, "the orientation of axis '\(name)' needs \"type\": \"anatomical\"")
      }
      var direction: AnatomicalDirection?
      if let value = obj["value"] {
        direction = value.stringValue.flatMap(AnatomicalDirection.init(rawValue:))
        if direction == nil {
          s.error("orientation.value", ap + "/value", "the orientation of axis '\(name)' is \(value.serialized()), which is not one of the "
            + "24 anatomical directions (such as left-to-right, anterior-to-posterior, superior-to-inferior)")
        }
      } else {
        s.error("orientation.value", ap, "the orientation of axis '\(name)' needs a \"value\" (such as \"left-to-right\")")
      }
      if o["type"]?.stringValue != AxisType.space.rawValue {
        let type = o["type"]?.stringValue.map { "of type '\($0)'" } ?? "without a type"
        s.error("orientation.axis-type", ap, "axis '\(name)' is \(type); only axes of type \"space\" may have an orientation")
      }
      guard let direction else { continue }
      if let earlier = used[direction] ?? used[direction.inverse] {
        s.error("orientation.duplicate", ap + "/value", "axis '\(name)' is oriented \(direction), and axis '\(earlier.name)' already runs "
          + "along that line (\(used[direction] != nil ? direction : direction.inverse)); each direction and its inverse may appear once per coordinate system")
      } else {
        used[direction] = (i, name)
      }
    }
  }

  func checkUnit(_ unit: String, type: AxisType?, axis: String, pointer: String, sink s: inout FindingSink) {
    switch type {
    case .space?:
      if !Units.space.contains(unit) {
        let hint = Units.time.contains(unit) ? " (that is a unit of time)" : Units.suggestion(unit, in: Units.space)
        s.should("axes.unit", pointer, "the unit '\(unit)' of space axis '\(axis)' is not a UDUNITS length unit\(hint)")
      }
    case .time?:
      if !Units.time.contains(unit) {
        let hint = Units.space.contains(unit) ? " (that is a unit of length)" : Units.suggestion(unit, in: Units.time)
        s.should("axes.unit", pointer, "the unit '\(unit)' of time axis '\(axis)' is not a UDUNITS time unit\(hint)")
      }
    default:
      break
    }
  }

  /// 0.4/0.5 datasets: paths and per-level scale/translation; returns each level's scale.
  func checkDatasets04(_ ms: JSONObject, pointer mp: String, axisCount: Int?, version: NGFFVersion,
                       sink s: inout FindingSink) -> [[Double]?] {
    guard let value = ms["datasets"] else {
      s.error("datasets.missing", mp, "the multiscale image needs \"datasets\" (its resolution levels)")
      return []
    }
    guard let list = value.arrayValue else {
      s.error("schema.type", mp + "/datasets", "\"datasets\" must be a list, not \(value.typeName)")
      return []
    }
    if list.isEmpty { s.error("datasets.empty", mp + "/datasets", "\"datasets\" must list at least one resolution level") }
    var scales: [[Double]?] = []
    for (i, d) in list.enumerated() {
      let dp = "\(mp)/datasets/\(i)"
      guard let o = d.objectValue else {
        s.error("schema.type", dp, "level \(i) must be a JSON object, not \(d.typeName)")
        scales.append(nil)
        continue
      }
      if o["path"]?.stringValue == nil {
        s.error("datasets.path", dp, "level \(i) needs a string \"path\" naming its array")
      }
      guard let t = o["coordinateTransformations"] else {
        s.error("transforms.missing", dp, "level \(i) needs \"coordinateTransformations\" (its scale)")
        scales.append(nil)
        continue
      }
      scales.append(checkScaleTranslation(t, pointer: dp + "/coordinateTransformations", axisCount: axisCount, version: version, sink: &s))
    }
    return scales
  }

  /// A 0.4/0.5 transformation list: one scale first, at most one translation after it, vectors as long as the axes.
  func checkScaleTranslation(_ value: JSONValue, pointer p: String, axisCount n: Int?, version: NGFFVersion,
                             sink s: inout FindingSink) -> [Double]? {
    guard let list = value.arrayValue else {
      s.error("schema.type", p, "\"coordinateTransformations\" must be a list, not \(value.typeName)")
      return nil
    }
    var scale: [Double]?
    var scales = 0, translations = 0
    let lastScale = list.lastIndex { $0["type"]?.stringValue == "scale" }
    for (i, t) in list.enumerated() {
      let tp = "\(p)/\(i)"
      guard let o = t.objectValue, let type = o["type"]?.stringValue else {
        s.error("schema.type", tp, "each transformation must be an object with a string \"type\"")
        continue
      }
      switch type {
      case "scale", "translation":
        if type == "scale" {
          scales += 1
          // Only the first scale: a second one is transforms.scale-count's problem, not an order problem.
          if i != 0, scales == 1 { s.error("transforms.order", tp, "the scale must be the first transformation") }
        } else {
          translations += 1
          // Only when a scale follows: with no scale at all, transforms.scale-count says so.
          if scales == 0, let lastScale, lastScale > i {
            s.error("transforms.order", tp, "a translation must come after the scale")
          }
        }
        guard let v = o[type] else {
          let what = o["path"] != nil ? "is given by \"path\"; multiscales need the numbers inline" : "is missing"
          s.error("transforms.vector", tp, "the \(type) vector \(what)")
          continue
        }
        guard let arr = v.arrayValue else {
          s.error("schema.type", tp + "/" + type, "the \(type) must be a list of numbers")
          continue
        }
        let nums = arr.compactMap(\.doubleValue)
        if nums.count != arr.count {
          s.error("schema.type", tp + "/" + type, "the \(type) must contain numbers only")
          continue
        }
        if let n, nums.count != n {
          s.error("transforms.length", tp + "/" + type, "the \(type) has \(nums.count) values but the image has \(n) axes")
        }
        checkFinite(nums, what: "the \(type)", pointer: tp + "/" + type, sink: &s)
        if type == "scale" {
          scale = nums
          if nums.contains(where: { !($0 > 0) }) {
            if version.hasCoordinateSystems { s.error("transforms.scale-positive", tp + "/scale", "scale factors must be positive") } else {
              s.warning("transforms.scale-positive", tp + "/scale", "scale factors should be positive (a pixel cannot have zero or negative size)")
            }
          }
        }
      case "identity":
        s.error("transforms.type", tp + "/type", "multiscales allow only \"scale\" and \"translation\" here, not \"identity\"")
      default:
        s.error("transforms.type", tp + "/type", "unknown transformation type '\(type)'; multiscales allow only \"scale\" and \"translation\"")
      }
    }
    if scales != 1 {
      s.error("transforms.scale-count", p, "there must be exactly one \"scale\" transformation, not \(scales)")
    }
    if translations > 1 {
      s.error("transforms.translation-count", p, "there may be at most one \"translation\", not \(translations)")
    }
    return scale
  }

  /// Numbers too large for a double (`1e400` reads as infinity) cannot be used or written back.
  func checkFinite(_ values: [Double], what: String, pointer: String, sink s: inout FindingSink) {
    guard let i = values.firstIndex(where: { !$0.isFinite }) else { return }
    s.error("transforms.finite", pointer, "\(what) must hold finite numbers, but value \(i) is too large (\(values[i]))")
  }

  /// Levels go from finest to coarsest: scales never decrease along any axis.
  func checkScaleOrder(_ scales: [[Double]?], pointer p: String, sink s: inout FindingSink) {
    for i in scales.indices.dropFirst() {
      guard let a = scales[i - 1], let b = scales[i], a.count == b.count else { continue }
      if let j = Array(zip(a, b)).firstIndex(where: { $0 > $1 }) {
        s.error("levels.scale-order", "\(p)/\(i)",
          "level \(i) has a finer scale than level \(i - 1) along axis \(j) (\(b[j]) < \(a[j])); levels must go from the finest to the coarsest")
      }
    }
  }

  /// The arrays of one multiscale's levels: present, ndim, dtype, dimension names, shapes ordered.
  mutating func checkLevels(_ node: RawNode, multiscale m: Int, paths: [String], axes: [DeclaredAxis], version: NGFFVersion,
                            isLabel: Bool, context: NodeContext) -> [[Int]?] {
    var shapes: [[Int]?] = []
    var firstType: DataType?
    let p = base(node) + "/multiscales/\(m)/datasets"
    var checked: [String: Int] = [:]  // path -> the level that checked it (datasets.unique-paths reports repeats)
    for (i, rel) in paths.enumerated() {
      guard !rel.isEmpty, !documentOnly else { shapes.append(nil); continue }
      let path = joinKey(node.path, rel)
      if let earlier = checked[path] {
        shapes.append(shapes[earlier])
        continue
      }
      checked[path] = i
      let loaded = load(path)
      var s = sink(node.path)
      defer { add(s) }
      guard let level = loaded else {
        if !options.metadataOnly {
          s.error("level.missing", "\(p)/\(i)/path", "level \(i) (path '\(rel)') has no array at '\(path)'")
        }
        shapes.append(nil)
        continue
      }
      visited.insert(path)
      guard level.isArray else {
        s.error("level.not-array", "\(p)/\(i)/path", "level \(i) (path '\(rel)') is a group, not an array")
        shapes.append(nil)
        continue
      }
      add(s)
      s = sink(node.path)
      checkArray(level, what: "level \(i) (path '\(rel)')")
      guard let meta = level.array else { shapes.append(nil); continue }
      shapes.append(meta.shape)
      if !axes.isEmpty, meta.shape.count != axes.count {
        s.error("level.ndim", "\(p)/\(i)/path",
          "level \(i) (path '\(rel)') has \(meta.shape.count) dimensions but the image has \(axes.count) axes")
      }
      if let first = firstType, first != meta.dataType {
        let msg = "level \(i) (path '\(rel)') stores \(meta.dataType) but level 0 stores \(first); all levels must share one data type"
        if case .v04 = version { s.warning("level.dtype", "\(p)/\(i)/path", msg) } else { s.error("level.dtype", "\(p)/\(i)/path", msg) }
      }
      if firstType == nil { firstType = meta.dataType }
      if isLabel, !meta.dataType.isInteger {
        s.error("label.integer", "\(p)/\(i)/path", "label level \(i) (path '\(rel)') stores \(meta.dataType); label images must store integers")
      }
      if case .v04 = version {
        if case .v2(let sep) = meta.chunkKeyEncoding, sep != .slash {
          s.should("zarr.dimension-separator", "\(p)/\(i)/path",
            "level \(i) (path '\(rel)') uses dimension_separator '\(sep.rawValue)'; OME-Zarr 0.4 arrays use '/'")
        }
      } else if !axes.isEmpty, meta.shape.count == axes.count {
        // (With another number of dimensions, level.ndim has said it; the names cannot match either.)
        let names = axes.map(\.name)
        if let dn = meta.dimensionNames {
          if dn.map({ $0 ?? "" }) != names {
            let msg = "level \(i) (path '\(rel)') has dimension_names \(dn.map { $0 ?? "null" }) but the axes are \(names)"
            if case .v05 = version { s.error("level.dimension-names", "\(p)/\(i)/path", msg) } else { s.warning("level.dimension-names", "\(p)/\(i)/path", msg) }
          }
        } else if case .v05 = version {
          s.error("level.dimension-names", "\(p)/\(i)/path", "level \(i) (path '\(rel)') has no dimension_names; OME-Zarr 0.5 needs them equal to the axis names \(names)")
        }
      }
    }
    // Shapes: no level larger than the one before.
    var s = sink(node.path)
    for i in shapes.indices.dropFirst() {
      guard let a = shapes[i - 1], let b = shapes[i], a.count == b.count else { continue }
      if let j = Array(zip(a, b)).firstIndex(where: { $0 < $1 }) {
        s.error("levels.shape-order", "\(p)/\(i)/path",
          "level \(i) is larger than level \(i - 1) along axis \(j) (\(b[j]) > \(a[j])); levels must go from the largest to the smallest")
      }
    }
    if case .label(let image) = context, m == 0 {
      if paths.count != image.levelCount {
        s.error("label.levels", p, "the label image has \(paths.count) levels but its image has \(image.levelCount); they must match")
      }
      for (i, (ls, isz)) in zip(shapes, image.shapes).enumerated() {
        guard let ls, let isz, ls.count == isz.count else { continue }
        if zip(ls, isz).contains(where: { $0 != $1 && $0 != 1 }) {
          s.warning("label.shape", "\(p)/\(i)/path",
            "label level \(i) has shape \(ls) but the image level has \(isz); each dimension should equal the image's or be 1")
        }
      }
    }
    add(s)
    return shapes
  }

  /// omero: channels with colors and windows.
  func checkOmero(_ value: JSONValue, pointer p: String, version: NGFFVersion, sink s: inout FindingSink) {
    guard let o = value.objectValue else {
      s.error("schema.type", p, "\"omero\" must be an object, not \(value.typeName)")
      return
    }
    guard let channels = o["channels"] else {
      s.error("omero.channels", p, "\"omero\" needs a \"channels\" list")
      return
    }
    guard let list = channels.arrayValue else {
      s.error("schema.type", p + "/channels", "\"channels\" must be a list, not \(channels.typeName)")
      return
    }
    for (i, c) in list.enumerated() {
      let cp = "\(p)/channels/\(i)"
      guard let ch = c.objectValue else {
        s.error("schema.type", cp, "channel \(i) must be an object")
        continue
      }
      if let color = ch["color"] {
        if let str = color.stringValue {
          if str.count != 6 || !str.allSatisfy(\.isHexDigit) {
            s.error("omero.color", cp + "/color", "channel \(i) has color '\(str)'; a color is 6 hexadecimal digits (RRGGBB)")
          }
        } else {
          s.error("schema.type", cp + "/color", "channel \(i)'s color must be a string of 6 hexadecimal digits, not \(color.typeName)")
        }
      } else if case .v04 = version {
        s.error("omero.color", cp, "channel \(i) needs a \"color\"")
      }
      if let window = ch["window"] {
        guard let w = window.objectValue else {
          s.error("schema.type", cp + "/window", "channel \(i)'s window must be an object")
          continue
        }
        // 0.9 (ngff-spec#87): only start and end are required.
        let required: Set<String> = version.hasFreeAxes ? ["start", "end"] : ["min", "max", "start", "end"]
        for key in ["min", "max", "start", "end"] {
          if let v = w[key] {
            if let d = v.doubleValue {
              if !d.isFinite { s.error("omero.window", cp + "/window/" + key, "window \"\(key)\" is too large for a number (\(d))") }
            } else {
              s.error("schema.type", cp + "/window/" + key, "window \"\(key)\" must be a number")
            }
          } else if required.contains(key) {
            let needs = version.hasFreeAxes ? "start and end" : "min, max, start and end"
            s.error("omero.window", cp + "/window", "channel \(i)'s window needs \"\(key)\" (it needs \(needs))")
          }
        }
      } else if case .v04 = version {
        s.error("omero.window", cp, "channel \(i) needs a \"window\"")
      }
      for (key, type) in [("label", "string"), ("family", "string"), ("active", "boolean"), ("inverted", "boolean")] {
        if let v = ch[key], v.typeName != type {
          s.error("schema.type", cp + "/" + key, "channel \(i)'s \"\(key)\" must be a \(type), not \(v.typeName)")
        }
      }
    }
  }
}
