import CZarrZlib

/// DEFLATE compression and decompression shared by ``GzipCodec`` and ``ZlibCodec``.
enum Deflate {
  static func compress(_ input: [UInt8], level: Int, windowBits: Int32, codec: String) throws(ZarrError) -> [UInt8] {
    var stream = z_stream()
    guard CZarrZlib_deflateInit2(&stream, Int32(level), Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY) == Z_OK else {
      throw ZarrError(.codecFailure, "\(codec): could not initialise zlib")
    }
    defer { deflateEnd(&stream) }
    let bound = Int(deflateBound(&stream, uLong(input.count))) + 32
    var out = [UInt8](repeating: 0, count: bound)
    let status: Int32 = input.withUnsafeBytes { src in
      out.withUnsafeMutableBytes { dst in
        stream.next_in = UnsafeMutablePointer(mutating: src.bindMemory(to: Bytef.self).baseAddress)
        stream.avail_in = uInt(src.count)
        stream.next_out = dst.bindMemory(to: Bytef.self).baseAddress
        stream.avail_out = uInt(dst.count)
        return deflate(&stream, Z_FINISH)
      }
    }
    guard status == Z_STREAM_END else { throw ZarrError(.codecFailure, "\(codec): compression failed (\(status))") }
    out.removeSubrange(Int(stream.total_out)...)
    return out
  }

  /// Inflates `input` into `output`, which the data must fill exactly (one stream or gzip members).
  static func decompress(
    _ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer, windowBits: Int32, codec: String
  ) throws(ZarrError) {
    var stream = z_stream()
    guard CZarrZlib_inflateInit2(&stream, windowBits) == Z_OK else {
      throw ZarrError(.codecFailure, "\(codec): could not initialise zlib")
    }
    defer { inflateEnd(&stream) }
    var consumed = 0, produced = 0
    while true {
      stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self)).map { $0 + consumed }
      stream.avail_in = uInt(input.count - consumed)
      stream.next_out = output.baseAddress?.assumingMemoryBound(to: Bytef.self).advanced(by: produced)
      stream.avail_out = uInt(output.count - produced)
      let inBefore = Int(stream.avail_in), outBefore = Int(stream.avail_out)
      let status = inflate(&stream, Z_FINISH)
      consumed += inBefore - Int(stream.avail_in)
      produced += outBefore - Int(stream.avail_out)
      switch status {
      case Z_STREAM_END:
        if consumed < input.count, input[consumed] == 0x1F {
          inflateReset(&stream)
          continue
        }
        guard produced == output.count else {
          throw ZarrError(.corruptData, "\(codec): data decompressed to \(produced) bytes, expected \(output.count)")
        }
        return
      case Z_BUF_ERROR, Z_OK:
        if produced == output.count {
          throw ZarrError(.corruptData, "\(codec): data decompresses to more than the expected \(output.count) bytes")
        }
        throw ZarrError(.corruptData, "\(codec): compressed data is truncated")
      default:
        let msg = stream.msg.map { String(cString: $0) } ?? "error \(status)"
        throw ZarrError(.corruptData, "\(codec): invalid compressed data (\(msg))")
      }
    }
  }

  /// Inflates `input` (one stream or gzip members) into `expectedSize` bytes or, when that is
  /// unknown, at most `limit` (default ``ReadLimits/maxChunkBytes``).
  static func decompress(
    _ input: [UInt8], windowBits: Int32, expectedSize: Int?, limit: Int? = nil, codec: String
  ) throws(ZarrError) -> [UInt8] {
    var stream = z_stream()
    guard CZarrZlib_inflateInit2(&stream, windowBits) == Z_OK else {
      throw ZarrError(.codecFailure, "\(codec): could not initialise zlib")
    }
    defer { inflateEnd(&stream) }
    // Stop at one byte over the expected size (or the limit): compressed data that expands further
    // is refused without inflating it all.
    let limit = expectedSize ?? limit ?? ReadLimits.current.maxChunkBytes
    let cap = limit < Int.max ? limit + 1 : limit
    var capacity = expectedSize.map { $0 + 1 } ?? min(max(input.count * 4, 64), cap)
    var out = [UInt8](repeating: 0, count: capacity)
    var produced = 0
    var consumed = 0
    while true {
      let (status, inUsed, outUsed): (Int32, Int, Int) = input.withUnsafeBytes { src in
        out.withUnsafeMutableBytes { dst in
          stream.next_in = UnsafeMutablePointer(mutating: src.bindMemory(to: Bytef.self).baseAddress.map { $0 + consumed })
          stream.avail_in = uInt(src.count - consumed)
          stream.next_out = dst.bindMemory(to: Bytef.self).baseAddress.map { $0 + produced }
          stream.avail_out = uInt(dst.count - produced)
          let inBefore = Int(stream.avail_in), outBefore = Int(stream.avail_out)
          let s = inflate(&stream, Z_NO_FLUSH)
          return (s, inBefore - Int(stream.avail_in), outBefore - Int(stream.avail_out))
        }
      }
      consumed += inUsed
      produced += outUsed
      switch status {
      case Z_STREAM_END:
        // Concatenated gzip members are valid gzip: continue with the next member.
        if consumed < input.count, input[consumed] == 0x1F {
          inflateReset(&stream)
          continue
        }
        guard produced <= limit else {
          throw ZarrError(.corruptData, "\(codec): data decompresses to more than \(expectedSize == nil ? "the limit of" : "the expected") \(limit) bytes")
        }
        out.removeSubrange(produced...)
        return out
      case Z_OK, Z_BUF_ERROR:
        if produced == out.count {
          if produced > limit {
            throw ZarrError(.corruptData, "\(codec): data decompresses to more than \(expectedSize == nil ? "the limit of" : "the expected") \(limit) bytes")
          }
          capacity = min(capacity * 2, cap)
          out.append(contentsOf: [UInt8](repeating: 0, count: capacity - out.count))
        } else if consumed >= input.count || (status == Z_BUF_ERROR && inUsed == 0 && outUsed == 0) {
          throw ZarrError(.corruptData, "\(codec): compressed data is truncated")
        }
      default:
        let msg = stream.msg.map { String(cString: $0) } ?? "error \(status)"
        throw ZarrError(.corruptData, "\(codec): invalid compressed data (\(msg))")
      }
    }
  }
}
