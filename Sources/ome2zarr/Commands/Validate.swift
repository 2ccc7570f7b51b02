import ArgumentParser
import Foundation
import OMEZarr
import ZarrIO

/// `ome2zarr validate PATH`: every NGFF rule on a hierarchy or a single metadata document.
struct Validate: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Validate OME-Zarr (NGFF 0.4, 0.5, 0.6, RFC-8 collections) against the specification.",
    usage: "ome2zarr validate <path> [<options>]",
    discussion: """
      PATH is an OME-Zarr group (image, labels, plate, well, bioformats2raw root, collection) or a single metadata document (zarr.json, .zattrs or an attributes JSON file). The hierarchy below PATH is walked: image levels and labels, plate wells and fields, bioformats2raw series, local collection nodes.

      Every MUST of the specification is an error, every SHOULD a warning. Each finding has a rule id, the node's store path and a JSON pointer into that node's attributes.

      Exit codes: 0 valid (warnings allowed), 1 invalid, 2 the input could not be read.
      """)

  @Argument(help: "The OME-Zarr group (a directory or an http(s) URL), a collection, or a zarr.json / .zattrs / attributes JSON file.")
  var path: String
  @Flag(help: "Print one JSON object: {valid, version, kind, findings: [{rule, severity, path, pointer, message}]}.")
  var json = false
  @Flag(help: "Treat the SHOULDs of the strict schemas (names, versions, units, ...) as errors.")
  var strict = false
  @Flag(help: "Also decode every stored chunk (verifying checksums) and look for chunks outside the grid.")
  var data = false
  @Flag(help: "Arrays may be absent (metadata drafted before data); rules that need them are skipped.")
  var metadataOnly = false

  @OptionGroup var resolution: Collection.Resolution

  @OptionGroup(title: "Limits") var readLimits: ReadLimitOptions
  @OptionGroup(title: "Remote storage") var remote: RemoteOptions

  func run() throws {
    var options = Validator.Options()
    options.strict = strict
    options.data = data
    options.metadataOnly = metadataOnly
    options.maxNodes = resolution.maxNodes
    let report: ValidationReport
    do {
      report = try Validator(options: options).validate(try StoreLocation(path), resolution: resolution.options)
    } catch let error as ZarrError where error.code == .notFound {
      throw CommandFailure.io(error.message)
    } catch let error as ZarrError where [.corruptData, .unsupported].contains(error.code) {
      // Damaged data (a corrupt or encrypted archive entry): invalid, as `info` says.
      throw CommandFailure.invalidData("'\(path)' cannot be read: \(error)")
    } catch {
      throw CommandFailure.io("cannot read '\(path)': \(error)")
    }
    if json {
      print(report.json.serialized())
    } else {
      printHuman(report)
    }
    if !report.isValid { throw AlreadyReported(cause: CommandFailure.invalidData("'\(path)' is invalid")) }
  }

  func printHuman(_ report: ValidationReport) {
    let version = report.version.map { " \($0)" } ?? ""
    print("\(path): OME-Zarr\(version) \(report.kind), \(report.nodesChecked) node(s) checked")
    var order: [String] = []
    var byNode: [String: [Finding]] = [:]
    for f in report.findings {
      if byNode[f.path] == nil { order.append(f.path) }
      byNode[f.path, default: []].append(f)
    }
    for node in order {
      print("\n\(node.isEmpty ? "/" : node)")
      for f in byNode[node] ?? [] {
        let where_ = f.pointer.isEmpty ? "" : "  (at \(f.pointer))"
        print("  \(f.severity.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0)) \(f.rule): \(f.message)\(where_)")
      }
    }
    let e = report.errors.count, w = report.warnings.count
    print("\n\(report.isValid ? "valid" : "INVALID"): \(e) error(s), \(w) warning(s)")
  }
}
