import ArgumentParser
import Foundation
import OMEZarr
import ZarrIO

/// `ome2zarr transform PATH SOURCE TARGET COORDINATES`: maps points between coordinate systems.
///
/// Speaks the protocol of the RFC-5 conformance suite (`oztc`): JSON out on stdout,
/// `{"coordinates": [...]}` and exit 0, or `{"message": "..."}` and a non-zero exit.
struct Transform: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Map points from one coordinate system to another (RFC-5 transformations).",
    usage: "ome2zarr transform <path> <source> <target> [<coordinates>] [<options>]",
    discussion: """
      PATH is a Zarr group whose metadata holds coordinate systems and transformations (an image, a scene, a 0.6 transformations document); sub-images it references are followed. SOURCE and TARGET name coordinate systems: a name, an array (level) path such as 's0' for its pixel grid, 'sub/path/name' for a system of a sub-image, or a JSON reference {"name": ..., "path": ...}. COORDINATES is a JSON list of points, e.g. '[[1,2],[3,4]]', or '-' to read it from stdin.

      PATH may also be an RFC-8 collection (a group or a .json file): systems are then named by id, a singlescale's id names its array's pixel grid, and 'member/path/id' or {"id": ..., "path": {"type": "zarr", "path": ...}} names a system of a referenced document.

      Prints {"coordinates": [[...], ...]} and exits 0; on any error prints {"message": "..."} and exits 1 (2 when PATH cannot be read or the arguments are wrong). Pixel centres are at integer array coordinates.

      Example: ome2zarr transform image.ome.zarr s2 physical '[[0,10,20]]'
      """)

  @Argument(help: "The Zarr group (or RFC-8 collection document) holding the transformations.")
  var path: String
  @Argument(help: "The source coordinate system.")
  var source: String
  @Argument(help: "The target coordinate system.")
  var target: String
  @Argument(help: "Points as a JSON list of lists, or '-' for stdin; optional with --matrix or --explain.")
  var coordinates: String?
  @Flag(help: "Also print the homogeneous (M+1)x(N+1) matrix of the mapping (affine paths only).")
  var matrix = false
  @Flag(help: "Also print the transformations on the path.")
  var explain = false

  @OptionGroup(title: "Limits") var readLimits: ReadLimitOptions
  @OptionGroup(title: "Remote storage") var remote: RemoteOptions

  func run() throws {
    do {
      var graph: TransformGraph
      let location = try StoreLocation(path)
      if let collection = CollectionDocument.detect(at: location) {
        // An RFC-8 collection: systems by id, across the documents it references.
        graph = try TransformGraph(collection: collection)
      } else {
        let node: OMENode
        do {
          node = try OMENode.open(location)
        } catch {
          throw CommandFailure.io("cannot open '\(path)': \(error)")
        }
        graph = try node.transformGraph()
      }
      let from = try graph.system(source), to = try graph.system(target)
      let mapping = try graph.mapping(from: from, to: to)
      var out = JSONObject()
      if let points = try readPoints() {
        let mapped = try mapping.apply(points: points)
        for p in mapped where p.contains(where: { !$0.isFinite }) {
          throw CommandFailure.invalidData("the mapping gives a non-finite coordinate \(p)")
        }
        out["coordinates"] = .array(mapped.map { .array($0.map(Self.number)) })
      } else if !matrix && !explain {
        throw CommandFailure.usage("give COORDINATES, --matrix or --explain")
      }
      if matrix {
        guard let m = mapping.affineMatrix else {
          throw CommandFailure.invalidData("the mapping from '\(from)' to '\(to)' is not affine (it involves a field)")
        }
        if m.entries.contains(where: { !$0.isFinite }) {
          throw CommandFailure.invalidData("the matrix of the mapping from '\(from)' to '\(to)' has a non-finite entry \(m.rowList)")
        }
        out["matrix"] = .array(m.rowList.map { .array($0.map(Self.number)) })
      }
      if explain {
        out["path"] = .array(try graph.path(from: from, to: to).map { .string($0.description) })
      }
      print(JSONValue.object(out).serialized(pretty: false))
    } catch {
      // The conformance protocol: the message as JSON on stdout; ExitStatus decides the code.
      print(JSONValue.object(["message": .string(ExitStatus.message(for: error) ?? "\(error)")]).serialized(pretty: false))
      throw AlreadyReported(cause: error)
    }
  }

  /// JSON numbers: integral values without a fraction.
  static func number(_ d: Double) -> JSONValue {
    if d == d.rounded(), abs(d) < 1e15 { return .int(Int64(d)) }
    return .double(d)
  }

  private func readPoints() throws -> [[Double]]? {
    guard let coordinates else { return nil }
    let text = coordinates == "-" ? String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self) : coordinates
    let json: JSONValue
    do {
      json = try JSONValue.parse(text)
    } catch {
      throw CommandFailure.usage("COORDINATES is not JSON: \(error)")
    }
    guard let list = json.arrayValue else {
      throw CommandFailure.usage("COORDINATES must be a JSON list of points")
    }
    // A single point `[1, 2]` is read as one point.
    let rows = list.allSatisfy({ $0.doubleValue != nil }) && !list.isEmpty ? [json] : list
    return try rows.enumerated().map { (i, row) in
      guard let values = row.arrayValue?.compactMap(\.doubleValue), values.count == row.arrayValue?.count else {
        throw CommandFailure.usage("point \(i) of COORDINATES is not a list of numbers")
      }
      return values
    }
  }
}
