import Dispatch
import Foundation
import Synchronization
import ZarrIO

/// Zipped OME-Zarr (RFC-9, `.ozx`): the archive comment, finishing an archive written as a store,
/// and packing a hierarchy into an archive or unpacking one.
public enum ZippedOMEZarr {
  /// The RFC-9 archive comment: `{"ome":{"version":V,"zipFile":{"centralDirectory":{"jsonFirst":true}}}}`
  /// (ASCII JSON; `jsonFirst` since our archives list every `zarr.json` first).
  public static func comment(version: String) -> [UInt8] {
    let value: JSONValue = [
      "ome": ["version": .string(version), "zipFile": ["centralDirectory": ["jsonFirst": true]]]
    ]
    return value.serializedBytes(pretty: false)
  }

  /// Finishes `store` when it is an archive being written (with the comment for `version`);
  /// nothing for other stores.
  public static func finish(_ store: any Store, version: String) throws {
    if let archive = store as? any FinishableStore { try archive.finish(comment: comment(version: version)) }
  }

  /// The OME-Zarr version at the root of a Zarr v3 hierarchy (`attributes.ome.version`), if any.
  public static func rootVersion(_ store: any Store) -> String? {
    guard let bytes = try? store.get("zarr.json"), let doc = try? JSONValue.parse(bytes) else { return nil }
    return doc["attributes"]?["ome"]?["version"]?.stringValue
  }

  /// What ``pack(_:to:overwrite:progress:)`` and ``unpack(_:to:overwrite:progress:)`` did.
  public struct Summary: Sendable, Hashable {
    /// The entries (keys) copied.
    public var entries: Int
    /// Their bytes.
    public var bytes: Int
    /// The size of the archive (packing) or of what was written (unpacking).
    public var outputBytes: Int
    /// Wall-clock seconds.
    public var seconds: Double
  }

  /// Keys of tools' own bookkeeping that an archive leaves out (temporary objects).
  static func isBookkeeping(_ key: String) -> Bool {
    let name = key.split(separator: "/").last.map(String.init) ?? key
    return name.hasPrefix("__tmp.")
  }

  /// Packs the Zarr v3 hierarchy at `source` (any location that can list: a directory, a bucket
  /// prefix, an archive) into the RFC-9 archive `target`, copying every value as it is (nothing is
  /// decoded or re-encoded): metadata first (root `zarr.json`, then breadth-first), then the other
  /// keys in sorted order, with the RFC-9 comment. Values are read in parallel and appended in
  /// order, so packing the same hierarchy twice gives the same bytes.
  /// - Throws: `OMEZarrError` naming the source when it is not a Zarr v3 hierarchy, is an
  ///   interrupted conversion, or the target exists and `overwrite` is false.
  public static func pack(
    _ source: StoreLocation, to target: StoreLocation, overwrite: Bool = false,
    progress: (@Sendable (_ done: Int, _ total: Int) -> Void)? = nil
  ) throws -> Summary {
    let started = DispatchTime.now().uptimeNanoseconds
    let from = try source.openStore()
    guard try from.exists("zarr.json") else {
      if try from.exists(".zgroup") || from.exists(".zattrs") {
        throw OMEZarrError(.unsupported,
          "'\(source)' is Zarr v2 (OME-Zarr 0.4): a zipped OME-Zarr holds Zarr v3 (0.5 or later); upgrade it first")
      }
      throw ZarrError(.notFound, "'\(source)' is not a Zarr v3 hierarchy (no zarr.json at its root)")
    }
    let keys = try from.list(prefix: "").filter { !isBookkeeping($0) }
    if keys.contains(where: { $0.hasPrefix(".ome2zarr-") }) {
      throw OMEZarrError(.invalidMetadata, "'\(source)' is an interrupted or unfinished conversion; finish it first")
    }
    let writer = try ZipWriter(target: target, room: .exact)
    guard overwrite || !writer.replacesExisting else {
      writer.abandon()
      throw ZarrError(.nodeExists, "'\(target)' already exists; use --overwrite to replace it")
    }
    let metadata = keys.filter { ZipWriter.isMetadataKey($0) }
    let data = keys.filter { !ZipWriter.isMetadataKey($0) }
    var total = 0
    for key in metadata {
      guard let bytes = try from.get(key) else { throw ZarrError(.notFound, "'\(key)' disappeared from '\(source)' while packing") }
      try writer.set(key, bytes)
      total += bytes.count
    }
    let sizes = try data.map { try from.size(of: $0) ?? 0 }
    let all = sizes.reduce(total, +)
    progress?(total, all)
    let width = max(2, from.ioConcurrency ?? ProcessInfo.processInfo.activeProcessorCount)
    let before = total
    try writer.append(data, from: from, width: width) { progress?(before + $0, all) }
    total = all
    try writer.finish(comment: comment(version: rootVersion(from) ?? "0.5"))
    let size = target.objectInfo()?.size ?? 0
    return Summary(entries: keys.count, bytes: total, outputBytes: size,
      seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
  }

  /// Unpacks the archive `source` into `target` (a directory or a bucket prefix): every entry
  /// becomes a key with the same bytes (the CRC-32 of each is checked).
  /// - Throws: `OMEZarrError` when the target holds anything and `overwrite` is false.
  public static func unpack(
    _ source: StoreLocation, to target: StoreLocation, overwrite: Bool = false,
    progress: (@Sendable (_ done: Int, _ total: Int) -> Void)? = nil
  ) throws -> Summary {
    let started = DispatchTime.now().uptimeNanoseconds
    guard let archive = try source.openStore() as? ZipStore else {
      throw OMEZarrError(.invalidArgument, "'\(source)' is not an archive (.ozx or .zip)")
    }
    let out = try target.openStore(create: true)
    guard out as? FinishableStore == nil else {
      throw OMEZarrError(.invalidArgument, "'\(target)' is an archive: unpack into a directory or a bucket prefix")
    }
    if !overwrite, !(try out.list(prefix: "")).isEmpty {
      throw ZarrError(.nodeExists, "'\(target)' is not empty; use --overwrite to replace what it holds")
    }
    if overwrite { try out.deletePrefix("") }
    let keys = try archive.list(prefix: "")
    let all = try archive.storedBytes(under: "")
    let width = max(2, archive.ioConcurrency ?? ProcessInfo.processInfo.activeProcessorCount)
    var total = 0
    var start = 0
    while start < keys.count {
      let end = min(keys.count, start + 64)
      let batch = Array(keys[start..<end])
      let values = try ZipWriter.values(of: batch, in: archive, width: width)
      try writeParallel(batch, values, to: out, width: width)
      total += values.reduce(0) { $0 + $1.count }
      progress?(total, all)
      start = end
    }
    return Summary(entries: keys.count, bytes: total, outputBytes: total,
      seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
  }

  static func writeParallel(_ keys: [String], _ values: [[UInt8]], to store: any Store, width: Int) throws {
    let failure = Mutex<(any Error)?>(nil)
    DispatchQueue.concurrentPerform(iterations: keys.count) { i in
      do { try store.set(keys[i], values[i]) } catch { failure.withLock { if $0 == nil { $0 = error } } }
    }
    if let error = failure.withLock({ $0 }) { throw error }
  }
}
