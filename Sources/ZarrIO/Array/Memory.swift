#if canImport(Glibc)
  import Glibc
#endif

/// Memory hints for large buffers.
enum Memory {
  /// Asks the kernel to back a large, freshly allocated buffer with transparent huge pages, so that
  /// filling it costs a few hundred page faults instead of hundreds of thousands (Linux; a no-op
  /// elsewhere, for small buffers, or when huge pages are disabled).
  static func adviseHugePages(_ base: UnsafeMutableRawPointer, count: Int) {
    #if os(Linux)
      let huge = 2 << 20
      guard count >= 4 * huge else { return }
      let start = (Int(bitPattern: base) + huge - 1) / huge * huge
      let end = (Int(bitPattern: base) + count) / huge * huge
      guard end > start, let p = UnsafeMutableRawPointer(bitPattern: start) else { return }
      _ = madvise(p, end - start, 14)  // MADV_HUGEPAGE
    #endif
  }
}
