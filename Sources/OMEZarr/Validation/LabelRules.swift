import ZarrIO

extension Walk {
  /// Validates the `labels` group of an image, if there is one.
  mutating func visitLabels(of node: RawNode, summary: ImageSummary, version: NGFFVersion) {
    guard !documentOnly, node.ome["image-label"] == nil else { return }
    let path = joinKey(node.path, "labels")
    let loaded = load(path)
    guard let labels = loaded, !visited.contains(path) else { return }
    visited.insert(path)
    nodesChecked += 1
    var s = sink(path)
    _ = checkVersion(labels, kind: .labels, sink: &s)
    add(s)
    checkLabelsGroup(labels, version: version, image: summary)
  }

  /// A labels group: a list of label image paths, each a label image of `image`.
  mutating func checkLabelsGroup(_ node: RawNode, version: NGFFVersion, image: ImageSummary?) {
    var s = sink(node.path)
    let p = base(node) + "/labels"
    guard let value = node.ome["labels"] else {
      if node.ome.isEmpty { s.warning("labels.missing", "", "the 'labels' group has no \"labels\" list, so its label images cannot be found") } else {
        s.error("labels.list", base(node), "the labels group needs a \"labels\" list")
      }
      add(s)
      return
    }
    guard let list = value.arrayValue else {
      s.error("schema.type", p, "\"labels\" must be a list of paths, not \(value.typeName)")
      add(s)
      return
    }
    var names: [(Int, String)] = []
    var seen: Set<String> = []
    for (i, v) in list.enumerated() {
      guard let name = v.stringValue else {
        s.error("schema.type", "\(p)/\(i)", "label \(i) must be a path string, not \(v.typeName)")
        continue
      }
      if !seen.insert(name).inserted { s.error("labels.unique", "\(p)/\(i)", "the label '\(name)' is listed twice") }
      names.append((i, name))
    }
    add(s)
    let context: NodeContext = image.map { .label(of: $0) } ?? .none
    for (i, name) in names {
      guard let (_, kind) = visitChild(joinKey(node.path, name), context: context, from: node.path, pointer: "\(p)/\(i)",
                                       rule: "labels.missing", missing: "the label image '\(name)' listed here does not exist") else { continue }
      if kind != .labelImage && kind != .image {
        var s = sink(node.path)
        s.error("labels.not-image", "\(p)/\(i)", "'\(name)' is listed as a label image but is a \(kind), not a multiscale image")
        add(s)
      }
    }
  }

  /// `image-label`: colors, properties and source of a label image.
  func checkImageLabel(_ node: RawNode, version: NGFFVersion, sink s: inout FindingSink) {
    let p = base(node) + "/image-label"
    guard let value = node.ome["image-label"] else {
      s.should("label.image-label", base(node), "a label image should have \"image-label\" metadata")
      return
    }
    guard let o = value.objectValue else {
      s.error("schema.type", p, "\"image-label\" must be an object, not \(value.typeName)")
      return
    }
    for key in ["colors", "properties"] {
      guard let v = o[key] else {
        if key == "colors" { s.should("label.colors", p, "a label image should list its \"colors\"") }
        continue
      }
      guard let list = v.arrayValue else {
        s.error("schema.type", "\(p)/\(key)", "\"\(key)\" must be a list, not \(v.typeName)")
        continue
      }
      if list.isEmpty { s.error("label.\(key)", "\(p)/\(key)", "\"\(key)\" must not be empty (leave it out instead)") }
      var seen: Set<Double> = []
      for (i, e) in list.enumerated() {
        let ep = "\(p)/\(key)/\(i)"
        guard let entry = e.objectValue else {
          s.error("schema.type", ep, "\(key) entry \(i) must be an object")
          continue
        }
        guard let lv = entry["label-value"] else {
          s.error("label.label-value", ep, "\(key) entry \(i) needs a \"label-value\"")
          continue
        }
        guard let d = lv.doubleValue else {
          s.error("schema.type", ep + "/label-value", "the label-value must be a number, not \(lv.typeName)")
          continue
        }
        if d.rounded() != d {
          s.error("label.label-value", ep + "/label-value", "the label-value \(d) is not an integer; label values are integers")
        }
        if !seen.insert(d).inserted {
          s.error("label.unique-values", ep + "/label-value", "the label-value \(d.formatted) appears twice in \"\(key)\"; each value may appear once")
        }
        if key == "colors", let rgba = entry["rgba"] {
          let comps = rgba.arrayValue?.compactMap(\.intValue) ?? []
          if rgba.arrayValue?.count != 4 || comps.count != 4 || comps.contains(where: { $0 < 0 || $0 > 255 }) {
            s.error("label.rgba", ep + "/rgba", "rgba must be 4 integers from 0 to 255")
          }
        }
      }
    }
    if let source = o["source"] {
      if let so = source.objectValue {
        if let img = so["image"], img.stringValue == nil {
          s.error("schema.type", p + "/source/image", "source image must be a relative path string")
        }
      } else {
        s.error("schema.type", p + "/source", "\"source\" must be an object")
      }
    }
    if case .v04 = version, o["version"] == nil, node.ome["multiscales"]?.arrayValue?.first?["version"] == nil {
      s.should("version.missing", p, "\"image-label\" should declare its version")
    }
  }
}

extension Double {
  /// `3` for integral values, `2.5` otherwise.
  var formatted: String {
    if rounded() == self, abs(self) < 1e15 { return String(Int64(self)) }
    return String(self)
  }
}
