import ZarrIO

extension Walk {
  /// A plate: rows, columns, wells, acquisitions; then every well.
  mutating func checkPlate(_ node: RawNode, version: NGFFVersion) {
    var s = sink(node.path)
    let p = base(node) + "/plate"
    guard let plate = node.ome["plate"]?.objectValue else {
      s.error("schema.type", p, "\"plate\" must be an object, not \(node.ome["plate"]?.typeName ?? "missing")")
      add(s)
      return
    }
    func names(_ key: String) -> [String?] {
      guard let v = plate[key] else {
        s.error("plate.\(key)", p, "the plate needs \"\(key)\"")
        return []
      }
      guard let list = v.arrayValue else {
        s.error("schema.type", "\(p)/\(key)", "\"\(key)\" must be a list, not \(v.typeName)")
        return []
      }
      if list.isEmpty { s.error("plate.\(key)", "\(p)/\(key)", "\"\(key)\" must not be empty") }
      var seen: Set<String> = []
      return list.enumerated().map { i, e in
        guard let name = e["name"]?.stringValue else {
          s.error("plate.\(key)", "\(p)/\(key)/\(i)", "\(key) entry \(i) needs a string \"name\"")
          return nil
        }
        if !isPlateName(name[...]) {
          s.error("plate.name-pattern", "\(p)/\(key)/\(i)/name", "the \(key.dropLast()) name '\(name)' must contain only letters and digits")
        }
        if !seen.insert(name).inserted {
          s.error("plate.unique-names", "\(p)/\(key)/\(i)/name", "the \(key.dropLast()) name '\(name)' is used twice")
        }
        return name
      }
    }
    let rows = names("rows"), columns = names("columns")
    var acquisitions: [Int] = []
    if let v = plate["acquisitions"] {
      if let list = v.arrayValue {
        var seen: Set<Int> = []
        for (i, a) in list.enumerated() {
          let ap = "\(p)/acquisitions/\(i)"
          guard let o = a.objectValue else { s.error("schema.type", ap, "acquisition \(i) must be an object"); continue }
          guard let id = o["id"]?.intValue else {
            s.error("plate.acquisition-id", ap, "acquisition \(i) needs an integer \"id\"")
            continue
          }
          if id < 0 { s.error("plate.acquisition-id", ap + "/id", "acquisition ids must not be negative") }
          if !seen.insert(id).inserted { s.error("plate.acquisition-id", ap + "/id", "the acquisition id \(id) is used twice") }
          acquisitions.append(id)
          if let m = o["maximumfieldcount"], !((m.intValue ?? 0) > 0) {
            s.error("plate.field-count", ap + "/maximumfieldcount", "maximumfieldcount must be a positive integer")
          }
          for key in ["starttime", "endtime"] {
            if let t = o[key], !((t.intValue ?? -1) >= 0) {
              s.error("schema.type", ap + "/" + key, "\(key) must be a non-negative integer (an epoch timestamp)")
            }
          }
          if o["name"] == nil { s.should("plate.acquisition-name", ap, "acquisition \(id) should have a \"name\"") }
        }
      } else {
        s.error("schema.type", p + "/acquisitions", "\"acquisitions\" must be a list, not \(v.typeName)")
      }
    }
    if let f = plate["field_count"] {
      if !((f.intValue ?? 0) > 0) { s.error("plate.field-count", p + "/field_count", "field_count must be a positive integer") }
    } else {
      s.should("plate.field-count", p, "the plate should give its \"field_count\"")
    }
    if plate["name"] == nil { s.should("plate.name", p, "the plate should have a \"name\"") }
    if case .v04 = version, plate["version"] == nil { s.should("version.missing", p, "the plate should declare its version") }

    var wells: [(Int, String)] = []
    if let v = plate["wells"] {
      if let list = v.arrayValue {
        if list.isEmpty { s.error("plate.wells", p + "/wells", "\"wells\" must not be empty") }
        var seen: Set<String> = []
        for (i, w) in list.enumerated() {
          let wp = "\(p)/wells/\(i)"
          guard let o = w.objectValue, let path = o["path"]?.stringValue else {
            s.error("plate.wells", wp, "well \(i) needs a string \"path\"")
            continue
          }
          let parts = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
          guard parts.count == 2, parts.allSatisfy({ isPlateName($0[...]) }) else {
            s.error("plate.well-path", wp + "/path", "the well path '\(path)' must be '<row>/<column>' (letters and digits only)")
            continue
          }
          if !seen.insert(path).inserted { s.error("plate.unique-wells", wp + "/path", "the well '\(path)' is listed twice") }
          for (key, names, part, what) in [("rowIndex", rows, parts[0], "row"), ("columnIndex", columns, parts[1], "column")] {
            guard let index = o[key]?.intValue else {
              s.error("plate.well-index", wp, "well '\(path)' needs an integer \"\(key)\"")
              continue
            }
            guard names.indices.contains(index) else {
              s.error("plate.well-index", "\(wp)/\(key)", "well '\(path)' has \(key) \(index) but the plate has \(names.count) \(what)s")
              continue
            }
            if let name = names[index], name != part {
              s.error("plate.well-index", "\(wp)/\(key)",
                "well '\(path)' has \(key) \(index), which is \(what) '\(name)', but its path names \(what) '\(part)'")
            }
          }
          wells.append((i, path))
        }
      } else {
        s.error("schema.type", p + "/wells", "\"wells\" must be a list, not \(v.typeName)")
      }
    } else {
      s.error("plate.wells", p, "the plate needs \"wells\"")
    }
    add(s)
    let fieldCount = plate["field_count"]?.intValue
    for (i, path) in wells {
      visitChild(joinKey(node.path, path), context: .well(acquisitions: acquisitions, fieldCount: fieldCount),
                 from: node.path, pointer: "\(p)/wells/\(i)/path", rule: "plate.well-missing",
                 missing: "the well '\(path)' listed here has no group", missingIsWarning: true)
    }
  }

  /// A well: its fields of view, then each field image.
  mutating func checkWell(_ node: RawNode, version: NGFFVersion, context: NodeContext) {
    var s = sink(node.path)
    let p = base(node) + "/well"
    guard let well = node.ome["well"]?.objectValue else {
      s.error("schema.type", p, "\"well\" must be an object, not \(node.ome["well"]?.typeName ?? "missing")")
      add(s)
      return
    }
    // The plate's acquisition ids as listed (their number counts, repeats too) and as a set to look up.
    var acquisitionCount: Int?
    var acquisitions: Set<Int>?
    var fieldCount: Int?
    if case .well(let a, let f) = context { acquisitionCount = a.count; acquisitions = Set(a); fieldCount = f }
    var images: [(Int, String)] = []
    if let v = well["images"], let list = v.arrayValue {
      if list.isEmpty { s.error("well.images", p + "/images", "a well must list at least one image") }
      var seen: Set<String> = []
      for (i, e) in list.enumerated() {
        let ip = "\(p)/images/\(i)"
        guard let o = e.objectValue, let path = o["path"]?.stringValue else {
          s.error("well.images", ip, "well image \(i) needs a string \"path\"")
          continue
        }
        if version.hasCoordinateSystems {
          // 0.6: Zarr node names: letters, digits, '_', '.', '-'; not only dots; not starting with "__".
          if path.isEmpty || !path.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) })
            || path.allSatisfy({ $0 == "." }) || path.hasPrefix("__") {
            s.error("well.path-pattern", ip + "/path", "the field path '\(path)' must be a Zarr node name (letters, digits, '_', '.', '-')")
          }
        } else if !isPlateName(path[...]) {
          s.error("well.path-pattern", ip + "/path", "the field path '\(path)' must contain only letters and digits")
        }
        if !seen.insert(path).inserted { s.error("well.unique-paths", ip + "/path", "the field path '\(path)' is listed twice") }
        if let a = o["acquisition"] {
          if let id = a.intValue {
            if let acquisitions, !acquisitions.isEmpty, !acquisitions.contains(id) {
              s.error("well.acquisition", ip + "/acquisition", "field '\(path)' names acquisition \(id), which the plate does not list")
            }
          } else {
            s.error("schema.type", ip + "/acquisition", "\"acquisition\" must be an integer id")
          }
        } else if let acquisitionCount, acquisitionCount > 1 {
          s.error("well.acquisition", ip, "field '\(path)' needs \"acquisition\": the plate has \(acquisitionCount) acquisitions")
        }
        images.append((i, path))
      }
      if let fieldCount, list.count > fieldCount {
        s.warning("well.field-count", p + "/images", "the well has \(list.count) fields but the plate's field_count is \(fieldCount)")
      }
    } else {
      s.error(well["images"] == nil ? "well.images" : "schema.type", p + "/images", "a well needs an \"images\" list")
    }
    if case .v04 = version, well["version"] == nil { s.should("version.missing", p, "the well should declare its version") }
    add(s)
    for (i, path) in images {
      guard let (_, kind) = visitChild(joinKey(node.path, path), context: .field, from: node.path, pointer: "\(p)/images/\(i)/path",
                                       rule: "well.image-missing", missing: "the field '\(path)' listed here has no group") else { continue }
      if kind != .image {
        var s = sink(node.path)
        s.error("well.not-image", "\(p)/images/\(i)/path", "the field '\(path)' is a \(kind), not a multiscale image")
        add(s)
      }
    }
  }

  /// A bioformats2raw root: layout 3, then its series (or a plate).
  mutating func checkBioformats2raw(_ node: RawNode, version: NGFFVersion) {
    var s = sink(node.path)
    let key = base(node) + "/bioformats2raw.layout"
    if node.ome["bioformats2raw.layout"] != .int(3) {
      s.error("bf2raw.layout", key, "bioformats2raw.layout must be 3")
    }
    add(s)
    if node.ome["plate"] != nil { return }  // classified as a plate first
    guard !documentOnly else { return }
    let omePath = joinKey(node.path, "OME")
    let omeNode = load(omePath)
    if let omeNode, omeNode.ome["series"] != nil {
      visited.insert(omePath)
      nodesChecked += 1
      checkSeries(omeNode, version: version, root: node.path)
      return
    }
    // Without a series list the images are the groups 0, 1, 2, ... in order.
    var i = 0
    while i < options.maxNodes {
      let path = joinKey(node.path, String(i))
      guard let child = load(path) else { break }
      let (kind, _) = classify(child)
      if kind != .image {
        var s = sink(node.path)
        s.error("bf2raw.series", "", "series \(i) (group '\(i)') is a \(kind), not a multiscale image")
        add(s)
      }
      visit(child, as: kind, context: .none)
      i += 1
    }
    if i == 0 {
      var s = sink(node.path)
      s.error("bf2raw.series", "", "a bioformats2raw root needs images: an OME group with \"series\", or groups 0, 1, ...")
      add(s)
    }
  }

  /// The `OME` group of a bioformats2raw root: `series` names its images.
  mutating func checkSeries(_ node: RawNode, version: NGFFVersion, root: String? = nil) {
    var s = sink(node.path)
    let p = base(node) + "/series"
    guard let list = node.ome["series"]?.arrayValue else {
      s.error("schema.type", p, "\"series\" must be a list of image paths")
      add(s)
      return
    }
    let names = list.enumerated().compactMap { i, v -> (Int, String)? in
      guard let n = v.stringValue else { s.error("schema.type", "\(p)/\(i)", "series entry \(i) must be a path string"); return nil }
      return (i, n)
    }
    if !documentOnly, !((try? store.exists(joinKey(node.path, "METADATA.ome.xml"))) ?? false) {
      s.warning("bf2raw.ome-xml", "", "the OME group has no METADATA.ome.xml")
    }
    add(s)
    let rootPath = root ?? node.path.split(separator: "/").dropLast().joined(separator: "/")
    for (i, name) in names {
      guard let (_, kind) = visitChild(joinKey(rootPath, name), context: .none, from: node.path, pointer: "\(p)/\(i)",
                                       rule: "bf2raw.series", missing: "the series '\(name)' listed here does not exist") else { continue }
      if kind != .image {
        var s = sink(node.path)
        s.error("bf2raw.series", "\(p)/\(i)", "the series '\(name)' is a \(kind), not a multiscale image")
        add(s)
      }
    }
  }
}
