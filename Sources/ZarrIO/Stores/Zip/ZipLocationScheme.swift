#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif
import Dispatch
import Synchronization

/// Locations in ZIP archives (`.ozx`, `.zip`) wherever the archive is: `image.ozx` is the
/// hierarchy at the archive's root, `plate.ozx/A/1` a node inside it. Reading opens a
/// ``ZipStore`` (kept open while the file is unchanged); writing a ``ZipWriter``, one per archive
/// in a process, finished by the code that opened it.
struct ZipLocationScheme: LocationScheme {
  var schemes: [String] { [] }
  var archiveExtensions: [String] { ["ozx", "zip"] }

  /// Whether `name` is an archive's name.
  static func isArchive(_ name: String) -> Bool {
    guard let dot = name.lastIndex(of: ".") else { return false }
    let ext = name[name.index(after: dot)...].lowercased()
    return ext == "ozx" || ext == "zip"
  }

  /// The archive holding `location` and the node path inside it.
  static func split(_ location: StoreLocation) -> (archive: StoreLocation, inner: String) {
    let i = location.components.firstIndex(where: isArchive) ?? (location.components.count - 1)
    let archive = StoreLocation(scheme: location.scheme, authority: location.authority, components: Array(location.components[...i]))
    return (archive, location.components[(i + 1)...].joined(separator: "/"))
  }

  func store(at location: StoreLocation, create: Bool) throws -> any Store {
    let (archive, inner) = ZipLocationScheme.split(location)
    if ZipLocationScheme.isDirectory(archive) {
      // A directory merely named like an archive (`data.zip/`) is a directory.
      return try FilesystemStore(root: location.path, create: create)
    }
    if create, !inner.isEmpty {
      // A node inside an archive is written only while the whole archive is (a collection of
      // images converted into one .ozx): an archive is never changed in place.
      guard let open = ZipLocationScheme.openWriter(archive) else {
        throw ZarrError(.invalidArgument,
          "cannot write into the archive '\(archive)' in place ('\(location)'): unpack it, change it, pack it again")
      }
      return PrefixStore(open, prefix: inner)
    }
    let store: any Store = create ? try ZipLocationScheme.writer(archive) : try ZipLocationScheme.reader(archive)
    return inner.isEmpty ? store : PrefixStore(store, prefix: inner)
  }

  /// Whether `location` is a local directory (named like an archive, but not one).
  static func isDirectory(_ location: StoreLocation) -> Bool {
    location.isFile && (try? FilesystemStore.isDirectory(location.path)) == true
  }

  func entry(at location: StoreLocation) -> StoreEntry? {
    let (archive, inner) = ZipLocationScheme.split(location)
    if ZipLocationScheme.isDirectory(archive) { return FileLocationScheme().entry(at: location) }
    if archive.isFile {
      var st = stat()
      guard stat(archive.path, &st) == 0 else { return .absent }
    }
    let store: ZipStore
    do {
      store = try ZipLocationScheme.reader(archive)
    } catch let e as ZarrError where e.code == .notFound {
      return .absent
    } catch {
      return inner.isEmpty ? .prefix : nil  // damaged: opening it reports why
    }
    if inner.isEmpty { return .prefix }
    if store.directory.entry(inner) != nil { return .object }
    return (try? store.list(prefix: inner).isEmpty) == false ? .prefix : .absent
  }

  func objectInfo(at location: StoreLocation) -> StoreObjectInfo? {
    let (archive, inner) = ZipLocationScheme.split(location)
    guard inner.isEmpty, let handler = try? LocationSchemes.handler(for: archive.parent) else { return nil }
    return handler.objectInfo(at: archive)
  }

  // MARK: Open archives

  private static let readers = Mutex<[StoreLocation: (store: ZipStore, stamp: [Int]?)]>([:])
  private static let writers = Mutex<[StoreLocation: WeakWriter]>([:])

  private struct WeakWriter: @unchecked Sendable { weak var writer: ZipWriter? }

  /// What identifies a local file's version: device, inode, size and modification time; for a
  /// remote archive, the 10-second interval it was opened in (a remote archive is looked at again
  /// after at most that long).
  private static func stamp(_ location: StoreLocation) -> [Int]? {
    guard location.isFile else { return [Int(DispatchTime.now().uptimeNanoseconds / 10_000_000_000)] }
    var st = stat()
    guard stat(location.path, &st) == 0 else { return [] }
    return [Int(st.st_dev), Int(st.st_ino), Int(st.st_size), Int(st.st_mtim.tv_sec), Int(st.st_mtim.tv_nsec)]
  }

  /// The open reader of `archive`, or a new one (files: while they are unchanged).
  static func reader(_ archive: StoreLocation) throws -> ZipStore {
    // A writer of the archive in this process answers for it until it is finished.
    let stamp = stamp(archive)
    if let cached = readers.withLock({ $0[archive] }), cached.stamp == stamp { return cached.store }
    let store = try ZipStore.open(archive)
    readers.withLock { r in
      if r.count >= 64 { r.removeAll() }
      r[archive] = (store, stamp)
    }
    return store
  }

  /// The writer of `archive` open in this process, if any.
  static func openWriter(_ archive: StoreLocation) -> ZipWriter? {
    writers.withLock { w in w[archive]?.writer.flatMap { $0.isFinished ? nil : $0 } }
  }

  /// The writer of `archive` open in this process, or a new one.
  static func writer(_ archive: StoreLocation) throws -> ZipWriter {
    try writers.withLock { w in
      if let open = w[archive]?.writer, !open.isFinished { return open }
      let writer = try ZipWriter(target: archive, room: .slack)
      w = w.filter { $0.value.writer != nil }
      w[archive] = WeakWriter(writer: writer)
      return writer
    }
  }
}

extension StoreLocation {
  /// Whether the location is a ZIP archive itself (its name ends in `.ozx` or `.zip`).
  public var isArchive: Bool { ZipLocationScheme.isArchive(name) }

  /// Whether the location is an archive or a node inside one.
  public var isInArchive: Bool { components.contains(where: ZipLocationScheme.isArchive) }
}
