#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// The bytes of an archive: a local file kept open, or an object in another store (a bucket, an
/// HTTP server), read by byte ranges only.
protocol ZipSource: Sendable {
  /// The archive's size in bytes.
  var size: Int { get }
  /// Exactly the bytes of `range`.
  func bytes(_ range: Range<Int>) throws -> [UInt8]
  /// Exactly the bytes of `range`, into `buffer` (of `range.count` bytes).
  func read(_ range: Range<Int>, into buffer: UnsafeMutableRawBufferPointer) throws
  /// Requests to keep in flight (``Store/ioConcurrency``).
  var ioConcurrency: Int? { get }
  /// The bytes read by a suffix read when the source was opened (the end records), if any.
  var tail: [UInt8]? { get }
}

/// A local archive file, open for `pread` for as long as the store lives.
final class FileZipSource: ZipSource {
  let fd: Int32
  let size: Int
  let path: String
  var ioConcurrency: Int? { nil }
  var tail: [UInt8]? { nil }

  /// Opens `path`; `nil` when there is no such file.
  init?(path: String) throws {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 {
      if errno == ENOENT || errno == ENOTDIR { return nil }
      throw ZarrError(.storeFailure, "cannot open '\(path)': \(String(cString: strerror(errno)))")
    }
    var st = stat()
    guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
      close(fd)
      throw ZarrError(.invalidArgument, "'\(path)' is not a file")
    }
    self.fd = fd
    self.size = Int(st.st_size)
    self.path = path
  }

  deinit { close(fd) }

  func bytes(_ range: Range<Int>) throws -> [UInt8] {
    try [UInt8](unsafeUninitializedCapacity: range.count) { buffer, initialized in
      try read(range, into: UnsafeMutableRawBufferPointer(buffer))
      initialized = range.count
    }
  }

  func read(_ range: Range<Int>, into buffer: UnsafeMutableRawBufferPointer) throws {
    guard range.lowerBound >= 0, range.upperBound <= size else {
      throw ZarrError(.corruptData, "byte range \(range) lies outside the \(size)-byte archive '\(path)'")
    }
    var done = 0
    while done < range.count {
      let n = pread(fd, buffer.baseAddress! + done, range.count - done, off_t(range.lowerBound + done))
      if n < 0 {
        if errno == EINTR { continue }
        throw ZarrError(.storeFailure, "read of '\(path)' failed: \(String(cString: strerror(errno)))")
      }
      if n == 0 { throw ZarrError(.corruptData, "'\(path)' shrank while being read") }
      done += n
    }
  }
}

/// An archive stored as one value of another store (an object in a bucket, a file over HTTP).
final class StoreZipSource: ZipSource {
  let store: any Store
  let key: String
  let size: Int
  let tail: [UInt8]?

  /// Opens the value `key` of `store` with one suffix read (which also gives its size); `nil` when
  /// it is absent.
  init?(store: any Store, key: String) throws {
    let answer: (parts: [[UInt8]], size: Int)?
    do {
      answer = try store.get(key, ranges: [.suffix(length: ZipFormat.tailRead)])
    } catch let e as ZarrError where e.code == .corruptData {
      answer = try Self.short(store, key)  // shorter than the suffix asked for
    }
    guard let (parts, size) = answer else { return nil }
    self.store = store
    self.key = key
    self.size = size
    self.tail = parts.first
  }

  /// An archive shorter than the suffix read: its size first, then all of it.
  private static func short(_ store: any Store, _ key: String) throws -> (parts: [[UInt8]], size: Int)? {
    guard let size = try store.size(of: key) else { return nil }
    guard let all = try store.get(key, range: .suffix(length: min(size, ZipFormat.tailRead))) else { return nil }
    return ([all], size)
  }

  var ioConcurrency: Int? { store.ioConcurrency }

  func bytes(_ range: Range<Int>) throws -> [UInt8] {
    guard let b = try store.get(key, range: .range(offset: range.lowerBound, length: range.count)) else {
      throw ZarrError(.storeFailure, "the archive disappeared while being read", key: key)
    }
    guard b.count == range.count else { throw ZarrError(.corruptData, "the archive changed while being read", key: key) }
    return b
  }

  func read(_ range: Range<Int>, into buffer: UnsafeMutableRawBufferPointer) throws {
    guard try store.read(key, range: range, into: buffer) != nil else {
      throw ZarrError(.storeFailure, "the archive disappeared while being read", key: key)
    }
  }
}
