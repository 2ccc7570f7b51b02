import Foundation

/// Builds ZIP archives byte by byte for tests, so that any field can be given a chosen (hostile)
/// value: build a well-formed archive, then patch the bytes at the offsets ``Archive`` records.
///
///     var zip = ZipBuilder()
///     zip.add("zarr.json", Array("{}".utf8))
///     var archive = zip.build()
///     archive.put32(archive.end + 16, 0xFFFF_FF00)   // the central directory offset
///     try Data(archive.bytes).write(to: url)
///
/// Offsets in the records count from the end of ``prefix`` (as when a stub is concatenated in
/// front of an archive).
public struct ZipBuilder: Sendable {
  /// One entry: what its local header and central record hold.
  public struct Entry: Sendable {
    /// The name in both records.
    public var name: String
    /// The bytes stored after the local header (compressed bytes for a deflated entry).
    public var data: [UInt8]
    /// The compression method (0 stored, 8 deflated).
    public var method: UInt16
    /// The general-purpose flags (default: UTF-8 names).
    public var flags: UInt16 = 0x0800
    /// The CRC-32 written (default: of `data`, right for stored entries).
    public var crc: UInt32
    /// The uncompressed size written (default: `data.count`).
    public var size: Int
    /// Sizes (and the offset) as ZIP64: sentinels in the 32-bit fields, values in ZIP64 extra fields.
    public var zip64 = false
    /// Extra-field bytes appended in the local header (after any ZIP64 field).
    public var localExtra: [UInt8] = []
    /// Whether the entry has a local header and data (`false`: a central record only, whose offset
    /// must then be patched).
    public var local = true
    /// Whether the entry has a central record.
    public var central = true

    public init(_ name: String, _ data: [UInt8], method: UInt16 = 0, crc: UInt32? = nil, size: Int? = nil) {
      self.name = name
      self.data = data
      self.method = method
      self.crc = crc ?? ZipBuilder.crc32(data)
      self.size = size ?? data.count
    }
  }

  /// A built archive and where its records are.
  public struct Archive: Sendable {
    public var bytes: [UInt8]
    /// Where each entry's local header starts (in `bytes`), by entry index (`-1`: none).
    public var local: [Int]
    /// Where each entry's central record starts (in `bytes`), by entry index (`-1`: none).
    public var central: [Int]
    /// Where the central directory starts (in `bytes`) and its size.
    public var centralDirectory: Int
    public var centralDirectorySize: Int
    /// Where the ZIP64 end record and locator start, when written.
    public var end64: Int?
    public var locator: Int?
    /// Where the end record starts.
    public var end: Int

    public mutating func put16(_ at: Int, _ v: UInt16) {
      bytes[at] = UInt8(v & 0xFF)
      bytes[at + 1] = UInt8(v >> 8)
    }
    public mutating func put32(_ at: Int, _ v: UInt32) {
      put16(at, UInt16(v & 0xFFFF))
      put16(at + 2, UInt16(v >> 16))
    }
    public mutating func put64(_ at: Int, _ v: UInt64) {
      put32(at, UInt32(v & 0xFFFF_FFFF))
      put32(at + 4, UInt32(v >> 32))
    }
    public func u16(_ at: Int) -> UInt16 { UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 }
    public func u32(_ at: Int) -> UInt32 { UInt32(u16(at)) | UInt32(u16(at + 2)) << 16 }

    public var data: Data { Data(bytes) }
  }

  /// Bytes before the archive (a self-extracting stub).
  public var prefix: [UInt8] = []
  public var entries: [Entry] = []
  /// The archive comment.
  public var comment: [UInt8] = []
  /// Whether to write the ZIP64 end record and locator (the end record then holds sentinels
  /// when `sentinels` is true, real values otherwise).
  public var zip64End = false
  public var sentinels = false

  public init() {}

  /// Adds a stored entry.
  public mutating func add(_ name: String, _ data: [UInt8]) { entries.append(Entry(name, data)) }

  /// Adds a stored entry holding `text`.
  public mutating func add(_ name: String, _ text: String) { add(name, Array(text.utf8)) }

  public func build() -> Archive {
    var out = prefix
    let base = prefix.count
    var local = [Int](repeating: -1, count: entries.count)
    var central = [Int](repeating: -1, count: entries.count)
    func u16(_ v: UInt16) { out.append(UInt8(v & 0xFF)); out.append(UInt8(v >> 8)) }
    func u32(_ v: UInt32) { u16(UInt16(v & 0xFFFF)); u16(UInt16(v >> 16)) }
    func u64(_ v: UInt64) { u32(UInt32(v & 0xFFFF_FFFF)); u32(UInt32(v >> 32)) }
    for (i, e) in entries.enumerated() where e.local {
      local[i] = out.count
      let name = Array(e.name.utf8)
      u32(0x0403_4b50)
      u16(e.zip64 ? 45 : 20)
      u16(e.flags)
      u16(e.method)
      u16(0)
      u16(0x21)
      u32(e.crc)
      u32(e.zip64 ? 0xFFFF_FFFF : UInt32(truncatingIfNeeded: e.data.count))
      u32(e.zip64 ? 0xFFFF_FFFF : UInt32(truncatingIfNeeded: e.size))
      u16(UInt16(name.count))
      u16(UInt16((e.zip64 ? 20 : 0) + e.localExtra.count))
      out += name
      if e.zip64 {
        u16(1)
        u16(16)
        u64(UInt64(e.size))
        u64(UInt64(e.data.count))
      }
      out += e.localExtra
      out += e.data
    }
    let cdStart = out.count
    var count = 0
    for (i, e) in entries.enumerated() where e.central {
      central[i] = out.count
      count += 1
      let name = Array(e.name.utf8)
      let offset = max(0, local[i] - base)
      u32(0x0201_4b50)
      u16(3 << 8 | 45)
      u16(e.zip64 ? 45 : 20)
      u16(e.flags)
      u16(e.method)
      u16(0)
      u16(0x21)
      u32(e.crc)
      u32(e.zip64 ? 0xFFFF_FFFF : UInt32(truncatingIfNeeded: e.data.count))
      u32(e.zip64 ? 0xFFFF_FFFF : UInt32(truncatingIfNeeded: e.size))
      u16(UInt16(name.count))
      u16(e.zip64 ? 28 : 0)
      u16(0)
      u16(0)
      u16(0)
      u32(0o100644 << 16)
      u32(e.zip64 ? 0xFFFF_FFFF : UInt32(offset))
      out += name
      if e.zip64 {
        u16(1)
        u16(24)
        u64(UInt64(e.size))
        u64(UInt64(e.data.count))
        u64(UInt64(offset))
      }
    }
    let cdSize = out.count - cdStart
    var end64: Int? = nil, locator: Int? = nil
    if zip64End {
      end64 = out.count
      u32(0x0606_4b50)
      u64(44)
      u16(3 << 8 | 45)
      u16(45)
      u32(0)
      u32(0)
      u64(UInt64(count))
      u64(UInt64(count))
      u64(UInt64(cdSize))
      u64(UInt64(cdStart - base))
      locator = out.count
      u32(0x0706_4b50)
      u32(0)
      u64(UInt64(end64! - base))
      u32(1)
    }
    let end = out.count
    let s = zip64End && sentinels
    u32(0x0605_4b50)
    u16(0)
    u16(0)
    u16(s ? 0xFFFF : UInt16(count))
    u16(s ? 0xFFFF : UInt16(count))
    u32(s ? 0xFFFF_FFFF : UInt32(cdSize))
    u32(s ? 0xFFFF_FFFF : UInt32(cdStart - base))
    u16(UInt16(comment.count))
    out += comment
    return Archive(bytes: out, local: local, central: central, centralDirectory: cdStart, centralDirectorySize: cdSize,
      end64: end64, locator: locator, end: end)
  }

  private static let table: [UInt32] = (0..<256).map { n -> UInt32 in
    var c = UInt32(n)
    for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    return c
  }

  /// CRC-32 (ISO-HDLC, as zlib and ZIP compute it).
  public static func crc32(_ bytes: [UInt8]) -> UInt32 {
    var c: UInt32 = 0xFFFF_FFFF
    for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
    return c ^ 0xFFFF_FFFF
  }
}
