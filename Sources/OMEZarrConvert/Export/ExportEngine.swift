import COMEJpeg
import CZarrDeflate
import Foundation
import OMEZarr
import ZarrIO

/// The streaming part of an export: reads slabs of planes a band of rows at a time, encodes the
/// band's tiles on all cores, and halves each band into the next resolution.
struct ExportEngine {
  /// Where the tiles of one directory lie in the file.
  struct SegmentTable: Sendable {
    var offsets: [UInt64]
    var counts: [UInt64]
  }

  /// The rows of one resolution of one plane that wait to fill a row of tiles, and the row of the
  /// resolution above that waits for its pair.
  struct LevelRows {
    var rows: [UInt8] = []
    var count = 0
    var nextTileRow = 0
    var carry: [UInt8] = []
    var carryCount = 0
  }

  /// A tile to encode: its directory (plane and level), its index there, its raw elements
  /// (tile size squared, zero beyond the image).
  struct TileJob: Sendable {
    var plane: Int
    var level: Int
    var index: Int
    /// Which sample of colour pixels (0 otherwise).
    var sample: Int
    var raw: [UInt8]
  }

  let plan: ExportPlan
  let options: ExportOptions

  /// Raw tile bytes gathered before they are encoded together.
  static let batchBytes = 16 << 20

  /// Whether tiles are predicted (horizontal differencing): integer pixels, compressed.
  static func usesPredictor(_ compression: ExportOptions.Compression, _ type: DataType) -> Bool {
    compression != .none && compression != .jpeg && !type.isFloat
  }

  /// Reads, halves, encodes and appends every tile; returns each directory's segment table.
  func run(writer: inout TIFFStreamWriter, progress: (any ConvertProgress)?) throws -> [[SegmentTable]] {
    var tables = plan.emptyTables()
    let encoders = TileEncoders(count: max(1, options.threads), codec: TileCodec(compression: options.compression,
      level: options.compressionLevel, dataType: plan.dataType, width: plan.segmentWidth, samples: plan.samples))
    for pass in plan.passes {
      try run(pass, encoders: encoders, writer: &writer, tables: &tables, progress: pass.levels.lowerBound == 0 ? progress : nil)
    }
    return tables
  }

  /// One pass: reads `pass.array` (the resolution `pass.levels.lowerBound`) and derives the
  /// resolutions after it in `pass.levels` by halving.
  func run(_ pass: ExportPlan.Pass, encoders: TileEncoders, writer: inout TIFFStreamWriter, tables: inout [[SegmentTable]],
    progress: (any ConvertProgress)?) throws
  {
    let e = plan.dataType.size
    let tile = plan.segmentHeight
    let (height, width) = plan.levelSizes[pass.levels.lowerBound]
    // Crops start where asked at full resolution; stored levels are read whole (no crop then).
    let (firstY, firstX) = pass.levels.lowerBound == 0 ? (plan.firstY, plan.firstX) : (0, 0)
    // Colour pixels: a slab holds every sample (channel) of its planes, each halved on its own
    // and interleaved into the tiles.
    let samples = plan.samples
    // One row of every sample, and a row of tiles with the rows waiting at each resolution (less
    // than as many again): the least an export holds, at most a block.
    guard let rowBytes = CheckedArithmetic.product([width, e, samples]),
      let least = CheckedArithmetic.product([rowBytes, tile, 2]), least <= ConvertLimits.maxBlockBytes
    else {
      throw ConvertError(.unsupported, "a row of tiles of '\(plan.inputName)' (\(width) pixels wide) would take more than "
        + "\(ConvertLimits.maxBlockBytes >> 20) MiB; use smaller tiles (--tile) or a crop")
    }
    // A band covers whole chunks in y (each chunk decoded once per slab) and whole tile rows, when
    // that fits the memory limit; else one row of tiles (chunks are then decoded once per band).
    let inner = pass.array.metadata.innerChunkShape
    var band = (min(inner[plan.y], height) + tile - 1) / tile * tile
    if band < tile || band * rowBytes * 2 > max(options.memoryLimit, least) { band = tile }
    // The slab's depth: the chunks' depth along z, halved while the band and the rows waiting
    // at each resolution (less than a band) would pass the limit.
    var depth = plan.z.map { min(plan.sizeZ, inner[$0]) } ?? 1
    let perPlane = band * rowBytes * 2
    while depth > 1 && depth * perPlane > options.memoryLimit { depth = (depth + 1) / 2 }
    let shape = pass.array.shape
    var slab = [UInt8](repeating: 0, count: depth * band * width * e * samples)
    var jobs: [TileJob] = []
    // One batch is encoded on the workers while the next is read and halved; at most two exist.
    var encoding: EncodingBatch?
    defer { _ = try? encoding?.wait() }
    for t in 0..<plan.sizeT {
      for c in 0..<(plan.rgb == nil ? plan.sizeC : 1) {
        for z0 in stride(from: 0, to: plan.sizeZ, by: depth) {
          let d = min(depth, plan.sizeZ - z0)
          var states = [[LevelRows]](repeating: [LevelRows](repeating: LevelRows(), count: plan.levelSizes.count), count: d * samples)
          for r0 in stride(from: 0, to: height, by: band) {
            let rows = min(band, height - r0)
            var region = shape.map { _ in 0..<1 }
            if let dt = plan.t { region[dt] = (plan.firstT + t)..<(plan.firstT + t + 1) }
            if let dc = plan.c { region[dc] = plan.rgb == nil ? plan.channels[c]..<(plan.channels[c] + 1) : 0..<samples }
            if let dz = plan.z { region[dz] = (plan.firstZ + z0)..<(plan.firstZ + z0 + d) }
            region[plan.y] = (firstY + r0)..<(firstY + r0 + rows)
            region[plan.x] = firstX..<(firstX + width)
            let planeBytes = rows * width * e
            try slab.withUnsafeMutableBytes { try pass.array.read(region, into: $0.baseAddress!) }
            progress?.advance(bytes: d * planeBytes * samples)
            let final = r0 + rows == height
            for p in 0..<d {
              let plane = plan.planeIndex(t: t, c: c, z: z0 + p)
              // The slab is sample by sample (c before z), each d planes.
              for sample in 0..<samples {
                let at = (sample * d + p) * planeBytes
                try feed(level: pass.levels.lowerBound, slab[at..<(at + planeBytes)], count: rows, final: final,
                  &states[p * samples + sample], plane: plane, sample: sample, last: pass.levels.upperBound - 1, into: &jobs)
              }
              // Tiles are encoded in batches: enough to keep every core busy, few enough to bound memory.
              if jobs.count * plan.segmentWidth * plan.segmentHeight * e >= ExportEngine.batchBytes {
                if let previous = encoding { try write(previous, writer: &writer, tables: &tables) }
                encoding = EncodingBatch(tiles: tiles(of: jobs), encoders: encoders, elementSize: e)
                jobs = []
              }
            }
          }
        }
      }
    }
    if let previous = encoding { try write(previous, writer: &writer, tables: &tables) }
    encoding = nil
    try write(EncodingBatch(tiles: tiles(of: jobs), encoders: encoders, elementSize: e), writer: &writer, tables: &tables)
  }

  /// Adds `count` rows of resolution `level` to a plane's waiting rows, makes tile jobs of every
  /// complete row of tiles (of all that is left when `final`), and halves the rows into the next
  /// resolution.
  func feed(level: Int, _ data: ArraySlice<UInt8>, count: Int, final: Bool, _ states: inout [LevelRows], plane: Int,
    sample: Int = 0, last: Int, into jobs: inout [TileJob]) throws
  {
    let e = plan.dataType.size
    let (tileWidth, tileHeight) = (plan.segmentWidth, plan.segmentHeight)
    let width = plan.levelSizes[level].width
    let across = plan.tiles(level: level).across
    states[level].rows += data
    states[level].count += count
    // Rows made into tiles are dropped once, after the loop (dropping each row of tiles as it is
    // made would move the rest of the band every time).
    var used = 0
    while states[level].count - used >= tileHeight || (final && states[level].count - used > 0) {
      let n = min(tileHeight, states[level].count - used)
      let tileRow = states[level].nextTileRow
      // Tiles are whole (zero beyond the image); strips hold only the rows there are.
      let rowsKept = plan.imageJ ? n : tileHeight
      states[level].rows.withUnsafeBytes { rows in
        let first = rows.baseAddress!.advanced(by: used * width * e)
        for col in 0..<across {
          let x0 = col * tileWidth
          let w = min(tileWidth, width - x0)
          var raw = [UInt8](repeating: 0, count: rowsKept * tileWidth * e)
          raw.withUnsafeMutableBytes { out in
            for r in 0..<n {
              out.baseAddress!.advanced(by: r * tileWidth * e)
                .copyMemory(from: first.advanced(by: (r * width + x0) * e), byteCount: w * e)
            }
          }
          jobs.append(TileJob(plane: plane, level: level, index: tileRow * across + col, sample: sample, raw: raw))
        }
      }
      used += n
      states[level].nextTileRow += 1
    }
    if used > 0 {
      states[level].rows.removeFirst(used * width * e)
      states[level].count -= used
    }
    guard level < last else { return }
    // Rows are halved in pairs; an odd last row waits for its pair unless the plane ends here.
    let source = states[level + 1].carry + Array(data)
    let available = states[level + 1].carryCount + count
    let keep = !final && available % 2 == 1 ? 1 : 0
    let use = available - keep
    states[level + 1].carry = Array(source[(use * width * e)...])
    states[level + 1].carryCount = keep
    guard use > 0 else {
      if final { try feed(level: level + 1, [], count: 0, final: true, &states, plane: plane, sample: sample, last: last, into: &jobs) }
      return
    }
    let input = try ArrayBuffer(shape: [use, width], dataType: plan.dataType, bytes: Array(source[0..<(use * width * e)]))
    let halved = try Downsample.apply(input, factors: [2, 2], method: plan.isLabels ? .mode : .mean)
    try feed(level: level + 1, halved.bytes[...], count: halved.shape[0], final: final, &states, plane: plane, sample: sample,
      last: last, into: &jobs)
  }

  /// The tiles of `jobs`: colour pixels' samples (fed one after another) become one tile.
  func tiles(of jobs: [TileJob]) -> [(job: TileJob, parts: [[UInt8]])] {
    guard plan.samples > 1 else { return jobs.map { ($0, [$0.raw]) } }
    var tiles: [(job: TileJob, parts: [[UInt8]])] = []
    var at: [[Int]: Int] = [:]
    for job in jobs {
      let key = [job.plane, job.level, job.index]
      if let i = at[key] {
        tiles[i].parts.append(job.raw)
      } else {
        at[key] = tiles.count
        tiles.append((job, [job.raw]))
      }
    }
    return tiles
  }

  /// Waits for `batch`, then appends its tiles in order and records where each went.
  func write(_ batch: EncodingBatch, writer: inout TIFFStreamWriter, tables: inout [[SegmentTable]]) throws {
    let results = try batch.wait()
    for (i, job) in batch.jobs.enumerated() {
      guard let bytes = results[i] else { continue }
      let offset: UInt64
      if plan.placesPlanes {
        // Uncompressed strips in place: plane after plane, strip after strip.
        offset = writer.dataStart + UInt64(job.plane * plan.planeBytes + job.index * plan.segmentHeight * plan.segmentWidth * plan.dataType.size)
        try bytes.withUnsafeBytes { try writer.place($0, at: offset) }
      } else {
        offset = try bytes.withUnsafeBytes { try writer.append($0) }
      }
      tables[job.plane][job.level].offsets[job.index] = offset
      tables[job.plane][job.level].counts[job.index] = UInt64(bytes.count)
    }
  }
}

/// Tiles being encoded on all cores, on threads of their own, while the caller goes on.
final class EncodingBatch: @unchecked Sendable {
  /// The tiles' jobs, in the order they are written.
  let jobs: [ExportEngine.TileJob]
  private let results: ResultSlots<[UInt8]>
  private let done = DispatchSemaphore(value: 0)
  /// Set before `done` is signalled, read after.
  private var failure: (any Error)?

  /// Starts encoding `tiles` (each the parts of one tile: one, or one per colour sample to interleave).
  init(tiles: [(job: ExportEngine.TileJob, parts: [[UInt8]])], encoders: TileEncoders, elementSize e: Int) {
    jobs = tiles.map(\.job)
    results = ResultSlots<[UInt8]>(count: tiles.count)
    let partsOfTiles = tiles.map(\.parts)
    let results = results
    Thread { [self] in
      do {
        try Parallel.forEachWorker(partsOfTiles.count, width: encoders.count) { worker, i in
          let parts = partsOfTiles[i]
          var raw = parts[0]
          if parts.count > 1 {
            // Interleave: element k of sample s goes to k * samples + s.
            let n = parts[0].count / e, samples = parts.count
            raw = [UInt8](repeating: 0, count: parts[0].count * samples)
            raw.withUnsafeMutableBytes { out in
              for (s, part) in parts.enumerated() {
                part.withUnsafeBytes { src in
                  for k in 0..<n {
                    (out.baseAddress! + (k * samples + s) * e).copyMemory(from: src.baseAddress! + k * e, byteCount: e)
                  }
                }
              }
            }
          }
          results.set(i, try encoders.encode(raw, worker: worker))
        }
      } catch {
        failure = error
      }
      done.signal()
    }.start()
  }

  /// The encoded tiles, in order, once all are done.
  /// - Throws: the first error of an encoder.
  func wait() throws -> [[UInt8]?] {
    done.wait()
    done.signal()  // a second wait returns at once
    if let failure { throw failure }
    return results.values
  }
}

/// One tile encoder per worker (libdeflate's compressor is made once per worker, not per tile).
final class TileEncoders: @unchecked Sendable {
  let codec: TileCodec
  /// Per worker: a libdeflate compressor (deflate only). Each worker touches only its own.
  private let compressors: [OpaquePointer?]
  /// Per worker: an LZW encoder (lzw only).
  private let lzw: [TIFFLZW?]
  var count: Int { compressors.count }

  init(count: Int, codec: TileCodec) {
    self.codec = codec
    compressors = (0..<count).map { _ in
      codec.compression == .deflate ? libdeflate_alloc_compressor(Int32(codec.level ?? 6)) : nil
    }
    lzw = (0..<count).map { _ in codec.compression == .lzw ? TIFFLZW() : nil }
  }

  deinit {
    for c in compressors { if let c { libdeflate_free_compressor(c) } }
  }

  /// The encoded bytes of one raw tile, on `worker`.
  func encode(_ raw: [UInt8], worker: Int) throws -> [UInt8] {
    var tile = raw
    if ExportEngine.usesPredictor(codec.compression, codec.dataType) { codec.predict(&tile) }
    switch codec.compression {
    case .none:
      return tile
    case .zstd:
      return try ZstdCodec(level: codec.level ?? 3).encode(tile)
    case .jpeg:
      var out: UnsafeMutablePointer<UInt8>? = nil
      var count: UInt = 0
      let rows = tile.count / (codec.width * codec.samples)
      let status = tile.withUnsafeBytes {
        COMEJpeg_compress($0.baseAddress?.assumingMemoryBound(to: UInt8.self), Int32(codec.width), Int32(rows),
          Int32(codec.samples), Int32(codec.level ?? 90), &out, &count)
      }
      defer { free(out) }
      guard status == 0, let out else { throw ConvertError(.invalidArgument, "libjpeg could not compress a tile") }
      return Array(UnsafeBufferPointer(start: out, count: Int(count)))
    case .lzw:
      guard let encoder = lzw[worker] else { throw ConvertError(.invalidArgument, "no LZW encoder") }
      return tile.withUnsafeBytes { encoder.encode($0) }
    case .deflate:
      guard let compressor = compressors[worker] else {
        throw ConvertError(.invalidArgument, "deflate level \(codec.level ?? 6) is not supported")
      }
      let bound = libdeflate_zlib_compress_bound(compressor, tile.count)
      var out = [UInt8](repeating: 0, count: bound)
      let n = tile.withUnsafeBytes { input in
        out.withUnsafeMutableBytes { libdeflate_zlib_compress(compressor, input.baseAddress, input.count, $0.baseAddress, bound) }
      }
      guard n > 0 else { throw ConvertError(.invalidArgument, "a tile did not compress") }
      out.removeSubrange(n...)
      return out
    }
  }
}

/// How tiles are encoded: horizontal differencing for integer pixels, then the compression.
struct TileCodec: Sendable {
  let compression: ExportOptions.Compression
  let level: Int?
  let dataType: DataType
  /// Pixels per row of a segment.
  let width: Int
  /// Samples per pixel (interleaved).
  var samples = 1

  /// TIFF predictor 2: each sample minus the same sample of its left neighbour, per row, wrapping.
  func predict(_ tile: inout [UInt8]) {
    func difference<T: FixedWidthInteger>(_: T.Type) {
      tile.withUnsafeMutableBytes { raw in
        let p = raw.bindMemory(to: T.self)
        let stride = width * samples
        for row in 0..<(p.count / stride) {
          let base = row * stride
          var i = stride - 1
          while i >= samples {
            p[base + i] = p[base + i] &- p[base + i - samples]
            i -= 1
          }
        }
      }
    }
    switch dataType.size {
    case 1: difference(UInt8.self)
    case 2: difference(UInt16.self)
    case 4: difference(UInt32.self)
    default: difference(UInt64.self)
    }
  }
}
