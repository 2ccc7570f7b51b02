import ArgumentParser
import OMEZarr
import ZarrIO

// Option values parsed by argument-parser: `--help` lists the allowed values, and a value that is
// not one of them is a usage error (exit 2).

extension DownsamplingMethod: ExpressibleByArgument {}

extension NGFFVersion: ExpressibleByArgument {
  /// A version such as `0.4`, `0.5`, `0.6` or `0.9` (any spelling `NGFFVersion` reads).
  public init?(argument: String) { self.init(argument) }

  /// The versions `convert` writes (`0.9` is written as `0.9.dev2`).
  public static var allValueStrings: [String] { ["0.4", "0.5", "0.6", "0.9"] }
}

/// The compressors `convert --compressor` offers, by name.
enum CompressorName: String, CaseIterable, ExpressibleByArgument {
  /// Blosc with zstd and byte shuffle (the default).
  case bloscZstd = "blosc-zstd"
  /// Zstandard.
  case zstd
  /// Blosc with LZ4 and byte shuffle.
  case bloscLZ4 = "blosc-lz4"
  /// Gzip (zlib).
  case gzip
  /// No compression.
  case none

  /// The compression levels the compressor accepts.
  var levels: ClosedRange<Int> {
    switch self {
    case .zstd: return -131_072...22
    case .bloscZstd, .bloscLZ4, .gzip: return 0...9
    case .none: return Int.min...Int.max
    }
  }

  /// Whether the compressor is blosc (which takes a shuffle).
  var isBlosc: Bool { self == .bloscZstd || self == .bloscLZ4 }

  /// The compressor at `level` (default: 3 for zstd and blosc-zstd, 5 for blosc-lz4 and gzip), with
  /// `shuffle` for the blosc ones.
  func compressor(level: Int?, shuffle: ShuffleName = .byte) -> Compressor {
    switch self {
    case .zstd: return .zstd(level: level ?? 3)
    case .bloscZstd: return .blosc(cname: "zstd", clevel: level ?? 3, shuffle: shuffle.value)
    case .bloscLZ4: return .blosc(cname: "lz4", clevel: level ?? 5, shuffle: shuffle.value)
    case .gzip: return .gzip(level: level ?? 5)
    case .none: return .none
    }
  }
}

/// How blosc reorders the bytes of each chunk before compressing (`convert --shuffle`).
enum ShuffleName: String, CaseIterable, ExpressibleByArgument {
  /// Bytes of equal significance together (the default: smaller with zstd on camera, EM and label data).
  case byte
  /// Bits of equal significance together (smaller with lz4, and for sparse labels).
  case bit
  /// No reordering.
  case none

  /// The codec's value.
  var value: BloscCodec.Shuffle {
    switch self {
    case .byte: return .shuffle
    case .bit: return .bitshuffle
    case .none: return .noshuffle
    }
  }
}

/// A number of bytes: `1048576`, `64K`, `1.5G`, `256MiB` (K, M, G, T are powers of 1024; a `B`,
/// `iB` or `b` after them is allowed).
struct ByteCount: ExpressibleByArgument, CustomStringConvertible {
  /// The number of bytes.
  var bytes: Int

  /// `bytes` bytes.
  init(_ bytes: Int) { self.bytes = bytes }

  /// Parses a count with an optional binary suffix; nil for a malformed, negative, non-finite or
  /// overflowing one.
  init?(argument: String) {
    var text = Substring(argument)
    for tail in ["iB", "B", "b"] where text.hasSuffix(tail) && text.count > tail.count {
      text = text.dropLast(tail.count)
      break
    }
    var shift = 0
    if let last = text.last, let s = ["K": 10, "M": 20, "G": 30, "T": 40][last.uppercased()] {
      shift = s
      text = text.dropLast()
    }
    if let n = Int(text) {
      guard n >= 0, n <= Int.max >> shift else { return nil }
      bytes = n << shift
    } else {
      // A fraction such as 1.5G; Int(exactly:) is never asked to hold 2^63 or more.
      guard let v = Double(text), v.isFinite, v >= 0 else { return nil }
      let scaled = (v * Double(1 << shift)).rounded(.down)
      guard scaled < 0x1p63, let n = Int(exactly: scaled) else { return nil }
      bytes = n
    }
  }

  /// The count with the largest exact binary suffix (`256MiB`).
  var description: String {
    for (suffix, shift) in [("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10)] where bytes > 0 && bytes % (1 << shift) == 0 {
      return "\(bytes >> shift)\(suffix)"
    }
    return "\(bytes)"
  }

  /// The default shown by `--help`.
  var defaultValueDescription: String { description }
}
