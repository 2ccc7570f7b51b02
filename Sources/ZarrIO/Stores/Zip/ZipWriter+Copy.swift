#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif
import Dispatch
import Foundation
import Synchronization

extension ZipWriter {
  /// Appends the values of `keys` in `source` as entries, in order, without changing a byte
  /// (packing). Values are read `width` at a time; files of a local directory are mapped, their
  /// CRC-32 computed on all cores and their bytes copied by the kernel (`sendfile`, no copy
  /// through this process), so packing costs little more than copying. `progress` gets the bytes appended so far.
  public func append(_ keys: [String], from source: any Store, width: Int, progress: ((Int) -> Void)? = nil) throws {
    var done = 0
    var start = 0
    let local = source as? FilesystemStore
    while start < keys.count {
      let end = min(keys.count, start + 64)
      let batch = Array(keys[start..<end])
      if let local, target.isFile {
        done += try appendFiles(batch, from: local)
      } else {
        for (key, value) in zip(batch, try ZipWriter.values(of: batch, in: source, width: width)) {
          try set(key, value)
          done += value.count
        }
      }
      progress?(done)
      start = end
    }
  }

  /// The values of `keys` in `store`, read `width` at a time (a missing key is an error).
  public static func values(of keys: [String], in store: any Store, width: Int) throws -> [[UInt8]] {
    let values = Mutex<[[UInt8]?]>(Array(repeating: nil, count: keys.count))
    let failure = Mutex<(any Error)?>(nil)
    let next = Atomic<Int>(0)
    DispatchQueue.concurrentPerform(iterations: min(max(1, width), keys.count)) { _ in
      while true {
        let i = next.add(1, ordering: .relaxed).oldValue
        guard i < keys.count, failure.withLock({ $0 == nil }) else { return }
        do {
          guard let v = try store.get(keys[i]) else { throw ZarrError(.notFound, "the value disappeared while being copied", key: keys[i]) }
          values.withLock { $0[i] = v }
        } catch {
          failure.withLock { if $0 == nil { $0 = error } }
        }
      }
    }
    if let e = failure.withLock({ $0 }) { throw e }
    return values.withLock { $0.map { $0 ?? [] } }
  }

  /// A local file mapped for reading.
  private struct Mapped: @unchecked Sendable {
    var fd: Int32
    var base: UnsafeMutableRawPointer?
    var size: Int
    var crc: UInt32 = 0
  }

  /// Appends whole files of a directory store: mapped, checksummed in parallel, copied in order.
  private func appendFiles(_ keys: [String], from store: FilesystemStore) throws -> Int {
    let files = Mutex<[Mapped?]>(Array(repeating: nil, count: keys.count))
    let failure = Mutex<(any Error)?>(nil)
    defer {
      for m in files.withLock({ $0 }) {
        guard let m else { continue }
        if let base = m.base { munmap(base, m.size) }
        close(m.fd)
      }
    }
    DispatchQueue.concurrentPerform(iterations: keys.count) { i in
      do {
        guard let (fd, size) = try store.openForReading(keys[i]) else {
          throw ZarrError(.notFound, "the file disappeared while being packed", key: keys[i])
        }
        var m = Mapped(fd: fd, base: nil, size: size)
        if size > 0 {
          guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            close(fd)
            throw ZarrError(.storeFailure, "mapping the file failed: \(String(cString: strerror(errno)))", key: keys[i])
          }
          m.base = p
          m.crc = ZipFormat.crc32(UnsafeRawBufferPointer(start: p, count: size))
        }
        files.withLock { $0[i] = m }
      } catch {
        failure.withLock { if $0 == nil { $0 = error } }
      }
    }
    if let e = failure.withLock({ $0 }) { throw e }
    var total = 0
    for (key, m) in zip(keys, files.withLock { $0 }) {
      guard let m else { continue }
      try ZipWriter.checkKey(key)
      try appendCopy(key, from: m.fd, base: m.base, size: m.size, crc: m.crc)
      total += m.size
    }
    return total
  }
}
