// Opens an OME-Zarr image and reads a region of one level.
//
//   swift run read-region IMAGE [LEVEL]
import OMEZarr
import ZarrIO

#if canImport(Glibc)
  import Glibc
#endif

let args = CommandLine.arguments
guard args.count >= 2 else {
  print("usage: read-region IMAGE [LEVEL]")
  exit(2)
}
let levelIndex = args.count > 2 ? Int(args[2]) ?? 0 : 0

do {
  let node = try OMENode.open(path: args[1])
  guard let image = try node.image() else {
    print("\(args[1]) is a \(node.kind), not an image")
    exit(1)
  }
  guard image.levels.indices.contains(levelIndex) else {
    print("the image has \(image.levels.count) levels")
    exit(1)
  }
  let level = image.levels[levelIndex]
  print("axes: \(image.axes.map { $0.name + ($0.unit.map { " (\($0))" } ?? "") }.joined(separator: ", "))")
  print("level \(levelIndex): shape \(level.shape), \(level.dataType), pixel size \(image.scale(level: levelIndex) ?? [])")
  // The central 4 x 4 pixels of the first plane of every leading axis.
  let n = level.shape.count
  let region = (0..<n).map { d -> Range<Int> in
    if d < n - 2 { return 0..<min(1, level.shape[d]) }
    let mid = level.shape[d] / 2
    return max(0, mid - 2)..<min(level.shape[d], mid + 2)
  }
  let block = try level.read(region)
  print("region \(region.map { "\($0.lowerBound)..<\($0.upperBound)" }.joined(separator: ", ")): \(block.count) values")
  if level.dataType == .uint16 { print(try block.elements(as: UInt16.self)) }
} catch {
  print("read-region: error: \(error)")
  exit(1)
}
