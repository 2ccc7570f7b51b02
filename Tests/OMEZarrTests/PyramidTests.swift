import Testing
import ZarrIO
@testable import OMEZarr

@Suite("Downsampling and pyramids")
struct PyramidTests {
  func buffer(_ shape: [Int], _ values: [UInt16]) -> ArrayBuffer {
    try! ArrayBuffer(shape: shape, dataType: .uint16, elements: values)
  }

  @Test func meanUsesOnlyRealVoxelsAtEdges() throws {
    // 3 x 3 -> 2 x 2; the last row/column blocks are partial.
    let b = buffer([3, 3], [1, 3, 10, 5, 7, 20, 100, 200, 255])
    let out = try Downsample.apply(b, factors: [2, 2], method: .mean)
    #expect(out.shape == [2, 2])
    #expect(try out.elements(as: UInt16.self) == [4, 15, 150, 255])
  }

  @Test func methods() throws {
    let b = buffer([2, 4], [1, 2, 9, 9, 2, 2, 3, 9])
    #expect(try Downsample.apply(b, factors: [2, 2], method: .mode).elements(as: UInt16.self) == [2, 9])
    #expect(try Downsample.apply(b, factors: [2, 2], method: .min).elements(as: UInt16.self) == [1, 3])
    #expect(try Downsample.apply(b, factors: [2, 2], method: .max).elements(as: UInt16.self) == [2, 9])
    #expect(try Downsample.apply(b, factors: [2, 2], method: .nearest).elements(as: UInt16.self) == [1, 9])
    #expect(try Downsample.apply(b, factors: [2, 2], method: .median).elements(as: UInt16.self) == [2, 9])
    #expect(try Downsample.apply(b, factors: [1, 2], method: .mean).elements(as: UInt16.self) == [2, 9, 2, 6])
  }

  @Test func meanOfSignedAndFloatTypes() throws {
    let i = try ArrayBuffer(shape: [4], dataType: .int8, elements: [Int8(-3), -4, 127, 127])
    #expect(try Downsample.apply(i, factors: [2], method: .mean).elements(as: Int8.self) == [-4, 127])
    let f = try ArrayBuffer(shape: [2, 2], dataType: .float32, elements: [Float(0.5), 1.5, 2.5, 3.5])
    #expect(try Downsample.apply(f, factors: [2, 2], method: .mean).elements(as: Float.self) == [2])
  }

  @Test func gaussianWeightsAndEdges() throws {
    // 1-D: outputs use inputs 2j-1 ... 2j+2 with weights 1, 3, 3, 1, renormalised at the edges.
    let b = try ArrayBuffer(shape: [6], dataType: .float64, elements: [0.0, 8, 16, 24, 32, 40])
    let out = try Downsample.apply(b, factors: [2], method: .gaussian).elements(as: Double.self)
    // Output j reads inputs 2j-1, 2j, 2j+1, 2j+2 (those that exist).
    let first: Double = (3 * 0 + 3 * 8 + 16) / 7
    let middle: Double = (8 + 3 * 16 + 3 * 24 + 32) / 8
    let last: Double = (24 + 3 * 32 + 3 * 40) / 7
    #expect(zip(out, [first, middle, last]).allSatisfy { abs($0 - $1) < 1e-12 }, "\(out)")
    // A window with one voxel of context gives the same outputs as the whole image.
    let big = try ArrayBuffer(shape: [9, 10], dataType: .uint16, elements: (0..<90).map { UInt16(($0 * 37) % 500) })
    let whole = try Downsample.apply(big, factors: [2, 2], method: .gaussian)
    let window = try big.region([1..<6, 0..<10])
    let part = try Downsample.gaussian(window: window, origin: [1, 0], fullShape: [9, 10], factors: [2, 2], outputs: [1..<2, 0..<5])
    #expect(part == (try whole.region([1..<2, 0..<5])))
    #expect(throws: OMEZarrError.self) {
      try Downsample.gaussian(window: try big.region([2..<6, 0..<10]), origin: [2, 0], fullShape: [9, 10], factors: [2, 2], outputs: [1..<2, 0..<5])
    }
  }

  @Test func labelsKeepTheirValues() throws {
    // Mode never invents a label: 1 and 3 never average to 2.
    let b = try ArrayBuffer(shape: [2, 2], dataType: .uint32, elements: [UInt32(1), 3, 3, 1])
    let out = try Downsample.apply(b, factors: [2, 2], method: .mode).elements(as: UInt32.self)
    #expect(out == [1])
  }

  @Test func anisotropicStacksBecomeIsotropicFirst() {
    let axes: [Axis] = [.space("z"), .space("y"), .space("x")]
    let plan = PyramidPlan.make(shape: [100, 2048, 2048], axes: axes, scale: [2, 0.5, 0.5], chunkShape: [64, 64, 64], levels: 5)
    #expect(plan.factors[1] == [1, 2, 2])
    #expect(plan.factors[2] == [1, 2, 2])
    #expect(plan.factors[3] == [2, 2, 2])
    #expect(plan.scales[2] == [2, 2, 2])
    #expect(plan.shapes[3] == [50, 256, 256])
    // Translation of block-centred levels: t_n = t_0 + (s_n - s_0) / 2.
    #expect(plan.translations[1] == [0, 0.25, 0.25])
    #expect(plan.translations[3] == [1, 1.75, 1.75])
  }

  @Test func levelsStopWhenTheImageFitsOneChunk() {
    let plan = PyramidPlan.make(shape: [3, 1000, 700], axes: [.channel(), .space("y"), .space("x")], chunkShape: [1, 256, 256])
    #expect(plan.shapes.last == [3, 250, 175])
    #expect(plan.count == 3)
    #expect(plan.factors.allSatisfy { $0[0] == 1 })  // channels are never downsampled
    let xy = PyramidPlan.make(shape: [40, 512, 512], axes: [.space("z"), .space("y"), .space("x")], chunkShape: [64, 64, 64], xyOnly: true)
    #expect(xy.shapes.allSatisfy { $0[0] == 40 })
    let nearest = PyramidPlan.make(shape: [8, 8], axes: [.space("y"), .space("x")], chunkShape: [4, 4], method: .nearest)
    #expect(nearest.translations[1] == [0, 0])
  }
}

@Suite("Writing images, labels and plates")
struct WriterTests {
  static func ramp(_ shape: [Int]) -> ArrayBuffer {
    let n = shape.reduce(1, *)
    return try! ArrayBuffer(shape: shape, dataType: .uint16, elements: (0..<n).map { UInt16(truncatingIfNeeded: $0 * 7) })
  }

  @Test func gaussianPyramidsMatchTheWholeImageKernel() throws {
    var options = ImageOptions(axes: [.space("z"), .space("y"), .space("x")])
    options.chunkShape = [4, 16, 16]
    options.method = .gaussian
    let data = Self.ramp([11, 70, 50])
    let node = try ImageWriter.write(data, to: MemoryStore(), options: options)
    let image = try #require(try node.image())
    for i in 1..<image.levels.count {
      let previous = try image.levels[i - 1].read()
      let f = zip(image.levels[i - 1].shape, image.levels[i].shape).map { ($0 + $1 - 1) / $1 }
      #expect(try image.levels[i].read() == Downsample.apply(previous, factors: f, method: .gaussian), "level \(i)")
    }
  }

  @Test(arguments: [NGFFVersion.latest04, .latest05, .latest06])
  func imagesRoundTrip(_ version: NGFFVersion) throws {
    let store = MemoryStore()
    var options = ImageOptions(axes: [.space("z", unit: "um"), .space("y", unit: "um"), .space("x", unit: "um")],
      scale: [3, 0.5, 0.5], translation: [10, 0, 0], version: version)
    options.chunkShape = [4, 16, 16]
    options.name = "stack"
    let data = Self.ramp([9, 70, 50])
    _ = try ImageWriter.write(data, to: store, at: "img", options: options)
    let node = try OMENode.open(in: store, path: "img")
    #expect(node.kind == .image)
    #expect(node.version == version)
    let image = try #require(try node.image())
    #expect(image.axes.map(\.unit) == ["micrometer", "micrometer", "micrometer"])
    #expect(try image.levels[0].read() == data)
    // z (3) is coarser than y/x (0.5): only y and x are halved until they reach it.
    #expect(image.levels.map(\.shape) == [[9, 70, 50], [9, 35, 25], [9, 18, 13], [5, 9, 7], [3, 5, 4]])
    #expect(image.scale(level: 2) == [3, 2, 2])
    #expect(image.translation(level: 2) == [10, 0.75, 0.75])
    #expect(image.scale(level: 3) == [6, 4, 4])
    #expect(image.translation(level: 3) == [11.5, 1.75, 1.75])
    #expect(image.levels[0].metadata.zarrFormat == version.zarrFormat)
    if version.zarrFormat == .v3 {
      #expect(image.levels[0].metadata.dimensionNames == ["z", "y", "x"])
      #expect(image.levels[0].metadata.codecs.first?.name == "sharding_indexed")
    } else {
      #expect(image.levels[0].metadata.chunkKeyEncoding == .v2(separator: .slash))
    }
    // Level 1 is the 2 x 2 mean of level 0 (here along y and x).
    let l0 = try image.levels[0].read([0..<1, 0..<2, 0..<2], as: UInt16.self).map(Double.init)
    let l1 = try image.levels[1].read([0..<1, 0..<1, 0..<1], as: UInt16.self)
    #expect(l1 == [UInt16((l0.reduce(0, +) / 4).rounded(.toNearestOrEven))])
    #expect(image.omero?.channels.count == 1)
  }

  @Test func refusesMismatchedAxesAndExistingNodes() throws {
    let store = MemoryStore()
    #expect(throws: OMEZarrError.self) {
      try ImageWriter.write(Self.ramp([4, 4]), to: store, options: ImageOptions(axes: [.space("x")]))
    }
    #expect(throws: OMEZarrError.self) {
      try ImageWriter.write(Self.ramp([4, 4]), to: store, options: ImageOptions(axes: [.space("x"), .space("x")]))
    }
    _ = try ImageWriter.write(Self.ramp([4, 4]), to: store, options: ImageOptions(axes: [.space("y"), .space("x")]))
    #expect(throws: (any Error).self) {
      try ImageWriter.write(Self.ramp([4, 4]), to: store, options: ImageOptions(axes: [.space("y"), .space("x")]))
    }
  }

  @Test func labelsFollowTheImageLevels() throws {
    let store = MemoryStore()
    var options = ImageOptions(axes: [.space("y"), .space("x")])
    options.chunkShape = [16, 16]
    let image = try ImageWriter.write(Self.ramp([60, 40]), to: store, options: options)
    let labels = try ArrayBuffer(shape: [60, 40], dataType: .uint16, elements: (0..<2400).map { UInt16($0 / 600) })
    try ImageWriter.writeLabels(labels, name: "quarters", of: image, colors: [.init(labelValue: 1, rgba: [1, 2, 3, 4])])
    try ImageWriter.writeLabels(labels, name: "again", of: image)
    #expect(try image.labelNames() == ["quarters", "again"])
    let label = try image.child("labels/quarters")
    #expect(label.kind == .labelImage)
    #expect(label.metadata.imageLabel?.colors?.first?.rgba == [1, 2, 3, 4])
    let li = try #require(try label.image())
    #expect(li.levels.count == (try image.image()!.levels.count))
    // Mode downsampling keeps label values.
    let values = Set(try li.levels.last!.read(as: UInt16.self))
    #expect(values.isSubset(of: [0, 1, 2, 3]))
    #expect(throws: OMEZarrError.self) {
      try ImageWriter.writeLabels(try ArrayBuffer(shape: [60, 40], dataType: .float32, elements: [Float](repeating: 0, count: 2400)),
        name: "bad", of: image)
    }
  }

  @Test func plates() throws {
    let store = MemoryStore()
    var fopts = ImageOptions(axes: [.space("y"), .space("x")])
    fopts.chunkShape = [8, 8]
    let fields = [("B", "3", "0"), ("A", "1", "0"), ("A", "1", "1")].map {
      PlateField(row: $0.0, column: $0.1, path: $0.2, image: Self.ramp([20, 20]), options: fopts)
    }
    let plate = try PlateWriter.write(to: store, at: "p", name: "screen", rows: ["A", "B"], columns: ["1", "2", "3"], fields: fields)
    let p = try #require(plate.metadata.plate)
    #expect(p.wells.map(\.path) == ["B/3", "A/1"])
    #expect(p.wells.map(\.rowIndex) == [1, 0])
    #expect(p.wells.map(\.columnIndex) == [2, 0])
    #expect(p.fieldCount == 2)
    let opened = try OMENode.open(in: store, path: "p")
    #expect(opened.kind == .plate)
    let well = try opened.child("A/1")
    #expect(well.kind == .well)
    #expect(well.metadata.well?.images.map(\.path) == ["0", "1"])
    #expect(try well.child("1").image()?.levels[0].read() == Self.ramp([20, 20]))
    #expect(throws: OMEZarrError.self) {
      try PlateWriter.write(to: store, at: "q", rows: ["A-1"], columns: ["1"], fields: [])
    }
  }

  @Test func upgradesKeepEveryValue() throws {
    let store = MemoryStore()
    var options = ImageOptions(axes: [.channel(), .space("y"), .space("x")], scale: [1, 0.3, 0.3], version: .latest04)
    options.chunkShape = [1, 16, 16]
    let image = try ImageWriter.write(Self.ramp([2, 50, 40]), to: store, at: "old", options: options)
    try ImageWriter.writeLabels(try ArrayBuffer(shape: [2, 50, 40], dataType: .uint8, elements: [UInt8](repeating: 1, count: 4000)),
      name: "all", of: image)
    // A file that is not Zarr (like OME/METADATA.ome.xml) is carried along.
    try store.set("old/NOTES.txt", Array("hello".utf8))
    let up = try Upgrade.upgrade(try OMENode.open(in: store, path: "old"), to: .latest05, in: store, at: "new")
    #expect(up.version == .latest05)
    let a = try image.image()!, b = try up.image()!
    for (x, y) in zip(a.levels, b.levels) {
      #expect(try x.read() == y.read())
      #expect(y.metadata.zarrFormat == .v3)
      #expect(y.metadata.dimensionNames == ["c", "y", "x"])
    }
    #expect(b.omero == a.omero.map { var o = $0; o.version = nil; return o })
    #expect(try up.labelNames() == ["all"])
    #expect(try up.child("labels/all").kind == .labelImage)
    #expect(try store.get("new/NOTES.txt") == Array("hello".utf8))
    let six = try Upgrade.upgrade(up, to: .latest06, in: store, at: "six")
    let c = try six.image()!
    #expect(c.multiscale.coordinateSystems?.first?.name == "physical")
    #expect(c.scale(level: 1) == b.scale(level: 1))
    #expect(try c.levels[1].read() == b.levels[1].read())
    #expect(throws: OMEZarrError.self) { try Upgrade.upgrade(six, to: .latest05, in: store, at: "back") }
  }
}

@Suite("Fast kernels")
struct FastKernelTests {
  @Test(arguments: [DataType.uint8, .int8, .uint16, .int16, .uint32, .int32, .float32, .float64])
  func equalTheGeneralKernel(_ type: DataType) throws {
    var state: UInt64 = 99
    for shape in [[7, 9, 11], [1, 5, 6, 7], [2, 3, 13, 5], [9, 10], [11]] {
      let n = shape.reduce(1, *)
      var bytes = [UInt8](repeating: 0, count: n * type.size)
      for i in bytes.indices {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        bytes[i] = UInt8(truncatingIfNeeded: state >> 40)
      }
      if type.isFloat {
        // Finite values only.
        let values = (0..<n).map { Double(Int($0 * 37 % 1001) - 500) / 7 }
        bytes = type == .float32 ? values.map { Float($0) }.withUnsafeBytes { Array($0) } : values.withUnsafeBytes { Array($0) }
      }
      let input = try ArrayBuffer(shape: shape, dataType: type, bytes: bytes)
      for method in [DownsamplingMethod.mean, .min, .max, .nearest] {
        for factors in [shape.map { _ in 2 }, shape.enumerated().map { $0.offset == 0 ? 1 : 2 }, shape.map { _ in 1 }] {
          let fast = try Downsample.apply(input, factors: factors, method: method)
          let slow = try Downsample.applyGeneric(input, factors: factors, method: method)
          #expect(fast == slow, "\(type) \(shape) \(factors) \(method)")
          let parallel = try Downsample.apply(input, factors: factors, method: method, threads: 3)
          #expect(parallel == slow, "parallel \(type) \(shape) \(factors) \(method)")
        }
      }
    }
  }

  @Test func meanRoundsHalfToEven() throws {
    let b = try ArrayBuffer(shape: [4], dataType: .uint8, elements: [UInt8(1), 2, 3, 4])
    #expect(try Downsample.apply(b, factors: [2], method: .mean).elements(as: UInt8.self) == [2, 4])  // 1.5 -> 2, 3.5 -> 4
    let c = try ArrayBuffer(shape: [2], dataType: .uint8, elements: [UInt8(2), 3])
    #expect(try Downsample.apply(c, factors: [2], method: .mean).elements(as: UInt8.self) == [2])  // 2.5 -> 2
  }
}
