import Synchronization

/// A read-only store over a ZIP archive (RFC-9 zipped OME-Zarr, `.ozx`, or any `.zip` of a Zarr
/// hierarchy) on disk, over HTTP(S) or in a bucket: entry `a/b/c` is key `a/b/c`.
///
/// Only byte ranges are read: the end records and the central directory with one suffix read
/// (the directory is checked as a whole before use, see ``ZipDirectory``), then each entry's local
/// header once and its bytes. Stored entries are read by range, so a shard index and one inner
/// chunk of a remote archive cost a few small requests; deflated entries are inflated whole (at
/// most ``ReadLimits/maxChunkBytes``, and never beyond the size they declare). Whole reads of
/// metadata and deflated entries check the CRC-32 (``verify(_:)`` checks any entry). Over the network, the `zarr.json` entries of an archive that keeps them
/// together (as RFC-9 asks) are fetched in one request on first use.
///
///     let store = try ZipStore.open(try StoreLocation("image.ozx"))
///     let image = try ZarrArray.open(in: store, path: "0")
public final class ZipStore: Store {
  /// The archive's central directory.
  public let directory: ZipDirectory
  /// The archive as users name it (in messages).
  public let archive: String
  /// Where the archive is.
  public let location: StoreLocation?
  let source: any ZipSource
  private let sortedNames: [String]
  /// The offset of each entry's bytes, once its local header was read.
  private let dataOffsets = Mutex<[Int: Int]>([:])
  /// The metadata entries' bytes, fetched together over the network (``metadataSpan``).
  private let metadataBytes = Mutex<[UInt8]?>(nil)
  private let metadataSpan: Range<Int>?

  /// Opens the archive at `location` (a file, or an object any registered scheme can read).
  /// - Throws: `.notFound` when nothing is there; `.corruptData` for a damaged or hostile archive.
  public static func open(_ location: StoreLocation) throws -> ZipStore {
    let source: any ZipSource
    if location.isFile {
      guard let file = try FileZipSource(path: location.path) else {
        throw ZarrError(.notFound, "no such archive: '\(location)'")
      }
      source = file
    } else {
      guard let object = try StoreZipSource(store: location.parent.openStore(), key: location.name) else {
        throw ZarrError(.notFound, "no such archive: '\(location)'")
      }
      source = object
    }
    return try ZipStore(source: source, archive: location.description, location: location)
  }

  /// Opens an archive held as the value `key` of `store` (a bucket, an HTTP server, memory).
  public convenience init(store: any Store, key: String) throws {
    guard let source = try StoreZipSource(store: store, key: key) else {
      throw ZarrError(.notFound, "no such archive", key: key)
    }
    try self.init(source: source, archive: key, location: store.location?.appending(key))
  }

  init(source: any ZipSource, archive: String, location: StoreLocation?) throws {
    self.source = source
    self.archive = archive
    self.location = location
    let directory = try ZipDirectory.read(size: source.size, archive: archive, tail: source.tail) { try source.bytes($0) }
    self.directory = directory
    sortedNames = directory.byName.keys.sorted()
    // Metadata entries kept together within 1 MiB are fetched at once when the archive is remote.
    let metadata = directory.byName.values.filter { Self.isMetadata(directory.entries[$0].name) }
    if source.ioConcurrency != nil, let first = metadata.map({ directory.entries[$0].localHeaderOffset }).min(),
      let end = metadata.map({ directory.limits[$0] }).max(), end - first <= 1 << 20
    {
      metadataSpan = first..<end
    } else {
      metadataSpan = nil
    }
  }

  static func isMetadata(_ name: String) -> Bool {
    let last = name.split(separator: "/").last ?? ""
    return last == "zarr.json" || last == ".zattrs" || last == ".zgroup" || last == ".zarray" || last == ".zmetadata"
  }

  private func bad(_ message: String, _ key: String) -> ZarrError {
    ZarrError(.corruptData, "'\(archive)': \(message)", key: key)
  }

  /// `range` of the archive, from the metadata block when it holds it.
  private func fetch(_ range: Range<Int>) throws -> [UInt8] {
    if let span = metadataSpan, span.contains(range.lowerBound), range.upperBound <= span.upperBound {
      let block = try metadataBytes.withLock { cached -> [UInt8] in
        if let cached { return cached }
        let b = try source.bytes(span)
        cached = b
        return b
      }
      return Array(block[(range.lowerBound - span.lowerBound)..<(range.upperBound - span.lowerBound)])
    }
    return try source.bytes(range)
  }

  /// The range of entry `index`'s stored bytes, from its local header (read once, and checked
  /// against the central directory).
  private func dataRange(_ index: Int) throws -> Range<Int> {
    let entry = directory.entries[index]
    if let start = dataOffsets.withLock({ $0[index] }) { return start..<(start + entry.compressedSize) }
    let headerEnd = entry.localHeaderOffset + ZipFormat.localHeaderSize + entry.nameLength
    let header = ZipBytes(bytes: try fetch(entry.localHeaderOffset..<headerEnd), base: entry.localHeaderOffset)
    guard header.u32(0) == ZipFormat.localSignature, Int(header.u16(26)) == entry.nameLength,
      header.bytes[ZipFormat.localHeaderSize...].elementsEqual(Array(entry.name.utf8))
    else {
      throw bad("the local header of the entry disagrees with the central directory (damaged archive)", entry.name)
    }
    let start = headerEnd + Int(header.u16(28))
    guard start <= directory.limits[index], entry.compressedSize <= directory.limits[index] - start else {
      throw bad("the entry's bytes run into the next entry (overlapping or damaged archive)", entry.name)
    }
    dataOffsets.withLock { $0[index] = start }
    return start..<(start + entry.compressedSize)
  }

  /// The entry of `key` that can be read, or `nil` when absent.
  private func readable(_ key: String) throws -> (index: Int, entry: ZipEntry)? {
    guard let index = directory.byName[key] else { return nil }
    let entry = directory.entries[index]
    guard !entry.isEncrypted else { throw ZarrError(.unsupported, "'\(archive)': the entry is encrypted", key: key) }
    guard entry.method == ZipFormat.stored || entry.method == ZipFormat.deflated else {
      throw ZarrError(.unsupported, "'\(archive)': the entry uses compression method \(entry.method) (only stored and deflated are read)", key: key)
    }
    return (index, entry)
  }

  /// The whole value: stored bytes as they are, deflated ones inflated; the CRC-32 is checked.
  public func get(_ key: String) throws -> [UInt8]? {
    guard let (index, entry) = try readable(key) else { return nil }
    let raw = try fetch(try dataRange(index))
    let value: [UInt8]
    if entry.method == ZipFormat.deflated {
      let limit = ReadLimits.current.maxChunkBytes
      guard entry.size <= limit else {
        throw bad("the entry inflates to \(entry.size) bytes, more than the limit of \(limit) (a zip bomb?)", key)
      }
      var failure: (any Error)? = nil
      value = [UInt8](unsafeUninitializedCapacity: entry.size) { out, initialized in
        do {
          try raw.withUnsafeBytes { try Deflate.decompress($0, into: UnsafeMutableRawBufferPointer(out), windowBits: -15, codec: "zip entry") }
        } catch {
          failure = error
        }
        initialized = entry.size
      }
      if let failure {
        let detail = (failure as? ZarrError)?.message ?? "\(failure)"
        throw bad("the entry does not inflate to its declared \(entry.size) bytes (\(detail))", key)
      }
    } else {
      value = raw
    }
    if entry.method == ZipFormat.deflated || value.count <= ZipStore.checkedSize {
      try check(value, entry)
    }
    return value
  }

  /// Whole values up to this size (metadata) are checked against their CRC-32 on every read; larger
  /// stored ones (shards, which carry their own checksums) only by ``verify(_:)``.
  static let checkedSize = 1 << 20

  private func check(_ value: [UInt8], _ entry: ZipEntry) throws {
    guard ZipFormat.crc32(value) == entry.crc32 else {
      throw bad("the entry fails its CRC-32 check (damaged archive)", entry.name)
    }
  }

  /// `range` of a stored entry read directly; a deflated one is inflated whole first.
  public func get(_ key: String, range: ByteRange) throws -> [UInt8]? {
    guard let (index, entry) = try readable(key) else { return nil }
    guard let r = range.resolved(size: entry.size) else {
      throw ZarrError(.corruptData, "byte range \(range) lies outside the \(entry.size) stored bytes", key: key)
    }
    if entry.method == ZipFormat.deflated { return try get(key).map { Array($0[r]) } }
    let data = try dataRange(index)
    return try fetch((data.lowerBound + r.lowerBound)..<(data.lowerBound + r.upperBound))
  }

  /// Each range read directly (stored) or sliced from the inflated value (deflated).
  public func get(_ key: String, ranges: [ByteRange]) throws -> (parts: [[UInt8]], size: Int)? {
    guard let (_, entry) = try readable(key) else { return nil }
    if entry.method == ZipFormat.deflated, ranges.count > 1 {
      guard let all = try get(key) else { return nil }
      return (try ranges.map { range in
        guard let r = range.resolved(size: all.count) else {
          throw ZarrError(.corruptData, "byte range \(range) lies outside the \(all.count) stored bytes", key: key)
        }
        return Array(all[r])
      }, all.count)
    }
    var parts: [[UInt8]] = []
    for range in ranges {
      guard let p = try get(key, range: range) else { return nil }
      parts.append(p)
    }
    return (parts, entry.size)
  }

  /// `range` of a stored entry read straight into `buffer`.
  public func read(_ key: String, range: Range<Int>, into buffer: UnsafeMutableRawBufferPointer) throws -> Int? {
    guard let (index, entry) = try readable(key) else { return nil }
    guard range.lowerBound >= 0, range.upperBound <= entry.size else {
      throw ZarrError(.corruptData, "byte range \(range) lies outside the \(entry.size) stored bytes", key: key)
    }
    if entry.method == ZipFormat.deflated || metadataSpan != nil {
      guard let part = try get(key, range: .range(offset: range.lowerBound, length: range.count)) else { return nil }
      part.withUnsafeBytes { if let b = $0.baseAddress, let to = buffer.baseAddress { to.copyMemory(from: b, byteCount: $0.count) } }
      return entry.size
    }
    let data = try dataRange(index)
    try source.read((data.lowerBound + range.lowerBound)..<(data.lowerBound + range.upperBound), into: buffer)
    return entry.size
  }

  /// The entry's uncompressed size.
  public func size(of key: String) throws -> Int? { directory.entry(key)?.size }

  /// Checks an entry's CRC-32 (and, deflated, that it inflates to its size), reading it whole.
  /// - Throws: `.corruptData` naming the archive and the entry; `.notFound` when there is none.
  public func verify(_ key: String) throws {
    guard let value = try get(key), let entry = directory.entry(key) else {
      throw ZarrError(.notFound, "'\(archive)' has no entry named so", key: key)
    }
    if entry.method == ZipFormat.stored, value.count > ZipStore.checkedSize { try check(value, entry) }
  }

  private func readOnly(_ key: String) -> ZarrError {
    ZarrError(.unsupported, "the archive '\(archive)' is read-only (unpack it to change it)", key: key)
  }

  /// Throws `.unsupported`: an archive is read-only.
  public func set(_ key: String, _ value: [UInt8]) throws { throw readOnly(key) }
  /// Throws `.unsupported`: an archive is read-only.
  public func delete(_ key: String) throws { throw readOnly(key) }
  /// Throws `.unsupported`: an archive is read-only.
  public func deletePrefix(_ prefix: String) throws { throw readOnly(prefix) }

  /// The file entries under `prefix`, sorted.
  public func list(prefix: String) throws -> [String] {
    guard !prefix.isEmpty else { return sortedNames }
    let p = prefix + "/"
    return sortedNames.filter { $0.hasPrefix(p) }
  }

  /// The names directly under `prefix`: entries, and the sub-prefixes that hold entries.
  public func listDirectory(_ prefix: String) throws -> (keys: [String], prefixes: [String]) {
    StorePath.children(of: try list(prefix: prefix), under: prefix)
  }

  /// The total uncompressed size of the entries under `prefix`.
  public func storedBytes(under prefix: String) throws -> Int {
    try list(prefix: prefix).reduce(0) { $0 &+ (directory.entry($1)?.size ?? 0) }
  }

  /// The source's requests in flight (remote), or `nil` for a local file.
  public var ioConcurrency: Int? { source.ioConcurrency }
}
