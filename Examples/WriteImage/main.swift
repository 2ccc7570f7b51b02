// Writes a small 3-channel volume as an OME-Zarr 0.5 image (sharded Zarr v3) with its pyramid and a
// label image, then reads it back and checks every value of level 0.
//
//   swift run write-image [OUTPUT] [--version 0.4|0.5|0.6]      (default: example.ome.zarr, 0.5)
import OMEZarr
import ZarrIO

#if canImport(Glibc)
  import Glibc
#endif

var args = Array(CommandLine.arguments.dropFirst())
var version = NGFFVersion.latest05
if let i = args.firstIndex(of: "--version"), i + 1 < args.count {
  guard let v = NGFFVersion(args[i + 1]) else {
    print("unknown version \(args[i + 1])")
    exit(2)
  }
  version = v.canonical
  args.removeSubrange(i...(i + 1))
}
let output = args.first ?? "example.ome.zarr"

// c, z, y, x: three channels of smooth patterns.
let shape = [3, 40, 300, 260]
var values = [UInt16](repeating: 0, count: shape.reduce(1, *))
var i = 0
for c in 0..<shape[0] {
  for z in 0..<shape[1] {
    for y in 0..<shape[2] {
      for x in 0..<shape[3] {
        values[i] = UInt16((c + 1) * 100 + (x + y + 2 * z) % 500)
        i += 1
      }
    }
  }
}

do {
  let store = try FilesystemStore(root: output, create: true)
  var options = ImageOptions(
    axes: [.channel(), .space("z"), .space("y"), .space("x")], scale: [1, 2.0, 0.5, 0.5], version: version)
  options.name = "example"
  options.overwrite = true
  let data = try ArrayBuffer(shape: shape, dataType: .uint16, elements: values)
  let image = try ImageWriter.write(data, to: store, options: options)

  // A label image: one blob, label 1.
  var labels = [UInt32](repeating: 0, count: shape.reduce(1, *))
  for j in labels.indices where (j % (300 * 260)) / 260 > 100 && (j % 260) > 100 && (j % 260) < 160 { labels[j] = 1 }
  try ImageWriter.writeLabels(
    try ArrayBuffer(shape: shape, dataType: .uint32, elements: labels), name: "blobs", of: image,
    colors: [.init(labelValue: 1, rgba: [255, 0, 0, 255])])

  // Read everything back: level 0 must hold exactly what was written.
  let opened = try OMENode.open(path: output)
  let img = try opened.image()!
  guard try img.levels[0].read() == data else {
    print("write-image: level 0 read back differs from what was written")
    exit(1)
  }
  print("wrote \(output): OME-Zarr \(opened.version!) \(opened.kind), \(img.levels.count) levels:")
  for (n, level) in img.levels.enumerated() {
    print("  level \(n): shape \(level.shape), scale \(img.scale(level: n)!), translation \(img.translation(level: n)!)")
  }
  print("labels: \(try opened.labelNames()); level 0 verified value by value")
} catch {
  print("write-image: error: \(error)")
  exit(1)
}
