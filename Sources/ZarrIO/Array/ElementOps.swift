/// Raw-buffer loops over elements: byte swapping, permutation, region copies and fill checks.
///
/// Each operation switches once on the element size and runs a non-generic inner loop.
package enum ElementOps {
  /// Reverses the bytes of every `unit`-byte element in place.
  static func byteSwap(_ data: inout [UInt8], unit: Int) {
    data.withUnsafeMutableBytes { byteSwap($0, unit: unit) }
  }

  /// Reverses the bytes of every `unit`-byte element of `buf` in place (a trailing partial element
  /// is left alone).
  package static func byteSwap(_ buf: UnsafeMutableRawBufferPointer, unit: Int) {
    guard let base = buf.baseAddress else { return }
    let n = buf.count / unit
    switch unit {
    case 2:
      for i in 0..<n {
        let v = base.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)
        base.storeBytes(of: v.byteSwapped, toByteOffset: i * 2, as: UInt16.self)
      }
    case 4:
      for i in 0..<n {
        let v = base.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)
        base.storeBytes(of: v.byteSwapped, toByteOffset: i * 4, as: UInt32.self)
      }
    case 8:
      for i in 0..<n {
        let v = base.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)
        base.storeBytes(of: v.byteSwapped, toByteOffset: i * 8, as: UInt64.self)
      }
    default:
      let p = base.assumingMemoryBound(to: UInt8.self)
      for i in 0..<n {
        var lo = i * unit, hi = lo + unit - 1
        while lo < hi {
          let t = p[lo]
          p[lo] = p[hi]
          p[hi] = t
          lo += 1
          hi -= 1
        }
      }
    }
  }

  /// C-order strides (in elements) of `shape`.
  package static func strides(_ shape: [Int]) -> [Int] {
    var s = [Int](repeating: 1, count: shape.count)
    var acc = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
      s[i] = acc
      acc *= shape[i]
    }
    return s
  }

  /// Permutes dimensions: output dimension `j` is input dimension `order[j]`.
  static func permute(_ data: [UInt8], shape: [Int], order: [Int], elementSize: Int) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: data.count)
    data.withUnsafeBytes { src in
      out.withUnsafeMutableBytes { dst in
        guard let s = src.baseAddress, let d = dst.baseAddress else { return }
        permute(s, shape: shape, order: order, into: d, elementSize: elementSize)
      }
    }
    return out
  }

  /// Permutes dimensions from `src` (C order, `shape`) into `dst` (C order, the permuted shape):
  /// output dimension `j` is input dimension `order[j]`.
  static func permute(_ src: UnsafeRawPointer, shape: [Int], order: [Int], into dst: UnsafeMutableRawPointer, elementSize: Int) {
    let n = shape.count
    let total = shape.reduce(1, *)
    guard total > 0 else { return }
    if n == 0 {
      dst.copyMemory(from: src, byteCount: elementSize)
      return
    }
    let inStrides = strides(shape)
    let outShape = order.map { shape[$0] }
    // Input strides (in bytes) seen when walking the output in C order.
    let walk = order.map { inStrides[$0] * elementSize }
    var index = [Int](repeating: 0, count: n)
    let inner = outShape[n - 1]
    let innerStride = walk[n - 1]
    var srcOffset = 0
    var dstOffset = 0
    let rows = total / inner
    for _ in 0..<rows {
      copyStrided(src + srcOffset, stride: innerStride, to: dst + dstOffset, count: inner, elementSize: elementSize)
      dstOffset += inner * elementSize
      // Advance the odometer over the outer output dimensions.
      var k = n - 2
      while k >= 0 {
        index[k] += 1
        srcOffset += walk[k]
        if index[k] < outShape[k] { break }
        srcOffset -= walk[k] * outShape[k]
        index[k] = 0
        k -= 1
      }
    }
  }

  /// Gathers `count` elements `stride` bytes apart into a contiguous run.
  @inline(__always)
  static func copyStrided(
    _ src: UnsafeRawPointer, stride: Int, to dst: UnsafeMutableRawPointer, count: Int, elementSize: Int
  ) {
    if stride == elementSize {
      dst.copyMemory(from: src, byteCount: count * elementSize)
      return
    }
    switch elementSize {
    case 1:
      for i in 0..<count { dst.storeBytes(of: src.load(fromByteOffset: i * stride, as: UInt8.self), toByteOffset: i, as: UInt8.self) }
    case 2:
      for i in 0..<count {
        dst.storeBytes(of: src.loadUnaligned(fromByteOffset: i * stride, as: UInt16.self), toByteOffset: i * 2, as: UInt16.self)
      }
    case 4:
      for i in 0..<count {
        dst.storeBytes(of: src.loadUnaligned(fromByteOffset: i * stride, as: UInt32.self), toByteOffset: i * 4, as: UInt32.self)
      }
    case 8:
      for i in 0..<count {
        dst.storeBytes(of: src.loadUnaligned(fromByteOffset: i * stride, as: UInt64.self), toByteOffset: i * 8, as: UInt64.self)
      }
    default:
      for i in 0..<count { (dst + i * elementSize).copyMemory(from: src + i * stride, byteCount: elementSize) }
    }
  }

  /// Copies the box `extent` at `srcOrigin` in an array of `srcShape` to `dstOrigin` in `dstShape`.
  ///
  /// Both buffers are C-order; trailing dimensions that are whole in both are merged into one run.
  static func copyRegion(
    from src: UnsafeRawPointer, shape srcShape: [Int], origin srcOrigin: [Int],
    to dst: UnsafeMutableRawPointer, shape dstShape: [Int], origin dstOrigin: [Int],
    extent: [Int], elementSize: Int
  ) {
    let n = extent.count
    if n == 0 {
      dst.copyMemory(from: src, byteCount: elementSize)
      return
    }
    if extent.contains(0) { return }
    // Merge trailing dimensions that are copied whole in both arrays.
    var runDims = 1
    var run = extent[n - 1]
    while runDims < n {
      let d = n - runDims
      guard extent[d] == srcShape[d], extent[d] == dstShape[d], srcOrigin[d] == 0, dstOrigin[d] == 0 else { break }
      run *= extent[d - 1]
      runDims += 1
    }
    let runBytes = run * elementSize
    let ss = strides(srcShape), ds = strides(dstShape)
    var srcOffset = 0, dstOffset = 0
    for i in 0..<n {
      srcOffset += srcOrigin[i] * ss[i]
      dstOffset += dstOrigin[i] * ds[i]
    }
    srcOffset *= elementSize
    dstOffset *= elementSize
    let outer = n - runDims  // number of dimensions iterated one by one
    if outer == 0 {
      (dst + dstOffset).copyMemory(from: src + srcOffset, byteCount: runBytes)
      return
    }
    var index = [Int](repeating: 0, count: outer)
    while true {
      (dst + dstOffset).copyMemory(from: src + srcOffset, byteCount: runBytes)
      var k = outer - 1
      while k >= 0 {
        index[k] += 1
        srcOffset += ss[k] * elementSize
        dstOffset += ds[k] * elementSize
        if index[k] < extent[k] { break }
        srcOffset -= ss[k] * elementSize * extent[k]
        dstOffset -= ds[k] * elementSize * extent[k]
        index[k] = 0
        k -= 1
      }
      if k < 0 { return }
    }
  }

  /// Fills the box `extent` at `origin` of a C-order array of `shape` with `element`.
  static func fillRegion(
    _ dst: UnsafeMutableRawPointer, shape: [Int], origin: [Int], extent: [Int], element: [UInt8]
  ) {
    let n = extent.count
    let size = element.count
    if n == 0 {
      fill(UnsafeMutableRawBufferPointer(start: dst, count: size), with: element)
      return
    }
    if extent.contains(0) { return }
    var runDims = 1
    var run = extent[n - 1]
    while runDims < n {
      let d = n - runDims
      guard extent[d] == shape[d], origin[d] == 0 else { break }
      run *= extent[d - 1]
      runDims += 1
    }
    let runBytes = run * size
    let st = strides(shape)
    var offset = 0
    for i in 0..<n { offset += origin[i] * st[i] }
    offset *= size
    let outer = n - runDims
    if outer == 0 {
      fill(UnsafeMutableRawBufferPointer(start: dst + offset, count: runBytes), with: element)
      return
    }
    var index = [Int](repeating: 0, count: outer)
    while true {
      fill(UnsafeMutableRawBufferPointer(start: dst + offset, count: runBytes), with: element)
      var k = outer - 1
      while k >= 0 {
        index[k] += 1
        offset += st[k] * size
        if index[k] < extent[k] { break }
        offset -= st[k] * size * extent[k]
        index[k] = 0
        k -= 1
      }
      if k < 0 { return }
    }
  }

  /// Fills a buffer with repeated copies of one element.
  static func fill(_ buf: UnsafeMutableRawBufferPointer, with element: [UInt8]) {
    guard let base = buf.baseAddress, !element.isEmpty else { return }
    if element.allSatisfy({ $0 == 0 }) {
      base.initializeMemory(as: UInt8.self, repeating: 0, count: buf.count)
      return
    }
    let size = element.count
    let n = buf.count / size
    guard n > 0 else { return }
    element.withUnsafeBytes { base.copyMemory(from: $0.baseAddress!, byteCount: size) }
    // Doubling copies.
    var filled = 1
    while filled < n {
      let k = min(filled, n - filled)
      (base + filled * size).copyMemory(from: base, byteCount: k * size)
      filled += k
    }
  }

  /// Whether every element equals `element`.
  static func allEqual(_ buf: UnsafeRawBufferPointer, to element: [UInt8]) -> Bool {
    guard let base = buf.baseAddress, !element.isEmpty else { return true }
    let size = element.count
    let count = buf.count
    // Compare 8 bytes at a time against the repeating pattern when the element divides 8.
    if 8 % size == 0 {
      var pattern: UInt64 = 0
      withUnsafeMutableBytes(of: &pattern) { p in
        for i in 0..<8 { p[i] = element[i % size] }
      }
      var i = 0
      while i + 8 <= count {
        if base.loadUnaligned(fromByteOffset: i, as: UInt64.self) != pattern { return false }
        i += 8
      }
      while i < count {
        if base.load(fromByteOffset: i, as: UInt8.self) != element[i % size] { return false }
        i += 1
      }
      return true
    }
    return element.withUnsafeBytes { e in
      var i = 0
      while i < count {
        if memcmp(base + i, e.baseAddress!, size) != 0 { return false }
        i += size
      }
      return true
    }
  }
}

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif
