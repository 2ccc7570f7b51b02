import CZarrCRC
import CZarrZlib

/// The record layouts of the ZIP format (PKWARE APPNOTE 6.3), little-endian throughout: the one
/// place their signatures, sizes and field offsets are spelled out.
enum ZipFormat {
  static let localSignature: UInt32 = 0x0403_4b50
  static let centralSignature: UInt32 = 0x0201_4b50
  static let endSignature: UInt32 = 0x0605_4b50
  static let end64Signature: UInt32 = 0x0606_4b50
  static let locatorSignature: UInt32 = 0x0706_4b50

  /// Fixed sizes of the local header, central-directory header, end records and locator.
  static let localHeaderSize = 30
  static let centralHeaderSize = 46
  static let endSize = 22
  static let end64Size = 56
  static let locatorSize = 20
  /// The longest archive comment.
  static let maxComment = 65_535
  /// How far from the end the end record can start: the record plus the longest comment.
  static let endSearch = endSize + maxComment
  /// What a suffix read fetches to find every end record at once.
  static let tailRead = endSearch + locatorSize + end64Size

  /// General-purpose flags: bit 0 (encrypted), bit 6 (strong encryption), bit 11 (names are UTF-8).
  static let encryptedFlags: UInt16 = 0x0041
  static let utf8Flag: UInt16 = 0x0800

  /// Compression methods.
  static let stored: UInt16 = 0
  static let deflated: UInt16 = 8

  /// Extra-field ids: ZIP64, extended timestamp, Info-ZIP Unix ids (what RFC-9's revised draft allows).
  static let zip64ExtraID: UInt16 = 0x0001
  static let allowedExtraIDs: Set<UInt16> = [0x0001, 0x5455, 0x7875]

  /// The 32- and 16-bit values meaning "see the ZIP64 record".
  static let sentinel32: UInt32 = 0xFFFF_FFFF
  static let sentinel16: UInt16 = 0xFFFF

  /// "Version needed to extract" with ZIP64 (4.5), and "made by" Unix with that version.
  static let version: UInt16 = 45
  static let madeBy: UInt16 = 3 << 8 | 45
  /// 1980-01-01 00:00 in MS-DOS form: written for every entry, so archives are reproducible.
  static let dosTime: UInt16 = 0
  static let dosDate: UInt16 = 0x0021
  /// External attributes of a regular file with mode 0644 (Unix, in the high 16 bits).
  static let fileAttributes: UInt32 = 0o100644 << 16

  /// Whether the CPU folds CRCs with carry-less multiplication (``CZarrCRC``).
  static let folds = czarr_crc32_fold_available() != 0

  /// CRC-32 (ISO-HDLC, zlib's) of `bytes`, continuing `crc`: the bulk by carry-less multiplication
  /// where the CPU has it (about 4x zlib's speed), the rest by zlib.
  static func crc32(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
    guard let base = bytes.baseAddress?.assumingMemoryBound(to: Bytef.self), bytes.count > 0 else { return crc }
    var c = crc
    var done = 0
    if folds, bytes.count >= 64 {
      done = bytes.count & ~15
      c = ~czarr_crc32_fold(~c, base, done)
    }
    guard done < bytes.count else { return c }
    return UInt32(truncatingIfNeeded: crc32_z(uLong(c), base + done, z_size_t(bytes.count - done)))
  }

  /// CRC-32 with zlib alone (the reference for ``crc32(_:continuing:)``).
  static func zlibCRC32(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
    guard let base = bytes.baseAddress?.assumingMemoryBound(to: Bytef.self), bytes.count > 0 else { return 0 }
    return UInt32(truncatingIfNeeded: crc32_z(0, base, z_size_t(bytes.count)))
  }

  /// CRC-32 of an array.
  static func crc32(_ bytes: [UInt8]) -> UInt32 { bytes.withUnsafeBytes { crc32($0) } }
}

/// Little-endian fields of a byte array, read with bounds checks.
struct ZipBytes {
  let bytes: [UInt8]
  /// Where `bytes` starts in the archive (for messages and offsets).
  let base: Int

  /// Whether `count` bytes from `offset` lie inside.
  func has(_ offset: Int, _ count: Int) -> Bool { offset >= 0 && count >= 0 && offset <= bytes.count && count <= bytes.count - offset }

  func u16(_ at: Int) -> UInt16 { UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 }
  func u32(_ at: Int) -> UInt32 { UInt32(u16(at)) | UInt32(u16(at + 2)) << 16 }
  func u64(_ at: Int) -> UInt64 { UInt64(u32(at)) | UInt64(u32(at + 4)) << 32 }
  func slice(_ at: Int, _ count: Int) -> ArraySlice<UInt8> { bytes[at..<(at + count)] }
}

/// Builds little-endian records.
struct ZipRecordWriter {
  var bytes: [UInt8] = []

  mutating func u16(_ v: UInt16) { bytes.append(UInt8(v & 0xFF)); bytes.append(UInt8(v >> 8)) }
  mutating func u32(_ v: UInt32) { u16(UInt16(v & 0xFFFF)); u16(UInt16(v >> 16)) }
  mutating func u64(_ v: UInt64) { u32(UInt32(v & 0xFFFF_FFFF)); u32(UInt32(v >> 32)) }
  mutating func append<S: Sequence>(_ s: S) where S.Element == UInt8 { bytes.append(contentsOf: s) }

  /// A 32-bit field, or the sentinel when `value` needs the ZIP64 record.
  mutating func u32OrSentinel(_ value: Int) { u32(value < Int(ZipFormat.sentinel32) ? UInt32(value) : ZipFormat.sentinel32) }
}
