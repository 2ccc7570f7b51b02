#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
import Foundation

/// One file that appears at its target only when committed: written to a temporary file beside
/// the target (or in the temporary directory for a remote one), then renamed into place (or
/// uploaded) by ``commit()``. Dropped uncommitted, it leaves nothing behind.
///
/// Appends are staged in an aligned buffer and written in whole pages with `O_DIRECT` where the
/// file system allows (``DirectWrite``); ``write(_:at:)`` patches bytes already written (a header).
/// Not for concurrent use: one writer appends.
public final class StagedFile {
  /// Where the committed file goes.
  public let target: StoreLocation
  /// Whether committing replaces an existing object.
  public let replacesExisting: Bool
  /// The bytes written so far (the file's size once committed).
  public private(set) var size = 0

  private let tempPath: String
  /// The temporary file, open for reading and writing (for writers that place bytes themselves).
  let fd: Int32
  /// The same file opened with `O_DIRECT` where the file system allows it.
  let directFD: Int32?
  /// The aligned buffer appends are staged in, allocated by the first append.
  private var stagingBuffer: UnsafeMutableRawPointer? = nil
  private static let stagingBytes = 8 << 20
  /// Where the staged bytes start in the file, and how many there are.
  private var stagedAt = 0
  private var staged = 0
  private var directRefused = false
  private var done = false

  /// A file for `target` (a path, or an object of any writable scheme).
  /// - Throws: `ZarrError` when the target is a directory, its place is not writable, or the
  ///   temporary file cannot be made.
  public init(target: StoreLocation) throws {
    self.target = target
    let directory: String
    if target.isFile {
      directory = target.parent.path
      try FilesystemStore.makeDirectories(directory)
      var st = stat()
      replacesExisting = stat(target.path, &st) == 0
      if replacesExisting, (st.st_mode & S_IFMT) == S_IFDIR {
        throw ZarrError(.invalidArgument, "'\(target)' is a directory, not a file")
      }
    } else {
      // Where the file goes must be writable (not HTTP) before anything is written.
      let parent = try target.parent.openStore(create: true)
      directory = NSTemporaryDirectory()
      replacesExisting = (try? parent.exists(target.name)) ?? false
    }
    var fd: Int32 = -1
    var path = ""
    for _ in 0..<16 {
      path = "\(directory)/\(FilesystemStore.tempPrefix)\(target.name).\(UInt64.random(in: 0...UInt64.max))"
      fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
      if fd >= 0 || errno != EEXIST { break }
    }
    guard fd >= 0 else {
      throw ZarrError(.storeFailure, "cannot create a temporary file in '\(directory)': \(String(cString: strerror(errno)))")
    }
    self.fd = fd
    tempPath = path
    directFD = DirectWrite.flag.flatMap { flag in
      let d = open(path, O_WRONLY | O_CLOEXEC | flag)
      return d >= 0 ? d : nil
    }
  }

  /// The staging buffer, allocated on first use.
  private func staging() throws -> UnsafeMutableRawPointer {
    if let stagingBuffer { return stagingBuffer }
    var buffer: UnsafeMutableRawPointer? = nil
    guard posix_memalign(&buffer, DirectWrite.alignment, StagedFile.stagingBytes) == 0, let buffer else {
      throw ZarrError(.storeFailure, "cannot allocate the write buffer for '\(target)'")
    }
    stagingBuffer = buffer
    return buffer
  }

  deinit {
    close(fd)
    if let directFD { close(directFD) }
    free(stagingBuffer)
    if !done { unlink(tempPath) }
  }

  private func failure(_ what: String, _ code: Int32 = errno) -> ZarrError {
    ZarrError(.storeFailure, "\(what) of '\(target)' failed: \(String(cString: strerror(code)))")
  }

  /// Appends `bytes` at the end; returns the offset they start at.
  /// - Throws: `ZarrError` naming the target when the write fails (a full disk).
  @discardableResult
  public func append(_ bytes: UnsafeRawBufferPointer) throws -> Int {
    let offset = size
    let staging = try staging()
    var copied = 0
    while copied < bytes.count {
      let n = min(bytes.count - copied, StagedFile.stagingBytes - staged)
      if let base = bytes.baseAddress { (staging + staged).copyMemory(from: base + copied, byteCount: n) }
      staged += n
      copied += n
      if staged == StagedFile.stagingBytes { try flushStaging(all: false) }
    }
    size += bytes.count
    return offset
  }

  /// Appends `count` zero bytes; returns the offset they start at.
  @discardableResult
  public func appendZeros(_ count: Int) throws -> Int {
    let zeros = [UInt8](repeating: 0, count: min(count, 1 << 16))
    let offset = size
    var left = count
    while left > 0 {
      let n = min(left, zeros.count)
      _ = try zeros.withUnsafeBytes { try append(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
      left -= n
    }
    return offset
  }

  /// Extends the file by `count` bytes that read as zeros until written (a hole: nothing is
  /// written now); returns the offset they start at. Fill them with ``write(_:at:)``.
  @discardableResult
  public func reserve(_ count: Int) throws -> Int {
    try flushStaging(all: true)
    let offset = size
    guard ftruncate(fd, off_t(size + count)) == 0 else { throw failure("extending") }
    size += count
    stagedAt = size
    return offset
  }

  /// Writes `bytes` at `offset`, inside what was written so far (after everything staged is
  /// written out; later appends go through the page cache).
  /// - Throws: `ZarrError` for an offset outside the file, or when the write fails.
  public func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws {
    guard offset >= 0, offset <= size - bytes.count else {
      throw ZarrError(.invalidArgument, "a write at \(offset) of \(bytes.count) bytes lies outside the \(size) bytes of '\(target)'")
    }
    try flushStaging(all: true)
    try writeAll(bytes, at: offset)
  }

  private func writeAll(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws {
    guard let base = bytes.baseAddress else { return }
    var written = 0
    while written < bytes.count {
      let n = pwrite(fd, base + written, bytes.count - written, off_t(offset + written))
      if n < 0 {
        if errno == EINTR { continue }
        throw failure("writing")
      }
      written += n
    }
  }

  /// Writes the staged bytes: whole pages directly (when the file allows), the rest only when
  /// `all`, through the page cache; keeps an unwritten tail staged.
  private func flushStaging(all: Bool) throws {
    guard staged > 0, let staging = stagingBuffer else { return }
    let aligned = stagedAt % DirectWrite.alignment == 0 ? staged / DirectWrite.alignment * DirectWrite.alignment : 0
    var written = 0
    if aligned > 0, let directFD, !directRefused {
      while written < aligned {
        let n = pwrite(directFD, staging + written, aligned - written, off_t(stagedAt + written))
        if n < 0 {
          if errno == EINTR { continue }
          if errno == EINVAL { directRefused = true; break }
          throw failure("writing")
        }
        written += n
        if n % DirectWrite.alignment != 0 { break }
      }
    }
    let upTo = all ? staged : max(written, aligned == 0 ? staged : aligned)
    if written < upTo {
      try writeAll(UnsafeRawBufferPointer(start: staging + written, count: upTo - written), at: stagedAt + written)
      written = upTo
    }
    let rest = staged - written
    if rest > 0 { staging.copyMemory(from: staging + written, byteCount: rest) }
    stagedAt += written
    staged = rest
  }

  /// Puts the file in place: renamed over the target, or uploaded to it. The staged file is gone
  /// afterwards either way.
  /// - Throws: `ZarrError` naming the target when a write, the rename or the upload fails.
  public func commit() throws {
    precondition(!done, "a StagedFile is committed once")
    try flushStaging(all: true)
    if target.isFile {
      guard rename(tempPath, target.path) == 0 else { throw failure("renaming into place") }
      done = true
      return
    }
    defer {
      unlink(tempPath)
      done = true
    }
    let store = try target.parent.openStore(create: true)
    // What is in the file (a writer may have placed bytes past what was appended).
    var st = stat()
    guard fstat(fd, &st) == 0 else { throw failure("stat") }
    let length = Int(st.st_size)
    guard length > 0 else {
      try store.set(target.name, [])
      return
    }
    guard let map = mmap(nil, length, PROT_READ, MAP_SHARED, fd, 0), map != MAP_FAILED else {
      throw failure("mapping for upload")
    }
    defer { munmap(map, length) }
    try store.set(target.name, bytes: UnsafeRawBufferPointer(start: map, count: length))
  }

  /// Removes the uncommitted file now (it is removed anyway when dropped).
  public func abandon() {
    guard !done else { return }
    done = true
    unlink(tempPath)
  }
}
