/// What a codec sees at its place in the chain: a chunk's shape, data type and fill value.
public struct ChunkSpec: Sendable, Hashable {
  /// The chunk's shape, in elements per dimension.
  public var shape: [Int]
  /// The data type of the elements.
  public var dataType: DataType
  /// The value of elements that were never written.
  public var fillValue: FillValue

  /// A spec from a chunk shape, data type and fill value.
  public init(shape: [Int], dataType: DataType, fillValue: FillValue) {
    self.shape = shape
    self.dataType = dataType
    self.fillValue = fillValue
  }

  /// The number of elements in the chunk.
  public var elementCount: Int { shape.reduce(1, *) }
  /// The decoded size of the chunk in bytes.
  public var byteCount: Int { elementCount * dataType.size }
}

/// A codec that maps an array to an array of possibly other shape (e.g. `transpose`).
///
/// Buffers are elements in host byte order, C order, of the spec's shape.
public protocol ArrayToArrayCodec: Sendable {
  /// The metadata form of this codec.
  var configuration: NamedConfiguration { get }
  /// The spec of the encoded array for an input of `spec`.
  func encodedSpec(for spec: ChunkSpec) throws(ZarrError) -> ChunkSpec
  /// Encodes `data` of `spec`.
  func encode(_ data: [UInt8], spec: ChunkSpec) throws(ZarrError) -> [UInt8]
  /// Decodes `data` (of the encoded spec) back to `spec`.
  func decode(_ data: [UInt8], spec: ChunkSpec) throws(ZarrError) -> [UInt8]
}

/// The one codec of a chain that turns an array into bytes (`bytes`, `sharding_indexed`).
public protocol ArrayToBytesCodec: Sendable {
  /// The metadata form of this codec.
  var configuration: NamedConfiguration { get }
  /// Encodes `data` (elements of `spec`) into bytes.
  func encode(_ data: [UInt8], spec: ChunkSpec) throws(ZarrError) -> [UInt8]
  /// Decodes `bytes` back into elements of `spec`.
  func decode(_ bytes: [UInt8], spec: ChunkSpec) throws(ZarrError) -> [UInt8]
  /// The exact encoded size for `spec`, if it is fixed (needed for a shard index).
  func encodedSize(for spec: ChunkSpec) -> Int?
}

/// A codec that maps bytes to bytes (`gzip`, `zstd`, `blosc`, `crc32c`).
public protocol BytesToBytesCodec: Sendable {
  /// The metadata form of this codec.
  var configuration: NamedConfiguration { get }
  /// Encodes `bytes`.
  func encode(_ bytes: [UInt8]) throws(ZarrError) -> [UInt8]
  /// Decodes `bytes`; `expectedSize` is the exact decoded size when the chain knows it.
  func decode(_ bytes: [UInt8], expectedSize: Int?) throws(ZarrError) -> [UInt8]
  /// The exact encoded size for an input of `decodedSize` bytes, if it is fixed.
  func encodedSize(forDecodedSize decodedSize: Int) -> Int?
  /// Decodes `input` into `output`, which the decoded bytes must fill exactly.
  ///
  /// The default decodes into a new array and copies; compressors decode in place.
  func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(ZarrError)
  /// Encodes bytes given by pointer (the default copies them into an array first).
  func encode(_ input: UnsafeRawBufferPointer) throws(ZarrError) -> [UInt8]
  /// An upper bound of the encoded size for `decodedSize` input bytes, if the codec has one.
  func maxEncodedSize(forDecodedSize decodedSize: Int) -> Int?
  /// Encodes into `output` (at least ``maxEncodedSize(forDecodedSize:)`` bytes); returns the length.
  func encode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(ZarrError) -> Int
}

extension BytesToBytesCodec {
  /// No fixed encoded size, unless the codec says otherwise.
  public func encodedSize(forDecodedSize decodedSize: Int) -> Int? { nil }

  /// Copies the bytes into an array and encodes that.
  public func encode(_ input: UnsafeRawBufferPointer) throws(ZarrError) -> [UInt8] { try encode(Array(input)) }

  /// The fixed encoded size, if any, unless the codec gives a bound.
  public func maxEncodedSize(forDecodedSize decodedSize: Int) -> Int? { encodedSize(forDecodedSize: decodedSize) }

  /// Encodes into a new array and copies it into `output`; throws if it does not fit.
  public func encode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(ZarrError) -> Int {
    let encoded = try encode(input)
    guard encoded.count <= output.count else {
      throw ZarrError(.codecFailure, "\(configuration.name): \(encoded.count) encoded bytes exceed the \(output.count)-byte buffer")
    }
    encoded.withUnsafeBytes { if $0.count > 0 { output.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
    return encoded.count
  }

  /// Decodes into a new array and copies it into `output`; throws unless it fills `output` exactly.
  public func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(ZarrError) {
    let decoded = try decode(Array(input), expectedSize: output.count)
    guard decoded.count == output.count else {
      throw ZarrError(.corruptData, "\(configuration.name): data decoded to \(decoded.count) bytes, expected \(output.count)")
    }
    decoded.withUnsafeBytes { if let b = $0.baseAddress, output.count > 0 { output.baseAddress!.copyMemory(from: b, byteCount: output.count) } }
  }
}

/// A codec of any of the three kinds.
public enum AnyCodec: Sendable {
  /// An array-to-array codec, such as `transpose`.
  case arrayToArray(any ArrayToArrayCodec)
  /// An array-to-bytes codec, such as `bytes` or `sharding_indexed`.
  case arrayToBytes(any ArrayToBytesCodec)
  /// A bytes-to-bytes codec, such as `gzip` or `crc32c`.
  case bytesToBytes(any BytesToBytesCodec)

  /// The metadata form of the wrapped codec.
  public var configuration: NamedConfiguration {
    switch self {
    case .arrayToArray(let c): return c.configuration
    case .arrayToBytes(let c): return c.configuration
    case .bytesToBytes(let c): return c.configuration
    }
  }
}

/// A codec type the registry can build from metadata.
///
/// Adding a codec is one new file with a type conforming to this protocol, plus its name in
/// ``CodecRegistry`` (or a call to ``CodecRegistry/register(_:)`` from outside the package).
public protocol RegisteredCodec: Sendable {
  /// The names (and aliases) this codec is known by in metadata.
  static var names: [String] { get }
  /// Builds the codec from its configuration. `spec` is the chunk spec at the codec's input
  /// (for bytes-to-bytes codecs: the input of the chain's array-to-bytes codec).
  static func make(configuration: JSONObject, spec: ChunkSpec) throws(ZarrError) -> AnyCodec
}

/// Checks that a configuration has only known keys.
func checkKeys(_ configuration: JSONObject, allowed: Set<String>, codec: String) throws(ZarrError) {
  for key in configuration.keys where !allowed.contains(key) {
    throw ZarrError(.unsupported, "unknown configuration field \"\(key)\" of codec '\(codec)'",
      pointer: "/configuration/" + pointerToken(key))
  }
}

/// Reads an integer configuration field.
func intField(
  _ configuration: JSONObject, _ key: String, codec: String, default value: Int? = nil, range: ClosedRange<Int>? = nil
) throws(ZarrError) -> Int {
  guard let v = configuration[key] else {
    if let value { return value }
    throw ZarrError(.invalidMetadata, "codec '\(codec)' needs \"\(key)\"", pointer: "/configuration")
  }
  guard let n = v.intValue else {
    throw ZarrError(.invalidMetadata, "\"\(key)\" of codec '\(codec)' must be an integer", pointer: "/configuration/\(key)")
  }
  if let range, !range.contains(n) {
    throw ZarrError(.invalidMetadata, "\"\(key)\" of codec '\(codec)' must be in \(range.lowerBound)...\(range.upperBound), got \(n)",
      pointer: "/configuration/\(key)")
  }
  return n
}

// MARK: Partial reads and writes

/// One stored chunk and the box of it that a partial read or write touches.
package struct ChunkPart: Sendable {
  /// The chunk's full store key.
  package var key: String
  /// The box within the chunk, in chunk coordinates.
  package var region: [Range<Int>]
  /// The part of the chunk that lies inside the array: the chunk shape, less at the array's far edges.
  package var validShape: [Int]
  /// Where the box begins in the caller's buffer.
  package var bufferOrigin: [Int]

  /// Makes a part from its key, box, extent inside the array and place in the caller's buffer.
  package init(key: String, region: [Range<Int>], validShape: [Int], bufferOrigin: [Int]) {
    self.key = key
    self.region = region
    self.validShape = validShape
    self.bufferOrigin = bufferOrigin
  }

  /// This part seen through a transpose: dimension `j` of the result is dimension `order[j]` of this one.
  func permuted(_ order: [Int]) -> ChunkPart {
    ChunkPart(key: key, region: order.map { region[$0] }, validShape: order.map { validShape[$0] },
      bufferOrigin: order.map { bufferOrigin[$0] })
  }
}

/// How a partial write treats empty and already stored chunks.
package struct PartialWriteOptions: Sendable {
  /// Store chunks even when every element equals the fill value.
  package var writeEmptyChunks: Bool
  /// Leave alone stored chunks that the write covers completely.
  package var skipStoredChunks: Bool
  /// How many threads encode.
  package var concurrency: Int

  /// The options of a write.
  package init(writeEmptyChunks: Bool, skipStoredChunks: Bool, concurrency: Int) {
    self.writeEmptyChunks = writeEmptyChunks
    self.skipStoredChunks = skipStoredChunks
    self.concurrency = concurrency
  }
}

/// Reads boxes of stored chunks, fetching only the bytes those boxes need (as zarrs'
/// `ArrayPartialDecoderTraits`).
package protocol ArrayPartialDecoder: Sendable {
  /// Decodes the box of every part into `output` (elements of `outputShape` in C order; need not be
  /// initialised); boxes without stored data get the fill value.
  func decode(
    _ parts: [ChunkPart], from store: any Store, into output: UnsafeMutableRawPointer, outputShape: [Int], concurrency: Int
  ) throws
}

/// Writes boxes of stored chunks, re-encoding only what the boxes touch.
package protocol ArrayPartialEncoder: Sendable {
  /// Writes the box of every part from `source` (elements of `sourceShape` in C order).
  func encode(
    _ parts: [ChunkPart], from source: UnsafeRawPointer, sourceShape: [Int], to store: any Store, options: PartialWriteOptions
  ) throws
}

/// An array-to-bytes codec that reads and writes parts of a stored chunk itself (`sharding_indexed`).
package protocol PartialArrayToBytesCodec: ArrayToBytesCodec, ArrayPartialDecoder, ArrayPartialEncoder {}

/// An array-to-array codec that passes partial reads and writes on to the codecs after it (`transpose`).
package protocol PartialArrayToArrayCodec: ArrayToArrayCodec {
  /// A decoder that maps boxes through this codec (input `spec`) and reads them with `inner`.
  func partialDecoder(wrapping inner: any ArrayPartialDecoder, spec: ChunkSpec) -> any ArrayPartialDecoder
  /// An encoder that maps boxes through this codec (input `spec`) and writes them with `inner`.
  func partialEncoder(wrapping inner: any ArrayPartialEncoder, spec: ChunkSpec) -> any ArrayPartialEncoder
}
