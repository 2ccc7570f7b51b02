import ZarrIO

extension Validator {
  /// Validates an RFC-8 collection document and what it references: the document rules (types,
  /// unique ids in each document, unique names in each collection, versions), every reference
  /// (resolvable, inside the collection's directory, not a URL unless allowed, no cycles through
  /// referenced documents, bounded depth), each referenced document's own rules and version, and
  /// each referenced OME-Zarr node (validated as a hierarchy of its own, once).
  ///
  /// Findings about a referenced node carry its path relative to the collection's directory, or
  /// to `root` when given (the directory references may not leave: a hierarchy holding the
  /// collection).
  public func validate(collection doc: CollectionDocument, resolution: CollectionResolver.Options = .init(),
                       root: StoreLocation? = nil) -> ValidationReport {
    let root = root ?? doc.rootLocation
    func relative(_ location: StoreLocation) -> String {
      if location.isRemote { return location.description }
      let rel = root.relativeReference(to: location)
      return rel.hasPrefix("./") ? String(rel.dropFirst(2)) : rel
    }
    var findings: [Finding] = []
    var nodes = 0
    var version: NGFFVersion?
    // Document rules, for this document and each referenced one.
    func checkDocument(_ d: CollectionDocument) {
      var object = d.otherKeys
      object["ome"] = d.root.json
      let json: JSONValue = d.storage == .zarrGroup
        ? .object(["zarr_format": 3, "node_type": "group", "attributes": .object(object)]) : .object(object)
      let report = validate(document: json)
      if nodes == 0 { version = report.version }
      nodes += 1
      let where_ = relative(d.location)
      findings += report.findings.map { f in
        var f = f
        f.path = where_
        if d.storage == .jsonFile, f.pointer.hasPrefix("/ome") == false, !f.pointer.isEmpty { f.pointer = "/ome" + f.pointer }
        return f
      }
    }
    checkDocument(doc)
    findings += hcsFindings(doc.root, pointer: doc.storage == .zarrGroup ? "/ome" : "/ome", path: relative(doc.location))
    let tree = CollectionResolver.resolve(doc, options: resolution, root: root)
    var validated: Set<StoreLocation> = [doc.location]
    for r in tree.all {
      let at = relative(r.document)
      // Pointers into a group's attributes, as for every other finding (`/ome/...`).
      let pointer = (r.pointer.hasPrefix("/attributes/") ? String(r.pointer.dropFirst("/attributes".count)) : r.pointer) + "/path"
      func add(_ severity: Severity, _ rule: String, _ message: String) {
        findings.append(Finding(rule: rule, severity: severity, path: at, pointer: pointer, message: message))
      }
      switch r.status {
      case .inline: continue
      case .missing:
        add(options.metadataOnly ? .warning : .error, "collection.path", r.message ?? "the path does not exist")
      case .outside: add(.warning, "collection.outside", r.message ?? "not followed")
      case .remote: add(.warning, "collection.remote", r.message ?? "not followed")
      case .cycle: add(.error, "collection.cycle", r.message ?? "a cycle")
      case .tooDeep: add(.error, "collection.depth", r.message ?? "too deep")
      case .tooMany: add(.error, "walk.limit", r.message ?? "too many nodes")
      case .invalid: add(.error, "collection.reference", r.message ?? "the referenced node cannot be read")
      case .resolved:
        guard let location = r.location, validated.insert(location).inserted else { continue }
        if let kind = r.kind {
          let nodeKind = OMENodeKind(rawValue: kind)
          let isImage = nodeKind == .image || nodeKind == .labelImage
          if isImage, r.node.type == .collection {
            add(.warning, "collection.type", "the node is a collection but '\(r.node.path?.path ?? "")' is an image")
          }
          if !isImage, nodeKind != .array, r.node.type == .multiscale {
            add(.warning, "collection.type", "the node is a multiscale but '\(r.node.path?.path ?? "")' is a \(kind)")
          }
        }
        if let child = try? CollectionDocument.read(at: location), r.node.path?.type == "json" || r.kind == child.root.type.rawValue {
          checkDocument(child)
          if let v = child.root.version, let mine = doc.root.version, v != mine {
            add(.warning, "version.inconsistent", "the referenced document declares version \(v), this one \(mine)")
          }
        } else if let store = try? location.openStore(), let report = try? validate(store: store) {
          nodes += report.nodesChecked
          let prefix = relative(location)
          findings += report.findings.map { f in
            var f = f
            f.path = f.path.isEmpty ? prefix : prefix + "/" + f.path
            return f
          }
        }
      }
    }
    return ValidationReport(version: version ?? doc.root.version.flatMap(NGFFVersion.init), kind: .collection, findings: findings,
      nodesChecked: nodes)
  }

  /// RFC-8 HCS: wells name rows and columns of their plate, fields and groups name its acquisitions;
  /// the plate, well, acquisition and labels attributes have their shapes.
  private func hcsFindings(_ root: CollectionNode, pointer: String, path: String) -> [Finding] {
    var out: [Finding] = []
    func error(_ rule: String, _ p: String, _ m: String) {
      out.append(Finding(rule: rule, severity: .error, path: path, pointer: p, message: m))
    }
    /// A plate's row, column and acquisition ids, each looked up in constant time.
    struct PlateIDs {
      var rows: Set<String>, columns: Set<String>, acquisitions: Set<String>
      init(_ plate: PlateAttribute) {
        rows = Set(plate.rows.map(\.id))
        columns = Set(plate.columns.map(\.id))
        acquisitions = Set(plate.acquisitions.map(\.id))
      }
    }
    func visit(_ node: CollectionNode, _ p: String, plate: PlateIDs?) {
      var plate = plate
      do {
        if let own = try node.plate { plate = PlateIDs(own) }
        _ = try node.labels
        if let (row, column) = try node.well {
          if let plate {
            if !plate.rows.contains(row.id) {
              error("collection.well", p + "/attributes/well/row", "the well's row '\(row.id)' is not a row of its plate")
            }
            if !plate.columns.contains(column.id) {
              error("collection.well", p + "/attributes/well/column", "the well's column '\(column.id)' is not a column of its plate")
            }
          } else {
            error("collection.well", p + "/attributes/well", "a well must be inside a plate collection")
          }
        }
        if let acq = try node.acquisition, let plate, acq.path == nil, !plate.acquisitions.contains(acq.id) {
          error("collection.acquisition", p + "/attributes/acquisition", "acquisition '\(acq.id)' is not an acquisition of the plate")
        }
      } catch let e {
        error("collection.attributes", p + (e.pointer ?? ""), e.message)
      }
      for (i, child) in (node.nodes ?? []).enumerated() { visit(child, "\(p)/nodes/\(i)", plate: plate) }
    }
    visit(root, pointer, plate: nil)
    return out
  }
}
