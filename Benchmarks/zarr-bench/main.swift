// zarr-bench: the ZarrIO side of the benchmarks (Benchmarks/run drives it).
//
//   zarr-bench generate RAW               write the standard volume as raw little-endian uint16
//   zarr-bench write RAW DIR              load RAW, time writing it as the standard sharded array
//   zarr-bench read LOCATION              time reading the whole array
//   zarr-bench random LOCATION COORDS     time reading the 64^3 chunks listed in COORDS (z y x per line)
//   zarr-bench remote-region LOCATION z0:z1,y0:y1,x0:x1 [--io-concurrency N]
//                                         time opening the array and reading one region
//   zarr-bench remote-chunks LOCATION COORDS [--io-concurrency N]
//                                         `random`, with the store's request counters
//   zarr-bench codec-floor TIFF [THREADS]
//                                         load level 0 of TIFF, then time encoding every 64^3 chunk with
//                                         the converter's default compressor on THREADS (default: all
//                                         cores) into memory: the codec floor of `ome2zarr convert`
//   zarr-bench upload DIR LOCATION [--io-concurrency N]
//                                         time storing every file of DIR at LOCATION (N threads, one
//                                         `Store.set` each): the store's own upload cost
//
// A LOCATION is a path or a URL (http://, https://, s3://), opened by `StoreLocation(text).openStore()`;
// --io-concurrency sets `RemoteAccess.current.ioConcurrency` (requests in flight) before that.
// Each command prints one JSON object: seconds, bytes, checksum (sum of all values read or written)
// and peak_rss_mb (VmHWM of this process); the remote commands add `requests` (requests the store
// sent) and `peak_in_flight` (the most at once; HTTP stores only) and `io_concurrency`.
import Dispatch
import Foundation
import OMEZarrConvert
import ZarrIO

let shape = [256, 1024, 1024]
let shardShape = [128, 512, 512]
let chunkShape = [64, 64, 64]
let elementCount = shape.reduce(1, *)

func peakRSSMB() -> Double {
  guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return -1 }
  for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
    let kb = line.split(separator: " ").compactMap { Double($0) }.first ?? -1
    return kb / 1024
  }
  return -1
}

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

func checksum(_ bytes: [UInt8]) -> UInt64 {
  bytes.withUnsafeBytes { raw in
    let v = raw.bindMemory(to: UInt16.self)
    var s: UInt64 = 0
    for x in v { s &+= UInt64(x) }
    return s
  }
}

func report(_ fields: [String: Any]) {
  var parts: [String] = []
  for (k, v) in fields.sorted(by: { $0.key < $1.key }) {
    switch v {
    case let s as String: parts.append("\"\(k)\": \"\(s)\"")
    default: parts.append("\"\(k)\": \(v)")
    }
  }
  print("{" + parts.joined(separator: ", ") + "}")
}

func metadata() -> ArrayMetadata {
  ArrayMetadata.sharded(shape: shape, dataType: .uint16, shardShape: shardShape, innerChunkShape: chunkShape,
    compressor: .zstd(level: 1), dimensionNames: ["z", "y", "x"])
}

/// Smooth signal plus noise, deterministic.
func generate() -> [UInt8] {
  var out = [UInt16](repeating: 0, count: elementCount)
  let planes = shape[0], rows = shape[1], cols = shape[2]
  out.withUnsafeMutableBufferPointer { buf in
    let base = SendablePointer(buf.baseAddress!)
    DispatchQueue.concurrentPerform(iterations: planes) { z in
      var state = UInt64(z) &* 0x9E37_79B9_7F4A_7C15 &+ 1
      let sz = sin(Double(z) / 23)
      for y in 0..<rows {
        let cy = cos(Double(y) / 71)
        let row = base.pointer + (z * rows + y) * cols
        for x in 0..<cols {
          state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
          let noise = Double((state >> 58) & 63)
          let signal = 2000 + 1500 * sz * cy * sin(Double(x) / 53)
          row[x] = UInt16(signal + noise)
        }
      }
    }
  }
  return out.withUnsafeBytes { Array($0) }
}

struct SendablePointer: @unchecked Sendable {
  let pointer: UnsafeMutablePointer<UInt16>
  init(_ p: UnsafeMutablePointer<UInt16>) { pointer = p }
}

/// The options (`--io-concurrency N`) taken out of the arguments; the rest are positional.
var positional: [String] = []
var ioConcurrency: Int? = nil
do {
  var rest = CommandLine.arguments.dropFirst()[...]
  while let a = rest.popFirst() {
    if a == "--io-concurrency" {
      guard let v = rest.popFirst().flatMap({ Int($0) }), v > 0 else {
        FileHandle.standardError.write(Data("zarr-bench: --io-concurrency needs a positive number\n".utf8))
        exit(2)
      }
      ioConcurrency = v
    } else {
      positional.append(a)
    }
  }
}
let args = [CommandLine.arguments[0]] + positional
guard args.count >= 3 else {
  FileHandle.standardError.write(Data("usage: zarr-bench generate|write|read|random|remote-region|remote-chunks ...\n".utf8))
  exit(2)
}
if let ioConcurrency { RemoteAccess.current.ioConcurrency = ioConcurrency }

/// The store at a path or URL.
func openStore(_ text: String) throws -> any Store { try StoreLocation(text).openStore() }

/// `z0:z1,y0:y1,x0:x1` as ranges.
func parseRegion(_ text: String) throws -> [Range<Int>] {
  let region = try text.split(separator: ",").map { part -> Range<Int> in
    let bounds = part.split(separator: ":").compactMap { Int($0) }
    guard bounds.count == 2, bounds[0] <= bounds[1] else { throw ZarrError(.invalidArgument, "bad region '\(text)' (z0:z1,y0:y1,x0:x1)") }
    return bounds[0]..<bounds[1]
  }
  guard region.count == shape.count else { throw ZarrError(.invalidArgument, "region '\(text)' needs \(shape.count) ranges") }
  return region
}

/// `z y x` chunk coordinates, one line each.
func readCoords(_ path: String) throws -> [[Int]] {
  try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
    $0.split(separator: " ").compactMap { Int($0) }
  }.filter { $0.count == 3 }
}

/// What the store counted (remote stores): requests sent and the most in flight at once.
func storeCounters(_ store: any Store) -> [String: Any] {
  var out: [String: Any] = ["io_concurrency": store.ioConcurrency ?? 0]
  if let h = store as? HTTPStore {
    out["requests"] = h.requestCount
    out["peak_in_flight"] = h.peakRequestsInFlight
  } else if let s = store as? S3Store {
    out["requests"] = s.requestCount
  }
  return out
}

/// The work list and results of `upload`'s threads.
final class UploadState: @unchecked Sendable {
  private let lock = NSLock()
  private var next = 0
  private(set) var bytes = 0
  private(set) var failure: (any Error)?

  /// The next file to upload, or `nil` when all are taken or one failed.
  func take(_ count: Int) -> Int? {
    lock.withLock {
      guard failure == nil, next < count else { return nil }
      defer { next += 1 }
      return next
    }
  }
  func add(bytes n: Int) { lock.withLock { bytes += n } }
  func fail(_ error: any Error) { lock.withLock { if failure == nil { failure = error } } }
}

/// Opens the array and reads the listed 64^3 chunks one read call each; the fields to report.
func readChunks(_ store: any Store, _ coords: [[Int]]) throws -> [String: Any] {
  var sum: UInt64 = 0
  var bytes = 0
  let t0 = now()
  let array = try ZarrArray.open(in: store)
  for c in coords {
    let region = (0..<3).map { (c[$0] * chunkShape[$0])..<((c[$0] + 1) * chunkShape[$0]) }
    let data = try array.read(region)
    bytes += data.bytes.count
    sum &+= checksum(data.bytes)
  }
  let seconds = now() - t0
  return ["seconds": seconds, "bytes": bytes, "checksum": sum, "peak_rss_mb": peakRSSMB(), "reads": coords.count]
}

do {
  switch args[1] {
  case "generate":
    let data = generate()
    try Data(data).write(to: URL(fileURLWithPath: args[2]))
    report(["task": "generate", "bytes": data.count, "checksum": checksum(data)])
  case "write":
    // Read straight into one buffer (Data + copy would double the peak memory).
    let url = URL(fileURLWithPath: args[2])
    guard let raw = try FilesystemStore(root: url.deletingLastPathComponent().path).get(url.lastPathComponent) else {
      throw ZarrError(.notFound, "no volume at \(args[2])")
    }
    let buffer = try ArrayBuffer(shape: shape, dataType: .uint16, bytes: raw)
    let store = try FilesystemStore(root: args[3], create: true)
    let t0 = now()
    let array = try ZarrArray.create(in: store, path: "", metadata: metadata(), overwrite: true)
    try array.write(buffer)
    let seconds = now() - t0
    report(["task": "write_all", "seconds": seconds, "bytes": raw.count, "checksum": checksum(raw), "peak_rss_mb": peakRSSMB()])
  case "read":
    let store = try openStore(args[2])
    let t0 = now()
    let array = try ZarrArray.open(in: store)
    let data = try array.read()
    let seconds = now() - t0
    report(["task": "read_all", "seconds": seconds, "bytes": data.bytes.count, "checksum": checksum(data.bytes), "peak_rss_mb": peakRSSMB()])
  case "random":
    guard args.count >= 4 else { throw ZarrError(.invalidArgument, "usage: zarr-bench random LOCATION COORDS") }
    let fields = try readChunks(try openStore(args[2]), try readCoords(args[3]))
    report(fields.merging(["task": "random_chunks"]) { a, _ in a })
  case "remote-region":
    guard args.count >= 4 else { throw ZarrError(.invalidArgument, "usage: zarr-bench remote-region LOCATION z0:z1,y0:y1,x0:x1") }
    let region = try parseRegion(args[3])
    let store = try openStore(args[2])
    let t0 = now()
    let array = try ZarrArray.open(in: store)
    let data = try array.read(region)
    let seconds = now() - t0
    let fields: [String: Any] = ["task": "remote_region", "seconds": seconds, "bytes": data.bytes.count,
      "checksum": checksum(data.bytes), "peak_rss_mb": peakRSSMB()]
    report(fields.merging(storeCounters(store)) { a, _ in a })
  case "remote-chunks":
    guard args.count >= 4 else { throw ZarrError(.invalidArgument, "usage: zarr-bench remote-chunks LOCATION COORDS") }
    let store = try openStore(args[2])
    let fields = try readChunks(store, try readCoords(args[3]))
    report(fields.merging(["task": "remote_chunks"]) { a, _ in a }.merging(storeCounters(store)) { a, _ in a })
  case "upload":
    guard args.count >= 4 else { throw ZarrError(.invalidArgument, "usage: zarr-bench upload DIR LOCATION") }
    let root = URL(fileURLWithPath: args[2]).standardizedFileURL.path
    var files: [String] = []
    if let walk = FileManager.default.enumerator(atPath: root) {
      for case let rel as String in walk {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: root + "/" + rel, isDirectory: &isDirectory), !isDirectory.boolValue {
          files.append(rel)
        }
      }
    }
    let source = try FilesystemStore(root: root)
    let store = try StoreLocation(args[3]).openStore(create: true)
    let workers = max(1, min(ioConcurrency ?? RemoteAccess.current.ioConcurrency, files.count))
    let shared = UploadState()
    let list = files
    let done = DispatchSemaphore(value: 0)
    let t0 = now()
    // Dedicated threads (not Dispatch, whose pool is as wide as the cores): each uploads file after file.
    for _ in 0..<workers {
      Thread {
        defer { done.signal() }
        while let i = shared.take(list.count) {
          do {
            guard let value = try source.get(list[i]) else { continue }
            try store.set(list[i], value)
            shared.add(bytes: value.count)
          } catch {
            shared.fail(error)
          }
        }
      }.start()
    }
    for _ in 0..<workers { done.wait() }
    let seconds = now() - t0
    if let e = shared.failure { throw e }
    let fields: [String: Any] = ["task": "upload", "seconds": seconds, "objects": list.count, "bytes": shared.bytes,
      "threads": workers, "peak_rss_mb": peakRSSMB()]
    report(fields.merging(storeCounters(store)) { a, _ in a })
  case "codec-floor":
    let source = try TIFFSource(path: args[2])
    let desc = source.description
    let planeBytes = desc.planeShape.reduce(desc.dataType.size, *)
    let volume = ArrayBuffer(uninitializedShape: desc.shape, dataType: desc.dataType)
    var buffer = volume
    try buffer.bytes.withUnsafeMutableBytes { raw in
      for z in 0..<desc.planeCount {
        try source.read(plane: [z], rows: 0..<desc.shape[desc.shape.count - 2],
          into: UnsafeMutableRawBufferPointer(rebasing: raw[(z * planeBytes)..<((z + 1) * planeBytes)]))
      }
    }
    let compressor = ConvertOptions().compressor
    let chunk = desc.shape.map { min($0, 64) }
    let metadata = ArrayMetadata(shape: desc.shape, dataType: desc.dataType, chunkShape: chunk,
      codecs: [Codecs.bytes(endian: .little)] + compressor.codecs(for: desc.dataType))
    let store = MemoryStore()
    var array = try ZarrArray.create(in: store, path: "", metadata: metadata)
    array.concurrency = args.count > 3 ? Int(args[3]) ?? 1 : ProcessInfo.processInfo.activeProcessorCount
    let t0 = now()
    try array.write(buffer)
    let seconds = now() - t0
    let stored = store.snapshot.filter { $0.key != "zarr.json" }.values.reduce(0) { $0 + $1.count }
    report(["task": "codec_floor", "seconds": seconds, "bytes": buffer.bytes.count, "stored_bytes": stored,
      "chunks": store.snapshot.count - 1, "compressor": "\(compressor)".replacingOccurrences(of: "\"", with: "'"),
      "threads": array.concurrency, "peak_rss_mb": peakRSSMB()])
  default:
    FileHandle.standardError.write(Data("unknown command \(args[1])\n".utf8))
    exit(2)
  }
} catch {
  FileHandle.standardError.write(Data("zarr-bench: \(error)\n".utf8))
  exit(1)
}
