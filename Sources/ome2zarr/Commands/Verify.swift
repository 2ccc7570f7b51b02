import ArgumentParser
import Foundation
import OMEZarr
import OMEZarrConvert
import ZarrIO

/// `ome2zarr verify INPUT OUTPUT`: level 0 of a converted image equals its input, value by value.
struct Verify: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Check that level 0 of a converted OME-Zarr image holds exactly the input's values.",
    usage: "ome2zarr verify <input> <output> [<options>]",
    discussion: """
      Reads the input (as convert would) and level 0 plane by plane and compares them.

      Exit codes: 0 identical, 1 different, 2 an input or output that cannot be read.
      """)

  @Argument(help: "The input given to convert (file or folder).")
  var input: String
  @Argument(help: "The OME-Zarr image convert wrote.")
  var output: String
  @Option(help: "The OME-TIFF series (for a collection output: the image of that series).")
  var series: Int?
  @Option(help: "Filename pattern for folder inputs.")
  var pattern: String?
  @Flag(help: "Print JSON.")
  var json = false

  @OptionGroup(title: "Limits") var readLimits: ReadLimitOptions
  @OptionGroup(title: "Remote storage") var remote: RemoteOptions

  func run() throws {
    let sources = try InputSource.open([input], pattern: pattern, series: series)
    var mismatches: [String] = []
    var planes = 0
    let location = try StoreLocation(output)
    for (name, source) in sources.map({ ($0.name, $0.source) }) {
      let path = sources.count > 1 ? location.appending(name).description : output
      let node = try OMENode.open(sources.count > 1 ? location.appending(name) : location)
      guard let image = try node.image() else { throw CommandFailure.usage("'\(path)' is a \(node.kind), not an image") }
      let level = image.levels[0]
      let d = source.description
      guard level.shape == d.shape, level.dataType == d.dataType else {
        mismatches.append("\(path): level 0 is \(level.shape) \(level.dataType), the input \(d.shape) \(d.dataType)")
        continue
      }
      let height = d.shape[d.shape.count - 2], width = d.shape.last!
      var expected = [UInt8](repeating: 0, count: height * width * d.dataType.size)
      for box in gridBoxes(shape: d.leadingShape, cell: [Int](repeating: 1, count: d.leadingShape.count)) {
        let index = box.map(\.lowerBound)
        try expected.withUnsafeMutableBytes { try source.read(plane: index, rows: 0..<height, into: $0) }
        let got = try level.read(box + [0..<height, 0..<width]).bytes
        planes += 1
        if got != expected { mismatches.append("\(path): plane \(index) differs") }
      }
    }
    if json {
      print(JSONValue.object(["identical": .bool(mismatches.isEmpty), "planes": .int(Int64(planes)),
        "mismatches": .array(mismatches.map(JSONValue.string))]).serialized())
    } else if mismatches.isEmpty {
      print("level 0 is identical to the input (\(planes) planes)")
    } else {
      for m in mismatches.prefix(20) { print(m) }
    }
    if !mismatches.isEmpty { throw AlreadyReported(cause: CommandFailure.invalidData("level 0 differs from the input")) }
  }
}
