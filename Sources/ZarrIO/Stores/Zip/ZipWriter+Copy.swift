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
    if let local = source as? FilesystemStore, target.isFile {
      _ = try appendFiles(keys, from: local, progress: progress)
      return
    }
    var done = 0
    var start = 0
    while start < keys.count {
      let end = min(keys.count, start + 64)
      let batch = Array(keys[start..<end])
      for (key, value) in zip(batch, try ZipWriter.values(of: batch, in: source, width: width)) {
        try set(key, value)
        done += value.count
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

  /// Appends whole files of a directory store, 256 at a time. Their sizes are known before they are
  /// read, so every entry's place in the archive is fixed up front and all cores copy files at once:
  /// each file is read in pieces small enough to stay in the cache, checksummed and written at its
  /// place, and its local header (which needs the checksum) written last.
  private func appendFiles(_ keys: [String], from store: FilesystemStore, progress: ((Int) -> Void)?) throws -> Int {
    var total = 0
    var start = 0
    while start < keys.count {
      let batch = Array(keys[start..<min(keys.count, start + 256)])
      total += try appendBatch(batch, from: store)
      progress?(total)
      start += batch.count
    }
    return total
  }

  private func appendBatch(_ keys: [String], from store: FilesystemStore) throws -> Int {
    for key in keys { try ZipWriter.checkKey(key) }
    let sizes = try keys.map { key -> Int in
      guard let size = try store.size(of: key) else { throw ZarrError(.notFound, "the file disappeared while being packed", key: key) }
      return size
    }
    // Places: header then bytes, one after the other from the archive's current end.
    let base = try state.withLock { s -> Int in
      guard !s.finished else { throw ZarrError(.invalidArgument, "the archive '\(target)' is finished") }
      if s.region == nil { startData(&s) }
      try flushStaging(&s, key: "", all: true)
      let at = s.end
      s.end += zip(keys, sizes).reduce(0) { $0 + ZipWriter.headerSize($1.0) + $1.1 }
      s.stagedAt = s.end
      return at
    }
    var places: [Int] = []
    var at = base
    for (key, size) in zip(keys, sizes) {
      places.append(at)
      at += ZipWriter.headerSize(key) + size
    }
    let offsets = places
    let crcs = Mutex<[UInt32]>(Array(repeating: 0, count: keys.count))
    let failure = Mutex<(any Error)?>(nil)
    let next = Atomic<Int>(0)
    let workers = min(keys.count, max(1, ProcessInfo.processInfo.activeProcessorCount))
    DispatchQueue.concurrentPerform(iterations: workers) { _ in
      let piece = 1 << 18
      let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: piece, alignment: 64)
      defer { buffer.deallocate() }
      while failure.withLock({ $0 == nil }) {
        let i = next.add(1, ordering: .relaxed).oldValue
        guard i < keys.count else { return }
        do {
          let crc = try copyFile(keys[i], from: store, size: sizes[i], to: offsets[i], buffer: buffer)
          crcs.withLock { $0[i] = crc }
        } catch {
          failure.withLock { if $0 == nil { $0 = error } }
        }
      }
    }
    if let e = failure.withLock({ $0 }) { throw e }
    let sums = crcs.withLock { $0 }
    state.withLock { s in
      for (i, key) in keys.enumerated() {
        record(&s, Written(name: key, crc: sums[i], size: sizes[i], offset: offsets[i], headerSize: ZipWriter.headerSize(key)))
      }
    }
    return sizes.reduce(0, +)
  }

  /// Copies the file of `key` (of `size` bytes) to its entry at `offset`, checksumming it on the way,
  /// then writes the entry's header; returns the CRC-32.
  private func copyFile(_ key: String, from store: FilesystemStore, size: Int, to offset: Int,
                        buffer: UnsafeMutableRawBufferPointer) throws -> UInt32 {
    guard let (source, actual) = try store.openForReading(key) else {
      throw ZarrError(.notFound, "the file disappeared while being packed", key: key)
    }
    defer { close(source) }
    guard actual == size else { throw ZarrError(.storeFailure, "the file changed size while being packed", key: key) }
    let dataStart = offset + ZipWriter.headerSize(key)
    var crc: UInt32 = 0
    var done = 0
    while done < size {
      let n = min(buffer.count, size - done)
      let piece = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<n])
      try store.readFully(source, range: done..<(done + n), into: piece, key: key)
      crc = ZipFormat.crc32(UnsafeRawBufferPointer(piece), continuing: crc)
      try writeAll(UnsafeRawBufferPointer(piece), at: dataStart + done, key: key)
      done += n
    }
    let header = ZipWriter.localHeader(name: Array(key.utf8), crc: crc, size: size)
    try header.withUnsafeBytes { try writeAll($0, at: offset, key: key) }
    return crc
  }
}
