import Foundation
import Testing
import ZarrIO

@testable import OMEZarr

/// A seeded generator, so property tests are reproducible.
struct SplitMix64: RandomNumberGenerator {
  var state: UInt64
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

/// Random invertible transformations (as metadata), for property tests.
struct RandomTransforms {
  var rng: SplitMix64

  mutating func value(_ r: ClosedRange<Double> = -10...10) -> Double { Double.random(in: r, using: &rng) }

  /// A random orthonormal matrix with determinant 1 (Gram–Schmidt of a random matrix).
  mutating func rotation(_ n: Int) -> [[Double]] {
    var rows: [[Double]] = []
    while rows.count < n {
      var v = (0..<n).map { _ in value(-1...1) }
      for r in rows {
        let d = zip(v, r).map(*).reduce(0, +)
        v = zip(v, r).map { $0 - d * $1 }
      }
      let norm = v.map { $0 * $0 }.reduce(0, +).squareRoot()
      if norm > 0.1 { rows.append(v.map { $0 / norm }) }
    }
    if Matrix(rows)!.determinant < 0 { rows[0] = rows[0].map { -$0 } }
    return rows
  }

  mutating func transformation(_ n: Int, depth: Int = 0) -> Transformation {
    switch Int.random(in: 0..<(depth < 2 ? 9 : 6), using: &rng) {
    case 0: return .identity
    case 1: return Transformation(.mapAxis(Array(0..<n).shuffled(using: &rng)))
    case 2: return .translation((0..<n).map { _ in value() })
    case 3: return .scale((0..<n).map { _ in value(0.2...5) * (Bool.random(using: &rng) ? 1 : -1) })
    case 4: return Transformation(.rotation(rotation(n)))
    case 5:
      // Well conditioned: I + small noise, plus a translation column.
      let a = (0..<n).map { i in (0..<n).map { j in (i == j ? 1 : 0) + value(-0.3...0.3) } + [value()] }
      return Transformation(.affine(a))
    case 6: return Transformation(.sequence((0..<Int.random(in: 1...4, using: &rng)).map { _ in transformation(n, depth: depth + 1) }))
    case 7 where n >= 2:
      // byDimension: split the axes into two groups, each transformed on its own, outputs permuted.
      let axes = Array(0..<n).shuffled(using: &rng)
      let k = Int.random(in: 1..<n, using: &rng)
      let groups = [Array(axes[..<k]), Array(axes[k...])]
      let outputs = Array(0..<n).shuffled(using: &rng)
      var at = 0
      let parts = groups.map { g -> ByDimensionPart in
        defer { at += g.count }
        return ByDimensionPart(transformation(g.count, depth: depth + 1), inputAxes: g, outputAxes: Array(outputs[at..<(at + g.count)]))
      }
      return Transformation(.byDimension(parts))
    case 7: return .scale((0..<n).map { _ in value(0.5...2) })
    default:
      let f = transformation(n, depth: depth + 1)
      return Transformation(.bijection(forward: f, inverse: Transformation(.inverseOf(f))))
    }
  }
}

@Suite struct TransformTests {
  static let memory = ParameterSource(store: MemoryStore(), base: "")

  static func mapping(_ t: Transformation, _ n: Int? = nil, _ m: Int? = nil) throws -> CoordinateMapping {
    try CoordinateMapping(t, inputDimension: n, outputDimension: m, parameters: memory)
  }

  static func close(_ a: [Double], _ b: [Double], relative: Double = 1e-9) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= relative * max(1, abs($0), abs($1)) }
  }

  @Test func forwardThenInverseReturnsThePoints() throws {
    var gen = RandomTransforms(rng: SplitMix64(state: 42))
    var checked = 0
    for trial in 0..<500 {
      let n = Int.random(in: 2...5, using: &gen.rng)
      let t = gen.transformation(n)
      let m = try Self.mapping(t, n, n)
      let inv = try m.inverse()
      for _ in 0..<4 {
        let x = (0..<n).map { _ in gen.value(-100...100) }
        let back = try inv.apply(try m.apply(x))
        #expect(Self.close(back, x), "trial \(trial): \(m) maps \(x) back to \(back)")
        checked += 1
      }
    }
    #expect(checked == 2000)
  }

  @Test func affineCompositionIsTheMatrixProduct() throws {
    var gen = RandomTransforms(rng: SplitMix64(state: 7))
    for trial in 0..<300 {
      let n = Int.random(in: 2...5, using: &gen.rng)
      let a = try Self.mapping(gen.transformation(n), n, n), b = try Self.mapping(gen.transformation(n), n, n)
      let seq = try a.then(b)
      let ma = try #require(a.affineMatrix), mb = try #require(b.affineMatrix), ms = try #require(seq.affineMatrix)
      let product = mb * ma
      #expect(Self.close(ms.entries, product.entries), "trial \(trial)")
      // And applying the matrix equals applying the transformations.
      let x = (0..<n).map { _ in gen.value() }
      let viaMatrix = Array(product.apply(x + [1]).prefix(n))
      #expect(Self.close(try seq.apply(x), viaMatrix), "trial \(trial)")
      // The inverse's matrix is the matrix inverse.
      let inv = try #require(try seq.inverse().affineMatrix), expected = try #require(product.inverse)
      #expect(Self.close(inv.entries, expected.entries, relative: 1e-8), "trial \(trial)")
    }
  }

  @Test func specificationExamples() throws {
    // affine2d2d: y = 1*j + 2*i + 3, x = 4*j + 5*i + 6 (input j, i).
    let affine = try Self.mapping(Transformation(.affine([[1, 2, 3], [4, 5, 6]])))
    #expect(try affine.apply([1, 1]) == [6, 15])
    // affine2d3d: z = 1, y = 2 + 3i + 4j, x = 5 + 6i + 7j.
    let up = try Self.mapping(Transformation(.affine([[0, 0, 1], [3, 4, 2], [6, 7, 5]])))
    #expect(up.inputDimension == 2 && up.outputDimension == 3)
    #expect(try up.apply([1, 1]) == [1, 9, 18])
    #expect(throws: OMEZarrError.self) { try up.inverse() }
    // sequence: x = (i + 0.1) * 2, y = (j + 0.9) * 3.
    let seq = try Self.mapping(Transformation(.sequence([.translation([0.1, 0.9]), .scale([2, 3])])))
    #expect(Self.close(try seq.apply([1, 1]), [2.2, 5.7]))
    // mapAxis [1, 0] swaps; rotation example: x = -j, y = i.
    #expect(try Self.mapping(Transformation(.mapAxis([1, 0]))).apply([1, 2]) == [2, 1])
    #expect(try Self.mapping(Transformation(.rotation([[0, -1], [1, 0]]))).apply([1, 2]) == [-2, 1])
    // projectAxis: drop input 0, create output 2 (value 0).
    let p = try Self.mapping(Transformation(.projectAxis(droppedInputs: [0], createdOutputs: [2])), 3)
    #expect(try p.apply([5, 6, 7]) == [6, 7, 0])
    #expect(p.affineMatrix?.rowList == [[0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 0], [0, 0, 0, 1]])
    // A full homogeneous affine matrix is read as its upper rows.
    let full = try Self.mapping(Transformation(.affine([[2, 0, 1], [0, 3, 2], [0, 0, 1]])), 2, 2)
    #expect(try full.apply([1, 1]) == [3, 5])
  }

  @Test func nearlyOrthonormalRotationsInvertExactly() throws {
    // The conformance suite's rotation is rounded ([[0.17, -0.985], [0.985, 0.17]], det 0.999125):
    // a transpose would be off by 1e-3, inversion is exact.
    let r = try Self.mapping(Transformation(.rotation([[0.17, -0.985], [0.985, 0.17]])))
    #expect(Self.close(try r.inverse().apply([0.815, -1.155]), [-1, -1], relative: 1e-12))
  }

  @Test func badParametersAreReported() throws {
    let cases: [(Transformation, Int?, Int?, String)] = [
      (Transformation(.mapAxis([0, 0])), 2, 2, "permutation"),
      (.scale([1, 2, 3]), 2, 2, "dimensions"),
      (Transformation(.affine([[1, 0], [0, 1, 0]])), nil, nil, "rows"),
      (Transformation(.rotation([[1, 0, 0], [0, 1, 0]])), nil, nil, "square"),
      (Transformation(.byDimension([ByDimensionPart(.scale([2]), inputAxes: [0], outputAxes: [0])])), 2, 2, "output axis 1"),
      (Transformation(.sequence([])), 2, 2, "at least one"),
      (Transformation(.other("spline")), 2, 2, "spline"),
      (Transformation(.displacements(interpolation: nil)), 2, 2, "path"),
    ]
    for (t, n, m, fragment) in cases {
      do {
        _ = try Self.mapping(t, n, m)
        Issue.record("\(t.type) accepted")
      } catch {
        #expect("\(error)".contains(fragment), "\(error)")
      }
    }
    #expect(throws: OMEZarrError.self) { try Self.mapping(.scale([1, 0])).inverse() }
    #expect(throws: OMEZarrError.self) { try Self.mapping(Transformation(.affine([[1, 2, 0], [2, 4, 0]]))).inverse() }
  }

  /// A 2-D displacement field (vector axis last) in a memory store, with a 0.6.dev2-style array description.
  static func field(_ store: MemoryStore, shape: [Int], values: (Int, Int, Int) -> Double) throws {
    let a = try ZarrArray.create(in: store, path: "fields/d", metadata: ArrayMetadata(
      shape: shape + [2], dataType: .float64, chunkShape: shape + [2], attributes: ["ome": [
        "coordinateSystems": [["name": "f", "axes": [["name": "y"], ["name": "x"], ["name": "d", "type": "displacement"]]]],
        "coordinateTransformations": [["type": "scale", "scale": [0.5, 0.5, 1], "output": "f"]],
      ]]))
    var v: [Double] = []
    for i in 0..<shape[0] { for j in 0..<shape[1] { for c in 0..<2 { v.append(values(i, j, c)) } } }
    try a.write(v, region: a.fullRegion)
  }

  @Test func displacementFieldsInterpolateAndInvert() throws {
    let store = MemoryStore()
    // A smooth field: d = 0.2 * sin/cos of the index, small enough to stay invertible.
    try Self.field(store, shape: [12, 10]) { i, j, c in 0.2 * (c == 0 ? sin(Double(i) * 0.7 + Double(j) * 0.3) : cos(Double(j) * 0.5)) }
    let params = ParameterSource(store: store, base: "")
    let t = Transformation(.displacements(interpolation: "linear"), path: "fields/d")
    let m = try CoordinateMapping(t, inputDimension: 2, outputDimension: 2, parameters: params)
    // At a sample: exact; halfway between two samples along x: the mean.
    #expect(Self.close(try m.apply([1.0, 1.5]), [1.0 + 0.2 * sin(2 * 0.7 + 3 * 0.3), 1.5 + 0.2 * cos(3 * 0.5)]))
    let mid = try m.apply([1.0, 1.25])
    let expectedY = 0.2 * (sin(2 * 0.7 + 2 * 0.3) + sin(2 * 0.7 + 3 * 0.3)) / 2
    #expect(Self.close(mid, [1.0 + expectedY, 1.25 + 0.2 * (cos(1.0) + cos(1.5)) / 2]))
    let inverse = try m.inverse()
    var rng = SplitMix64(state: 3)
    for _ in 0..<200 {
      let x = [Double.random(in: -1...7, using: &rng), Double.random(in: -1...6, using: &rng)]
      #expect(Self.close(try inverse.apply(try m.apply(x)), x), "\(x)")
    }
    // Nearest: pixel (i, j) covers [i - 0.5, i + 0.5) in index space.
    let nearest = try CoordinateMapping(Transformation(.displacements(interpolation: "nearest"), path: "/fields/d"),
      inputDimension: 2, outputDimension: 2, parameters: ParameterSource(store: store, base: "elsewhere"))
    #expect(Self.close(try nearest.apply([0.74, 0.76]), [0.74 + 0.2 * sin(1 * 0.7 + 2 * 0.3), 0.76 + 0.2 * cos(2 * 0.5)]))
    #expect(throws: OMEZarrError.self) {
      try CoordinateMapping(Transformation(.displacements(interpolation: "cubic"), path: "fields/d"), inputDimension: 2,
        outputDimension: 2, parameters: params)
    }
    #expect(throws: OMEZarrError.self) {
      try CoordinateMapping(t, inputDimension: 3, outputDimension: 3, parameters: params)
    }
  }

  /// A 0.6rc0 scene: images `a` and `b` (levels s0, s1) under `tiles/`, `a` with a label image.
  static func sceneStore() throws -> MemoryStore {
    let store = MemoryStore()
    let axes: JSONValue = [["name": "y", "type": "space"], ["name": "x", "type": "space"]]
    _ = try ZarrGroup.create(in: store, attributes: ["ome": ["version": "0.6rc0", "scene": [
      "coordinateSystems": [["name": "world", "axes": axes], ["name": "flat", "axes": [["name": "x", "type": "space"]]]],
      "coordinateTransformations": [
        ["type": "translation", "translation": [0, 100], "input": ["path": "tiles/a", "name": "physical"], "output": ["name": "world"]],
        ["type": "translation", "translation": [50, 0], "input": ["path": "tiles/b", "name": "physical"], "output": ["name": "world"]],
        ["type": "projectAxis", "droppedInputs": [0], "input": ["name": "world"], "output": ["name": "flat"]],
      ],
    ]]])
    for name in ["a", "b", "a/labels/cells"] {
      let path = "tiles/" + name
      _ = try ZarrGroup.create(in: store, path: path, attributes: ["ome": ["version": "0.6rc0", "multiscales": [[
        "coordinateSystems": [["name": "physical", "axes": axes], ["name": "rotated", "axes": axes]],
        "datasets": [
          ["path": "s0", "coordinateTransformations": [["type": "scale", "scale": [0.5, 0.5], "input": ["path": "s0"], "output": ["name": "physical"]]]],
          ["path": "s1", "coordinateTransformations": [["type": "sequence", "input": ["path": "s1"], "output": ["name": "physical"],
            "transformations": [["type": "scale", "scale": [1, 1]], ["type": "translation", "translation": [0.25, 0.25]]]]]],
        ],
        "coordinateTransformations": name == "a"
          ? [["type": "rotation", "rotation": [[0, -1], [1, 0]], "input": ["name": "physical"], "output": ["name": "rotated"]],
             ["type": "identity", "input": ["name": "physical"], "output": ["path": "labels/cells", "name": "physical"]]]
          : [["type": "rotation", "rotation": [[0, -1], [1, 0]], "input": ["name": "physical"], "output": ["name": "rotated"]]],
      ]]]])
      for i in 0..<2 {
        _ = try ZarrArray.create(in: store, path: "\(path)/s\(i)", metadata: ArrayMetadata(
          shape: [8 >> i, 8 >> i], dataType: .uint8, chunkShape: [4, 4]))
      }
    }
    return store
  }

  @Test func pathsThroughSubGroups() throws {
    var graph = try TransformGraph(store: Self.sceneStore())
    #expect(graph.nodes.isSuperset(of: ["", "tiles/a", "tiles/b", "tiles/a/labels/cells"]))
    // Level 1 pixel of the label image -> label physical -> (inverse identity) a physical -> world
    // -> (inverse) b physical -> b rotated.
    let p = try graph.transform(points: [[2, 3]], from: "tiles/a/labels/cells/s1", to: "tiles/b/rotated")
    // (2,3) -> (2.25, 3.25) -> world (2.25, 103.25) -> b (-47.75, 103.25) -> rotated (-103.25, -47.75)
    #expect(Self.close(p[0], [-103.25, -47.75]))
    let steps = try graph.path(from: graph.system("tiles/a/labels/cells/s1"), to: graph.system("tiles/b/rotated"))
    #expect(steps.count == 5)
    #expect(steps.map(\.inverted) == [false, true, false, true, false])
    // The affine matrix of the whole path.
    let m = try graph.mapping(from: graph.system("tiles/a/s0"), to: graph.system("world"))
    #expect(m.affineMatrix?.rowList == [[0.5, 0, 0], [0, 0.5, 100], [0, 0, 1]])
  }

  @Test func graphErrors() throws {
    var graph = try TransformGraph(store: Self.sceneStore())
    func message(_ body: () throws -> Void) -> String {
      do { try body(); return "" } catch { return "\(error)" }
    }
    #expect(message { _ = try graph.system("nowhere") }.contains("unknown coordinate system 'nowhere'"))
    #expect(message { _ = try graph.system("physical") }.contains("ambiguous"))
    #expect(message { _ = try graph.system("rotated") }.contains("ambiguous"))
    // The projection can be walked forward, not back.
    #expect(try graph.transform(points: [[1, 2]], from: "world", to: "flat") == [[2]])
    #expect(message { _ = try graph.transform(points: [[2]], from: "flat", to: "world") }.contains("cannot be inverted"))
    // A system no transformation reaches.
    let store = MemoryStore()
    _ = try ZarrGroup.create(in: store, attributes: ["ome": ["version": "0.6rc0", "coordinateSystems": [
      ["name": "a", "axes": [["name": "x"]]], ["name": "b", "axes": [["name": "x"]]], ["name": "c", "axes": [["name": "x"]]],
    ], "coordinateTransformations": [["type": "scale", "scale": [2], "input": "a", "output": "b"]]]])
    var small = try TransformGraph(store: store)
    #expect(try small.transform(points: [[3]], from: "b", to: "a") == [[1.5]])
    #expect(message { _ = try small.transform(points: [[3]], from: "a", to: "c") }.contains("no transformation path"))
    #expect(message { _ = try small.transform(points: [[3, 4]], from: "a", to: "b") }.contains("coordinates"))
  }

  @Test func pixelsToPhysicalThroughAMultiscale() throws {
    // A 0.6 image written by ImageWriter: level 2 of a 2x pyramid has scale 4 * pixel size and the
    // binning translation (s2 - s0) / 2.
    let store = MemoryStore()
    let data = try ArrayBuffer(shape: [4, 32, 32], dataType: .uint16, elements: [UInt16](repeating: 1, count: 4 * 32 * 32))
    var options = ImageOptions(axes: [.space("z"), .space("y"), .space("x")], scale: [2, 0.5, 0.5], version: .latest06)
    options.levels = 3
    options.xyOnly = true
    try ImageWriter.write(data, to: store, options: options)
    let image = try #require(try OMENode.open(in: store).image())
    let physical = try image.physicalCoordinates(ofPixels: [[0, 0, 0], [1, 3, 5]], level: 2)
    let s2 = try #require(image.scale(level: 2)), t2 = try #require(image.translation(level: 2))
    #expect(Self.close(physical[0], t2))
    #expect(Self.close(physical[1], zip(zip([1.0, 3, 5], s2).map(*), t2).map(+)))
    #expect(Self.close(t2, zip(s2, [2, 0.5, 0.5]).map { ($0 - $1) / 2 }))
    let back = try image.pixelCoordinates(ofPhysical: physical, level: 2)
    #expect(Self.close(back[1], [1, 3, 5]))
    // The same through a 0.5 image (implied `physical` system).
    let v05 = MemoryStore()
    var o5 = options
    o5.version = .latest05
    try ImageWriter.write(data, to: v05, options: o5)
    let image05 = try #require(try OMENode.open(in: v05).image())
    #expect(Self.close(try image05.physicalCoordinates(ofPixels: [[1, 3, 5]], level: 2)[0], physical[1]))
    #expect(try OMENode.open(in: v05).transform(points: [[1, 3, 5]], from: "2", to: "physical")[0] == physical[1])
  }
}

/// The RFC-5 example hierarchies of ome/ngff-spec (`tests/zarr/spec/valid/transforms`, from
/// jo-mueller/ngff-rfc5-coordinate-transformation-examples; 0.6.dev2–dev3 syntax, metadata only).
@Suite struct TransformFixtureTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Fixtures/spec-tests/zarr/spec/valid/transforms")

  @Test func everyPairOfSystemsMaps() throws {
    let dirs = try FileManager.default.subpathsOfDirectory(atPath: Self.root.path)
      .filter { $0.hasSuffix(".zarr") && !$0.dropLast(5).contains(".zarr") }.sorted()
    #expect(dirs.count == 27)
    var mapped = 0
    var failures: [String] = []
    for dir in dirs {
      let graph = try TransformGraph(store: try FilesystemStore(root: Self.root.appendingPathComponent(dir).path))
      let systems = graph.allSystems.sorted()
      #expect(systems.count >= 2, "\(dir)")
      for s in systems {
        for t in systems where t != s {
          do {
            let m = try graph.mapping(from: s, to: t)
            _ = try m.apply([Double](repeating: 1, count: m.inputDimension))
            mapped += 1
          } catch {
            failures.append("\(dir): \(s) -> \(t): \(error)")
          }
        }
      }
    }
    // Parameter arrays in these fixtures have metadata but no chunks, so they read as zeros: the
    // inverse of such an affine or rotation is singular, and an all-zero coordinates field reaches
    // no point but 0, so its iterative inverse cannot converge. One fixture's scale points at the 2-D
    // rotation parameters (2d/simple/rotationParams.zarr), an upstream mistake reported as such.
    let explained = failures.filter { $0.contains("is singular") || $0.contains("has 2 dimensions, not 1")
      || ($0.contains("coordinates.zarr") && $0.contains("did not converge")) }
    #expect(explained.count == failures.count, "\(failures.filter { !explained.contains($0) })")
    #expect(mapped >= 150, "\(mapped) mapped")
    print("transform fixtures: \(dirs.count) hierarchies, \(mapped) pairs mapped, \(failures.count) explained failures")
  }
}
