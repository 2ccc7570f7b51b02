import ArgumentParser
import ZarrIO

/// `--max-json-size` and `--max-chunk-size`: the ZarrIO read limits a command runs with.
struct ReadLimitOptions: ParsableArguments {
  @Option(help: ArgumentHelp(
    "The largest JSON document read (zarr.json, .zattrs, collection documents); a larger one is refused.",
    valueName: "bytes"))
  var maxJSONSize = ByteCount(ReadLimits().maxJSONBytes)

  @Option(help: ArgumentHelp(
    "The largest decoded chunk or shard accepted (and the most a compressed chunk may expand to).",
    valueName: "bytes"))
  var maxChunkSize = ByteCount(ReadLimits().maxChunkBytes)

  mutating func validate() throws {
    guard maxJSONSize.bytes > 0 else { throw ValidationError("--max-json-size must be positive") }
    guard maxChunkSize.bytes > 0 else { throw ValidationError("--max-chunk-size must be positive") }
  }

  /// Sets ``ReadLimits/current`` for this process.
  func apply() {
    var limits = ReadLimits.current
    limits.maxJSONBytes = maxJSONSize.bytes
    limits.maxChunkBytes = maxChunkSize.bytes
    ReadLimits.current = limits
  }
}

/// A command that reads stored data and takes the read limits as options.
protocol ReadLimitedCommand: ParsableCommand {
  /// The limits given on the command line.
  var readLimits: ReadLimitOptions { get }
}

extension Convert: ReadLimitedCommand {}
extension Info: ReadLimitedCommand {}
extension Validate: ReadLimitedCommand {}
extension Verify: ReadLimitedCommand {}
extension Transform: ReadLimitedCommand {}
extension Collection.Create: ReadLimitedCommand {}
extension Collection.Add: ReadLimitedCommand {}
extension Collection.Remove: ReadLimitedCommand {}
extension Collection.SetAttributes: ReadLimitedCommand {}
extension Collection.From: ReadLimitedCommand {}
extension Export: ReadLimitedCommand {}
extension Unpack: ReadLimitedCommand {}
extension Collection.List: ReadLimitedCommand {}
