#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif
import Foundation
import Synchronization

/// A store that is complete only once finished: an archive being written. Until ``finish(comment:)``
/// nothing is at its location (an interrupted writer never leaves a complete-looking archive).
public protocol FinishableStore: Store {
  /// Whether finishing replaces an object that is at the location already.
  var replacesExisting: Bool { get }
  /// Completes the store (writes the archive's central directory, with `comment`) and puts it in place.
  func finish(comment: [UInt8]) throws
}

/// Writes a ZIP archive of a Zarr hierarchy as a store, as RFC-9 asks of a zipped OME-Zarr (`.ozx`).
///
/// Chunks and shards are appended as they are set (STORED, the CRC-32 computed first, so no data
/// descriptors), each once: reading a key back reads the archive being written. Metadata
/// (`zarr.json` and other hidden keys) is kept in memory, since a conversion rewrites it, and
/// written by ``finish(comment:)`` into a region reserved at the archive's start when the first
/// chunk arrives: the root `zarr.json` first, the other `zarr.json` after it breadth-first (the
/// root's JSON is padded with trailing spaces to fill the region). Metadata that outgrew the region
/// goes after the chunks. The central directory lists the `zarr.json` entries first, root first
/// then breadth-first, then the rest in archive order. ZIP64 records are always written (a ZIP64
/// extra field in every local header, and the ZIP64 end records); names are UTF-8 and times
/// 1980-01-01, so the same writes give the same bytes.
///
/// The archive is written to a temporary file (beside the target, or in the temporary directory
/// for a remote target) and put in place by ``finish(comment:)``; a writer dropped unfinished
/// removes it.
public final class ZipWriter: FinishableStore {
  /// How much room to reserve for metadata at the archive's start.
  public enum MetadataRoom: Sendable {
    /// Exactly the metadata set before the first chunk (it will not change: packing).
    case exact
    /// Twice that plus 64 KiB, rounded to 4 KiB (a conversion rewrites its metadata at the end).
    case slack
  }

  /// Where the finished archive goes.
  public let target: StoreLocation
  /// How metadata room is reserved.
  public let room: MetadataRoom
  /// Whether finishing replaces an existing object.
  public var replacesExisting: Bool { file.replacesExisting }
  /// The temporary file the archive is written in, put in place by ``finish(comment:)``. Only its
  /// descriptors (fixed) are used concurrently; it is committed or abandoned once, under `state`.
  nonisolated(unsafe) private let file: StagedFile
  var fd: Int32 { file.fd }
  /// The same file opened with `O_DIRECT` (Linux), for the staged appends; `nil` where refused,
  /// and when packing (only copies: the page cache is cheaper than waiting for the device).
  let directFD: Int32?
  /// Appends are staged here, page-aligned, and written in whole aligned blocks (``DirectWrite``
  /// explains why: page-cache copies cost a third of the compression time on this kind of VM).
  nonisolated(unsafe) let staging: UnsafeMutableRawPointer
  private static let stagingBytes = 8 << 20

  struct Written {
    var name: String
    var crc: UInt32
    var size: Int
    var offset: Int
    var headerSize: Int
  }

  struct State {
    var end = 0
    var entries: [Written] = []
    var byKey: [String: Int] = [:]
    var metadata: [String: [UInt8]] = [:]
    var region: Range<Int>? = nil
    var deadBytes = 0
    var finished = false
    /// Where the staged bytes start in the file (aligned), and how many there are.
    var stagedAt = 0
    var staged = 0
    var directRefused = false
  }
  let state = Mutex(State())

  /// A writer for the archive at `target` (a file, or an object of any writable scheme).
  public init(target: StoreLocation, room: MetadataRoom) throws {
    self.target = target
    self.room = room
    file = try StagedFile(target: target)
    directFD = room == .slack ? file.directFD : nil
    var buffer: UnsafeMutableRawPointer? = nil
    guard posix_memalign(&buffer, DirectWrite.alignment, ZipWriter.stagingBytes) == 0, let buffer else {
      throw ZarrError(.storeFailure, "cannot allocate the archive's write buffer")
    }
    staging = buffer
  }

  deinit {
    free(staging)
  }

  /// Removes the unfinished archive now (it is removed anyway when the writer goes away).
  public func abandon() {
    state.withLock { $0.finished = true }
    file.abandon()
  }

  /// Whether ``finish(comment:)`` (or ``abandon()``) was called.
  public var isFinished: Bool { state.withLock { $0.finished } }

  /// Bytes written for keys that were set again or deleted since (left unused in the archive).
  public var deadBytes: Int { state.withLock { $0.deadBytes } }

  /// Where the finished archive goes.
  public var location: StoreLocation? { target }

  /// Keys kept in memory until ``finish(comment:)``: Zarr metadata and hidden keys (markers).
  public static func isMetadataKey(_ key: String) -> Bool {
    key.hasPrefix(".") || ZipStore.isMetadata(key)
  }

  private func failure(_ what: String, _ key: String, _ code: Int32 = errno) -> ZarrError {
    ZarrError(.storeFailure, "\(what) of the archive '\(target)' failed: \(String(cString: strerror(code)))", key: key)
  }

  func writeAll(_ bytes: UnsafeRawBufferPointer, at offset: Int, key: String) throws {
    var done = 0
    while done < bytes.count {
      let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
      if n < 0 {
        if errno == EINTR { continue }
        throw failure("a write", key)
      }
      done += n
    }
  }

  /// A local header: sizes in a ZIP64 extra field (the 32-bit fields hold the sentinel).
  static func localHeader(name: [UInt8], crc: UInt32, size: Int) -> [UInt8] {
    var w = ZipRecordWriter()
    w.u32(ZipFormat.localSignature)
    w.u16(ZipFormat.version)
    w.u16(ZipFormat.utf8Flag)
    w.u16(ZipFormat.stored)
    w.u16(ZipFormat.dosTime)
    w.u16(ZipFormat.dosDate)
    w.u32(crc)
    w.u32(ZipFormat.sentinel32)
    w.u32(ZipFormat.sentinel32)
    w.u16(UInt16(name.count))
    w.u16(20)
    w.append(name)
    w.u16(ZipFormat.zip64ExtraID)
    w.u16(16)
    w.u64(UInt64(size))
    w.u64(UInt64(size))
    return w.bytes
  }

  static func headerSize(_ name: String) -> Int { ZipFormat.localHeaderSize + name.utf8.count + 20 }

  static func checkKey(_ key: String) throws {
    guard key.utf8.count <= Int(UInt16.max) else { throw ZarrError(.invalidArgument, "the key is too long for a zip entry name", key: key) }
    try ZipDirectory.checkName(key, archive: "archive")
  }

  // MARK: Store

  /// Appends the value as an entry (metadata is kept until ``finish(comment:)``).
  public func set(_ key: String, bytes value: UnsafeRawBufferPointer) throws {
    try ZipWriter.checkKey(key)
    if ZipWriter.isMetadataKey(key) {
      let copy = Array(value)
      try state.withLock { s in
        guard !s.finished else { throw ZarrError(.invalidArgument, "the archive '\(target)' is finished", key: key) }
        s.metadata[key] = copy
      }
      return
    }
    let crc = ZipFormat.crc32(value)
    let header = ZipWriter.localHeader(name: Array(key.utf8), crc: crc, size: value.count)
    try state.withLock { s in
      guard !s.finished else { throw ZarrError(.invalidArgument, "the archive '\(target)' is finished", key: key) }
      if s.region == nil { startData(&s) }
      let offset = s.end
      try header.withUnsafeBytes { try stage($0, &s, key: key) }
      try stage(value, &s, key: key)
      s.end += header.count + value.count
      record(&s, Written(name: key, crc: crc, size: value.count, offset: offset, headerSize: header.count))
    }
  }

  /// Reserves the metadata region before the first entry (see ``MetadataRoom``).
  func startData(_ s: inout State) {
    let known = s.metadata.reduce(0) { $0 + ZipWriter.headerSize($1.key) + $1.value.count }
    let size = room == .exact ? known : 2 * known + (64 << 10)
    s.region = 0..<size
    s.end = size
    // Staging starts at the page holding the region's end: the region's part of that page is
    // staged as zeros and overwritten with the metadata by `finish`.
    s.stagedAt = size / DirectWrite.alignment * DirectWrite.alignment
    s.staged = size - s.stagedAt
    staging.initializeMemory(as: UInt8.self, repeating: 0, count: s.staged)
  }

  func record(_ s: inout State, _ w: Written) {
    s.entries.append(w)
    if let old = s.byKey.updateValue(s.entries.count - 1, forKey: w.name) { s.deadBytes += s.entries[old].headerSize + s.entries[old].size }
  }

  /// Copies bytes into the staging buffer, writing it out whenever it fills.
  func stage(_ bytes: UnsafeRawBufferPointer, _ s: inout State, key: String) throws {
    var done = 0
    while done < bytes.count {
      let n = min(bytes.count - done, ZipWriter.stagingBytes - s.staged)
      (staging + s.staged).copyMemory(from: bytes.baseAddress! + done, byteCount: n)
      s.staged += n
      done += n
      if s.staged == ZipWriter.stagingBytes { try flushStaging(&s, key: key) }
    }
  }

  /// Writes the staged bytes: whole pages directly (when the file allows), the rest only when
  /// `all` (at the end), through the page cache; keeps an unwritten tail staged.
  func flushStaging(_ s: inout State, key: String, all: Bool = false) throws {
    let aligned = s.staged / DirectWrite.alignment * DirectWrite.alignment
    var written = 0
    if aligned > 0, let directFD, !s.directRefused {
      while written < aligned {
        let n = pwrite(directFD, staging + written, aligned - written, off_t(s.stagedAt + written))
        if n < 0 {
          if errno == EINTR { continue }
          if errno == EINVAL { s.directRefused = true; break }
          throw failure("a write", key)
        }
        written += n
        if n % DirectWrite.alignment != 0 { break }
      }
    }
    let upTo = all ? s.staged : aligned
    if written < upTo {
      try writeAll(UnsafeRawBufferPointer(start: staging + written, count: upTo - written), at: s.stagedAt + written, key: key)
      written = upTo
    }
    // Keep what is left (less than a page) at the buffer's start.
    let rest = s.staged - written
    if rest > 0 { staging.copyMemory(from: staging + written, byteCount: rest) }
    s.stagedAt += written
    s.staged = rest
  }

  /// Appends the value as an entry (metadata is kept until ``finish(comment:)``).
  public func set(_ key: String, _ value: [UInt8]) throws {
    try value.withUnsafeBytes { try set(key, bytes: $0) }
  }

  /// The value set last for `key`, read back from memory or the archive.
  public func get(_ key: String) throws -> [UInt8]? {
    let (written, memory) = lookup(key)
    if let memory { return memory }
    guard let w = written else { return nil }
    return try [UInt8](unsafeUninitializedCapacity: w.size) { buffer, initialized in
      try readBack(w, 0..<w.size, into: UnsafeMutableRawBufferPointer(buffer))
      initialized = w.size
    }
  }

  /// The entry appended for `key`, or its value held in memory.
  private func lookup(_ key: String) -> (Written?, [UInt8]?) {
    state.withLock { s in
      if let m = s.metadata[key] { return (nil, m) }
      return (s.byKey[key].map { s.entries[$0] }, nil)
    }
  }

  private func readBack(_ w: Written, _ range: Range<Int>, into buffer: UnsafeMutableRawBufferPointer) throws {
    let start = w.offset + w.headerSize + range.lowerBound
    // Bytes still staged (always the tail of the range) are copied from the buffer, under the lock.
    let inFile = state.withLock { s -> Int in
      let lo = max(start, s.stagedAt), hi = min(start + range.count, s.stagedAt + s.staged)
      guard lo < hi else { return range.count }
      (buffer.baseAddress! + (lo - start)).copyMemory(from: staging + (lo - s.stagedAt), byteCount: hi - lo)
      return lo - start
    }
    var done = 0
    let count = inFile
    while done < count {
      let n = pread(fd, buffer.baseAddress! + done, count - done, off_t(start + done))
      if n < 0 {
        if errno == EINTR { continue }
        throw failure("a read", w.name)
      }
      if n == 0 { throw ZarrError(.corruptData, "the archive being written is shorter than expected", key: w.name) }
      done += n
    }
  }

  /// Reads `range` of a value straight into `buffer`.
  public func read(_ key: String, range: Range<Int>, into buffer: UnsafeMutableRawBufferPointer) throws -> Int? {
    let found = lookup(key)
    let size = found.0?.size ?? found.1?.count
    guard let size else { return nil }
    guard range.lowerBound >= 0, range.upperBound <= size else {
      throw ZarrError(.corruptData, "byte range \(range) lies outside the \(size) stored bytes", key: key)
    }
    if let m = found.1 {
      m[range].withUnsafeBytes { if let b = $0.baseAddress, let to = buffer.baseAddress { to.copyMemory(from: b, byteCount: $0.count) } }
    } else if let w = found.0, range.count > 0 {
      try readBack(w, range, into: buffer)
    }
    return size
  }

  /// The size of the value set last for `key`.
  public func size(of key: String) throws -> Int? {
    state.withLock { s in s.metadata[key]?.count ?? s.byKey[key].map { s.entries[$0].size } }
  }

  /// Drops the key (its bytes, if appended already, stay unused in the archive).
  public func delete(_ key: String) throws {
    state.withLock { s in
      s.metadata.removeValue(forKey: key)
      if let old = s.byKey.removeValue(forKey: key) { s.deadBytes += s.entries[old].headerSize + s.entries[old].size }
    }
  }

  /// Drops every key under `prefix`.
  public func deletePrefix(_ prefix: String) throws {
    for key in try list(prefix: prefix) { try delete(key) }
  }

  /// Every key under `prefix`, sorted.
  public func list(prefix: String) throws -> [String] {
    let all = state.withLock { s in Array(s.metadata.keys) + Array(s.byKey.keys) }
    let p = prefix + "/"
    return all.filter { prefix.isEmpty || $0.hasPrefix(p) }.sorted()
  }

  /// The names directly under `prefix`.
  public func listDirectory(_ prefix: String) throws -> (keys: [String], prefixes: [String]) {
    StorePath.children(of: try list(prefix: prefix), under: prefix)
  }

  /// The total size of the values under `prefix`.
  public func storedBytes(under prefix: String) throws -> Int {
    try list(prefix: prefix).reduce(0) { $0 + ((try size(of: $1)) ?? 0) }
  }

  // MARK: Finishing

  /// The metadata keys in archive order: the root `zarr.json`, the other `zarr.json` breadth-first
  /// (by depth, then name), then any other metadata the same way.
  static func metadataOrder(_ keys: some Sequence<String>) -> [String] {
    keys.sorted { a, b in
      let ka = (a == "zarr.json" ? 0 : a.hasSuffix("/zarr.json") ? 1 : 2, a.split(separator: "/").count)
      let kb = (b == "zarr.json" ? 0 : b.hasSuffix("/zarr.json") ? 1 : 2, b.split(separator: "/").count)
      return ka != kb ? ka < kb : a < b
    }
  }

  /// Writes the metadata, the central directory (with `comment`, at most 65,535 bytes) and the end
  /// records, then puts the archive at its target.
  public func finish(comment: [UInt8]) throws {
    guard comment.count <= ZipFormat.maxComment else {
      throw ZarrError(.invalidArgument, "an archive comment of \(comment.count) bytes is longer than 65,535")
    }
    var s = try state.withLock { s in
      if s.staged > 0 { try flushStaging(&s, key: "", all: true) }
      return s
    }
    guard !s.finished else { throw ZarrError(.invalidArgument, "the archive '\(target)' is finished already") }
    let order = ZipWriter.metadataOrder(s.metadata.keys)
    var metadataEntries: [Int] = []
    // Metadata: as many as fit in the reserved region, in order, the root padded to fill it.
    let region = s.region ?? 0..<0
    if s.region == nil { s.end = 0 }
    var placed: [(key: String, bytes: [UInt8])] = []
    var used = 0
    for key in order {
      let size = ZipWriter.headerSize(key) + (s.metadata[key]?.count ?? 0)
      guard used + size <= region.count else { break }
      placed.append((key, s.metadata[key] ?? []))
      used += size
    }
    if !placed.isEmpty, used < region.count {
      // Trailing spaces keep the JSON valid and fill the region exactly.
      let padTarget = placed[0].key == "zarr.json" ? 0 : placed.count - 1
      placed[padTarget].bytes += [UInt8](repeating: 0x20, count: region.count - used)
    }
    var at = region.lowerBound
    var buffer: [UInt8] = []
    for (key, bytes) in placed {
      let crc = ZipFormat.crc32(bytes)
      let header = ZipWriter.localHeader(name: Array(key.utf8), crc: crc, size: bytes.count)
      s.entries.append(Written(name: key, crc: crc, size: bytes.count, offset: at, headerSize: header.count))
      metadataEntries.append(s.entries.count - 1)
      buffer += header
      buffer += bytes
      at += header.count + bytes.count
    }
    if !buffer.isEmpty { try buffer.withUnsafeBytes { try writeAll($0, at: region.lowerBound, key: "zarr.json") } }
    // What did not fit goes after the chunks.
    for key in order.dropFirst(placed.count) {
      let bytes = s.metadata[key] ?? []
      let crc = ZipFormat.crc32(bytes)
      let record = ZipWriter.localHeader(name: Array(key.utf8), crc: crc, size: bytes.count) + bytes
      try record.withUnsafeBytes { try writeAll($0, at: s.end, key: key) }
      s.entries.append(Written(name: key, crc: crc, size: bytes.count, offset: s.end, headerSize: record.count - bytes.count))
      metadataEntries.append(s.entries.count - 1)
      s.end += record.count
    }
    // The central directory: metadata first, then the chunks in archive order.
    let live = Set(s.byKey.values)
    let data = s.entries.indices.filter { live.contains($0) }.sorted { s.entries[$0].offset < s.entries[$1].offset }
    var cd = ZipRecordWriter()
    for index in metadataEntries + data {
      let e = s.entries[index]
      let big = e.size >= Int(ZipFormat.sentinel32), far = e.offset >= Int(ZipFormat.sentinel32)
      var extra = ZipRecordWriter()
      if big || far {
        extra.u16(ZipFormat.zip64ExtraID)
        extra.u16(UInt16((big ? 16 : 0) + (far ? 8 : 0)))
        if big { extra.u64(UInt64(e.size)); extra.u64(UInt64(e.size)) }
        if far { extra.u64(UInt64(e.offset)) }
      }
      let name = Array(e.name.utf8)
      cd.u32(ZipFormat.centralSignature)
      cd.u16(ZipFormat.madeBy)
      cd.u16(ZipFormat.version)
      cd.u16(ZipFormat.utf8Flag)
      cd.u16(ZipFormat.stored)
      cd.u16(ZipFormat.dosTime)
      cd.u16(ZipFormat.dosDate)
      cd.u32(e.crc)
      cd.u32OrSentinel(e.size)
      cd.u32OrSentinel(e.size)
      cd.u16(UInt16(name.count))
      cd.u16(UInt16(extra.bytes.count))
      cd.u16(0)
      cd.u16(0)
      cd.u16(0)
      cd.u32(ZipFormat.fileAttributes)
      cd.u32OrSentinel(e.offset)
      cd.append(name)
      cd.append(extra.bytes)
    }
    let count = metadataEntries.count + data.count
    let cdOffset = s.end, cdSize = cd.bytes.count
    var end = ZipRecordWriter()
    end.u32(ZipFormat.end64Signature)
    end.u64(44)
    end.u16(ZipFormat.madeBy)
    end.u16(ZipFormat.version)
    end.u32(0)
    end.u32(0)
    end.u64(UInt64(count))
    end.u64(UInt64(count))
    end.u64(UInt64(cdSize))
    end.u64(UInt64(cdOffset))
    end.u32(ZipFormat.locatorSignature)
    end.u32(0)
    end.u64(UInt64(cdOffset + cdSize))
    end.u32(1)
    end.u32(ZipFormat.endSignature)
    end.u16(0)
    end.u16(0)
    end.u16(count < Int(ZipFormat.sentinel16) ? UInt16(count) : ZipFormat.sentinel16)
    end.u16(count < Int(ZipFormat.sentinel16) ? UInt16(count) : ZipFormat.sentinel16)
    end.u32OrSentinel(cdSize)
    end.u32OrSentinel(cdOffset)
    end.u16(UInt16(comment.count))
    end.append(comment)
    let tail = cd.bytes + end.bytes
    try tail.withUnsafeBytes { try writeAll($0, at: cdOffset, key: "") }
    guard ftruncate(fd, off_t(cdOffset + tail.count)) == 0 else { throw failure("truncating", "") }
    try put()
    state.withLock { $0.finished = true }
  }

  /// Moves the finished temporary file to the target (a rename beside it, or an upload).
  private func put() throws {
    try file.commit()
  }
}
