import ZarrIO

/// How a block of voxels becomes one voxel of the next level.
public enum DownsamplingMethod: String, Sendable, Hashable, CaseIterable {
  /// The average of the block (intensities; the default). Integer results are rounded.
  case mean
  /// The block's first voxel (fast; no new values).
  case nearest
  /// The most frequent value (labels: never invents a label). Ties go to the smallest value.
  case mode
  /// The smallest value of the block.
  case min
  /// The largest value of the block.
  case max
  /// The median (for an even count, the lower middle value: never invents a value).
  case median
  /// A Gaussian-weighted average over each block and its neighbours (weights 1, 3, 3, 1 per axis):
  /// smoother levels with less aliasing than `mean`, a little slower.
  case gaussian

  /// Whether the output voxel is centred on its block (all but `nearest`), which decides the
  /// level's translation: t_n = t_0 + (s_n - s_0) / 2.
  public var isBlockCentred: Bool { self != .nearest }
}

/// Downsampling kernels: integer factors per axis, output shape `ceil(n / f)`; blocks at the edge
/// use only the voxels that exist.
public enum Downsample {
  /// Downsamples on `threads` threads, splitting the work along the first dimension whose extent
  /// exceeds 1 (each part is computed from whole blocks, so the result equals ``apply(_:factors:method:)``).
  public static func apply(_ input: ArrayBuffer, factors: [Int], method: DownsamplingMethod, threads: Int) throws -> ArrayBuffer {
    guard threads > 1, method != .gaussian, let axis = input.shape.firstIndex(where: { $0 > 1 }), input.shape[axis] >= 2 * factors[axis] else {
      return try apply(input, factors: factors, method: method)
    }
    let f = factors[axis]
    let outShape = zip(input.shape, factors).map { ($0 + $1 - 1) / $1 }
    if let g = FastKernels.Geometry(shape: input.shape, factors: factors), FastKernels.supports(method), g.lead == 1, g.od >= 2,
      [DataType.uint8, .int8, .uint16, .int16, .uint32, .int32, .float32, .float64].contains(input.dataType)
    {
      // Split the output depth planes between threads, all reading and writing the same buffers
      // (the kernels write every output element: no need to zero it first).
      var out = ArrayBuffer(uninitializedShape: outShape, dataType: input.dataType)
      let parts = min(threads * 2, g.od)
      input.bytes.withUnsafeBytes { src in
        out.bytes.withUnsafeMutableBytes { dst in
          let s = SendablePointer(src.baseAddress!), d = SendablePointer(UnsafeRawPointer(dst.baseAddress!))
          let type = input.dataType
          // Nothing in the loop throws.
          try? Parallel.forEach(parts, width: parts) { p in
            let planes = (p * g.od / parts)..<((p + 1) * g.od / parts)
            func go<T: DownsampleElement>(_: T.Type) {
              FastKernels.run(s.pointer.assumingMemoryBound(to: T.self), UnsafeMutablePointer(mutating: d.pointer.assumingMemoryBound(to: T.self)),
                g, method: method, planes: planes)
            }
            switch type {
            case .uint8: go(UInt8.self)
            case .int8: go(Int8.self)
            case .uint16: go(UInt16.self)
            case .int16: go(Int16.self)
            case .uint32: go(UInt32.self)
            case .int32: go(Int32.self)
            case .float32: go(Float.self)
            default: go(Double.self)
            }
          }
          _ = threads
        }
      }
      return out
    }
    let outPlanes = outShape[axis]
    let parts = min(threads * 4, outPlanes)
    let inPlaneBytes = input.shape[(axis + 1)...].reduce(input.dataType.size, *)
    let outPlaneBytes = outShape[(axis + 1)...].reduce(input.dataType.size, *)
    let results = ResultSlots<ArrayBuffer>(count: parts)
    try Parallel.forEach(parts, width: parts) { p in
      let j0 = p * outPlanes / parts, j1 = (p + 1) * outPlanes / parts
      guard j1 > j0 else { return }
      let i0 = j0 * f, i1 = min(j1 * f, input.shape[axis])
      var shape = input.shape
      shape[axis] = i1 - i0
      let part = try ArrayBuffer(shape: shape, dataType: input.dataType, bytes: Array(input.bytes[(i0 * inPlaneBytes)..<(i1 * inPlaneBytes)]))
      results.set(p, try apply(part, factors: factors, method: method))
    }
    var out = ArrayBuffer(shape: outShape, dataType: input.dataType)
    for p in 0..<parts {
      let j0 = p * outPlanes / parts, j1 = (p + 1) * outPlanes / parts
      guard j1 > j0, let part = results[p] else { continue }
      out.bytes.replaceSubrange((j0 * outPlaneBytes)..<(j1 * outPlaneBytes), with: part.bytes)
    }
    return out
  }

  /// Downsamples `input` by `factors` (one per dimension, >= 1).
  public static func apply(_ input: ArrayBuffer, factors: [Int], method: DownsamplingMethod) throws -> ArrayBuffer {
    guard factors.count == input.shape.count, factors.allSatisfy({ $0 >= 1 }) else {
      throw OMEZarrError(.invalidArgument, "downsampling factors \(factors) do not fit shape \(input.shape)")
    }
    let outShape = zip(input.shape, factors).map { ($0 + $1 - 1) / $1 }
    if factors.allSatisfy({ $0 == 1 }) { return input }
    if method == .gaussian { return try gaussianWhole(input, factors: factors) }
    var out = ArrayBuffer(shape: outShape, dataType: input.dataType)
    if let g = FastKernels.Geometry(shape: input.shape, factors: factors), FastKernels.supports(method),
      try runFast(input, &out, g, method: method, planes: nil)
    {
      return out
    }
    return try applyGeneric(input, factors: factors, method: method)
  }

  /// The general kernel (any factors, every method); ``apply(_:factors:method:)`` uses the fast
  /// kernels where they apply and gives the same results.
  static func applyGeneric(_ input: ArrayBuffer, factors: [Int], method: DownsamplingMethod) throws -> ArrayBuffer {
    let outShape = zip(input.shape, factors).map { ($0 + $1 - 1) / $1 }
    var out = ArrayBuffer(shape: outShape, dataType: input.dataType)
    let ctx = Context(inShape: input.shape, outShape: outShape, factors: factors, method: method)
    try input.bytes.withUnsafeBytes { src in
      try out.bytes.withUnsafeMutableBytes { dst in
        switch input.dataType {
        case .bool, .uint8: run(src, dst, UInt8.self, ctx)
        case .int8: run(src, dst, Int8.self, ctx)
        case .int16: run(src, dst, Int16.self, ctx)
        case .uint16: run(src, dst, UInt16.self, ctx)
        case .int32: run(src, dst, Int32.self, ctx)
        case .uint32: run(src, dst, UInt32.self, ctx)
        case .int64: run(src, dst, Int64.self, ctx)
        case .uint64: run(src, dst, UInt64.self, ctx)
        case .float16:
          #if arch(x86_64) || arch(arm64)
            run(src, dst, Float16.self, ctx)
          #else
            throw OMEZarrError(.unsupported, "float16 downsampling needs Float16 support")
          #endif
        case .float32: run(src, dst, Float.self, ctx)
        case .float64: run(src, dst, Double.self, ctx)
        case .complex64, .complex128, .raw:
          guard method == .nearest else {
            throw OMEZarrError(.unsupported, "\(method.rawValue) downsampling of \(input.dataType) is not defined; use nearest")
          }
          runNearestRaw(src, dst, ctx, elementSize: input.dataType.size)
        }
      }
    }
    return out
  }

  /// Runs the fast kernel for the element type; `false` when the type has none.
  static func runFast(
    _ input: ArrayBuffer, _ out: inout ArrayBuffer, _ g: FastKernels.Geometry, method: DownsamplingMethod, planes: Range<Int>?
  ) throws -> Bool {
    func go<T: DownsampleElement>(_: T.Type) {
      input.bytes.withUnsafeBytes { src in
        out.bytes.withUnsafeMutableBytes { dst in
          FastKernels.run(src.bindMemory(to: T.self).baseAddress!, dst.bindMemory(to: T.self).baseAddress!, g, method: method,
            planes: planes)
        }
      }
    }
    switch input.dataType {
    case .uint8: go(UInt8.self)
    case .int8: go(Int8.self)
    case .uint16: go(UInt16.self)
    case .int16: go(Int16.self)
    case .uint32: go(UInt32.self)
    case .int32: go(Int32.self)
    case .float32: go(Float.self)
    case .float64: go(Double.self)
    default: return false
    }
    return true
  }

  struct Context {
    let inShape: [Int]
    let outShape: [Int]
    let factors: [Int]
    let method: DownsamplingMethod
    var inStrides: [Int] { ElementOps.strides(inShape) }
  }

  /// Visits every output voxel with the input offsets of its block.
  static func forEachBlock(_ ctx: Context, _ body: (_ outIndex: Int, _ offsets: UnsafeBufferPointer<Int>) -> Void) {
    let n = ctx.inShape.count
    let inStrides = ctx.inStrides
    let maxBlock = ctx.factors.reduce(1, *)
    var offsets = [Int](repeating: 0, count: maxBlock)
    var index = [Int](repeating: 0, count: n)
    let total = ctx.outShape.reduce(1, *)
    guard total > 0 else { return }
    offsets.withUnsafeMutableBufferPointer { off in
      var inner = [Int](repeating: 0, count: n)
      for o in 0..<total {
        // Block bounds per dimension.
        var base = 0
        var count = 1
        var lens = [Int](repeating: 0, count: n)
        for d in 0..<n {
          let start = index[d] * ctx.factors[d]
          lens[d] = min(ctx.factors[d], ctx.inShape[d] - start)
          base += start * inStrides[d]
          count *= lens[d]
        }
        // Enumerate block offsets.
        for d in 0..<n { inner[d] = 0 }
        var k = 0
        var offset = base
        while true {
          off[k] = offset
          k += 1
          var d = n - 1
          while d >= 0 {
            inner[d] += 1
            offset += inStrides[d]
            if inner[d] < lens[d] { break }
            offset -= inStrides[d] * lens[d]
            inner[d] = 0
            d -= 1
          }
          if d < 0 { break }
        }
        body(o, UnsafeBufferPointer(rebasing: off[0..<count]))
        // Next output index.
        var d = n - 1
        while d >= 0 {
          index[d] += 1
          if index[d] < ctx.outShape[d] { break }
          index[d] = 0
          d -= 1
        }
      }
    }
  }

  static func run<T: DownsampleElement>(_ src: UnsafeRawBufferPointer, _ dst: UnsafeMutableRawBufferPointer, _: T.Type, _ ctx: Context) {
    let input = src.bindMemory(to: T.self)
    let output = dst.bindMemory(to: T.self)
    var scratch = [T](repeating: T.zero, count: ctx.factors.reduce(1, *))
    scratch.withUnsafeMutableBufferPointer { values in
      forEachBlock(ctx) { o, offsets in
        switch ctx.method {
        case .nearest:
          output[o] = input[offsets[0]]
        case .mean, .gaussian:  // (gaussian never reaches the block kernel)
          var sum = 0.0
          for off in offsets { sum += input[off].doubleValue }
          output[o] = T(rounding: sum / Double(offsets.count))
        case .min:
          var m = input[offsets[0]]
          for off in offsets where input[off] < m { m = input[off] }
          output[o] = m
        case .max:
          var m = input[offsets[0]]
          for off in offsets where input[off] > m { m = input[off] }
          output[o] = m
        case .median, .mode:
          let n = offsets.count
          for (i, off) in offsets.enumerated() { values[i] = input[off] }
          var part = UnsafeMutableBufferPointer(rebasing: values[0..<n])
          part.sort()
          if ctx.method == .median {
            output[o] = part[(n - 1) / 2]
          } else {
            var best = part[0], bestCount = 1, run = 1
            for i in 1..<max(n, 1) {
              run = part[i] == part[i - 1] ? run + 1 : 1
              if run > bestCount {
                bestCount = run
                best = part[i]
              }
            }
            output[o] = best
          }
        }
      }
    }
  }

  static func runNearestRaw(_ src: UnsafeRawBufferPointer, _ dst: UnsafeMutableRawBufferPointer, _ ctx: Context, elementSize: Int) {
    forEachBlock(ctx) { o, offsets in
      (dst.baseAddress! + o * elementSize).copyMemory(from: src.baseAddress! + offsets[0] * elementSize, byteCount: elementSize)
    }
  }
}

/// Element types the kernels work on.
protocol DownsampleElement: Comparable, BitwiseCopyable {
  static var zero: Self { get }
  var doubleValue: Double { get }
  /// The value nearest to `d` (integers rounded half to even, as TensorStore does, and clamped).
  init(rounding d: Double)
  /// Whether block means are summed exactly in 64-bit integers (integers of 8 to 32 bits): the same
  /// results as summing doubles, at a fraction of the cost.
  static var integerMean: Bool { get }
  /// The value as a 64-bit integer (for ``integerMean`` types).
  var int64Value: Int64 { get }
  /// `sum / count` rounded half to even (for ``integerMean`` types; `count` > 0).
  init(mean sum: Int64, count: Int64)
}

extension DownsampleElement {
  static var integerMean: Bool { false }
  var int64Value: Int64 { 0 }
  init(mean sum: Int64, count: Int64) { self.init(rounding: Double(sum) / Double(count)) }
}

extension DownsampleElement where Self: FixedWidthInteger {
  static var zero: Self { 0 }
  var doubleValue: Double { Double(self) }
  init(rounding d: Double) {
    let r = d.rounded(.toNearestOrEven)
    if r <= Double(Self.min) { self = .min } else if r >= Double(Self.max) { self = .max } else { self = Self(r) }
  }
  static var integerMean: Bool { Self.bitWidth <= 32 }
  var int64Value: Int64 { Int64(truncatingIfNeeded: self) }
  @inline(__always)
  init(mean sum: Int64, count: Int64) {
    // Half to even, symmetric around zero; the mean of values of this type is one of them. Block
    // counts are powers of two: a shift and a mask instead of a division.
    let magnitude = sum.magnitude, n = UInt64(count)
    var q: UInt64, twice: UInt64
    if n & (n - 1) == 0 {
      let k = UInt64(n.trailingZeroBitCount)
      q = magnitude >> k
      twice = (magnitude & (n - 1)) << 1
    } else {
      q = magnitude / n
      twice = 2 * (magnitude % n)
    }
    if twice > n || (twice == n && q & 1 == 1) { q += 1 }
    self = Self(truncatingIfNeeded: sum < 0 ? -Int64(q) : Int64(q))
  }
}

extension UInt8: DownsampleElement {}
extension Int8: DownsampleElement {}
extension UInt16: DownsampleElement {}
extension Int16: DownsampleElement {}
extension UInt32: DownsampleElement {}
extension Int32: DownsampleElement {}
extension UInt64: DownsampleElement {}
extension Int64: DownsampleElement {}

extension Float: DownsampleElement {
  static var zero: Float { 0 }
  var doubleValue: Double { Double(self) }
  init(rounding d: Double) { self = Float(d) }
}
extension Double: DownsampleElement {
  static var zero: Double { 0 }
  var doubleValue: Double { self }
  init(rounding d: Double) { self = d }
}
#if arch(x86_64) || arch(arm64)
  extension Float16: DownsampleElement {
    static var zero: Float16 { 0 }
    var doubleValue: Double { Double(self) }
    init(rounding d: Double) { self = Float16(d) }
  }
#endif
