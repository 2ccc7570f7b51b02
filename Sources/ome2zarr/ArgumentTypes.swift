import ArgumentParser
import OMEZarr
import ZarrIO

// Option values parsed by argument-parser: `--help` lists the allowed values, and a value that is
// not one of them is a usage error (exit 2).

extension DownsamplingMethod: ExpressibleByArgument {}

extension NGFFVersion: ExpressibleByArgument {
  /// A version such as `0.4`, `0.5` or `0.6` (any spelling `NGFFVersion` reads).
  public init?(argument: String) { self.init(argument) }

  /// The versions `convert` writes.
  public static var allValueStrings: [String] { ["0.4", "0.5", "0.6"] }
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

  /// The compressor at `level` (default: 3 for zstd and blosc-zstd, 5 for blosc-lz4 and gzip).
  func compressor(level: Int?) -> Compressor {
    switch self {
    case .zstd: return .zstd(level: level ?? 3)
    case .bloscZstd: return .blosc(cname: "zstd", clevel: level ?? 3, shuffle: .shuffle)
    case .bloscLZ4: return .blosc(cname: "lz4", clevel: level ?? 5, shuffle: .shuffle)
    case .gzip: return .gzip(level: level ?? 5)
    case .none: return .none
    }
  }
}
