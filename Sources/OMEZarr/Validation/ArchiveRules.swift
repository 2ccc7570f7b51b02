import ZarrIO

/// The RFC-9 rules of a zipped OME-Zarr (`.ozx`), checked on the archive's central directory:
/// errors for the RFC's MUSTs (and for a `jsonFirst` that misleads readers), warnings for its
/// SHOULDs and for the MUSTs its revised draft adds.
///
/// | rule | finding |
/// |---|---|
/// | `ozx.zip` / `ozx.multipart` | not a readable single-part ZIP archive (error) |
/// | `ozx.root` | no `zarr.json` at the archive's root (error) |
/// | `ozx.nested` | an archive inside the archive (error) |
/// | `ozx.zarr-v2` | Zarr v2 metadata (error: RFC-9 archives hold Zarr v3) |
/// | `ozx.encryption` | an encrypted entry (error) |
/// | `ozx.crc` | with `--data`: an entry that fails its CRC-32 or does not inflate (error) |
/// | `ozx.order.json-first` | the comment says `jsonFirst` but a `zarr.json` follows other entries (error) |
/// | `ozx.compression` | an entry that is not stored (warning) |
/// | `ozx.order` | the root `zarr.json` is not the first entry, or the others are not breadth-first after it (warning) |
/// | `ozx.zip64` | no ZIP64 end record (warning) |
/// | `ozx.comment`, `ozx.comment.version` | no JSON comment with `ome.version`, or another version than the root's (warning) |
/// | `ozx.extra-field`, `ozx.prefix` | extra fields other than ZIP64 and timestamps, bytes before the first entry (warning) |
/// | `ozx.extension`, `ozx.duplicate` | a name not ending in `.ozx`; a name listed twice (warning) |
enum ArchiveRules {
  /// The findings about the archive `name` (its file name, for the extension rule).
  static func check(_ store: ZipStore, name: String) -> [Finding] {
    var out: [Finding] = []
    func error(_ rule: String, _ message: String) { out.append(Finding(rule: rule, severity: .error, path: "", pointer: "", message: message)) }
    func warning(_ rule: String, _ message: String) { out.append(Finding(rule: rule, severity: .warning, path: "", pointer: "", message: message)) }
    let d = store.directory
    let files = d.entries.filter { !$0.isDirectory }

    if d.entry("zarr.json") == nil {
      let nested = files.map(\.name).filter { $0.hasSuffix("/zarr.json") }.min { $0.count < $1.count }
      let hint = nested.map { " (the hierarchy lies in the folder '\($0.dropLast("zarr.json".count))': RFC-9 needs it at the root)" } ?? ""
      error("ozx.root", "the archive has no zarr.json at its root\(hint)")
    }
    for e in files where e.name.lowercased().hasSuffix(".ozx") || e.name.lowercased().hasSuffix(".zip") {
      error("ozx.nested", "the entry '\(e.name)' is an archive inside the archive")
    }
    if let v2 = files.first(where: { ["zgroup", "zattrs", "zarray"].contains(String($0.name.split(separator: "/").last?.dropFirst() ?? "")) }) {
      error("ozx.zarr-v2", "the entry '\(v2.name)' is Zarr v2 metadata: a zipped OME-Zarr holds Zarr v3 (OME-Zarr 0.5 or later)")
    }
    for e in files where e.isEncrypted { error("ozx.encryption", "the entry '\(e.name)' is encrypted") }
    let compressed = files.filter { $0.method != 0 }
    if let first = compressed.first {
      warning("ozx.compression", "\(compressed.count) entr\(compressed.count == 1 ? "y is" : "ies are") compressed (method \(first.method), e.g. '\(first.name)'): entries should be stored")
    }
    let odd = files.filter { !$0.hasOnlyAllowedExtraFields }
    if let first = odd.first {
      let ids = first.extraFieldIDs.map { "0x" + String($0, radix: 16) }.joined(separator: ", ")
      warning("ozx.extra-field", "\(odd.count) entr\(odd.count == 1 ? "y has" : "ies have") extra fields other than ZIP64 and timestamps (e.g. '\(first.name)': \(ids))")
    }
    let firstOffset = d.entries.map(\.localHeaderOffset).min() ?? d.centralDirectoryOffset
    if d.prefixBytes > 0 || firstOffset > 0 {
      warning("ozx.prefix", "the archive has \(max(d.prefixBytes, firstOffset)) bytes before its first entry")
    }
    if !d.hasZip64End { warning("ozx.zip64", "the archive has no ZIP64 end record (RFC-9 asks for ZIP64 whatever the size)") }
    for name in Set(d.duplicateNames).sorted() {
      warning("ozx.duplicate", "the entry '\(name)' is listed more than once (the last is read)")
    }
    if !name.lowercased().hasSuffix(".ozx") { warning("ozx.extension", "the file name '\(name)' does not end in .ozx") }

    // The comment: a JSON object with ome.version (and maybe jsonFirst).
    var jsonFirst = false
    if d.comment.isEmpty {
      warning("ozx.comment", "the archive has no comment (RFC-9 asks for {\"ome\": {\"version\": ...}})")
    } else if let doc = try? JSONValue.parse(d.comment), let object = doc.objectValue {
      if let ome = object["ome"]?.objectValue {
        if let version = ome["version"]?.stringValue {
          if let root = ZippedOMEZarr.rootVersion(store), root != version {
            warning("ozx.comment.version", "the comment gives version \(version), the root zarr.json \(root)")
          }
        } else {
          warning("ozx.comment", "the archive comment has no ome.version")
        }
        jsonFirst = ome["zipFile"]?["centralDirectory"]?["jsonFirst"] == .bool(true)
      } else {
        warning("ozx.comment", "the archive comment has no \"ome\" object")
      }
    } else {
      warning("ozx.comment", "the archive comment is not a JSON object")
    }

    // Order: the root zarr.json first (in the central directory and in the file), the other
    // zarr.json after it, breadth-first.
    let isJSON = { (e: ZipEntry) in e.name == "zarr.json" || e.name.hasSuffix("/zarr.json") }
    let firstData = files.firstIndex { !isJSON($0) } ?? files.count
    let lateJSON = files[firstData...].first(where: isJSON)
    if jsonFirst, files.first?.name != "zarr.json" || lateJSON != nil {
      let what = files.first?.name != "zarr.json" ? "the root zarr.json is not the first entry" : "'\(lateJSON?.name ?? "")' follows other entries"
      error("ozx.order.json-first", "the comment says jsonFirst, but \(what) of the central directory")
    } else {
      var problems: [String] = []
      if files.first?.name != "zarr.json" { problems.append("the root zarr.json is not the first entry of the central directory") }
      if let late = lateJSON { problems.append("'\(late.name)' follows other entries in the central directory") }
      let depths = files[..<firstData].map { $0.name.split(separator: "/").count }
      if zip(depths, depths.dropFirst()).contains(where: { $0 > $1 }) { problems.append("the zarr.json entries are not breadth-first") }
      if let first = files.min(by: { $0.localHeaderOffset < $1.localHeaderOffset }), first.name != "zarr.json", d.entry("zarr.json") != nil {
        problems.append("the root zarr.json is not the first entry in the file")
      }
      for p in problems { warning("ozx.order", p) }
    }
    return out
  }
}

extension ArchiveRules {
  /// With `--data`: every entry read whole and checked against its CRC-32 (`ozx.crc`, an error).
  static func checkEntries(_ store: ZipStore) -> [Finding] {
    var out: [Finding] = []
    for name in (try? store.list(prefix: "")) ?? [] {
      do { try store.verify(name) } catch {
        out.append(Finding(rule: "ozx.crc", severity: .error, path: "", pointer: "", message: "\(error)"))
      }
    }
    return out
  }
}

extension Validator {
  /// Validates a zipped OME-Zarr: the RFC-9 rules of the archive, then its hierarchy.
  func validate(archive location: StoreLocation) throws -> ValidationReport {
    let store: any Store
    do {
      store = try location.openStore()
    } catch let e as ZarrError where e.code == .corruptData {
      let rule = e.message.contains("multi-part") ? "ozx.multipart" : "ozx.zip"
      return ValidationReport(version: nil, kind: .group,
        findings: [Finding(rule: rule, severity: .error, path: "", pointer: "", message: e.description)], nodesChecked: 0)
    }
    guard let archive = store as? ZipStore else { return try validate(store: store) }
    var findings = ArchiveRules.check(archive, name: location.name)
    if options.data { findings += ArchiveRules.checkEntries(archive) }
    guard archive.directory.entry("zarr.json") != nil else {
      return ValidationReport(version: nil, kind: .group, findings: findings, nodesChecked: 0)
    }
    var report = try validate(store: archive)
    report.findings = findings + report.findings
    return report
  }
}
