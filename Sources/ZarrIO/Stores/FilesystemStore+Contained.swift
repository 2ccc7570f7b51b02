#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif
import CZarrSystem
import Synchronization

/// A regular file of a ``FilesystemStore`` opened for reading: its descriptor, which the caller
/// owns and closes, its size and modification time.
public struct OpenedFile: Sendable {
  /// The open descriptor (read-only, close-on-exec, non-blocking).
  public let descriptor: Int32
  /// The size in bytes when opened.
  public let size: Int
  /// The modification time, in seconds since 1970.
  public let modified: Double
}

/// What ``FilesystemStore/openContained(_:)`` keeps between calls.
struct Containment {
  /// The root directory, opened (-1: not yet).
  var descriptor: Int32 = -1
  /// The root with its symbolic links resolved (`nil`: not yet).
  var resolvedRoot: String? = nil
  /// Whether the kernel resolves paths beneath a directory (`openat2`); learnt on first use.
  var beneathWorks = true
}

extension FilesystemStore {
  /// Opens the regular file of `key` for reading, where nothing outside the root can be reached,
  /// not even through a symbolic link (links that stay inside are followed). One system call on
  /// Linux (`openat2` with `RESOLVE_BENEATH`); elsewhere, or for an absolute link, the resolved
  /// path is checked against the resolved root.
  /// - Returns: `nil` when there is no such file, it is a directory or not a regular file, or it
  ///   lies outside the root.
  /// - Throws: `ZarrError` for an invalid key or when the system refuses for another reason.
  public func openContained(_ key: String) throws -> OpenedFile? {
    let path = try path(key)
    guard !key.isEmpty else { return nil }
    let (root, beneath) = try containment.withLock { state -> (Int32, Bool) in
      if state.descriptor < 0 {
        let fd = open(self.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw failure("open", "") }
        state.descriptor = fd
      }
      return (state.descriptor, state.beneathWorks)
    }
    if beneath {
      let fd = czarr_open_beneath(root, key)
      if fd >= 0 { return try regularFile(fd, key) }
      switch errno {
      case ENOENT, ENOTDIR, ELOOP: return nil
      case ENOSYS, EPERM: containment.withLock { $0.beneathWorks = false }  // no openat2 (or a sandbox refuses it)
      case EXDEV, EAGAIN: break  // an absolute link, or a rename racing: decided by resolved paths
      default: throw failure("open", key)
      }
    }
    guard let resolvedRoot = try resolvedRoot(), let real = realpath(path, nil) else { return nil }
    let resolved = String(cString: real)
    free(real)
    guard resolved.hasPrefix(resolvedRoot == "/" ? "/" : resolvedRoot + "/") else { return nil }
    let fd = open(resolved, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)
    guard fd >= 0 else {
      if errno == ENOENT || errno == ENOTDIR || errno == ELOOP { return nil }
      throw failure("open", key)
    }
    return try regularFile(fd, key)
  }

  /// The root with its links resolved, once.
  private func resolvedRoot() throws -> String? {
    try containment.withLock { state in
      if let r = state.resolvedRoot { return r }
      guard let real = realpath(root, nil) else { throw failure("resolve", "") }
      defer { free(real) }
      state.resolvedRoot = String(cString: real)
      return state.resolvedRoot
    }
  }

  /// `fd` described, when it is a regular file; closed otherwise.
  private func regularFile(_ fd: Int32, _ key: String) throws -> OpenedFile? {
    var st = stat()
    guard fstat(fd, &st) == 0 else {
      let e = errno
      close(fd)
      throw failure("stat", key, e)
    }
    guard (st.st_mode & S_IFMT) == S_IFREG else {
      close(fd)
      return nil
    }
    #if canImport(Darwin)
      let modified = Double(st.st_mtimespec.tv_sec) + Double(st.st_mtimespec.tv_nsec) / 1e9
    #else
      let modified = Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9
    #endif
    return OpenedFile(descriptor: fd, size: Int(st.st_size), modified: modified)
  }
}
