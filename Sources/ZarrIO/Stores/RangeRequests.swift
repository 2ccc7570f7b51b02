import Foundation

/// Byte ranges over HTTP for the remote stores (HTTP, S3): the `Range` header of a ``ByteRange``,
/// the checks of the answer, and the store's range reads built on one request per range, in one place.
package enum RangeRequests {
  /// One ranged GET of `key`, sent by `send` with a `Range` header: the bytes and the value's total
  /// size when the answer tells it; `nil` when the key is absent (`send` answers `nil`).
  ///
  /// A 206 must hold exactly the range (a range reaching past the end is an error, not a short
  /// read); a 200 (a server that ignores `Range`) is sliced here; a 416 is an error. Empty ranges ask
  /// for the size instead (`size`), since `bytes=a-(a-1)` cannot be written.
  /// - Throws: `.corruptData` for a range outside the value or an answer that is not the range;
  ///   `failure(response)` for any other status.
  package static func fetch(
    _ key: String, _ range: ByteRange, size: () throws -> Int?, send: (_ header: String, _ limit: Int?) throws -> HTTPResponse?,
    failure: (HTTPResponse) -> any Error
  ) throws -> (bytes: [UInt8], size: Int?)? {
    let header: String
    let length: Int?
    switch range {
    case .range(let o, let l):
      guard o >= 0, l >= 0 else { throw ZarrError(.corruptData, "invalid byte range \(range)", key: key) }
      if l == 0 {
        guard let total = try size() else { return nil }
        guard o <= total else { throw outside(range, total, key) }
        return ([], total)
      }
      guard let last = CheckedArithmetic.sum(o, l - 1) else { throw ZarrError(.corruptData, "invalid byte range \(range)", key: key) }
      header = "bytes=\(o)-\(last)"
      length = l
    case .from(let o):
      guard o >= 0 else { throw ZarrError(.corruptData, "invalid byte range \(range)", key: key) }
      header = "bytes=\(o)-"
      length = nil
    case .suffix(let l):
      guard l > 0 else {
        guard let total = try size() else { return nil }
        return ([], total)
      }
      header = "bytes=-\(l)"
      length = l
    }
    guard let r = try send(header, length) else { return nil }
    switch r.status {
    case 206:
      let total = r.contentRangeTotal
      if let total {
        // S3 answers a range reaching past the end with what there is: not the range asked for.
        guard let bounds = range.resolved(size: total) else { throw outside(range, total, key) }
        guard r.body.count == bounds.count else {
          throw ZarrError(.corruptData, "asked for \(header) but received \(r.body.count) bytes", key: key)
        }
      } else if let length, r.body.count != length {
        throw ZarrError(.corruptData, "asked for \(header) but received \(r.body.count) bytes", key: key)
      }
      return (r.body, total)
    case 200:
      // The server ignored the range and sent everything.
      guard let bounds = range.resolved(size: r.body.count) else { throw outside(range, r.body.count, key) }
      return (Array(r.body[bounds]), r.body.count)
    case 416:
      let what = r.contentRangeTotal.map { "the \($0) stored bytes" } ?? "the stored value"
      throw ZarrError(.corruptData, "byte range \(range) lies outside \(what)", key: key)
    default:
      throw failure(r)
    }
  }

  private static func outside(_ range: ByteRange, _ size: Int, _ key: String) -> ZarrError {
    ZarrError(.corruptData, "byte range \(range) lies outside the \(size) stored bytes", key: key)
  }

  /// ``Store/get(_:ranges:)`` from one request per range (`fetch`), with the size from the first
  /// answer that tells it, else from `size`.
  package static func parts(
    _ ranges: [ByteRange], fetch: (ByteRange) throws -> (bytes: [UInt8], size: Int?)?, size: () throws -> Int?
  ) throws -> (parts: [[UInt8]], size: Int)? {
    var parts: [[UInt8]] = []
    var total: Int?
    for range in ranges {
      guard let (bytes, known) = try fetch(range) else { return nil }
      parts.append(bytes)
      total = total ?? known
    }
    guard let total = try total ?? size() else { return nil }
    return (parts, total)
  }

  /// ``Store/read(_:range:into:)`` from one request (`fetch`), copied straight into `buffer`.
  package static func read(
    _ key: String, _ range: Range<Int>, into buffer: UnsafeMutableRawBufferPointer,
    fetch: (ByteRange) throws -> (bytes: [UInt8], size: Int?)?, size: () throws -> Int?
  ) throws -> Int? {
    guard let (bytes, known) = try fetch(.range(offset: range.lowerBound, length: range.count)) else { return nil }
    guard bytes.count == buffer.count else {
      throw ZarrError(.corruptData, "received \(bytes.count) bytes for a \(buffer.count)-byte range", key: key)
    }
    bytes.withUnsafeBytes { source in
      if let from = source.baseAddress, let to = buffer.baseAddress { to.copyMemory(from: from, byteCount: source.count) }
    }
    return try known ?? size()
  }
}
