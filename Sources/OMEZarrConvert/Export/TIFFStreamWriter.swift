import ZarrIO

/// A TIFF tag's value, as a directory (IFD) holds it.
enum TIFFValue {
  case shorts([UInt16])
  case longs([UInt32])
  case rationals([(UInt32, UInt32)])
  /// Text; the terminating NUL is added.
  case ascii([UInt8])
  /// File offsets or byte counts: LONG in a classic TIFF, LONG8 in a BigTIFF.
  case offsets([UInt64])
  /// The offsets of the sub-directories (reduced resolutions) that follow this directory, this many.
  case subIFDs(Int)
}

/// One image file directory: its tags (written in ascending order).
struct TIFFIFD {
  var entries: [(tag: UInt16, value: TIFFValue)] = []

  mutating func set(_ tag: UInt16, _ value: TIFFValue) {
    entries.removeAll { $0.tag == tag }
    entries.append((tag, value))
  }
}

/// Writes a TIFF whose segments (tiles or strips) are appended as they are encoded, in any order,
/// and whose directories follow them: the classic format when the whole file stays below 4 GiB,
/// BigTIFF otherwise (decided at the end, when the size is known; the 16 bytes a BigTIFF header
/// needs are reserved first).
struct TIFFStreamWriter {
  let file: StagedFile
  /// Classic TIFF holds offsets below this (tests lower it to reach BigTIFF without 4 GiB).
  var classicLimit: UInt64 = 1 << 32
  /// Where a region set aside for segments placed at fixed offsets starts (``place(_:at:)``).
  var dataStart: UInt64 = 16

  init(file: StagedFile) throws {
    self.file = file
    try file.appendZeros(16)
  }

  /// Appends one encoded segment; returns its offset.
  func append(_ segment: UnsafeRawBufferPointer) throws -> UInt64 {
    UInt64(try file.append(segment))
  }

  /// Writes one segment at `offset`, inside a region set aside with `StagedFile.reserve`.
  func place(_ segment: UnsafeRawBufferPointer, at offset: UInt64) throws {
    try file.write(segment, at: Int(offset))
  }

  /// Writes the directories after the segments, then the header pointing at the first: `count`
  /// planes, each a main directory (chained in order) followed by its SubIFDs. `directories(i)`
  /// builds plane `i`'s; it is called once to lay them out and once to write them, so one plane's
  /// directories are held at a time. Returns whether the file is a BigTIFF.
  func finish(planes count: Int, forceBigTIFF: Bool = false,
    directories: (Int) throws -> (main: TIFFIFD, subs: [TIFFIFD])) throws -> Bool
  {
    var start = UInt64(file.size)
    if start % 2 == 1 {
      try file.appendZeros(1)
      start += 1
    }
    // Where each plane's directories start in either format, and where the last end.
    var classic: [UInt64] = [start], big: [UInt64] = [start]
    classic.reserveCapacity(count + 1)
    big.reserveCapacity(count + 1)
    for i in 0..<count {
      let (main, subs) = try directories(i)
      classic.append(classic[i] + UInt64(([main] + subs).reduce(0) { $0 + Self.byteCount($1, big: false) }))
      big.append(big[i] + UInt64(([main] + subs).reduce(0) { $0 + Self.byteCount($1, big: true) }))
    }
    let isBig = forceBigTIFF || (classic.last ?? 0) >= classicLimit
    let starts = isBig ? big : classic
    for i in 0..<count {
      let (main, subs) = try directories(i)
      var subOffsets: [UInt64] = []
      var at = starts[i] + UInt64(Self.byteCount(main, big: isBig))
      for sub in subs {
        subOffsets.append(at)
        at += UInt64(Self.byteCount(sub, big: isBig))
      }
      var bytes = Self.serialize(main, at: starts[i], big: isBig, next: i + 1 < count ? starts[i + 1] : 0) { subOffsets[$0] }
      for (sub, offset) in zip(subs, subOffsets) { bytes += Self.serialize(sub, at: offset, big: isBig, next: 0) { _ in 0 } }
      _ = try bytes.withUnsafeBytes { try file.append($0) }
    }
    var header = TIFFBytes()
    header.bytes += [0x49, 0x49]
    if isBig {
      header.u16(43)
      header.u16(8)
      header.u16(0)
      header.u64(count == 0 ? 0 : starts[0])
    } else {
      header.u16(42)
      header.u32(UInt32(count == 0 ? 0 : starts[0]))
    }
    try header.bytes.withUnsafeBytes { try file.write($0, at: 0) }
    return isBig
  }

  /// Writes a classic TIFF's one directory at `offset`, in room set aside before the segments
  /// (ImageJ's layout above 4 GiB), and the header pointing at it.
  /// - Throws: `ZarrError` when the directory does not fit there, or one of its values passes 4 GiB.
  func finish(only ifd: TIFFIFD, at offset: UInt64) throws {
    for entry in ifd.entries {
      if case .offsets(let values) = entry.value, values.contains(where: { $0 >= 1 << 32 }) {
        throw ZarrError(.invalidArgument, "tag \(entry.tag) of the first directory of '\(file.target)' passes 4 GiB")
      }
    }
    let bytes = Self.serialize(ifd, at: offset, big: false, next: 0) { _ in 0 }
    guard offset + UInt64(bytes.count) <= dataStart else {
      throw ZarrError(.invalidArgument, "the first directory of '\(file.target)' does not fit before its planes")
    }
    try bytes.withUnsafeBytes { try file.write($0, at: Int(offset)) }
    var header = TIFFBytes()
    header.bytes += [0x49, 0x49]
    header.u16(42)
    header.u32(UInt32(offset))
    try header.bytes.withUnsafeBytes { try file.write($0, at: 0) }
  }

  /// The TIFF type code and element size of a value in the chosen format.
  static func type(_ value: TIFFValue, big: Bool) -> (code: UInt16, size: Int, count: Int) {
    switch value {
    case .shorts(let v): (3, 2, v.count)
    case .longs(let v): (4, 4, v.count)
    case .rationals(let v): (5, 8, v.count)
    case .ascii(let v): (2, 1, v.count + 1)
    case .offsets(let v): big ? (16, 8, v.count) : (4, 4, v.count)
    case .subIFDs(let n): big ? (18, 8, n) : (13, 4, n)
    }
  }

  /// The bytes a directory takes: its entries, next pointer and out-of-line values (even).
  static func byteCount(_ ifd: TIFFIFD, big: Bool) -> Int {
    let inline = big ? 8 : 4
    var n = big ? 8 + 20 * ifd.entries.count + 8 : 2 + 12 * ifd.entries.count + 4
    for entry in ifd.entries {
      let (_, size, count) = type(entry.value, big: big)
      if size * count > inline { n += (size * count + 1) / 2 * 2 }
    }
    return n
  }

  /// A directory's bytes when written at `offset`, with `next` as the following directory and
  /// `subOffset(k)` giving where its `k`th sub-directory lies.
  static func serialize(_ ifd: TIFFIFD, at offset: UInt64, big: Bool, next: UInt64, subOffset: (Int) -> UInt64) -> [UInt8] {
    let inline = big ? 8 : 4
    let entries = ifd.entries.sorted { $0.tag < $1.tag }
    var head = TIFFBytes()
    var tail = TIFFBytes()
    var tailAt = offset + UInt64(big ? 8 + 20 * entries.count + 8 : 2 + 12 * entries.count + 4)
    if big { head.u64(UInt64(entries.count)) } else { head.u16(UInt16(entries.count)) }
    for (tag, value) in entries {
      let (code, size, count) = type(value, big: big)
      var data = TIFFBytes()
      switch value {
      case .shorts(let v): v.forEach { data.u16($0) }
      case .longs(let v): v.forEach { data.u32($0) }
      case .rationals(let v): v.forEach { data.u32($0.0); data.u32($0.1) }
      case .ascii(let v): data.bytes = v + [0]
      case .offsets(let v): v.forEach { big ? data.u64($0) : data.u32(UInt32(truncatingIfNeeded: $0)) }
      case .subIFDs(let n): (0..<n).forEach { big ? data.u64(subOffset($0)) : data.u32(UInt32(truncatingIfNeeded: subOffset($0))) }
      }
      head.u16(tag)
      head.u16(code)
      if big { head.u64(UInt64(count)) } else { head.u32(UInt32(count)) }
      if size * count <= inline {
        head.bytes += data.bytes + [UInt8](repeating: 0, count: inline - data.bytes.count)
      } else {
        if big { head.u64(tailAt) } else { head.u32(UInt32(tailAt)) }
        if data.bytes.count % 2 == 1 { data.bytes.append(0) }
        tail.bytes += data.bytes
        tailAt += UInt64(data.bytes.count)
      }
    }
    if big { head.u64(next) } else { head.u32(UInt32(next)) }
    return head.bytes + tail.bytes
  }
}

/// Little-endian bytes of a TIFF structure.
struct TIFFBytes {
  var bytes: [UInt8] = []
  mutating func u16(_ v: UInt16) { bytes += [UInt8(v & 0xFF), UInt8(v >> 8)] }
  mutating func u32(_ v: UInt32) { for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
  mutating func u64(_ v: UInt64) { for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
}
