/// One entry of a ZIP archive's central directory.
public struct ZipEntry: Sendable, Hashable {
  /// The name (a store key for files; directories end with `/`).
  public var name: String
  /// The compression method: 0 stored, 8 deflated.
  public var method: UInt16
  /// The general-purpose flags.
  public var flags: UInt16
  /// The CRC-32 of the uncompressed bytes.
  public var crc32: UInt32
  /// The size of the stored (compressed) bytes.
  public var compressedSize: Int
  /// The size of the uncompressed bytes.
  public var size: Int
  /// Where the entry's local header starts in the archive.
  public var localHeaderOffset: Int
  /// The ids of the entry's extra fields in the central directory.
  public var extraFieldIDs: [UInt16]
  /// Whether the central record carries a ZIP64 extra field.
  public var hasZip64Extra: Bool
  /// The length of the name in bytes.
  var nameLength: Int

  /// A directory entry (`name/`): no data, ignored as a key.
  public var isDirectory: Bool { name.hasSuffix("/") }
  /// Whether the entry is encrypted (flag bit 0 or 6).
  public var isEncrypted: Bool { flags & ZipFormat.encryptedFlags != 0 }
  /// Whether every extra field is one RFC-9's revised draft allows (ZIP64, timestamps, Unix ids).
  public var hasOnlyAllowedExtraFields: Bool { extraFieldIDs.allSatisfy(ZipFormat.allowedExtraIDs.contains) }
}

/// The central directory of a ZIP archive and its end records, read and checked.
///
/// Every number is checked before use: the end record is searched only where it can be, the
/// central directory and every entry must lie inside the archive, entries must not overlap, names
/// must be relative paths without `..`, and counts must fit the bytes that hold them. A failing
/// check throws `ZarrError.corruptData` naming the archive (and the entry), so a hostile archive is
/// refused before anything is read from it.
public struct ZipDirectory: Sendable {
  /// The entries in central-directory order.
  public var entries: [ZipEntry]
  /// The archive comment (RFC-9: a JSON object).
  public var comment: [UInt8]
  /// Whether the ZIP64 end record and locator are present.
  public var hasZip64End: Bool
  /// The archive's size in bytes.
  public var archiveSize: Int
  /// Where the central directory starts, and its size.
  public var centralDirectoryOffset: Int
  /// The central directory's size in bytes.
  public var centralDirectorySize: Int
  /// Bytes before the first entry that offsets do not count (a self-extracting stub), usually 0.
  public var prefixBytes: Int
  /// Names that appear more than once (the last record wins, as in Python's `zipfile`).
  public var duplicateNames: [String]
  /// Index into ``entries`` of each file name (directories left out), the last record winning.
  var byName: [String: Int]
  /// For each entry, the offset its bytes must end by: the next local header or the central directory.
  var limits: [Int]
  /// Bytes of the central directory's start already fetched with the tail (reused by readers).
  var tail: ZipBytes

  /// The entry named `key`, or `nil` (directories never match).
  public func entry(_ key: String) -> ZipEntry? { byName[key].map { entries[$0] } }

  /// Reads the end records and the central directory of an archive of `size` bytes, with
  /// `fetch(range)` returning exactly those bytes: one suffix read, and one more for a central
  /// directory that does not fit in it.
  /// - Throws: `ZarrError.corruptData` naming `archive` when it is not a (single-part) ZIP archive
  ///   or any check fails.
  public static func read(size: Int, archive: String, tail prefetched: [UInt8]? = nil,
                          fetch: (Range<Int>) throws -> [UInt8]) throws -> ZipDirectory {
    func bad(_ message: String, entry: String? = nil) -> ZarrError {
      ZarrError(.corruptData, "'\(archive)' \(message)", key: entry)
    }
    guard size >= ZipFormat.endSize else { throw bad("is not a zip archive (\(size) bytes, too short for its end record)") }
    let tailCount = min(size, ZipFormat.tailRead)
    let tailBytes: [UInt8]
    if let prefetched, prefetched.count >= tailCount {
      tailBytes = Array(prefetched.suffix(tailCount))
    } else {
      tailBytes = try fetch((size - tailCount)..<size)
    }
    guard tailBytes.count == tailCount else { throw bad("changed while being read") }
    let tail = ZipBytes(bytes: tailBytes, base: size - tailCount)

    // The end record: searched backwards, accepted only where its comment length reaches the end.
    var endAt: Int? = nil
    var i = tailCount - ZipFormat.endSize
    let lowest = max(0, tailCount - ZipFormat.endSearch)
    while i >= lowest {
      if tail.u32(i) == ZipFormat.endSignature, Int(tail.u16(i + 20)) == tailCount - i - ZipFormat.endSize {
        endAt = i
        break
      }
      i -= 1
    }
    guard let end = endAt else {
      throw bad("is not a zip archive, or is truncated (no end of central directory record in its last \(tailCount) bytes)")
    }
    let endOffset = tail.base + end
    let disk = tail.u16(end + 4), cdDisk = tail.u16(end + 6)
    var count = Int(tail.u16(end + 10))
    let countOnDisk = Int(tail.u16(end + 8))
    var cdSize = Int(tail.u32(end + 12))
    var cdOffset = Int(tail.u32(end + 16))
    let comment = Array(tail.slice(end + 22, Int(tail.u16(end + 20))))
    guard disk == 0, cdDisk == 0, countOnDisk == count || count == Int(ZipFormat.sentinel16) else {
      throw bad("is a multi-part (split) archive, which cannot be read as one file (disk \(disk) of the central directory \(cdDisk))")
    }

    // The ZIP64 end record, found through its locator just before the end record.
    var recordsStart = endOffset
    var hasZip64 = false
    let locatorAt = end - ZipFormat.locatorSize
    if locatorAt >= 0, tail.u32(locatorAt) == ZipFormat.locatorSignature {
      hasZip64 = true
      let totalDisks = tail.u32(locatorAt + 16)
      guard tail.u32(locatorAt + 4) == 0, totalDisks <= 1 else { throw bad("is a multi-part (split) archive (\(totalDisks) disks)") }
      let end64 = tail.u64(locatorAt + 8)
      // The latest a ZIP64 end record can start (negative in a file too short to hold one).
      let adjacent = endOffset - ZipFormat.locatorSize - ZipFormat.end64Size
      guard adjacent >= 0, end64 <= UInt64(adjacent) else {
        throw bad("has a ZIP64 locator pointing past its end records (offset \(end64))")
      }
      func end64Record(at offset: Int) throws -> ZipBytes {
        let local = offset - tail.base
        if tail.has(local, ZipFormat.end64Size) {
          return ZipBytes(bytes: Array(tail.slice(local, ZipFormat.end64Size)), base: offset)
        }
        let record = ZipBytes(bytes: try fetch(offset..<(offset + ZipFormat.end64Size)), base: offset)
        guard record.bytes.count == ZipFormat.end64Size else { throw bad("changed while being read") }
        return record
      }
      var end64Offset = Int(end64)
      var record = try end64Record(at: end64Offset)
      if record.u32(0) != ZipFormat.end64Signature, end64Offset != adjacent {
        // A stub before the archive shifts the offset the locator holds: the record then lies
        // right before the locator, where writers put it (as Python's zipfile and Info-ZIP read it).
        let before = try end64Record(at: adjacent)
        if before.u32(0) == ZipFormat.end64Signature {
          end64Offset = adjacent
          record = before
        }
      }
      guard record.u32(0) == ZipFormat.end64Signature else {
        throw bad("has no ZIP64 end record where its locator points (offset \(end64))")
      }
      guard record.u32(16) == 0, record.u32(20) == 0 else { throw bad("is a multi-part (split) archive (ZIP64 disk numbers)") }
      let count64 = record.u64(32), size64 = record.u64(40), offset64 = record.u64(48)
      guard record.u64(24) == count64, count64 <= UInt64(size), size64 <= UInt64(size), offset64 <= UInt64(size) else {
        throw bad("has a ZIP64 end record with impossible values (\(count64) entries, central directory of \(size64) bytes at \(offset64))")
      }
      // A 32-bit field that is not the sentinel must agree with its 64-bit value.
      func agree(_ small: Int, _ sentinel: Int, _ big: UInt64, _ what: String) throws -> Int {
        guard small == sentinel || UInt64(small) == big else {
          throw bad("has end records that disagree on the \(what) (\(small) and \(big))")
        }
        return Int(big)
      }
      count = try agree(count, Int(ZipFormat.sentinel16), count64, "number of entries")
      cdSize = try agree(cdSize, Int(ZipFormat.sentinel32), size64, "central directory size")
      cdOffset = try agree(cdOffset, Int(ZipFormat.sentinel32), offset64, "central directory offset")
      recordsStart = end64Offset
    } else if count == Int(ZipFormat.sentinel16) || cdSize == Int(ZipFormat.sentinel32) || cdOffset == Int(ZipFormat.sentinel32) {
      throw bad("needs a ZIP64 end record (its end record holds ZIP64 sentinels) but has none")
    }

    // The central directory ends where the end records start; anything before the offset it
    // names is a prefix (a self-extracting stub) that every offset skips.
    guard cdSize <= recordsStart, cdOffset <= recordsStart - cdSize else {
      throw bad("has a central directory (\(cdSize) bytes at offset \(cdOffset)) that lies past the end of the archive")
    }
    let prefix = recordsStart - cdSize - cdOffset
    let cdStart = cdOffset + prefix
    guard count <= cdSize / ZipFormat.centralHeaderSize else {
      throw bad("claims \(count) entries in a central directory of only \(cdSize) bytes")
    }
    let cdLocal = cdStart - tail.base
    let cd: ZipBytes
    if tail.has(cdLocal, cdSize) {
      cd = ZipBytes(bytes: Array(tail.slice(cdLocal, cdSize)), base: cdStart)
    } else {
      cd = ZipBytes(bytes: try fetch(cdStart..<(cdStart + cdSize)), base: cdStart)
      guard cd.bytes.count == cdSize else { throw bad("changed while being read") }
    }

    var entries: [ZipEntry] = []
    entries.reserveCapacity(count)
    var at = 0
    for n in 0..<count {
      guard cd.has(at, ZipFormat.centralHeaderSize), cd.u32(at) == ZipFormat.centralSignature else {
        throw bad("has a damaged central directory (record \(n + 1) of \(count) at offset \(cdStart + at))")
      }
      let nameLength = Int(cd.u16(at + 28)), extraLength = Int(cd.u16(at + 30)), commentLength = Int(cd.u16(at + 32))
      guard cd.has(at + ZipFormat.centralHeaderSize, nameLength + extraLength + commentLength) else {
        throw bad("has a damaged central directory (record \(n + 1) runs past its end)")
      }
      let nameBytes = cd.slice(at + ZipFormat.centralHeaderSize, nameLength)
      guard let name = String(validating: nameBytes, as: UTF8.self) else {
        throw bad("has an entry name that is not UTF-8 (record \(n + 1))")
      }
      try checkName(name, archive: archive)
      var entry = ZipEntry(
        name: name, method: cd.u16(at + 10), flags: cd.u16(at + 8), crc32: cd.u32(at + 16),
        compressedSize: Int(cd.u32(at + 20)), size: Int(cd.u32(at + 24)), localHeaderOffset: Int(cd.u32(at + 42)),
        extraFieldIDs: [], hasZip64Extra: false, nameLength: nameLength)
      let diskStart = cd.u16(at + 34)
      // Extra fields: a list of (id, size, data) that must fill the extra area exactly.
      var e = at + ZipFormat.centralHeaderSize + nameLength
      let extraEnd = e + extraLength
      var needsZip64 = (entry.size == Int(ZipFormat.sentinel32), entry.compressedSize == Int(ZipFormat.sentinel32),
        entry.localHeaderOffset == Int(ZipFormat.sentinel32), diskStart == ZipFormat.sentinel16)
      while e < extraEnd {
        guard extraEnd - e >= 4 else { throw bad("has a damaged extra field", entry: name) }
        let id = cd.u16(e), length = Int(cd.u16(e + 2))
        guard extraEnd - e - 4 >= length else { throw bad("has an extra field running past its record", entry: name) }
        entry.extraFieldIDs.append(id)
        if id == ZipFormat.zip64ExtraID {
          entry.hasZip64Extra = true
          var f = e + 4
          let fieldsEnd = f + length
          func next64(_ what: String) throws -> Int {
            guard fieldsEnd - f >= 8 else { throw bad("has a ZIP64 extra field too short for its \(what)", entry: name) }
            let v = cd.u64(f)
            f += 8
            guard v <= UInt64(size) || what == "size" else {
              throw bad("has a ZIP64 \(what) of \(v), past the end of the \(size)-byte archive", entry: name)
            }
            guard v <= UInt64(Int.max) else { throw bad("has a ZIP64 \(what) of \(v)", entry: name) }
            return Int(v)
          }
          if needsZip64.0 { entry.size = try next64("size"); needsZip64.0 = false }
          if needsZip64.1 { entry.compressedSize = try next64("compressed size"); needsZip64.1 = false }
          if needsZip64.2 { entry.localHeaderOffset = try next64("offset"); needsZip64.2 = false }
          if needsZip64.3 {
            guard fieldsEnd - f >= 4 else { throw bad("has a ZIP64 extra field too short for its disk number", entry: name) }
            guard cd.u32(f) == 0 else { throw bad("lies on another disk of a multi-part archive", entry: name) }
            needsZip64.3 = false
          }
        }
        e += 4 + length
      }
      guard !needsZip64.0, !needsZip64.1, !needsZip64.2, !needsZip64.3 else {
        throw bad("has ZIP64 sentinels but no ZIP64 extra field holding the values", entry: name)
      }
      guard diskStart == 0 || diskStart == ZipFormat.sentinel16 else {
        throw bad("lies on another disk of a multi-part archive", entry: name)
      }
      // The entry's header and bytes must lie before the central directory.
      let start = entry.localHeaderOffset + prefix
      guard start <= cdStart, entry.compressedSize <= cdStart - start,
        ZipFormat.localHeaderSize + nameLength <= cdStart - start - entry.compressedSize
      else {
        throw bad("has an entry (\(entry.compressedSize) bytes at offset \(entry.localHeaderOffset)) that lies past the entries' end", entry: name)
      }
      entry.localHeaderOffset = start
      if entry.method == ZipFormat.stored, entry.compressedSize != entry.size, !entry.isEncrypted {
        throw bad("has a stored entry whose sizes differ (\(entry.compressedSize) and \(entry.size))", entry: name)
      }
      entries.append(entry)
      at += ZipFormat.centralHeaderSize + nameLength + extraLength + commentLength
    }
    guard at == cdSize else {
      throw bad("has \(cdSize - at) bytes in its central directory after its \(count) records")
    }

    // Entries must not overlap: each ends before the next local header (or the central directory).
    let order = entries.indices.sorted { entries[$0].localHeaderOffset < entries[$1].localHeaderOffset }
    var limits = [Int](repeating: cdStart, count: entries.count)
    for (k, index) in order.enumerated() {
      let entry = entries[index]
      let limit = k + 1 < order.count ? entries[order[k + 1]].localHeaderOffset : cdStart
      let minimumEnd = entry.localHeaderOffset + ZipFormat.localHeaderSize + entry.nameLength + entry.compressedSize
      guard minimumEnd <= limit else {
        let other = k + 1 < order.count ? "'\(entries[order[k + 1]].name)'" : "the central directory"
        throw bad("has overlapping entries: '\(entry.name)' runs into \(other)", entry: entry.name)
      }
      limits[index] = limit
    }

    var byName: [String: Int] = [:]
    var duplicates: [String] = []
    for (index, entry) in entries.enumerated() where !entry.isDirectory {
      if byName.updateValue(index, forKey: entry.name) != nil { duplicates.append(entry.name) }
    }
    return ZipDirectory(entries: entries, comment: comment, hasZip64End: hasZip64, archiveSize: size,
      centralDirectoryOffset: cdStart, centralDirectorySize: cdSize, prefixBytes: prefix, duplicateNames: duplicates,
      byName: byName, limits: limits, tail: tail)
  }

  /// Refuses names that are not relative paths inside the archive: absolute, `..` or `.`
  /// components, backslashes, drive letters, NUL, empty components.
  static func checkName(_ name: String, archive: String) throws {
    let components = name.split(separator: "/", omittingEmptySubsequences: false)
    let body = name.hasSuffix("/") ? components.dropLast() : components[...]
    let unsafe = name.isEmpty || name.hasPrefix("/") || name.contains("\\") || name.contains("\0")
      || body.contains { $0.isEmpty || $0 == "." || $0 == ".." }
      || (components.first.map { $0.count == 2 && $0.last == ":" } ?? false)
    guard !unsafe else {
      throw ZarrError(.corruptData,
        "'\(archive)' has an entry named '\(name)', which would lie outside the archive's root (absolute, '..', or not a plain relative path)",
        key: name)
    }
  }
}
