import Foundation
import Synchronization

/// Limits on what ZarrIO accepts from stored data: sizes of documents, ranks, chunks and shards.
///
/// Every number read from a file is checked before it sizes an allocation or a loop; these limits
/// say how large a legal value may be. The defaults are far above what real data uses and far
/// below what would exhaust memory. A program may raise or lower them once at start-up:
///
///     var limits = ReadLimits.current
///     limits.maxChunkBytes = 8 << 30
///     ReadLimits.current = limits
///
/// | Limit | Default | Checked when |
/// |---|---|---|
/// | ``maxJSONBytes`` | 64 MiB | parsing any JSON document |
/// | ``maxJSONDepth`` | 128 levels | parsing any JSON document (fixed) |
/// | ``maxRank`` | 32 dimensions | reading array metadata |
/// | ``maxChunkBytes`` | 4 GiB | reading array metadata; decompressing without a known size |
/// | ``maxChunksPerShard`` | 2^20 inner chunks | reading a `sharding_indexed` configuration |
/// | ``maxRawBits`` | 2^20 bits | reading an `r<bits>` / `|V<n>` data type |
/// | ``maxBufferBytes`` | physical memory | reading a region into a new buffer |
public struct ReadLimits: Sendable, Hashable {
  /// The largest JSON document parsed, in bytes (metadata, attributes, collection documents).
  public var maxJSONBytes: Int = 64 << 20
  /// The deepest nesting of JSON arrays and objects the parser accepts. The parser itself does not
  /// recurse, but serializing, comparing and walking a value do (about 2 KiB of stack per level in a
  /// debug build): 128 levels fit a 512 KiB thread stack with room to spare, and real metadata nests
  /// fewer than 20.
  public static let maxJSONDepth = 128
  /// The largest number of dimensions of an array.
  public var maxRank: Int = 32
  /// The largest decoded chunk (for a sharded array: shard and inner chunk), in bytes; also the most
  /// a compressed chunk may expand to when the codec chain cannot tell its exact size.
  public var maxChunkBytes: Int = 4 << 30
  /// The largest number of inner chunks in one shard (the index holds 16 bytes per inner chunk).
  public var maxChunksPerShard: Int = 1 << 20
  /// The largest element of a raw (`r<bits>`) data type, in bits.
  public static let maxRawBits = 1 << 20

  /// The largest region ``ZarrArray/read(_:)`` reads into a new buffer, in bytes: a larger
  /// allocation could only fail (and a failed allocation ends the process).
  public var maxBufferBytes: Int = Int(clamping: ProcessInfo.processInfo.physicalMemory)

  /// The defaults.
  public init() {}

  private static let shared = ProcessWide(ReadLimits())

  /// The limits in force for this process (initially the defaults); set it once at start-up.
  public static var current: ReadLimits {
    get { shared.current }
    set { shared.current = newValue }
  }
}
