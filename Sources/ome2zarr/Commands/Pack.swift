import ArgumentParser
import Foundation
import OMEZarr
import ZarrIO

/// `ome2zarr pack HIERARCHY OUT.ozx`: an existing OME-Zarr as one RFC-9 zipped file, bytes unchanged.
struct Pack: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Pack an OME-Zarr (any Zarr v3 hierarchy) into one zipped OME-Zarr file (.ozx, RFC-9).",
    usage: "ome2zarr pack <input> <output.ozx> [<options>]",
    discussion: """
      Copies every value as it is (nothing is decoded or re-encoded) into an archive that follows RFC-9: \
      the root zarr.json first, the other zarr.json breadth-first, every entry stored, ZIP64 records, \
      and the JSON comment with the OME-Zarr version and jsonFirst. Packing the same input twice gives \
      the same bytes. The archive is written beside the output (or, for a remote output, in the \
      temporary directory, then uploaded) and appears only when complete.

      Exit codes: 0 packed, 1 an input that is not a Zarr v3 hierarchy, 2 a usage error or an \
      input or output that cannot be read or written.
      """)

  @Argument(help: "The OME-Zarr to pack: a directory, an s3:// prefix or another archive.")
  var input: String
  @Argument(help: "The archive to write (.ozx; .zip also works).")
  var output: String
  @Flag(help: "Replace an existing output.")
  var overwrite = false
  @Flag(help: "Print a JSON summary.")
  var json = false

  @OptionGroup(title: "Remote storage") var remote: RemoteOptions

  func run() throws {
    let from = try StoreLocation(input)
    let to = try StoreLocation(output)
    guard to.isArchive else {
      throw CommandFailure.usage("'\(output)' must name an archive ending in .ozx (or .zip)")
    }
    guard from.entry() != .absent else { throw CommandFailure.io("'\(input)' does not exist") }
    if !overwrite, to.entry() != .absent, to.entry() != nil {
      throw CommandFailure.io("'\(output)' already exists; use --overwrite to replace it")
    }
    let summary = try withProgress(label: to.name, json: json) {
      try ZippedOMEZarr.pack(from, to: to, overwrite: overwrite, progress: $0)
    }
    report(summary, verb: "packed", into: to.description, json: json)
  }
}

/// `ome2zarr unpack IN.ozx DIR`: the entries of an archive as a directory (or bucket prefix).
struct Unpack: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Unpack a zipped OME-Zarr (.ozx or .zip) into a directory or bucket prefix.",
    usage: "ome2zarr unpack <input.ozx> <output> [<options>]",
    discussion: """
      Every entry becomes a file (or object) with the same bytes; each entry's CRC-32 is checked. \
      Names that would leave the output (absolute, '..') are refused before anything is written.

      Exit codes: 0 unpacked, 1 a damaged archive, 2 a usage error or an input or output that \
      cannot be read or written.
      """)

  @Argument(help: "The archive: a file, an http(s):// URL or an s3:// object.")
  var input: String
  @Argument(help: "The directory or s3:// prefix to write.")
  var output: String
  @Flag(help: "Replace what the output holds.")
  var overwrite = false
  @Flag(help: "Print a JSON summary.")
  var json = false

  @OptionGroup(title: "Limits") var readLimits: ReadLimitOptions
  @OptionGroup(title: "Remote storage") var remote: RemoteOptions

  func run() throws {
    let from = try StoreLocation(input)
    let to = try StoreLocation(output)
    guard from.isArchive else { throw CommandFailure.usage("'\(input)' is not an archive (.ozx or .zip)") }
    guard !to.isArchive else { throw CommandFailure.usage("'\(output)' is an archive: unpack into a directory or an s3:// prefix") }
    guard from.entry() != .absent else { throw CommandFailure.io("'\(input)' does not exist") }
    if !overwrite, to.entry() == .object { throw CommandFailure.io("'\(output)' is a file; use another output") }
    if !overwrite, to.entry() == .prefix, !(try to.openStore().list(prefix: "")).isEmpty {
      throw CommandFailure.io("'\(output)' is not empty; use --overwrite to replace what it holds")
    }
    let summary = try withProgress(label: to.name, json: json) {
      try ZippedOMEZarr.unpack(from, to: to, overwrite: overwrite, progress: $0)
    }
    report(summary, verb: "unpacked", into: to.description, json: json)
  }
}

/// Runs `work` with a progress bar (none with `--json`) it reports to as (done, total) bytes.
private func withProgress<T>(label: String, json: Bool, _ work: ((@Sendable (Int, Int) -> Void)?) throws -> T) rethrows -> T {
  guard !json else { return try work(nil) }
  let bar = ProgressBar()
  bar.start(totalBytes: 0, label: label)
  defer { bar.finish() }
  return try work { done, total in bar.set(done: done, total: total) }
}

/// Prints what pack or unpack did.
private func report(_ s: ZippedOMEZarr.Summary, verb: String, into output: String, json: Bool) {
  if json {
    print(JSONValue.object([
      "output": .string(output), "entries": .int(Int64(s.entries)), "bytes": .int(Int64(s.bytes)),
      "outputBytes": .int(Int64(s.outputBytes)), "seconds": .double(s.seconds),
    ]).serialized())
  } else {
    let mb = Double(s.bytes) / 1e6
    print(String(format: "%@ %d entries (%.1f MB) into %@ in %.2f s (%.0f MB/s)", verb, s.entries, mb, output, s.seconds,
      mb / max(s.seconds, 1e-6)))
  }
}
