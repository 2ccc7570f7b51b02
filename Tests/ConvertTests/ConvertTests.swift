import Foundation
import OMEZarr
import TestSupport
import Testing
import ZarrIO
@testable import OMEZarrConvert

/// Makes TIFFs with our libtiff writer and converts them.
enum Corpus {
  static func dir() throws -> URL { try makeTemporaryDirectory("convert") }

  static func planes(_ count: Int, _ height: Int, _ width: Int, type: DataType = .uint16, seed: Int = 0) throws -> [ArrayBuffer] {
    try (0..<count).map { z in
      let n = height * width
      var bytes = [UInt8](repeating: 0, count: n * type.size)
      var state = UInt64(seed * 1000 + z) &* 0x9E37_79B9_7F4A_7C15 &+ 1
      for i in 0..<bytes.count {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        bytes[i] = UInt8(truncatingIfNeeded: (state >> 33) % 200 + UInt64(i % 7))
      }
      if type.isFloat {
        // Finite floats: small integers as floats.
        let values = (0..<n).map { Float(($0 * 7 + z * 13) % 1000) / 8 }
        return try ArrayBuffer(shape: [height, width], dataType: type,
          bytes: type == .float32 ? values.withUnsafeBytes { Array($0) } : values.map { Double($0) }.withUnsafeBytes { Array($0) })
      }
      return try ArrayBuffer(shape: [height, width], dataType: type, bytes: bytes)
    }
  }

  static func write(_ path: String, _ planes: [ArrayBuffer], options: TIFFWriter.Options = .init()) throws {
    let w = try TIFFWriter(path: path, options: options)
    for p in planes { try w.append(p) }
  }

  /// The expected level 0: planes stacked along z.
  static func stack(_ planes: [ArrayBuffer]) throws -> ArrayBuffer {
    try ArrayBuffer(shape: [planes.count] + planes[0].shape, dataType: planes[0].dataType, bytes: planes.flatMap(\.bytes))
  }
}

@Suite("Convert")
struct ConvertTests {
  func convert(_ source: any PlaneSource, _ options: ConvertOptions = ConvertOptions()) throws -> (OMENode, URL) {
    let out = try Corpus.dir().appendingPathComponent("out.ome.zarr")
    var o = options
    o.threads = 2
    try Converter.convert(source, to: try StoreLocation(out.path), options: o)
    return (try OMENode.open(path: out.path), out)
  }

  @Test func writesTheSameBytesToMemoryAndToADirectory() throws {
    let dir = try Corpus.dir()
    let tiff = dir.appendingPathComponent("stack.tif").path
    try Corpus.write(tiff, try Corpus.planes(12, 70, 90))
    var options = ConvertOptions()
    options.threads = 2
    options.chunkShape = [4, 32, 32]
    options.shardShape = [4, 64, 64]
    let memory = MemoryStore()
    let inMemory = try Converter.convert(try TIFFSource(path: tiff), into: memory, named: "memory", options: options)
    let out = dir.appendingPathComponent("out.ome.zarr")
    let onDisk = try Converter.convert(try TIFFSource(path: tiff), to: try StoreLocation(out.path), options: options)
    let files = try fileTree(out.path)
    #expect(files.keys.sorted() == memory.snapshot.keys.sorted())
    for (key, bytes) in memory.snapshot { #expect(files[key] == Data(bytes), "\(key)") }
    #expect(inMemory.levels == onDisk.levels && inMemory.bytesWritten == onDisk.bytesWritten)
    #expect(memory.snapshot[".ome2zarr-convert.json"] == nil, "the marker goes once the output is complete")
    #expect(try OMENode.open(in: memory).kind == .image)
  }

  @Test func refusesDestinationsNoSchemeCanWrite() throws {
    let dir = try Corpus.dir()
    let tiff = dir.appendingPathComponent("stack.tif").path
    try Corpus.write(tiff, try Corpus.planes(2, 16, 16))
    for text in ["gs://bucket/x.ome.zarr", "https://example.org/x.ozx"] {
      #expect { try Converter.convert(try TIFFSource(path: tiff), to: try StoreLocation(text), options: ConvertOptions()) } throws: {
        ($0 as? ZarrError)?.code == .invalidArgument
      }
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["stack.tif"])
  }

  @Test(arguments: [
    ("strips, none", TIFFWriter.Compression.none, false, nil as Int?, false),
    ("strips, LZW + predictor", .lzw, true, nil, false),
    ("tiles, Deflate", .deflate, false, 32, false),
    ("tiles, zstd + predictor, BigTIFF", .zstd, true, 16, true),
    ("strips, PackBits, BigTIFF", .packBits, false, nil, true),
  ])
  func multipageStacks(_ name: String, _ compression: TIFFWriter.Compression, _ predictor: Bool, _ tile: Int?, _ big: Bool) throws {
    let dir = try Corpus.dir()
    let planes = try Corpus.planes(19, 70, 45)
    var o = TIFFWriter.Options()
    o.compression = compression
    o.predictor = predictor
    o.tileSize = tile
    o.bigTIFF = big
    o.rowsPerStrip = 13
    let path = dir.appendingPathComponent("s.tif").path
    try Corpus.write(path, planes, options: o)
    var options = ConvertOptions()
    options.chunkShape = [8, 16, 16]
    let (node, _) = try convert(try TIFFSource(path: path), options)
    let image = try #require(try node.image())
    #expect(try image.levels[0].read() == Corpus.stack(planes), "\(name)")
    #expect(image.axes.map(\.name) == ["z", "y", "x"])
    // Every level equals the in-memory mean pyramid of level 0.
    for i in 1..<image.levels.count {
      let previous = try image.levels[i - 1].read()
      let f = zip(image.levels[i - 1].shape, image.levels[i].shape).map { ($0 + $1 - 1) / $1 }
      #expect(try image.levels[i].read() == Downsample.apply(previous, factors: f, method: .mean), "\(name) level \(i)")
    }
  }

  @Test(arguments: [DownsamplingMethod.gaussian, .median, .mode, .max])
  func streamedLevelsEqualWholeArrayKernels(_ method: DownsamplingMethod) throws {
    let dir = try Corpus.dir()
    let planes = try Corpus.planes(37, 50, 41)
    let path = dir.appendingPathComponent("g.tif").path
    try Corpus.write(path, planes)
    var options = ConvertOptions()
    options.chunkShape = [4, 16, 16]
    options.method = method
    let (node, _) = try convert(try TIFFSource(path: path), options)
    let image = try #require(try node.image())
    #expect(image.levels.count >= 3)
    for i in 1..<image.levels.count {
      let previous = try image.levels[i - 1].read()
      let f = zip(image.levels[i - 1].shape, image.levels[i].shape).map { ($0 + $1 - 1) / $1 }
      #expect(try image.levels[i].read() == Downsample.apply(previous, factors: f, method: method), "\(method) level \(i)")
    }
  }

  @Test(arguments: [DataType.uint8, .int16, .uint32, .float32, .float64])
  func sampleFormats(_ type: DataType) throws {
    let dir = try Corpus.dir()
    let planes = try Corpus.planes(3, 20, 17, type: type)
    let path = dir.appendingPathComponent("t.tif").path
    try Corpus.write(path, planes)
    let (node, _) = try convert(try TIFFSource(path: path))
    #expect(try node.image()?.levels[0].read() == Corpus.stack(planes))
  }

  @Test func rgbIsAChannelAxis() throws {
    let dir = try Corpus.dir()
    let rgb = try ArrayBuffer(shape: [30, 20, 3], dataType: .uint8, elements: (0..<1800).map { UInt8($0 % 256) })
    let path = dir.appendingPathComponent("rgb.tif").path
    try Corpus.write(path, [rgb])
    let (node, _) = try convert(try TIFFSource(path: path))
    let image = try #require(try node.image())
    #expect(image.axes.map(\.name) == ["c", "y", "x"])
    let level = try image.levels[0].read(as: UInt8.self)
    for c in 0..<3 { for i in 0..<600 { #expect(level[c * 600 + i] == UInt8((i * 3 + c) % 256)) } }
  }

  @Test func omeTIFFMetadata() throws {
    let dir = try Corpus.dir()
    let planes = try Corpus.planes(2 * 5, 24, 30)  // c = 2, z = 5, order XYZCT
    var o = TIFFWriter.Options()
    o.description = TIFFWriter.omeXML(sizeX: 30, sizeY: 24, sizeZ: 5, sizeC: 2, type: .uint16, physicalSize: (0.25, 0.25, 2))
    let path = dir.appendingPathComponent("m.ome.tif").path
    try Corpus.write(path, planes, options: o)
    let source = try TIFFSource(path: path)
    #expect(source.description.axes.map(\.name) == ["c", "z", "y", "x"])
    #expect(source.description.scale == [1, 2, 0.25, 0.25])
    #expect(source.description.axes[1].unit == "micrometer")
    let (node, _) = try convert(source)
    let level = try #require(try node.image()).levels[0]
    // Plane (c, z) is IFD z + 5 c.
    for c in 0..<2 { for z in 0..<5 {
      #expect(try level.read([c..<(c + 1), z..<(z + 1), 0..<24, 0..<30]).bytes == planes[z + 5 * c].bytes)
    } }
  }

  @Test func omeTIFFMultiFileSets() throws {
    // Two files: planes z 0-2 in a.ome.tif (which holds the metadata), z 3-4 in b.ome.tif.
    let dir = try Corpus.dir()
    let planes = try Corpus.planes(5, 12, 9)
    let xml = """
      <?xml version="1.0" encoding="UTF-8"?>
      <OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06" UUID="urn:uuid:a">
      <Image ID="Image:0"><Pixels ID="Pixels:0" DimensionOrder="XYZCT" Type="uint16" SizeX="9" SizeY="12" SizeZ="5" SizeC="1" SizeT="1">
      <Channel ID="Channel:0:0" SamplesPerPixel="1"/>
      <TiffData FirstZ="0" IFD="0" PlaneCount="3"><UUID FileName="a.ome.tif">urn:uuid:a</UUID></TiffData>
      <TiffData FirstZ="3" IFD="0" PlaneCount="2"><UUID FileName="b.ome.tif">urn:uuid:b</UUID></TiffData>
      </Pixels></Image></OME>
      """
    var o = TIFFWriter.Options()
    o.description = xml
    try Corpus.write(dir.appendingPathComponent("a.ome.tif").path, Array(planes[0..<3]), options: o)
    try Corpus.write(dir.appendingPathComponent("b.ome.tif").path, Array(planes[3..<5]))
    let source = try TIFFSource(path: dir.appendingPathComponent("a.ome.tif").path)
    #expect(source.description.shape == [5, 12, 9])
    #expect(source.description.files.count == 2)
    let (node, _) = try convert(source)
    #expect(try node.image()?.levels[0].read() == Corpus.stack(planes))
    // A missing member file is an error naming it.
    try FileManager.default.removeItem(at: dir.appendingPathComponent("b.ome.tif"))
    do {
      _ = try TIFFSource(path: dir.appendingPathComponent("a.ome.tif").path)
      Issue.record("opened a set with a missing file")
    } catch let e as ConvertError {
      #expect(e.file?.hasSuffix("b.ome.tif") == true)
    }
  }

  @Test func imageJHyperstacks() throws {
    let dir = try Corpus.dir()
    let planes = try Corpus.planes(2 * 3, 16, 12, type: .uint8)  // channels 2, slices 3: c fastest
    var o = TIFFWriter.Options()
    o.description = "ImageJ=1.54f\nimages=6\nchannels=2\nslices=3\nhyperstack=true\nunit=micron\nspacing=1.5\n"
    o.pixelsPerCentimeter = 10_000 / 0.4  // 0.4 µm pixels (ImageJ reads 1/XResolution in `unit`)
    let path = dir.appendingPathComponent("ij.tif").path
    try Corpus.write(path, planes, options: o)
    let source = try TIFFSource(path: path)
    #expect(source.description.shape == [2, 3, 16, 12])
    #expect(source.description.scale[1] == 1.5)
    let (node, _) = try convert(source)
    let level = try #require(try node.image()).levels[0]
    for c in 0..<2 { for z in 0..<3 {
      #expect(try level.read([c..<(c + 1), z..<(z + 1), 0..<16, 0..<12]).bytes == planes[c + 2 * z].bytes)
    } }
  }

  @Test func foldersInNaturalOrderAndPatterns() throws {
    let dir = try Corpus.dir()
    let planes = try Corpus.planes(12, 10, 8)
    for (i, p) in planes.enumerated() { try Corpus.write(dir.appendingPathComponent("plane_z\(i).tif").path, [p]) }
    let files = try FolderSource.listTIFFs(dir.path)
    #expect(files.map { ($0 as NSString).lastPathComponent }.prefix(3) == ["plane_z0.tif", "plane_z1.tif", "plane_z2.tif"])
    #expect((files[10] as NSString).lastPathComponent == "plane_z10.tif")
    let (node, _) = try convert(try FolderSource(files: files))
    #expect(try node.image()?.levels[0].read() == Corpus.stack(planes))
    // A pattern: 2 channels x 3 z, given in a scrambled order.
    let pdir = try Corpus.dir()
    var names: [String] = []
    for c in 0..<2 { for z in 0..<3 {
      let n = pdir.appendingPathComponent("img_c\(c)_z\(z).tif").path
      try Corpus.write(n, [planes[c * 3 + z]])
      names.append(n)
    } }
    let source = try FolderSource(files: names.reversed(), pattern: "img_c{c}_z{z}.tif")
    #expect(source.description.axes.map(\.name) == ["c", "z", "y", "x"])
    let (pnode, _) = try convert(source)
    #expect(try pnode.image()?.levels[0].read().bytes == planes[0..<6].flatMap(\.bytes))
    #expect(throws: ConvertError.self) { try FolderSource(files: names, pattern: "img_t{t}.tif") }
  }

  @Test func brokenInputsGiveClearErrors() throws {
    let dir = try Corpus.dir()
    let empty = dir.appendingPathComponent("empty.tif").path
    _ = FileManager.default.createFile(atPath: empty, contents: Data())
    let text = dir.appendingPathComponent("text.tif").path
    _ = FileManager.default.createFile(atPath: text, contents: Data("hello, not a TIFF".utf8))
    let good = dir.appendingPathComponent("good.tif").path
    try Corpus.write(good, try Corpus.planes(4, 64, 64))
    let bytes = try Data(contentsOf: URL(fileURLWithPath: good))
    let truncated = dir.appendingPathComponent("truncated.tif").path
    _ = FileManager.default.createFile(atPath: truncated, contents: bytes.prefix(bytes.count / 2))
    for path in [empty, text, dir.appendingPathComponent("missing.tif").path] {
      #expect(throws: ConvertError.self) { try TIFFSource(path: path) }
    }
    // A truncated file fails on open or while reading, naming the file.
    do {
      let s = try TIFFSource(path: truncated)
      let out = try Corpus.dir().appendingPathComponent("o.zarr").path
      try Converter.convert(s, to: try StoreLocation(out), options: ConvertOptions())
      Issue.record("converted a truncated TIFF")
    } catch let e as ConvertError {
      #expect(e.file == truncated)
    }
  }

  @Test func refusesToOverwriteAndResumesInterruptedRuns() throws {
    let dir = try Corpus.dir()
    let planes = try Corpus.planes(40, 64, 48)
    let path = dir.appendingPathComponent("s.tif").path
    try Corpus.write(path, planes)
    var options = ConvertOptions()
    options.chunkShape = [4, 16, 16]
    options.threads = 2
    let whole = dir.appendingPathComponent("whole.zarr").path
    try Converter.convert(try TIFFSource(path: path), to: try StoreLocation(whole), options: options)
    #expect(throws: ConvertError.self) { try Converter.convert(try TIFFSource(path: path), to: try StoreLocation(whole), options: options) }
    // Interrupt a second run part-way (the source fails at plane 23), then resume it.
    let part = dir.appendingPathComponent("part.zarr").path
    #expect(throws: (any Error).self) {
      try Converter.convert(FailingSource(base: try TIFFSource(path: path), failAt: 23), to: try StoreLocation(part), options: options)
    }
    #expect((try? OMENode.open(path: part))?.kind != .image, "an interrupted output must not look complete")
    var resume = options
    resume.resume = true
    let summary = try Converter.convert(try TIFFSource(path: path), to: try StoreLocation(part), options: resume)
    #expect(summary.resumed)
    #expect(try fileTree(whole) == fileTree(part))
    // Resuming a complete output, or with other options, is refused.
    #expect(throws: ConvertError.self) { try Converter.convert(try TIFFSource(path: path), to: try StoreLocation(part), options: resume) }
  }
}

/// A source that fails when asked for a given z plane (an interrupted run).
final class FailingSource: PlaneSource {
  let base: any PlaneSource
  let failAt: Int
  init(base: any PlaneSource, failAt: Int) {
    self.base = base
    self.failAt = failAt
  }
  var description: SourceDescription { base.description }
  func read(plane index: [Int], rows: Range<Int>, into buffer: UnsafeMutableRawBufferPointer) throws {
    if index.first == failAt { throw ConvertError(.unreadable, "simulated failure") }
    try base.read(plane: index, rows: rows, into: buffer)
  }
}
