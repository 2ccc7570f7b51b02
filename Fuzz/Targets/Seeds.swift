import ZarrIO

/// Fixed documents and arrays the targets put beside the fuzzed bytes.
enum Seeds {
  /// A v2 `.zarray` of a 4×4 uint8 array, one chunk.
  static let v2ArrayDocument = Array(#"""
    {"zarr_format": 2, "shape": [4, 4], "chunks": [4, 4], "dtype": "|u1", "compressor": null,
     "fill_value": 0, "order": "C", "filters": null}
    """#.utf8)

  /// Writes a small 2-D (y, x) uint16 array with one stored chunk at `path`, in the format asked.
  static func writeArray(_ store: any Store, _ path: String, format: ZarrFormat, shape: [Int] = [8, 8]) {
    let meta = ArrayMetadata(
      shape: shape, dataType: .uint16, chunkShape: shape.map { min($0, 4) }, codecs: [Codecs.bytes()],
      chunkKeyEncoding: format == .v3 ? .default(separator: .slash) : .v2(separator: .dot), zarrFormat: format)
    guard let array = try? ZarrArray(store: store, path: path, metadata: meta) else { return }
    try? array.writeMetadata()
    try? array.writeChunk(shape.map { _ in 0 }, [UInt8](repeating: 7, count: shape.map { min($0, 4) }.reduce(2, *)))
  }

  /// Small arrays at the paths a fuzzed OME document is likely to name: `0`, `1`, `2`, `s0`,
  /// `labels/cells/0`, and the wells' field `A/1/0/0`.
  static func writeImageArrays(_ store: any Store, format: ZarrFormat) {
    for (path, shape) in [("0", [8, 8]), ("1", [4, 4]), ("2", [2, 2]), ("s0", [8, 8]), ("labels/cells/0", [8, 8]), ("A/1/0/0", [8, 8])] {
      writeArray(store, path, format: format, shape: shape)
    }
    writeArray(store, "3d/0", format: format, shape: [2, 8, 8])
  }
}
