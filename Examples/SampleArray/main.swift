import Foundation
// Writes a small sample volume as a sharded Zarr v3 array with ZarrIO, reads it back and checks
// every value and a region.
//
//   swift run sample-array [OUTPUT]      (default: sample.zarr)
import ZarrIO

#if canImport(Glibc)
  import Glibc
#endif

let output = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "sample.zarr"

// A 3-D uint16 volume: a smooth blob plus a little deterministic noise.
let shape = [32, 256, 256]
var values = [UInt16](repeating: 0, count: shape.reduce(1, *))
var seed: UInt64 = 42
for z in 0..<shape[0] {
  for y in 0..<shape[1] {
    for x in 0..<shape[2] {
      seed = seed &* 6364136223846793005 &+ 1442695040888963407
      let dz = Double(z - 16) / 12, dy = Double(y - 128) / 80, dx = Double(x - 128) / 80
      let blob = 3000 * (-(dz * dz + dy * dy + dx * dx)).exponential
      values[(z * shape[1] + y) * shape[2] + x] = UInt16(blob) &+ UInt16(truncatingIfNeeded: seed >> 60)
    }
  }
}

extension Double {
  var exponential: Double { Foundation.exp(self) }
}

do {
  let store = try FilesystemStore(root: output, create: true)
  let root = try ZarrGroup.create(in: store, attributes: ["description": "ome-zarr-swift sample volume"], overwrite: true)
  // Sharded as OME-Zarr 0.5 stores it: shards of 16 x 128 x 128 holding 16 x 64 x 64 chunks.
  let meta = ArrayMetadata.sharded(
    shape: shape, dataType: .uint16, shardShape: [16, 128, 128], innerChunkShape: [16, 64, 64],
    compressor: .zstd(level: 3), dimensionNames: ["z", "y", "x"], attributes: ["units": "arbitrary"])
  let array = try root.createArray("volume", metadata: meta)
  try array.write(values, region: array.fullRegion)

  let back = try ZarrArray.open(in: store, path: "volume").read(as: UInt16.self)
  guard back == values else {
    print("sample-array: read-back differs from what was written")
    exit(1)
  }
  let part = try array.read([10..<12, 100..<102, 100..<103], as: UInt16.self)
  print("wrote and verified \(values.count) uint16 values in \(output)/volume; region [10:12, 100:102, 100:103] = \(part)")
} catch {
  print("sample-array: error: \(error)")
  exit(1)
}
