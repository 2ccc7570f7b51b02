import OMEZarr
import ZarrIO

/// What `info` says about a group's OME-Zarr metadata: kind, version, and per kind the image
/// levels, channels and labels, the plate grid, or the series of a bioformats2raw root.
struct OMESummary {
  var node: OMENode
  var image: OMEImage?
  /// With `info --stats`: what each level of the image stores.
  var levelStats: [StoredObjects]?

  init?(store: any Store, path: String) throws {
    let node = try OMENode.open(in: store, path: path)
    guard node.version != nil || node.kind != .group else { return nil }
    self.node = node
    if node.kind == .image || node.kind == .labelImage { image = try node.image() }
  }

  /// Children that are this node's own level arrays (shown in the summary, not as tree entries).
  /// (For nested paths such as ngff-zarr's `scale0/image`, the first component.)
  var levelPaths: Set<String> {
    Set(image?.multiscale.datasets.compactMap { $0.path.split(separator: "/").first.map(String.init) } ?? [])
  }
  /// Whether the tree below is summarised here (plates: wells and fields are not listed one by one).
  var summarisesChildren: Bool { node.kind == .plate }

  var title: String {
    var s = "OME-Zarr \(node.version?.description ?? "?") \(kindText)"
    if let name = image?.multiscale.name ?? node.metadata.plate?.name { s += " \"\(name)\"" }
    return s
  }

  var kindText: String {
    switch node.kind {
    case .labelImage: return "label image"
    case .labels: return "labels group"
    case .bioformats2raw: return "bioformats2raw collection"
    case .series: return "series list"
    default: return node.kind.rawValue
    }
  }

  static func format(_ values: [Double]) -> String {
    "[" + values.map { $0 == $0.rounded() && abs($0) < 1e15 ? String(Int($0)) : String($0) }.joined(separator: ", ") + "]"
  }

  func lines() throws -> [String] {
    var out: [String] = []
    let meta = node.metadata
    if let image {
      out.append("axes " + image.axes.map { a in
        a.name + " (" + ([a.type?.rawValue, a.unit, a.orientation.map { "oriented \($0)" }].compactMap { $0 }.joined(separator: ", ")) + ")"
      }.joined(separator: ", "))
      for (i, level) in image.levels.enumerated() {
        let layout = ChunkLayout(level)
        var l = "level \(i) '\(image.multiscale.datasets[i].path)'  \(level.shape) \(level.dataType)  chunks \(layout.chunkShape)"
        if let shard = layout.shardShape { l += " shards \(shard)" }
        if let s = image.scale(level: i) { l += "  scale \(Self.format(s))" }
        if let t = image.translation(level: i), t.contains(where: { $0 != 0 }) { l += " translation \(Self.format(t))" }
        out.append(l)
        if let stored = levelStats?[i] { out.append("  " + stored.text) }
      }
      if let first = image.levels.first {
        out.append("codecs " + first.metadata.codecs.map(NodeSummary.codecText).joined(separator: " -> "))
      }
      if let method = image.multiscale.type { out.append("downsampling \(method)") }
      for (i, c) in (image.omero?.channels ?? []).enumerated() {
        var l = "channel \(i)"
        if let label = c.label { l += " \"\(label)\"" }
        if let color = c.color { l += " #\(color)" }
        if let w = c.window {
          l += "  window \(Self.format([w.start ?? .nan, w.end ?? .nan]))"
          if let lo = w.min, let hi = w.max { l += " of \(Self.format([lo, hi]))" }
        }
        if c.active == false { l += " (inactive)" }
        out.append(l)
      }
      if node.kind == .image {
        let labels = try node.labelNames()
        if !labels.isEmpty { out.append("labels: " + labels.joined(separator: ", ")) }
      }
      if let il = meta.imageLabel {
        out.append("label colors: \(il.colors?.count ?? 0), properties: \(il.properties?.count ?? 0), source \(il.sourceImage ?? "../../")")
      }
    }
    if let labels = meta.labels, node.kind == .labels { out.append("label images: " + labels.joined(separator: ", ")) }
    if let plate = meta.plate {
      out.append("plate \(plate.rows.count) rows x \(plate.columns.count) columns, \(plate.wells.count) wells"
        + (plate.fieldCount.map { ", up to \($0) fields per well" } ?? ""))
      out.append("rows " + plate.rows.map(\.name).joined(separator: " ") + "; columns " + plate.columns.map(\.name).joined(separator: " "))
      if let acq = plate.acquisitions, !acq.isEmpty {
        out.append("acquisitions " + acq.map { a in "\(a.id)" + (a.name.map { " \"\($0)\"" } ?? "") }.joined(separator: ", "))
      }
    }
    if let well = meta.well { out.append("fields " + well.images.map(\.path).joined(separator: ", ")) }
    if node.kind == .bioformats2raw || meta.series != nil {
      out.append("series " + series.joined(separator: ", "))
    }
    return out
  }

  /// The image paths of a bioformats2raw root (from `OME/series`, else consecutive groups 0, 1, ...).
  var series: [String] {
    if let s = node.metadata.series { return s }
    if let s = (try? node.child("OME"))?.metadata.series { return s }
    var out: [String] = []
    while (try? NodeKind.detect(node.store, joinKey(node.path, String(out.count)))) ?? nil != nil { out.append(String(out.count)) }
    return out
  }

  var json: JSONValue {
    var o: JSONObject = ["kind": .string(node.kind.rawValue), "version": node.version.map { .string($0.description) } ?? .null]
    let meta = node.metadata
    if let image {
      var levels: [JSONValue] = []
      for (i, level) in image.levels.enumerated() {
        let layout = ChunkLayout(level)
        var entry: JSONObject = [
          "path": .string(image.multiscale.datasets[i].path),
          "shape": .array(level.shape.map { .int(Int64($0)) }),
          "data_type": .string(level.dataType.name),
          "chunk_shape": .array(layout.chunkShape.map { .int(Int64($0)) }),
          "shard_shape": layout.shardShape.map { .array($0.map { .int(Int64($0)) }) } ?? .null,
          "scale": image.scale(level: i).map { .array($0.map(JSONValue.double)) } ?? .null,
          "translation": image.translation(level: i).map { .array($0.map(JSONValue.double)) } ?? .null,
        ]
        levelStats?[i].add(to: &entry)
        levels.append(.object(entry))
      }
      var img: JSONObject = [
        "name": image.multiscale.name.map(JSONValue.string) ?? .null,
        "axes": .array(image.axes.map { a in
          ["name": .string(a.name), "type": a.type.map { .string($0.rawValue) } ?? .null, "unit": a.unit.map(JSONValue.string) ?? .null,
           "orientation": a.orientation?.json ?? .null]
        }),
        "levels": .array(levels),
        "downsampling": image.multiscale.type.map(JSONValue.string) ?? .null,
        "channels": .array((image.omero?.channels ?? []).map { c in
          [
            "label": c.label.map(JSONValue.string) ?? .null, "color": c.color.map(JSONValue.string) ?? .null,
            "window": c.window?.json ?? .null, "active": c.active.map(JSONValue.bool) ?? .null,
          ]
        }),
      ]
      if node.kind == .image { img["labels"] = .array(((try? node.labelNames()) ?? []).map(JSONValue.string)) }
      o["image"] = .object(img)
    }
    if let labels = meta.labels { o["labels"] = .array(labels.map(JSONValue.string)) }
    if let plate = meta.plate {
      o["plate"] = [
        "name": plate.name.map(JSONValue.string) ?? .null,
        "rows": .array(plate.rows.map { .string($0.name) }),
        "columns": .array(plate.columns.map { .string($0.name) }),
        "wells": .array(plate.wells.map { .string($0.path) }),
        "field_count": plate.fieldCount.map { .int(Int64($0)) } ?? .null,
        "acquisitions": .array((plate.acquisitions ?? []).map { .int(Int64($0.id)) }),
      ]
    }
    if let well = meta.well { o["well"] = ["fields": .array(well.images.map { .string($0.path) })] }
    if node.kind == .bioformats2raw || meta.series != nil { o["series"] = .array(series.map(JSONValue.string)) }
    return .object(o)
  }
}
