#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif
import Synchronization

/// A store in a directory: key `a/b/c` is the file `<root>/a/b/c`.
///
/// Writes are atomic: bytes go to a temporary file beside the target (named `__tmp.*`, which no
/// Zarr key can be) that is then renamed over it, so a reader or an interrupted writer never leaves
/// a half-written object. Ranged reads use `pread` and never load the whole file.
public final class FilesystemStore: Store {
  /// The directory holding the store.
  public let root: String
  /// Set once the filesystem refused a direct write (``DirectWrite``): later large writes are buffered.
  private let directRefused = Atomic<Bool>(false)
  /// The root directory opened once, and its resolved path, for ``openContained(_:)``.
  let containment = Mutex<Containment>(Containment())

  /// Opens (and with `create`, makes) the store directory `root`.
  public init(root: String, create: Bool = false) throws {
    var r = root
    while r.count > 1 && r.hasSuffix("/") { r.removeLast() }
    self.root = r
    if create {
      try FilesystemStore.makeDirectories(r)
    }
  }

  deinit {
    containment.withLock { if $0.descriptor >= 0 { close($0.descriptor) } }
  }

  static let tempPrefix = "__tmp."

  func path(_ key: String) throws -> String {
    guard FilesystemStore.staysInside(key) else {
      throw ZarrError(.invalidArgument, "invalid store key", key: key)
    }
    return key.isEmpty ? root : root + "/" + key
  }

  /// Whether `key` is relative and has no `.` or `..` segment (checked on its bytes).
  static func staysInside(_ key: String) -> Bool {
    let slash = UInt8(ascii: "/"), dot = UInt8(ascii: ".")
    guard key.utf8.first != slash else { return false }
    var length = 0, onlyDots = true
    for byte in key.utf8 {
      if byte == slash {
        if onlyDots && (length == 1 || length == 2) { return false }
        length = 0
        onlyDots = true
      } else {
        length += 1
        if byte != dot { onlyDots = false }
      }
    }
    return !(onlyDots && (length == 1 || length == 2))
  }

  static func errnoMessage(_ code: Int32) -> String { String(cString: strerror(code)) }

  func failure(_ what: String, _ key: String, _ code: Int32 = errno) -> ZarrError {
    ZarrError(.storeFailure, "\(what) failed: \(FilesystemStore.errnoMessage(code)) (\(root))", key: key)
  }

  /// Opens a file for reading; `nil` when it does not exist.
  func openForReading(_ key: String) throws -> (fd: Int32, size: Int)? {
    let p = try path(key)
    let fd = open(p, O_RDONLY | O_CLOEXEC)
    if fd < 0 {
      if errno == ENOENT || errno == ENOTDIR { return nil }
      throw failure("open", key)
    }
    var st = stat()
    guard fstat(fd, &st) == 0 else {
      let e = errno
      close(fd)
      throw failure("stat", key, e)
    }
    if (st.st_mode & S_IFMT) == S_IFDIR {
      close(fd)
      return nil
    }
    return (fd, Int(st.st_size))
  }

  func readFully(_ fd: Int32, range: Range<Int>, key: String) throws -> [UInt8] {
    let count = range.count
    var failure: (any Error)? = nil
    let out = [UInt8](unsafeUninitializedCapacity: count) { buf, initialized in
      do {
        try readFully(fd, range: range, into: UnsafeMutableRawBufferPointer(buf), key: key)
        initialized = count
      } catch {
        failure = error
        initialized = 0
      }
    }
    if let failure { throw failure }
    return out
  }

  func readFully(_ fd: Int32, range: Range<Int>, into buffer: UnsafeMutableRawBufferPointer, key: String) throws {
    let count = range.count
    var done = 0
    while done < count {
      let n = pread(fd, buffer.baseAddress! + done, count - done, off_t(range.lowerBound + done))
      if n < 0 {
        if errno == EINTR { continue }
        throw failure("read", key)
      }
      if n == 0 { throw ZarrError(.corruptData, "file shrank while being read", key: key) }
      done += n
    }
  }

  /// Reads `range` of the file with `pread` straight into `buffer`; returns the file size.
  public func read(_ key: String, range: Range<Int>, into buffer: UnsafeMutableRawBufferPointer) throws -> Int? {
    guard let (fd, size) = try openForReading(key) else { return nil }
    defer { close(fd) }
    guard range.lowerBound >= 0, range.upperBound <= size else {
      throw ZarrError(.corruptData, "byte range \(range) lies outside the \(size)-byte file", key: key)
    }
    try readFully(fd, range: range, into: buffer, key: key)
    return size
  }

  /// The whole file of `key`, or `nil` if there is none.
  public func get(_ key: String) throws -> [UInt8]? {
    guard let (fd, size) = try openForReading(key) else { return nil }
    defer { close(fd) }
    return try readFully(fd, range: 0..<size, key: key)
  }

  /// Reads only `range` of the file.
  public func get(_ key: String, range: ByteRange) throws -> [UInt8]? {
    guard let (fd, size) = try openForReading(key) else { return nil }
    defer { close(fd) }
    guard let r = range.resolved(size: size) else {
      throw ZarrError(.corruptData, "byte range \(range) lies outside the \(size)-byte file", key: key)
    }
    return try readFully(fd, range: r, key: key)
  }

  /// Reads only `ranges` of the file, opening it once; returns them with the file size.
  public func get(_ key: String, ranges: [ByteRange]) throws -> (parts: [[UInt8]], size: Int)? {
    guard let (fd, size) = try openForReading(key) else { return nil }
    defer { close(fd) }
    var parts: [[UInt8]] = []
    for range in ranges {
      guard let r = range.resolved(size: size) else {
        throw ZarrError(.corruptData, "byte range \(range) lies outside the \(size)-byte file", key: key)
      }
      parts.append(try readFully(fd, range: r, key: key))
    }
    return (parts, size)
  }

  /// The file size from `stat`, or `nil` if there is no file (a directory counts as none).
  public func size(of key: String) throws -> Int? {
    var st = stat()
    guard stat(try path(key), &st) == 0 else {
      if errno == ENOENT || errno == ENOTDIR { return nil }
      throw failure("stat", key)
    }
    return (st.st_mode & S_IFMT) == S_IFDIR ? nil : Int(st.st_size)
  }

  /// Writes the file through a temporary file and a rename, so readers never see part of it.
  public func set(_ key: String, _ value: [UInt8]) throws {
    try value.withUnsafeBytes { try set(key, bytes: $0) }
  }

  /// Writes the file through a temporary file and a rename, so readers never see part of it.
  public func set(_ key: String, bytes value: UnsafeRawBufferPointer) throws {
    _ = try writeFile(key, value, exclusive: false)
  }

  /// Writes the file through a temporary file and a hard link, which fails when the file exists:
  /// atomic, and never replaces anything.
  public func create(_ key: String, _ value: [UInt8]) throws -> Bool {
    try value.withUnsafeBytes { try writeFile(key, $0, exclusive: true) }
  }

  /// Writes `value` to a temporary file beside the target, then renames it over the target, or
  /// (`exclusive`) links it there unless the target exists; `false` when it did.
  private func writeFile(_ key: String, _ value: UnsafeRawBufferPointer, exclusive: Bool) throws -> Bool {
    guard !key.isEmpty else { throw ZarrError(.invalidArgument, "empty store key") }
    let target = try path(key)
    guard let slash = target.lastIndex(of: "/") else { throw ZarrError(.invalidArgument, "invalid store key", key: key) }
    let dir = String(target[..<slash])
    let name = target[target.index(after: slash)...]
    try FilesystemStore.makeDirectories(dir)
    let temp = "\(dir)/\(FilesystemStore.tempPrefix)\(name).\(UInt64.random(in: 0...UInt64.max))"
    let flags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC
    // Large values bypass the page cache where the filesystem allows it (see DirectWrite).
    let direct = value.count >= DirectWrite.threshold && !directRefused.load(ordering: .relaxed) ? DirectWrite.flag : nil
    var fd = open(temp, flags | (direct ?? 0), 0o644)
    if fd < 0, direct != nil, errno == EINVAL {
      directRefused.store(true, ordering: .relaxed)
      unlink(temp)
      fd = open(temp, flags, 0o644)
    }
    guard fd >= 0 else { throw failure("create", key) }
    var err: Int32 = 0
    if direct != nil {
      let result = DirectWrite.write(fd, value)
      err = result.error
      if result.refused { directRefused.store(true, ordering: .relaxed) }
    } else {
      var written = 0
      while written < value.count, let base = value.baseAddress {
        let n = write(fd, base + written, value.count - written)
        if n < 0 {
          if errno == EINTR { continue }
          err = errno
          break
        }
        written += n
      }
    }
    if close(fd) != 0 && err == 0 { err = errno }
    if err != 0 {
      unlink(temp)
      throw failure("write", key, err)
    }
    if exclusive {
      let linked = link(temp, target) == 0
      let e = errno
      unlink(temp)
      if linked { return true }
      if e == EEXIST { return false }
      throw failure("link", key, e)
    }
    guard rename(temp, target) == 0 else {
      let e = errno
      unlink(temp)
      throw failure("rename", key, e)
    }
    return true
  }

  /// Deletes the file of `key`, if present.
  public func delete(_ key: String) throws {
    if unlink(try path(key)) != 0 && errno != ENOENT && errno != ENOTDIR {
      throw failure("delete", key)
    }
  }

  /// Deletes the file or directory tree at `prefix`; for `""`, everything inside the root.
  public func deletePrefix(_ prefix: String) throws {
    let p = try path(prefix)
    try FilesystemStore.removeTree(p, keepRoot: prefix.isEmpty, key: prefix, store: self)
  }

  static func removeTree(_ p: String, keepRoot: Bool, key: String, store: FilesystemStore) throws {
    var st = stat()
    guard lstat(p, &st) == 0 else { return }
    if (st.st_mode & S_IFMT) == S_IFDIR {
      for name in try store.entries(p, key: key) {
        try removeTree(p + "/" + name.name, keepRoot: false, key: key, store: store)
      }
      if !keepRoot && rmdir(p) != 0 && errno != ENOENT { throw store.failure("remove directory", key) }
    } else if unlink(p) != 0 && errno != ENOENT {
      throw store.failure("delete", key)
    }
  }

  /// Directory entries (without `.`, `..`), with whether each is a directory.
  func entries(_ dirPath: String, key: String) throws -> [(name: String, isDirectory: Bool)] {
    guard let dir = opendir(dirPath) else {
      if errno == ENOENT || errno == ENOTDIR { return [] }
      throw failure("list", key)
    }
    defer { closedir(dir) }
    var out: [(String, Bool)] = []
    while let ent = readdir(dir) {
      let name = withUnsafePointer(to: ent.pointee.d_name) {
        $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
      }
      if name == "." || name == ".." { continue }
      var isDir = false
      if Int32(ent.pointee.d_type) == Int32(DT_DIR) {
        isDir = true
      } else if Int32(ent.pointee.d_type) == Int32(DT_UNKNOWN) || Int32(ent.pointee.d_type) == Int32(DT_LNK) {
        var st = stat()
        if stat(dirPath + "/" + name, &st) == 0 { isDir = (st.st_mode & S_IFMT) == S_IFDIR }
      }
      out.append((name, isDir))
    }
    return out
  }

  /// Every file below `prefix`, recursively, sorted; temporary files are skipped.
  public func list(prefix: String) throws -> [String] {
    var out: [String] = []
    func walk(_ rel: String) throws {
      for e in try entries(try path(rel), key: rel) where !e.name.hasPrefix(FilesystemStore.tempPrefix) {
        let k = rel.isEmpty ? e.name : rel + "/" + e.name
        if e.isDirectory { try walk(k) } else { out.append(k) }
      }
    }
    try walk(prefix)
    return out.sorted()
  }

  /// The file and sub-directory names directly in `prefix`, each sorted; temporary files are skipped.
  public func listDirectory(_ prefix: String) throws -> (keys: [String], prefixes: [String]) {
    var keys: [String] = []
    var prefixes: [String] = []
    for e in try entries(try path(prefix), key: prefix) where !e.name.hasPrefix(FilesystemStore.tempPrefix) {
      if e.isDirectory { prefixes.append(e.name) } else { keys.append(e.name) }
    }
    return (keys.sorted(), prefixes.sorted())
  }

  /// `mkdir -p`.
  static func makeDirectories(_ p: String) throws {
    var st = stat()
    if stat(p, &st) == 0 {
      guard (st.st_mode & S_IFMT) == S_IFDIR else {
        throw ZarrError(.storeFailure, "'\(p)' exists and is not a directory")
      }
      return
    }
    if let slash = p.lastIndex(of: "/"), slash != p.startIndex {
      try makeDirectories(String(p[..<slash]))
    }
    if mkdir(p, 0o755) != 0 && errno != EEXIST {
      throw ZarrError(.storeFailure, "cannot create directory '\(p)': \(errnoMessage(errno))")
    }
  }
}

extension FilesystemStore {
  /// The directory as a `file` location.
  public var location: StoreLocation? { StoreLocation(scheme: "file", components: root.split(separator: "/").map(String.init)) }

  /// Removes temporary files that interrupted writes left behind (`__tmp.*`) below `prefix`.
  public func deleteTemporaryObjects(under prefix: String = "") throws {
    func walk(_ rel: String) throws {
      for e in try entries(try path(rel), key: rel) {
        let k = rel.isEmpty ? e.name : rel + "/" + e.name
        if e.isDirectory {
          try walk(k)
        } else if e.name.hasPrefix(FilesystemStore.tempPrefix) {
          unlink(try path(k))
        }
      }
    }
    try walk(prefix)
  }

  /// Whether `path` is an existing directory.
  public static func isDirectory(_ path: String) throws -> Bool {
    var st = stat()
    guard stat(path, &st) == 0 else { return false }
    return (st.st_mode & S_IFMT) == S_IFDIR
  }
}

/// Paths and `file://` URLs: a ``FilesystemStore`` in the directory.
struct FileLocationScheme: LocationScheme {
  var schemes: [String] { ["file"] }

  func store(at location: StoreLocation, create: Bool) throws -> any Store {
    try FilesystemStore(root: location.path, create: create)
  }

  func entry(at location: StoreLocation) -> StoreEntry? {
    var st = stat()
    guard stat(location.path, &st) == 0 else { return .absent }
    return (st.st_mode & S_IFMT) == S_IFDIR ? .prefix : .object
  }

  func objectInfo(at location: StoreLocation) -> StoreObjectInfo? {
    var st = stat()
    guard stat(location.path, &st) == 0, (st.st_mode & S_IFMT) != S_IFDIR else { return nil }
    #if canImport(Darwin)
      let modified = Double(st.st_mtimespec.tv_sec) + Double(st.st_mtimespec.tv_nsec) / 1e9
    #else
      let modified = Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9
    #endif
    return StoreObjectInfo(size: Int(st.st_size), modified: modified)
  }

  func canonical(_ location: StoreLocation) -> StoreLocation {
    // The longest existing prefix with its links resolved, then the rest as it is.
    var existing = location.components
    var rest: [String] = []
    while !existing.isEmpty {
      if let real = realpath("/" + existing.joined(separator: "/"), nil) {
        defer { free(real) }
        let resolved = String(cString: real).split(separator: "/").map(String.init)
        return StoreLocation(scheme: "file", components: resolved + rest)
      }
      rest.insert(existing.removeLast(), at: 0)
    }
    return location
  }
}
