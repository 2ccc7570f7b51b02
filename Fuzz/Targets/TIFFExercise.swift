import Foundation
import OMEZarr
import OMEZarrConvert
import ZarrIO

/// What `convert` does with a TIFF, bounded: open it through ``InputSource`` (every series), read
/// the first rows of a few planes, and convert images of at most 1 MiB into memory; a conversion
/// that succeeds must give an image the validator accepts with `--data`.
enum TIFFExercise {
  /// A directory of this process for the files the targets write.
  static let directory: String = {
    // Memory-backed where the machine has it: every execution writes a TIFF.
    let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm/" : NSTemporaryDirectory()
    let dir = base + "ome2zarr-fuzz-\(getpid())"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
  }()

  /// The largest buffer the harness allocates for reading rows.
  static let readLimit = 8 << 20
  /// The largest image (bytes) converted.
  static let convertLimit = 1 << 20

  static func run(path: String) {
    guard let inputs = try? InputSource.open([path]) else { return }
    for input in inputs.prefix(3) {
      let d = input.source.description
      guard d.shape.count >= 2, d.shape.allSatisfy({ $0 > 0 }), let planes = CheckedArithmetic.product(d.leadingShape),
        let rowBytes = CheckedArithmetic.product([d.shape[d.shape.count - 1], d.dataType.size])
      else { continue }
      let height = d.shape[d.shape.count - 2]
      for linear in Array(0..<min(planes, 2)) + (planes > 2 ? [planes - 1] : []) {
        let index = coordinates(of: linear, in: d.leadingShape)
        for rows in [0..<min(height, 4), (height - 1)..<height] {
          guard let size = CheckedArithmetic.product([rowBytes, rows.count]), size <= readLimit else { continue }
          var buffer = [UInt8](repeating: 0, count: size)
          _ = try? buffer.withUnsafeMutableBytes { try input.source.read(plane: index, rows: rows, into: $0) }
        }
      }
      guard let total = CheckedArithmetic.product(d.shape + [d.dataType.size]), total <= convertLimit else { continue }
      convert(input.source, from: path)
    }
  }

  static func convert(_ source: any PlaneSource, from path: String) {
    var options = ConvertOptions()
    options.threads = 1
    options.memoryLimit = 64 << 20
    // Metadata is what a hostile description can spoil; compression and deep pyramids only cost time.
    options.compressor = .none
    options.levels = 2
    let store = MemoryStore()
    guard (try? Converter.convert(source, into: store, named: "fuzz.ome.zarr", options: options)) != nil else { return }
    var check = Validator.Options()
    check.data = true
    guard let report = try? Validator(options: check).validate(store: store) else {
      fuzzFailure("convert succeeded but its output cannot be validated (\(path))")
    }
    if !report.isValid {
      fuzzFailure("convert succeeded but validate --data rejects its output: \(report.errors.map(\.description).joined(separator: "; "))")
    }
  }

  /// The coordinates of the `linear`-th element of a C-order grid of `shape`.
  static func coordinates(of linear: Int, in shape: [Int]) -> [Int] {
    var rest = linear
    var out = [Int](repeating: 0, count: shape.count)
    for k in shape.indices.reversed() where shape[k] > 0 {
      out[k] = rest % shape[k]
      rest /= shape[k]
    }
    return out
  }
}
