/// The LZW compression of TIFF 6.0 (§13), as libtiff writes it: codes of 9 to 12 bits packed
/// most significant bit first, `Clear` (256) first and whenever the table fills, `EOI` (257) last,
/// the code width growing one code late ("early change" as the decoder sees it).
///
/// One encoder per thread: its table (a million entries, stamped with a generation so a `Clear`
/// costs nothing) is reused from tile to tile.
final class TIFFLZW {
  private static let clear = 256, endOfInformation = 257, firstFree = 258, tableLimit = 4094
  /// The code of (prefix code << 8 | byte), valid where `stamp` equals `generation`.
  private var codes = [UInt16](repeating: 0, count: 1 << 20)
  private var stamp = [UInt32](repeating: 0, count: 1 << 20)
  private var generation: UInt32 = 0

  /// `input` compressed.
  func encode(_ input: UnsafeRawBufferPointer) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(input.count / 2 + 16)
    var bits: UInt64 = 0
    var pending = 0
    var width = 9
    var maxCode = 511
    var next = Self.firstFree
    func put(_ code: Int) {
      bits = bits << UInt64(width) | UInt64(code)
      pending += width
      while pending >= 8 {
        pending -= 8
        out.append(UInt8(truncatingIfNeeded: bits >> UInt64(pending)))
      }
    }
    func reset() { generation += 1 }
    /// After a code is written and an entry added: clear a full table, or widen the codes.
    func grow() {
      next += 1
      if next == Self.tableLimit {
        put(Self.clear)
        reset()
        width = 9
        maxCode = 511
        next = Self.firstFree
      } else if next > maxCode {
        width += 1
        maxCode = (1 << width) - 1
      }
    }
    // Each table holds at least one byte of input: the generations of this call cannot wrap
    // once there is room for that many.
    if generation > UInt32.max - UInt32(min(input.count + 2, Int(UInt32.max / 2))) {
      stamp = [UInt32](repeating: 0, count: 1 << 20)
      generation = 0
    }
    reset()
    put(Self.clear)
    guard let first = input.first else {
      put(Self.endOfInformation)
      if pending > 0 { out.append(UInt8(truncatingIfNeeded: bits << UInt64(8 - pending))) }
      return out
    }
    var prefix = Int(first)
    codes.withUnsafeMutableBufferPointer { codes in
      stamp.withUnsafeMutableBufferPointer { stamp in
        for byte in input.dropFirst() {
          let key = prefix << 8 | Int(byte)
          if stamp[key] == generation {
            prefix = Int(codes[key])
            continue
          }
          put(prefix)
          codes[key] = UInt16(next)
          stamp[key] = generation
          prefix = Int(byte)
          grow()
        }
      }
    }
    put(prefix)
    grow()
    put(Self.endOfInformation)
    if pending > 0 { out.append(UInt8(truncatingIfNeeded: bits << UInt64(8 - pending))) }
    return out
  }
}
