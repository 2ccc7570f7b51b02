import Dispatch
import Foundation
import Synchronization
import ZarrIO

/// Validates OME-Zarr hierarchies and metadata documents against NGFF 0.4, 0.5, 0.6 and 0.9.dev.
///
/// The validator classifies each node by its keys first and then applies that kind's rules only, so
/// one real problem is reported once, with a rule id, the node's store path and a JSON pointer:
///
///     let report = try Validator().validate(StoreLocation("image.ome.zarr"))
///     for f in report.findings { print(f) }   // error [level.ndim] level 2 (path '2') has 4 dimensions ...
///
/// Every MUST of the specification is an error, every SHOULD a warning (an error with `strict`).
public struct Validator: Sendable {
  /// What the validator checks beyond the metadata rules, and how strictly.
  public struct Options: Sendable {
    /// SHOULDs of the strict schemas become errors.
    public var strict = false
    /// Decode every stored chunk (checksums verified) and look for chunks outside the grid.
    public var data = false
    /// Arrays may be absent (metadata drafted before data exists): rules that need them are skipped.
    public var metadataOnly = false
    /// Stop walking after this many nodes (a guard against runaway hierarchies); the walk then
    /// ends with a `walk.limit` error.
    public var maxNodes = 100_000
    /// The defaults: not strict, no chunks decoded, arrays required, at most 100,000 nodes.
    public init() {}
  }

  /// What the validator checks, and how strictly.
  public var options: Options
  /// Creates a validator with the given options.
  public init(options: Options = Options()) { self.options = options }

  /// Validates the node at `path` in `store` and everything below it.
  /// - Throws: only when the top node cannot be read at all (nothing there, unreadable store).
  public func validate(store: any Store, path: String = "") throws -> ValidationReport {
    var walk = Walk(store: store, options: options)
    let top = normalizePath(path)
    guard let node = try walk.read(top) else {
      throw OMEZarrError(.invalidArgument, "no Zarr group or array here (no zarr.json, .zgroup, .zarray or .zattrs)", path: top)
    }
    let (kind, version) = walk.classify(node)
    walk.rootVersion = version
    walk.visit(node, as: kind, context: .none)
    return ValidationReport(version: version, kind: kind, findings: walk.findings, nodesChecked: walk.nodesChecked)
  }

  /// Validates one metadata document: a `zarr.json`, a `.zattrs` or a bare attributes object.
  /// Rules that need other nodes or arrays are skipped.
  public func validate(document: JSONValue) -> ValidationReport {
    var walk = Walk(store: MemoryStore(), options: options)
    walk.documentOnly = true
    var attributes: JSONObject
    var format: ZarrFormat = .v2
    guard let o = document.objectValue else {
      var sink = FindingSink(path: "", strict: options.strict)
      sink.error("json.type", "", "the document must be a JSON object, not \(document.typeName)")
      return ValidationReport(version: nil, kind: .group, findings: sink.findings, nodesChecked: 0)
    }
    if o["zarr_format"] != nil || o["node_type"] != nil {
      // A zarr.json (or a .zgroup/.zarray with attributes inline, which v2 never has).
      format = o["zarr_format"] == .int(3) ? .v3 : .v2
      attributes = o["attributes"]?.objectValue ?? [:]
      if o["node_type"] == .string("array") {
        let node = RawNode(path: "", format: format, array: nil, attributes: attributes, isArray: true)
        let (kind, version) = walk.classify(node)
        walk.visit(node, as: kind, context: .none)
        return ValidationReport(version: version, kind: kind, findings: walk.findings, nodesChecked: 1)
      }
    } else {
      attributes = o
      if o["ome"] != nil { format = .v3 }
    }
    let node = RawNode(path: "", format: format, array: nil, attributes: attributes, isArray: false)
    let (kind, version) = walk.classify(node)
    walk.rootVersion = version
    walk.visit(node, as: kind, context: .none)
    return ValidationReport(version: version, kind: kind, findings: walk.findings, nodesChecked: 1)
  }
}

/// One node's metadata as stored, before any OME interpretation.
struct RawNode {
  var path: String
  var format: ZarrFormat
  /// The parsed array metadata (arrays only; `nil` if it did not parse).
  var array: ArrayMetadata?
  /// The Zarr attributes (v3 `attributes`, v2 `.zattrs`).
  var attributes: JSONObject
  var isArray: Bool

  /// The OME metadata object: `attributes.ome` (0.5+) or the attributes themselves (0.4).
  var ome: JSONObject { OMEMetadataObject(attributes: attributes).object }
  /// Whether the OME metadata is under `ome`.
  var isNamespaced: Bool { OMEMetadataObject(attributes: attributes).isNamespaced }
}

/// What a parent tells a child it is about to validate.
enum NodeContext {
  case none
  /// A label image of an image with these levels.
  case label(of: ImageSummary)
  /// A field of view in a well of a plate.
  case field
  /// A well of a plate with these acquisitions.
  case well(acquisitions: [Int], fieldCount: Int?)
}

/// The facts about an image that its labels are checked against.
struct ImageSummary {
  var levelCount: Int
  var shapes: [[Int]?]
  var axisNames: [String]
}

/// The state of one validation run.
struct Walk {
  let store: any Store
  let options: Validator.Options
  var findings: [Finding] = []
  var visited: Set<String> = []
  var nodesChecked = 0
  var rootVersion: NGFFVersion?
  /// The version family of the node being checked (for version-gated rules).
  var current: NGFFVersion = .latest05
  var documentOnly = false
  private var limitReported = false
  /// How many nodes enclose the one being visited.
  private var depth = 0
  /// The most nodes the walk enters inside each other.
  static let maxDepth = 128

  init(store: any Store, options: Validator.Options) {
    self.store = store
    self.options = options
  }

  func sink(_ path: String) -> FindingSink { FindingSink(path: path, strict: options.strict) }

  mutating func add(_ sink: FindingSink) { findings += sink.findings }

  // MARK: Loading

  /// Reads a node below the top one; `nil` if nothing is there. A store failure becomes a finding.
  mutating func load(_ path: String) -> RawNode? {
    do { return try read(path) } catch {
      var s = sink(path)
      s.error("store.read", "", "could not read the node: \(error)")
      add(s)
      return nil
    }
  }

  /// Reads the node at `path`; `nil` if nothing is there. Unreadable metadata becomes a finding;
  /// a store failure is thrown.
  mutating func read(_ path: String) throws -> RawNode? {
    var s = sink(path)
    defer { add(s) }
    if let bytes = try store.get(joinKey(path, "zarr.json")) {
      let json: JSONValue
      do { json = try JSONValue.parse(bytes) } catch {
        s.error("zarr.json", "", "zarr.json is not valid JSON: \(error)")
        return RawNode(path: path, format: .v3, array: nil, attributes: [:], isArray: false)
      }
      let attributes = json["attributes"]?.objectValue ?? [:]
      if json["attributes"] != nil, json["attributes"]?.objectValue == nil {
        s.error("zarr.metadata", "", "zarr.json \"attributes\" must be an object")
      }
      if json["node_type"] == .string("array") {
        var meta: ArrayMetadata?
        do { meta = try ArrayMetadata(v3: json) } catch {
          if !Self.checkChunkShape(json["chunk_grid"]?["configuration"]?["chunk_shape"], what: "the array", sink: &s) {
            s.error("zarr.metadata", "", "the array metadata (zarr.json) is invalid: \(error)")
          }
        }
        return RawNode(path: path, format: .v3, array: meta, attributes: attributes, isArray: true)
      }
      do { _ = try GroupMetadata(v3: json) } catch {
        s.error("zarr.metadata", "", "the group metadata (zarr.json) is invalid: \(error)")
      }
      return RawNode(path: path, format: .v3, array: nil, attributes: attributes, isArray: false)
    }
    var attributes: JSONObject = [:]
    let attrBytes = try store.get(joinKey(path, ".zattrs"))
    if let attrBytes {
      do {
        let json = try JSONValue.parse(attrBytes)
        if let o = json.objectValue { attributes = o } else { s.error("zarr.metadata", "", ".zattrs must be a JSON object") }
      } catch {
        s.error("zarr.json", "", ".zattrs is not valid JSON: \(error)")
      }
    }
    if let bytes = try store.get(joinKey(path, ".zarray")) {
      var meta: ArrayMetadata?
      do { meta = try ArrayMetadata(v2: try JSONValue.parse(bytes), attributes: attributes) } catch {
        let chunks = (try? JSONValue.parse(bytes))?["chunks"]
        if !Self.checkChunkShape(chunks, what: "the array", sink: &s) {
          s.error("zarr.metadata", "", "the array metadata (.zarray) is invalid: \(error)")
        }
      }
      return RawNode(path: path, format: .v2, array: meta, attributes: attributes, isArray: true)
    }
    if let bytes = try store.get(joinKey(path, ".zgroup")) {
      do {
        let json = try JSONValue.parse(bytes)
        if json["zarr_format"] != JSONValue.int(2) { s.error("zarr.metadata", "", ".zgroup must say \"zarr_format\": 2") }
      } catch {
        s.error("zarr.json", "", ".zgroup is not valid JSON: \(error)")
      }
      return RawNode(path: path, format: .v2, array: nil, attributes: attributes, isArray: false)
    }
    if attrBytes != nil {
      s.warning("zarr.metadata", "", "the group has .zattrs but no .zgroup")
      return RawNode(path: path, format: .v2, array: nil, attributes: attributes, isArray: false)
    }
    return nil
  }

  /// Reports `zarr.chunk-shape` when the stored chunk shape `value` (v3 `chunk_shape`, v2 `chunks`)
  /// has a size that is not positive; returns whether it did. ZarrIO rejects such metadata as a
  /// whole, so this runs on the raw JSON when parsing fails, to name the problem.
  static func checkChunkShape(_ value: JSONValue?, what: String, sink s: inout FindingSink) -> Bool {
    guard let sizes = value?.arrayValue?.compactMap(\.intValue), sizes.contains(where: { $0 <= 0 }) else { return false }
    s.error("zarr.chunk-shape", "", "\(what) has a chunk shape \(sizes) with a non-positive size")
    return true
  }

  // MARK: Classification

  /// The node's kind (from its keys, by the one classifier ``OMENodeKind/classify(ome:isArray:)``)
  /// and NGFF version.
  func classify(_ node: RawNode) -> (OMENodeKind, NGFFVersion?) {
    if node.isArray { return (.array, nil) }
    return (OMENodeKind.classify(ome: node.ome), declaredVersion(node))
  }

  /// The declared version: `ome.version` (0.5+), else the 0.4 places (`multiscales[0].version`, ...).
  func declaredVersion(_ node: RawNode) -> NGFFVersion? {
    let ome = node.ome
    if let v = OMEMetadataObject(attributes: node.attributes).declaredVersion { return NGFFVersion(v) ?? .v06(v) }
    if node.isNamespaced { return nil }
    let hasOME = ["multiscales", "plate", "well", "labels", "image-label", "bioformats2raw.layout", "omero"].contains { ome[$0] != nil }
    return hasOME ? .v04("0.4") : nil
  }

  // MARK: Walking

  /// Validates `node` as `kind`, then its children.
  mutating func visit(_ node: RawNode, as kind: OMENodeKind, context: NodeContext) {
    guard !visited.contains(node.path) else { return }
    visited.insert(node.path)
    guard !reachedLimit(at: node.path) else { return }
    // Nodes nested in nodes (labels of labels of ...) are walked recursively: bounded, far from the
    // end of the stack.
    guard depth < Self.maxDepth else {
      var s = sink(node.path)
      s.error("walk.depth", "", "the hierarchy nests more than \(Self.maxDepth) OME-Zarr nodes inside each other; this one was not checked")
      add(s)
      return
    }
    depth += 1
    defer { depth -= 1 }
    nodesChecked += 1
    var s = sink(node.path)
    let version = checkVersion(node, kind: kind, sink: &s)
    add(s)
    if rootVersion == nil { rootVersion = version }
    let family = version ?? rootVersion ?? .latest05
    current = family
    switch kind {
    case .image, .labelImage:
      if let summary = checkImage(node, version: family, context: context) {
        visitLabels(of: node, summary: summary, version: family)
      }
    case .labels:
      checkLabelsGroup(node, version: family, image: nil)
    case .plate:
      checkPlate(node, version: family)
    case .well:
      checkWell(node, version: family, context: context)
    case .bioformats2raw:
      checkBioformats2raw(node, version: family)
    case .series:
      checkSeries(node, version: family)
    case .scene:
      checkScene(node, version: family)
    case .transformations:
      checkTransformations(node)
    case .collection:
      checkCollection(node, version: family)
    case .array:
      var s = sink(node.path)
      if case .none = context, !documentOnly {
        s.warning("node.not-ome", "", "this is a plain Zarr array, not an OME-Zarr image; only Zarr-level checks apply")
      }
      add(s)
      checkArray(node, what: "the array")
    case .group:
      var s = sink(node.path)
      if case .none = context {
        s.error("node.not-ome", node.isNamespaced ? "/ome" : "",
          "no OME-Zarr metadata found: expected one of multiscales, labels, plate, well, bioformats2raw.layout, series, scene")
      }
      add(s)
    }
  }

  /// Whether the walk has checked the most nodes it may; the first time, says so at `path`.
  mutating func reachedLimit(at path: String) -> Bool {
    guard nodesChecked >= options.maxNodes else { return false }
    if !limitReported {
      limitReported = true
      var s = sink(path)
      s.error("walk.limit", "",
        "the hierarchy has more than \(options.maxNodes) nodes; the rest was not checked (raise the limit with --max-nodes)")
      add(s)
    }
    return true
  }

  /// Opens and validates a child node at `path` expected to be `expected` (`nil`: whatever it is).
  /// Returns the node's kind, or `nil` if it is absent.
  @discardableResult
  mutating func visitChild(_ path: String, context: NodeContext, from parent: String, pointer: String,
                           rule: String, missing: String, missingIsWarning: Bool = false) -> (RawNode, OMENodeKind)? {
    if documentOnly || reachedLimit(at: path) { return nil }
    let path = StorePath.resolve(path, from: "")  // `.` and `..` resolved, never above the store root
    if visited.contains(path) {
      var s = sink(parent)
      s.error("node.cycle", pointer, "'\(path.isEmpty ? "/" : path)' is already part of this hierarchy; a node cannot contain itself")
      add(s)
      return nil
    }
    guard let node = load(path) else {
      var s = sink(parent)
      // With --metadata-only the hierarchy may be a sketch: a node it names but lacks is a warning.
      if missingIsWarning || options.metadataOnly { s.warning(rule, pointer, missing) } else { s.error(rule, pointer, missing) }
      add(s)
      return nil
    }
    let (kind, _) = classify(node)
    visit(node, as: kind, context: context)
    return (node, kind)
  }

  /// Checks the declared version: present, known, consistent with the top node and the Zarr format.
  mutating func checkVersion(_ node: RawNode, kind: OMENodeKind, sink s: inout FindingSink) -> NGFFVersion? {
    guard kind != .array, kind != .group || node.isNamespaced else { return nil }
    let ome = node.ome
    let version = declaredVersion(node)
    if node.isNamespaced {
      if let v = ome["version"] {
        if let str = v.stringValue {
          // RFC-8 collections are drafted as 0.9.devN (and "0.x" in the first draft).
          let rfc8Draft = kind == .collection && (str.hasPrefix("0.9") || str == "0.x")
          if NGFFVersion(str) == nil, !rfc8Draft { s.error("version.unknown", "/ome/version", "unknown OME-Zarr version '\(str)' (this validator knows 0.4, 0.5, 0.6 and 0.9)") }
        } else {
          s.error("schema.type", "/ome/version", "\"version\" must be a string, not \(v.typeName)")
        }
      } else {
        s.error("version.missing", "/ome", "OME-Zarr 0.5 and later need \"version\" in attributes.ome")
      }
    } else if let version, case .v04 = version {
      // 0.4 versions are SHOULDs inside each object (multiscales, plate, well, image-label): checked there.
    } else if let version {
      s.error("version.namespace", "", "OME-Zarr \(version) metadata must live under attributes.ome, not at the top of the attributes")
    }
    if let version {
      if version.zarrFormat != node.format, !documentOnly || node.format == .v3 {
        s.error("zarr.format", "", "OME-Zarr \(version) must be stored in Zarr v\(version.zarrFormat.rawValue), but this node is Zarr v\(node.format.rawValue)")
      }
      if let root = rootVersion, !root.sameFamily(as: version) {
        s.error("version.inconsistent", node.isNamespaced ? "/ome/version" : "",
          "this node says version \(version) but the hierarchy's top node says \(root); the version must be the same throughout")
      }
    }
    return version
  }

  // MARK: Arrays

  /// Zarr-level checks of an array node: metadata parses, codecs known, shapes sane, data decodes.
  mutating func checkArray(_ node: RawNode, what: String) {
    var s = sink(node.path)
    defer { add(s) }
    guard let meta = node.array else { return }
    // Checked before the codec chain is built: building it fails on this too, with a generic message.
    if let shard = meta.shardShape {
      let inner = meta.innerChunkShape
      for (i, (c, n)) in zip(shard, inner).enumerated() where n <= 0 || c % n != 0 {
        s.error("zarr.shard-shape", "", "\(what): the inner chunk shape \(inner) does not divide the shard shape \(shard) (dimension \(i))")
        return
      }
    }
    let array: ZarrArray
    do { array = try ZarrArray(store: store, path: node.path, metadata: meta) } catch {
      s.error("zarr.codecs", "", "\(what) cannot be read: \(error)")
      return
    }
    if options.data { checkChunks(array, what: what, sink: &s) }
  }

  /// Decodes every stored chunk of `array` and reports keys outside the chunk grid.
  func checkChunks(_ array: ZarrArray, what: String, sink s: inout FindingSink) {
    let keys: [String]
    do { keys = try store.list(prefix: array.path) } catch {
      s.error("store.read", "", "could not list the chunks of \(what): \(error)")
      return
    }
    let grid = array.gridShape
    let prefix = array.path.isEmpty ? "" : array.path + "/"
    var stored: [(key: String, coords: [Int])] = []
    for key in keys {
      let rel = String(key.dropFirst(prefix.count))
      // A key of a child node or a foreign file is not a chunk of this array.
      guard let coords = chunkCoordinates(rel, encoding: array.metadata.chunkKeyEncoding, ndim: grid.count) else { continue }
      if zip(coords, grid).contains(where: { $0 < 0 || $0 >= $1 }) {
        s.error("data.outside-grid", "", "\(what): the stored chunk '\(rel)' lies outside the chunk grid \(grid)")
      } else {
        stored.append((rel, coords))
      }
    }
    // Decode on every core; each worker holds one decoded chunk at a time.
    let limit = 20
    let bad = Mutex<[(String, String)]>([])
    let items = stored
    // Nothing in the loop throws: failures are collected.
    try? Parallel.forEach(items.count, width: Parallel.processorCount) { i in
      guard bad.withLock({ $0.count < limit }) else { return }
      do { _ = try array.readChunk(items[i].coords) } catch {
        bad.withLock { $0.append((items[i].key, "\(error)")) }
      }
    }
    let failures = bad.withLock { $0 }.sorted { $0.0 < $1.0 }
    for (key, message) in failures {
      s.error("data.decode", "", "\(what): chunk '\(key)' does not decode: \(message)")
    }
    if failures.count >= limit { s.error("data.decode", "", "\(what): stopped checking chunks after \(limit) bad ones") }
  }

  /// The grid coordinates a chunk key names, or `nil` if it is not a chunk key of this encoding.
  func chunkCoordinates(_ key: String, encoding: ChunkKeyEncoding, ndim: Int) -> [Int]? {
    var parts: [Substring]
    switch encoding {
    case .default(let sep):
      guard key == "c" || key.hasPrefix("c" + sep.rawValue) else { return nil }
      parts = key.split(separator: Character(sep.rawValue), omittingEmptySubsequences: false)
      parts.removeFirst()
    case .v2(let sep):
      parts = key.split(separator: Character(sep.rawValue), omittingEmptySubsequences: false)
      if ndim == 0 { return key == "0" ? [] : nil }
    }
    guard parts.count == ndim else { return nil }
    var out: [Int] = []
    for p in parts {
      guard let n = Int(p) else { return nil }
      out.append(n)
    }
    return out
  }
}

extension NGFFVersion {
  /// N of a `0.6.devN` pre-release (`nil` for 0.6rc0, 0.6 and other families, 0.9 included).
  var draft06: Int? {
    guard case .v06(let s) = self else { return nil }
    guard let r = s.range(of: "dev") else { return nil }
    return Int(s[r.upperBound...].prefix { $0.isNumber })
  }
  /// 0.6.dev1–dev3 wrote transformation `input`/`output` as plain strings; dev4 made them objects.
  var allowsStringReferences: Bool { (draft06 ?? 99) < 4 }
  /// 0.6.dev1–dev2 allowed scale/translation parameters in a Zarr array (`path`); dev3 removed it.
  var allowsParameterPaths: Bool { (draft06 ?? 99) < 3 }
}
