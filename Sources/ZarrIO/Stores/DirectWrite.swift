#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif
import Synchronization

/// Writes large files with `O_DIRECT` (Linux), bypassing the page cache.
///
/// A buffered write copies every byte into newly allocated page-cache pages: measured here, 1.2 s of
/// CPU for the 367 MB of a converted image (0.06 s direct), more than a third of the time its
/// compression takes. Large values (shards) are therefore written directly, through page-aligned
/// bounce buffers; the unaligned tail goes through the page cache. Filesystems that refuse
/// `O_DIRECT` (tmpfs, some FUSE and overlay mounts) get buffered writes: the first refusal per
/// directory tree is remembered by the store.
enum DirectWrite {
  /// Values at least this large are written directly.
  static let threshold = 1 << 20
  /// Alignment of buffers, offsets and lengths (the page size covers every logical block size in use).
  static let alignment = 4096
  /// Bytes per bounce buffer (and per direct `write`).
  static let bufferBytes = 4 << 20

  #if os(Linux) && arch(x86_64)
    static let flag: Int32? = 0o40000
  #elseif os(Linux) && (arch(arm64) || arch(arm))
    static let flag: Int32? = 0o200000
  #else
    static let flag: Int32? = nil
  #endif

  /// Page-aligned bounce buffers, reused (fresh pages cost page faults).
  private static let pool = Mutex<[UInt]>([])  // addresses: pointers are not Sendable

  private static func take() -> UnsafeMutableRawPointer? {
    if let address = pool.withLock({ $0.popLast() }), let b = UnsafeMutableRawPointer(bitPattern: address) { return b }
    var p: UnsafeMutableRawPointer? = nil
    guard posix_memalign(&p, alignment, bufferBytes) == 0 else { return nil }
    return p
  }

  private static func give(_ b: UnsafeMutableRawPointer) {
    let kept = pool.withLock { list -> Bool in
      guard list.count < 8 else { return false }
      list.append(UInt(bitPattern: b))
      return true
    }
    if !kept { free(b) }
  }

  /// Writes `value` to the open file `fd` (freshly created, written from offset 0): the aligned part
  /// directly when `fd` has `O_DIRECT`, the rest (and everything, once a direct write is refused with
  /// `EINVAL`) through the page cache. Returns 0 or an errno, and whether a direct write was refused.
  static func write(_ fd: Int32, _ value: UnsafeRawBufferPointer) -> (error: Int32, refused: Bool) {
    guard let base = value.baseAddress else { return (0, false) }
    let aligned = value.count / alignment * alignment
    var offset = 0
    var refused = false
    if aligned > 0, let bounce = take() {
      defer { give(bounce) }
      while offset < aligned {
        let n = min(bufferBytes, aligned - offset)
        let source: UnsafeRawPointer
        if Int(bitPattern: base + offset) % alignment == 0 {
          source = base + offset
        } else {
          bounce.copyMemory(from: base + offset, byteCount: n)
          source = UnsafeRawPointer(bounce)
        }
        let written = pwrite(fd, source, n, off_t(offset))
        if written < 0 {
          if errno == EINTR { continue }
          if errno == EINVAL {
            refused = true
            break
          }
          return (errno, false)
        }
        offset += written
        // A short direct write leaves an unaligned offset: the rest goes buffered.
        if written != n { break }
      }
    }
    if offset < value.count {
      // The tail through the page cache.
      let flags = fcntl(fd, F_GETFL)
      if let flag, flags >= 0, flags & flag != 0, fcntl(fd, F_SETFL, flags & ~flag) != 0 { return (errno, refused) }
      while offset < value.count {
        let written = pwrite(fd, base + offset, value.count - offset, off_t(offset))
        if written < 0 {
          if errno == EINTR { continue }
          return (errno, refused)
        }
        offset += written
      }
    }
    return (0, refused)
  }
}
