/// Block kernels for the common case: factors of 1 or 2 on the last three dimensions, 1 elsewhere,
/// and the mean, min, max or nearest methods. They walk input rows directly (no per-voxel index
/// arithmetic), and compute output planes `planes` of the first dimension with extent > 1, so
/// parallel callers split the work without copying.
enum FastKernels {
  /// The geometry the kernels handle, or `nil` (the general kernel is used then).
  struct Geometry {
    /// Leading (unreduced) elements, then depth, height, width of the input.
    var lead: Int, d: Int, h: Int, w: Int
    var fd: Int, fh: Int, fw: Int
    var od: Int { (d + fd - 1) / fd }
    var oh: Int { (h + fh - 1) / fh }
    var ow: Int { (w + fw - 1) / fw }

    init?(shape: [Int], factors: [Int]) {
      let n = shape.count
      guard n >= 1, factors.allSatisfy({ $0 == 1 || $0 == 2 }) else { return nil }
      let k = min(3, n)
      guard factors.prefix(n - k).allSatisfy({ $0 == 1 }) else { return nil }
      let tail = Array(repeating: 1, count: 3 - k) + shape.suffix(k)
      let ftail = Array(repeating: 1, count: 3 - k) + factors.suffix(k)
      lead = shape.prefix(n - k).reduce(1, *)
      (d, h, w) = (tail[0], tail[1], tail[2])
      (fd, fh, fw) = (ftail[0], ftail[1], ftail[2])
    }
  }

  static func supports(_ method: DownsamplingMethod) -> Bool {
    method == .mean || method == .min || method == .max || method == .nearest
  }

  /// Computes output rows for all leading elements and output depth planes `planes` (all when nil).
  static func run<T: DownsampleElement>(
    _ src: UnsafePointer<T>, _ dst: UnsafeMutablePointer<T>, _ g: Geometry, method: DownsamplingMethod, planes: Range<Int>? = nil
  ) {
    let range = planes ?? 0..<g.od
    var sums = [Double](repeating: 0, count: g.ow)
    var counts = [Double](repeating: 0, count: g.ow)
    // Integers of up to 32 bits: exact 64-bit sums (the same means as the double sums, faster).
    let integer = method == .mean && T.integerMean
    let acc = UnsafeMutablePointer<Int64>.allocate(capacity: max(g.ow, 1))
    defer { acc.deallocate() }
    let acc32 = UnsafeMutablePointer<UInt32>.allocate(capacity: max(g.ow, 1))
    defer { acc32.deallocate() }
    var best = [T](repeating: T.zero, count: g.ow)
    for l in 0..<g.lead {
      for oz in range {
        for oy in 0..<g.oh {
          let out = dst + ((l * g.od + oz) * g.oh + oy) * g.ow
          let z0 = oz * g.fd, z1 = min(z0 + g.fd, g.d)
          let y0 = oy * g.fh, y1 = min(y0 + g.fh, g.h)
          if method == .nearest {
            let row = src + ((l * g.d + z0) * g.h + y0) * g.w
            for ox in 0..<g.ow { out[ox] = row[ox * g.fw] }
            continue
          }
          if integer, T.self == UInt16.self || T.self == UInt8.self {
            // The common microscopy types: 32-bit sums in a loop the compiler vectorizes.
            let rows = (z1 - z0) * (y1 - y0)
            if T.self == UInt16.self {
              meanRow(UnsafeRawPointer(src).assumingMemoryBound(to: UInt16.self), UnsafeMutableRawPointer(out).assumingMemoryBound(to: UInt16.self),
                g, l: l, z: z0..<z1, y: y0..<y1, rows: rows, acc: acc32)
            } else {
              meanRow(UnsafeRawPointer(src).assumingMemoryBound(to: UInt8.self), UnsafeMutableRawPointer(out).assumingMemoryBound(to: UInt8.self),
                g, l: l, z: z0..<z1, y: y0..<y1, rows: rows, acc: acc32)
            }
            continue
          }
          if integer {
            acc.initialize(repeating: 0, count: g.ow)
            for z in z0..<z1 {
              for y in y0..<y1 {
                let row = src + ((l * g.d + z) * g.h + y) * g.w
                if g.fw == 2 {
                  let pairs = g.w / 2
                  for ox in 0..<pairs { acc[ox] &+= row[2 * ox].int64Value &+ row[2 * ox + 1].int64Value }
                  if g.w % 2 == 1 { acc[pairs] &+= row[g.w - 1].int64Value }
                } else {
                  for ox in 0..<g.ow { acc[ox] &+= row[ox].int64Value }
                }
              }
            }
            // Every column sums the same rows, fw voxels wide but the odd last one.
            let rows = Int64((z1 - z0) * (y1 - y0))
            for ox in 0..<g.ow { out[ox] = T(mean: acc[ox], count: g.fw == 2 && 2 * ox + 1 < g.w ? 2 * rows : rows) }
            continue
          }
          var first = true
          for z in z0..<z1 {
            for y in y0..<y1 {
              let row = src + ((l * g.d + z) * g.h + y) * g.w
              switch method {
              case .mean:
                if g.fw == 2 {
                  let pairs = g.w / 2
                  // Added one by one, in the order of the general kernel (same rounding of float sums).
                  for ox in 0..<pairs { sums[ox] += row[2 * ox].doubleValue; sums[ox] += row[2 * ox + 1].doubleValue; counts[ox] += 2 }
                  if g.w % 2 == 1 { sums[pairs] += row[g.w - 1].doubleValue; counts[pairs] += 1 }
                } else {
                  for ox in 0..<g.ow { sums[ox] += row[ox].doubleValue; counts[ox] += 1 }
                }
              case .min, .max:
                for ox in 0..<g.ow {
                  var v = row[ox * g.fw]
                  if g.fw == 2, ox * 2 + 1 < g.w {
                    let u = row[ox * 2 + 1]
                    v = method == .min ? Swift.min(v, u) : Swift.max(v, u)
                  }
                  if first { best[ox] = v } else { best[ox] = method == .min ? Swift.min(best[ox], v) : Swift.max(best[ox], v) }
                }
                first = false
              default: break
              }
            }
          }
          if method == .mean {
            for ox in 0..<g.ow {
              out[ox] = T(rounding: sums[ox] / counts[ox])
              sums[ox] = 0
              counts[ox] = 0
            }
          } else {
            for ox in 0..<g.ow { out[ox] = best[ox] }
          }
        }
      }
    }
  }

  /// One output row of the mean of unsigned 8- or 16-bit values: the block sums of rows `y` of planes
  /// `z` in `acc` (32 bits hold 8 samples of 16 bits), then each divided by its count, a power of two,
  /// with a shift, rounded half to even: the general kernel's results.
  @inline(__always)
  static func meanRow<T: FixedWidthInteger & UnsignedInteger>(
    _ src: UnsafePointer<T>, _ out: UnsafeMutablePointer<T>, _ g: Geometry, l: Int, z: Range<Int>, y: Range<Int>, rows: Int,
    acc: UnsafeMutablePointer<UInt32>
  ) {
    let pairs = g.fw == 2 ? g.w / 2 : 0
    acc.initialize(repeating: 0, count: g.ow)
    for zz in z {
      for yy in y {
        let row = src + ((l * g.d + zz) * g.h + yy) * g.w
        if g.fw == 2 {
          for ox in 0..<pairs { acc[ox] &+= UInt32(truncatingIfNeeded: row[2 * ox]) &+ UInt32(truncatingIfNeeded: row[2 * ox + 1]) }
          if g.w % 2 == 1 { acc[pairs] &+= UInt32(truncatingIfNeeded: row[g.w - 1]) }
        } else {
          for ox in 0..<g.ow { acc[ox] &+= UInt32(truncatingIfNeeded: row[ox]) }
        }
      }
    }
    /// Columns `range` divided by 2^k, rounded half to even (masking shifts and selects: vectorized).
    @inline(__always) func divide(_ range: Range<Int>, _ k: UInt32) {
      guard k > 0 else {
        for ox in range { out[ox] = T(truncatingIfNeeded: acc[ox]) }
        return
      }
      let mask = (UInt32(1) &<< k) &- 1, half = UInt32(1) &<< (k &- 1)
      for ox in range {
        let sum = acc[ox]
        let q = sum &>> k, r = sum & mask
        let up = (r > half ? UInt32(1) : 0) | ((r == half ? UInt32(1) : 0) & q)
        out[ox] = T(truncatingIfNeeded: q &+ up)
      }
    }
    let full = UInt32((rows * g.fw).trailingZeroBitCount)
    divide(0..<pairs, full)
    if pairs < g.ow {
      // The last column of an odd width (fw 2), or every column (fw 1).
      divide(pairs..<g.ow, g.fw == 2 ? UInt32(rows.trailingZeroBitCount) : full)
    }
  }
}
