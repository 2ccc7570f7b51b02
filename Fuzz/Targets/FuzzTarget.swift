import Foundation

/// One libFuzzer target: a name, a function that feeds bytes to a real entry point, and the
/// largest input worth trying.
///
/// A target swallows thrown errors: refusing hostile input is correct. Findings are what a target
/// cannot swallow: a trap (overflow, out-of-range index, force-unwrap), an AddressSanitizer
/// report, a timeout, an out-of-memory, or a `fuzzFailure` (output our own validator rejects).
public struct FuzzTarget: Sendable {
  /// The name used on the command line and for `Fuzz/seeds/<name>`, `Fuzz/regressions/<name>`.
  public let name: String
  /// What the target exercises (for `ome2zarr-fuzz --list`).
  public let summary: String
  /// The largest input libFuzzer should generate (`-max_len`).
  public let maxLength: Int
  /// Runs one input.
  public let run: @Sendable ([UInt8]) -> Void

  /// A target named `name` running `run`.
  public init(_ name: String, _ summary: String, maxLength: Int, run: @escaping @Sendable ([UInt8]) -> Void) {
    self.name = name
    self.summary = summary
    self.maxLength = maxLength
    self.run = run
  }

  /// Every target, in the order `scripts/fuzz` runs them.
  public static let all: [FuzzTarget] = [
    FuzzTarget("json", "JSONValue.parse, serialisation and re-parse (round trip must be equal)", maxLength: 16_384, run: JSONTarget.run),
    FuzzTarget("metadata", "zarr.json / .zarray+.zattrs / .zgroup+.zmetadata: node metadata, codec chain, a one-element read",
      maxLength: 16_384, run: MetadataTarget.run),
    FuzzTarget("ome", "OME attributes: OMEAttributes, OMENode, the validator (document and store with arrays)",
      maxLength: 32_768, run: OMETarget.run),
    FuzzTarget("collection", "RFC-8 documents: CollectionDocument read/detect and CollectionResolver in memory",
      maxLength: 16_384, run: CollectionTarget.run),
    FuzzTarget("shard", "one shard of sharded arrays (several codec chains): full decode and partial decode via the index",
      maxLength: 8_192, run: ChunkTarget.runShard),
    FuzzTarget("chunk", "one chunk through unsharded codec chains (bytes, transpose, gzip, zstd, blosc, crc32c)",
      maxLength: 8_192, run: ChunkTarget.runChunk),
    FuzzTarget("omexml", "OMEXMLMetadata.parse, then a small TIFF with that description opened, read and converted",
      maxLength: 16_384, run: DescriptionTarget.runOMEXML),
    FuzzTarget("imagej", "ImageJMetadata, then a small TIFF with that description opened, read and converted",
      maxLength: 4_096, run: DescriptionTarget.runImageJ),
    FuzzTarget("tiff", "a TIFF file opened through InputSource/TIFFSource, planes read, small images converted and validated",
      maxLength: 65_536, run: TIFFTarget.run),
    FuzzTarget("zip", "a ZIP archive (.ozx) read by ZipStore from memory by ranges, every entry read, validated with --data",
      maxLength: 32_768, run: ZipTarget.run),
  ]

  /// The target named `name`.
  public static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }
}

/// Stops the process with a message: a finding that is not a trap (output our validator rejects,
/// a round trip that changes a document).
func fuzzFailure(_ message: String) -> Never {
  FileHandle.standardError.write(Data("FUZZ FAILURE: \(message)\n".utf8))
  abort()
}
