import ZarrIO

/// Gaussian downsampling by 2: along each halved axis, output voxel j is the normalised weighted sum
/// of input voxels 2j-1, 2j, 2j+1, 2j+2 with weights 1, 3, 3, 1 (a binomial approximation of a
/// Gaussian with sigma about 0.87 px, centred on the 2-voxel block like the block kernels, so the
/// same translation rule holds). At the image edge the weights of the voxels that exist are
/// renormalised. Needs one voxel of context on each side of a block: callers working in pieces
/// pass a window with that halo.
extension Downsample {
  static let gaussianWeights: [Double] = [1, 3, 3, 1]

  /// Output region `outputs` (output coordinates) of an image of input shape `fullShape`, from a
  /// window of the input starting at `origin` that holds every voxel the outputs need.
  public static func gaussian(
    window: ArrayBuffer, origin: [Int], fullShape: [Int], factors: [Int], outputs: [Range<Int>]
  ) throws -> ArrayBuffer {
    let n = window.shape.count
    guard factors.count == n, factors.allSatisfy({ $0 == 1 || $0 == 2 }), origin.count == n, fullShape.count == n,
      outputs.count == n
    else {
      throw OMEZarrError(.unsupported, "gaussian downsampling takes factors 1 or 2 per axis, not \(factors)")
    }
    guard var data = window.doubleValues() else {
      throw OMEZarrError(.unsupported, "gaussian downsampling of \(window.dataType) is not defined; use nearest")
    }
    var cur = window.shape
    var org = origin
    var full = fullShape
    // The first axes first: along the streaming axis the window is widest, so it shrinks most.
    for d in 0..<n {
      if factors[d] == 1 {
        // Only cut the window down to the requested outputs.
        let r = outputs[d]
        guard r.lowerBound >= org[d], r.upperBound <= org[d] + cur[d] else {
          throw OMEZarrError(.invalidArgument, "the window does not hold outputs \(r) along axis \(d)")
        }
        if r.count != cur[d] {
          data = slice(data, shape: cur, axis: d, range: (r.lowerBound - org[d])..<(r.upperBound - org[d]))
          cur[d] = r.count
          org[d] = r.lowerBound
        }
        continue
      }
      let outRange = outputs[d]
      let inner = cur[(d + 1)...].reduce(1, *), outer = cur[..<d].reduce(1, *)
      let m = outRange.count
      var out = [Double](repeating: 0, count: outer * m * inner)
      // Taps (input offset in the window, normalised weight) of each output.
      var taps: [[(Int, Double)]] = []
      for j in outRange {
        var list: [(Int, Double)] = []
        var total = 0.0
        for k in 0..<4 {
          let i = 2 * j - 1 + k
          guard i >= 0, i < full[d] else { continue }
          guard i >= org[d], i < org[d] + cur[d] else {
            throw OMEZarrError(.invalidArgument, "the window lacks input \(i) along axis \(d) for output \(j)")
          }
          list.append((i - org[d], gaussianWeights[k]))
          total += gaussianWeights[k]
        }
        taps.append(list.map { ($0.0, $0.1 / total) })
      }
      let n = cur[d]
      data.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
          if inner == 1 {
            // Along the last axis: row by row, each output from its taps.
            for o in 0..<outer {
              let row = src.baseAddress! + o * n, res = dst.baseAddress! + o * m
              for jj in 0..<m {
                var acc = 0.0
                for (t, w) in taps[jj] { acc += w * row[t] }
                res[jj] = acc
              }
            }
          } else {
            for o in 0..<outer {
              for jj in 0..<m {
                let q = dst.baseAddress! + (o * m + jj) * inner
                for (t, w) in taps[jj] {
                  let s = src.baseAddress! + (o * n + t) * inner
                  for i in 0..<inner { q[i] += w * s[i] }
                }
              }
            }
          }
        }
      }
      data = out
      cur[d] = m
      org[d] = outRange.lowerBound
      full[d] = (full[d] + 1) / 2
    }
    return try fromDoubles(data, shape: cur, dataType: window.dataType)
  }

  /// `apply` for the gaussian method: the whole image.
  static func gaussianWhole(_ input: ArrayBuffer, factors: [Int]) throws -> ArrayBuffer {
    let outShape = zip(input.shape, factors).map { ($0 + $1 - 1) / $1 }
    return try gaussian(window: input, origin: [Int](repeating: 0, count: input.shape.count), fullShape: input.shape,
      factors: factors, outputs: outShape.map { 0..<$0 })
  }

  static func slice(_ data: [Double], shape: [Int], axis: Int, range: Range<Int>) -> [Double] {
    let inner = shape[(axis + 1)...].reduce(1, *), outer = shape[..<axis].reduce(1, *)
    var out: [Double] = []
    out.reserveCapacity(outer * range.count * inner)
    for o in 0..<outer {
      let base = (o * shape[axis] + range.lowerBound) * inner
      out.append(contentsOf: data[base..<(base + range.count * inner)])
    }
    return out
  }

  static func fromDoubles(_ values: [Double], shape: [Int], dataType: DataType) throws -> ArrayBuffer {
    func make<T: DownsampleElement>(_: T.Type) throws -> ArrayBuffer {
      let converted: [T] = values.map { T(rounding: $0) }
      return try ArrayBuffer(shape: shape, dataType: dataType, elements: converted)
    }
    switch dataType {
    case .uint8, .bool: return try make(UInt8.self)
    case .int8: return try make(Int8.self)
    case .uint16: return try make(UInt16.self)
    case .int16: return try make(Int16.self)
    case .uint32: return try make(UInt32.self)
    case .int32: return try make(Int32.self)
    case .uint64: return try make(UInt64.self)
    case .int64: return try make(Int64.self)
    case .float32: return try make(Float.self)
    case .float64: return try make(Double.self)
    #if arch(x86_64) || arch(arm64)
      case .float16: return try make(Float16.self)
    #endif
    default: throw OMEZarrError(.unsupported, "gaussian downsampling of \(dataType) is not defined; use nearest")
    }
  }
}
