// Writes the bundled sample input of the demo: a small OME-TIFF z-stack (uint16, smooth signal
// plus noise, physical size 0.5 x 0.2 x 0.2 µm, Deflate with predictor), made with libtiff.
//
//   swift run make-sample-tiff [OUTPUT] [--planes N] [--size YxX] [--compression deflate|none]
//   (defaults: sample.ome.tif, 48, 384x320, deflate)
import Foundation
import OMEZarrConvert
import ZarrIO

let arguments = Array(CommandLine.arguments.dropFirst())
func option(_ name: String) -> String? {
  guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return nil }
  return arguments[i + 1]
}
let planes = option("--planes").flatMap(Int.init) ?? 48
let size = option("--size")?.split(separator: "x").compactMap { Int($0) } ?? [384, 320]
let positional = arguments.enumerated().filter { i, a in !a.hasPrefix("--") && (i == 0 || !arguments[i - 1].hasPrefix("--")) }
let output = positional.first?.element ?? "sample.ome.tif"
let (height, width) = (size[0], size.count > 1 ? size[1] : size[0])

do {
  var options = TIFFWriter.Options()
  let uncompressed = option("--compression") == "none"
  options.compression = uncompressed ? .none : .deflate
  options.predictor = !uncompressed
  options.bigTIFF = planes * height * width * 2 > 3_900_000_000
  options.description = TIFFWriter.omeXML(sizeX: width, sizeY: height, sizeZ: planes, type: .uint16,
    physicalSize: (0.2, 0.2, 0.5), name: "sample")
  let writer = try TIFFWriter(path: output, options: options)
  var state: UInt64 = 7
  for z in 0..<planes {
    var plane = [UInt16](repeating: 0, count: height * width)
    for y in 0..<height {
      for x in 0..<width {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        let dz = Double(z) - Double(planes) / 2, dy = Double(y - height / 2), dx = Double(x - width / 2)
        let blob = 2500 * exp(-(dz * dz / 300 + dy * dy / 8000 + dx * dx / 6000))
        let rings = 400 * (1 + sin(sqrt(dx * dx + dy * dy) / 9))
        plane[y * width + x] = UInt16(300 + blob + rings) &+ UInt16(state >> 59)
      }
    }
    try writer.append(try ArrayBuffer(shape: [height, width], dataType: .uint16, elements: plane))
  }
  print("wrote \(output): \(planes) x \(height) x \(width) uint16 OME-TIFF")
} catch {
  print("make-sample-tiff: error: \(error)")
  exit(1)
}
