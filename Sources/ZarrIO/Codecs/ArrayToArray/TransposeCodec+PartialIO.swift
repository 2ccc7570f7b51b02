/// `transpose` passes partial reads and writes through: boxes are permuted into the encoded order,
/// read or written by the codecs after it, and the elements permuted back.
extension TransposeCodec: PartialArrayToArrayCodec {
  /// A decoder that reads boxes in the encoded order with `inner`, then permutes them back.
  package func partialDecoder(wrapping inner: any ArrayPartialDecoder, spec: ChunkSpec) -> any ArrayPartialDecoder {
    TransposedPartialDecoder(inner: inner, order: order, elementSize: spec.dataType.size)
  }

  /// An encoder that permutes boxes into the encoded order, then writes them with `inner`.
  package func partialEncoder(wrapping inner: any ArrayPartialEncoder, spec: ChunkSpec) -> any ArrayPartialEncoder {
    TransposedPartialEncoder(inner: inner, order: order, elementSize: spec.dataType.size)
  }
}

/// Reads through a transpose: the region is read in the encoded order into a scratch buffer (one
/// copy of the region), then permuted into the caller's buffer.
struct TransposedPartialDecoder: ArrayPartialDecoder {
  let inner: any ArrayPartialDecoder
  /// Encoded dimension `j` is decoded dimension `order[j]`.
  let order: [Int]
  let elementSize: Int

  func decode(
    _ parts: [ChunkPart], from store: any Store, into output: UnsafeMutableRawPointer, outputShape: [Int], concurrency: Int
  ) throws {
    let encodedShape = order.map { outputShape[$0] }
    let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, encodedShape.reduce(elementSize, *)), alignment: 64)
    defer { scratch.deallocate() }
    guard let base = scratch.baseAddress else { return }
    try inner.decode(parts.map { $0.permuted(order) }, from: store, into: base, outputShape: encodedShape, concurrency: concurrency)
    ElementOps.permute(base, shape: encodedShape, order: inversePermutation(order), into: output, elementSize: elementSize)
  }
}

/// Writes through a transpose: the source is permuted into the encoded order in a scratch buffer
/// (one copy of the region), then written by the codecs after it.
struct TransposedPartialEncoder: ArrayPartialEncoder {
  let inner: any ArrayPartialEncoder
  /// Encoded dimension `j` is decoded dimension `order[j]`.
  let order: [Int]
  let elementSize: Int

  func encode(
    _ parts: [ChunkPart], from source: UnsafeRawPointer, sourceShape: [Int], to store: any Store, options: PartialWriteOptions
  ) throws {
    let encodedShape = order.map { sourceShape[$0] }
    let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, encodedShape.reduce(elementSize, *)), alignment: 64)
    defer { scratch.deallocate() }
    guard let base = scratch.baseAddress else { return }
    ElementOps.permute(source, shape: sourceShape, order: order, into: base, elementSize: elementSize)
    try inner.encode(parts.map { $0.permuted(order) }, from: UnsafeRawPointer(base), sourceShape: encodedShape, to: store, options: options)
  }
}

/// The permutation that undoes `order`.
func inversePermutation(_ order: [Int]) -> [Int] {
  var inverse = [Int](repeating: 0, count: order.count)
  for (i, o) in order.enumerated() { inverse[o] = i }
  return inverse
}
