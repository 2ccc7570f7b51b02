/// Byte-level preparation of XML text for Foundation's `XMLParser`: the one place for the parser's
/// workarounds (OME-XML in TIFFs and S3 answers both go through it).
package enum XMLText {
  /// `bytes` with a space before the `?>` of every processing instruction that has no data
  /// (`<?x?>` becomes `<?x ?>`, which means the same). Foundation's XMLParser on Linux passes the
  /// missing data to `strlen` and crashes the process; with the space, libxml2 hands it an empty
  /// string instead.
  package static func withProcessingInstructionData(_ bytes: [UInt8]) -> [UInt8] {
    let lt = UInt8(ascii: "<"), q = UInt8(ascii: "?"), gt = UInt8(ascii: ">")
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count)
    var i = 0
    while i < bytes.count {
      out.append(bytes[i])
      guard bytes[i] == lt, i + 1 < bytes.count, bytes[i + 1] == q else {
        i += 1
        continue
      }
      // A target: the bytes up to whitespace or `?>`.
      var j = i + 2
      while j < bytes.count, ![0x20, 0x09, 0x0A, 0x0D, q, gt].contains(bytes[j]) { j += 1 }
      out.append(contentsOf: bytes[(i + 1)..<j])
      if j > i + 2, j + 1 < bytes.count, bytes[j] == q, bytes[j + 1] == gt { out.append(0x20) }
      i = j
    }
    return out
  }
}
