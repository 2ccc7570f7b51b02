import Foundation
import ZarrIO

/// Builds RFC-8 collections that reference existing data by path (nothing is copied).
public enum CollectionBuilder {
  /// A node for the OME-Zarr node at `target`, referenced from `doc`: a `multiscale` for an image
  /// (with `labels: {}` for a label image), a `collection` for an RFC-8 collection or any other
  /// group; named after the directory unless `name` is given.
  public static func member(_ target: StoreLocation, in doc: CollectionDocument, name: String? = nil) throws -> CollectionNode {
    let rel = doc.relativePath(to: target)
    if target.name.hasSuffix(".json") {
      let other = try CollectionDocument.read(at: target)
      return CollectionNode(type: other.root.type, name: name ?? other.root.name, path: PathReference(type: "json", path: rel))
    }
    let node: OMENode
    do {
      node = try OMENode.open(target)
    } catch {
      throw OMEZarrError(.invalidArgument, "'\(target)' is not a Zarr node: \(error)")
    }
    let type: CollectionNodeType
    var attributes: JSONObject?
    switch node.kind {
    case .image: type = .multiscale
    case .labelImage:
      type = .multiscale
      attributes = ["labels": .object([:])]
    case .array: type = .singlescale
    case .collection:
      type = (node.metadata.extra["type"]?.stringValue).map(CollectionNodeType.init(rawValue:)) ?? .collection
    default: type = .collection
    }
    var m = CollectionNode(type: type, name: name ?? CollectionNode.defaultName(for: target.path), path: PathReference(type: "zarr", path: rel))
    m.attributes = attributes
    return m
  }

  /// A valid, unique id from `name` (letters, digits, `-`, `_`, `.`; suffixed `-2`, `-3`… if taken).
  public static func uniqueID(_ name: String, taken: Set<String>) -> String {
    var base = String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) ? $0 : "_" })
    if base.isEmpty { base = "node" }
    var id = base, n = 2
    while taken.contains(id) {
      id = "\(base)-\(n)"
      n += 1
    }
    return id
  }

  /// Gives every node of `root` without an id one derived from its name, unique in the document.
  public static func assignIDs(_ root: inout CollectionNode) {
    var taken = Set(root.walk().compactMap(\.node.id))
    func assign(_ n: inout CollectionNode) {
      if n.id == nil {
        n.id = uniqueID(n.name, taken: taken)
        taken.insert(n.id ?? "")
      }
      if var kids = n.nodes {
        for i in kids.indices { assign(&kids[i]) }
        n.nodes = kids
      }
    }
    assign(&root)
  }

  /// A collection for an existing hierarchy at `source`, to be written at `output`:
  /// - a bioformats2raw root: one multiscale per series, in series order;
  /// - a plate: the RFC-8 HCS form (rows, columns and acquisitions with string ids; one collection
  ///   per well with its `well` row and column; each field a multiscale, with its `acquisition`);
  /// - any other folder: every OME-Zarr node directly inside it, in natural order.
  public static func collection(from source: StoreLocation, output: StoreLocation, name: String? = nil) throws -> CollectionDocument {
    var doc = CollectionDocument.new(at: output, root: CollectionNode(type: .collection,
      name: name ?? CollectionNode.defaultName(for: source.path), nodes: []))
    let node = try? OMENode.open(source)
    var members: [CollectionNode] = []
    if let node, node.kind == .plate, let plate = node.metadata.plate {
      var attrs = JSONObject()
      attrs["rows"] = .array(plate.rows.map { .object(["id": .string($0.name)]) })
      attrs["columns"] = .array(plate.columns.map { .object(["id": .string($0.name)]) })
      if let acq = plate.acquisitions {
        attrs["acquisitions"] = .array(acq.map { a in
          var o: JSONObject = ["id": .string(String(a.id))]
          if let n = a.name { o["name"] = .string(n) }
          return .object(o)
        })
      }
      doc.root.attributes = ["plate": .object(attrs)]
      for w in plate.wells {
        guard plate.rows.indices.contains(w.rowIndex), plate.columns.indices.contains(w.columnIndex) else {
          throw OMEZarrError(.inconsistent, "well '\(w.path)' has a row or column index outside the plate", path: node.path)
        }
        let wellPath = source.appending(w.path)
        var well = CollectionNode(type: .collection, name: w.path.replacingOccurrences(of: "/", with: ""), nodes: [])
        well.attributes = ["well": .object([
          "row": .object(["id": .string(plate.rows[w.rowIndex].name)]),
          "column": .object(["id": .string(plate.columns[w.columnIndex].name)]),
        ])]
        let fields = (try? node.child(w.path))?.metadata.well?.images ?? []
        for f in fields {
          var field = try member(wellPath.appending(f.path), in: doc, name: f.path)
          if let a = f.acquisition {
            var fa = field.attributes ?? [:]
            fa["acquisition"] = .object(["id": .string(String(a))])
            field.attributes = fa
          }
          well.nodes?.append(field)
        }
        members.append(well)
      }
    } else if let node, node.kind == .bioformats2raw {
      let series = (try? node.child("OME"))?.metadata.series ?? numberedSeries(node.store)
      for s in series { members.append(try member(source.appending(s), in: doc, name: s)) }
    } else {
      let entries = (try? source.openStore().listDirectory("").prefixes) ?? []
      for e in entries.sorted(by: { $0.localizedStandardCompare($1) == .orderedAscending }) where !e.hasPrefix(".") {
        let p = source.appending(e)
        guard p != doc.location, let n = try? OMENode.open(p), n.kind != .group || CollectionDocument.isNode(n.metadata.extra) else {
          continue
        }
        members.append(try member(p, in: doc))
      }
      if members.isEmpty {
        throw OMEZarrError(.invalidArgument, "'\(source)' is not a plate or bioformats2raw root and holds no OME-Zarr nodes")
      }
    }
    doc.root.nodes = members
    assignIDs(&doc.root)
    return doc
  }

  /// `0`, `1`, ... while such groups exist (bioformats2raw without `OME/series`).
  private static func numberedSeries(_ store: any Store) -> [String] {
    let present = Set((try? store.listDirectory("").prefixes) ?? [])
    var out: [String] = []
    while present.contains("\(out.count)") { out.append("\(out.count)") }
    return out
  }
}
