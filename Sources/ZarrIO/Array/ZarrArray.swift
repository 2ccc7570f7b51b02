/// A Zarr array (v3 or v2) in a store: metadata plus chunked, encoded data.
///
/// Reads and writes take any rectangular region. Chunks are decoded and encoded in parallel on all
/// cores, with at most one chunk per thread in memory. Missing chunks read as the fill value; chunks
/// equal to the fill value are not stored (unless ``writeEmptyChunks`` is set).
///
///     let store = try FilesystemStore(root: "data.zarr", create: true)
///     let meta = ArrayMetadata(shape: [100, 100], dataType: .uint16, chunkShape: [32, 32])
///     let array = try ZarrArray.create(in: store, path: "raw", metadata: meta)
///     try array.write([UInt16](repeating: 7, count: 100), region: [0..<10, 0..<10])
///     let values = try array.read([0..<10, 0..<10], as: UInt16.self)
public struct ZarrArray: Sendable {
  /// The store holding the array's metadata and chunks.
  public let store: any Store
  /// The node path in the store (`""` for the root).
  public let path: String
  /// The array's metadata, as this value last read or wrote it.
  public let metadata: ArrayMetadata
  /// The codec chain for one chunk.
  public let codecChain: CodecChain
  /// Store chunks even when every element equals the fill value.
  public var writeEmptyChunks = false
  /// Leave alone chunks (shards) that a write would cover completely when they are already stored
  /// and whole: for resuming an interrupted, deterministic write without rewriting what it finished.
  /// A torn object (truncated, zeroed tail) is rewritten; a shard is checked by its index alone
  /// (see `CodecChain.storedChunkIsIntact`).
  public var skipStoredChunks = false
  /// How many threads encode and decode chunks.
  public var concurrency = Parallel.processorCount
  /// Reads only the parts of chunks a region needs, when the codec chain can (sharding).
  let partialDecoder: (any ArrayPartialDecoder)?
  /// Re-encodes only the parts of chunks a write touches, when the codec chain can (sharding).
  let partialEncoder: (any ArrayPartialEncoder)?

  /// Wraps existing metadata (validating it and building the codec chain) without touching the store.
  public init(store: any Store, path: String, metadata: ArrayMetadata) throws(ZarrError) {
    let path = normalizePath(path)
    let metaKey = joinKey(path, metadata.zarrFormat == .v3 ? "zarr.json" : ".zarray")
    do {
      try metadata.validate()
      let spec = ChunkSpec(shape: metadata.chunkShape, dataType: metadata.dataType, fillValue: metadata.fillValue)
      self.codecChain = try CodecChain(metadata.codecs, spec: spec)
    } catch {
      throw error.at(key: metaKey)
    }
    self.store = store
    self.path = path
    self.metadata = metadata
    self.partialDecoder = codecChain.partialDecoder
    self.partialEncoder = codecChain.partialEncoder
  }

  // MARK: Create and open

  /// Creates an array, writing its metadata (and any missing ancestor groups).
  /// - Throws: `.nodeExists` if a node is already there and `overwrite` is false. With `overwrite`,
  ///   the old node and all its data are removed first.
  public static func create(
    in store: any Store, path: String, metadata: ArrayMetadata, overwrite: Bool = false
  ) throws -> ZarrArray {
    let array = try ZarrArray(store: store, path: path, metadata: metadata)
    try ZarrGroup.prepareNode(at: array.path, in: store, format: metadata.zarrFormat, overwrite: overwrite)
    try array.writeMetadata()
    return array
  }

  /// Opens the array at `path` (v3 `zarr.json` or v2 `.zarray`).
  public static func open(in store: any Store, path: String = "") throws -> ZarrArray {
    let path = normalizePath(path)
    guard case .array(let meta) = try NodeMetadata.read(store, path) else {
      throw ZarrError(.nodeExists, "the node at '\(path)' is a group, not an array", key: path)
    }
    return try ZarrArray(store: store, path: path, metadata: meta)
  }

  /// Writes the metadata document(s) of this array.
  public func writeMetadata() throws {
    switch metadata.zarrFormat {
    case .v3:
      try store.set(joinKey(path, "zarr.json"), metadata.v3JSON.serializedBytes())
    case .v2:
      try store.set(joinKey(path, ".zarray"), try metadata.v2JSON().serializedBytes())
      try ZarrGroup.writeV2Attributes(metadata.attributes, at: path, in: store)
    }
  }

  /// Replaces the user attributes and rewrites the metadata; returns the updated array.
  public func setAttributes(_ attributes: JSONObject) throws -> ZarrArray {
    var meta = metadata
    meta.attributes = attributes
    var a = try ZarrArray(store: store, path: path, metadata: meta)
    a.writeEmptyChunks = writeEmptyChunks
    a.concurrency = concurrency
    try a.writeMetadata()
    return a
  }

  // MARK: Shape

  /// The array's shape, in elements per dimension.
  public var shape: [Int] { metadata.shape }
  /// The data type of the elements.
  public var dataType: DataType { metadata.dataType }
  /// The chunk shape (for a sharded array: the shard shape).
  public var chunkShape: [Int] { metadata.chunkShape }
  /// The value of elements whose chunk is not stored.
  public var fillValue: FillValue { metadata.fillValue }
  /// The array's user attributes.
  public var attributes: JSONObject { metadata.attributes }
  /// Number of chunks along each dimension: `ceil(shape / chunkShape)`.
  public var gridShape: [Int] { metadata.gridShape }

  /// The full store key of chunk `coords`.
  public func chunkKey(_ coords: [Int]) -> String {
    joinKey(path, metadata.chunkKeyEncoding.key(coords))
  }

  /// The whole array as a region.
  public var fullRegion: [Range<Int>] { shape.map { 0..<$0 } }

  func check(_ region: [Range<Int>]) throws(ZarrError) {
    guard region.count == shape.count else {
      throw ZarrError(.invalidArgument, "region has \(region.count) dimensions but the array has \(shape.count)", key: path)
    }
    for (r, s) in zip(region, shape) where r.lowerBound < 0 || r.upperBound > s {
      throw ZarrError(.invalidArgument, "region \(region) lies outside the array shape \(shape)", key: path)
    }
  }

  /// The coordinates of every chunk that intersects `region`, in C order.
  public func chunks(intersecting region: [Range<Int>]) -> [[Int]] {
    if region.contains(where: \.isEmpty) { return [] }
    let ranges = zip(region, chunkShape).map { r, c in (r.lowerBound / c)...((r.upperBound - 1) / c) }
    var out: [[Int]] = []
    var index = ranges.map(\.lowerBound)
    while true {
      out.append(index)
      var k = ranges.count - 1
      while k >= 0 {
        index[k] += 1
        if index[k] <= ranges[k].upperBound { break }
        index[k] = ranges[k].lowerBound
        k -= 1
      }
      if k < 0 { return out }
    }
  }

  /// The chunks `region` touches, each with the box of it inside the region.
  func parts(of region: [Range<Int>]) -> [ChunkPart] {
    let chunkShape = self.chunkShape, shape = self.shape
    return chunks(intersecting: region).compactMap { coords in
      let origin = zip(coords, chunkShape).map(*)
      guard let o = Overlap(box: origin, shape: chunkShape, region: region, arrayShape: shape) else { return nil }
      return ChunkPart(key: chunkKey(coords), region: zip(o.inBox, o.extent).map { $0..<($0 + $1) },
        validShape: (0..<shape.count).map { min(chunkShape[$0], shape[$0] - origin[$0]) }, bufferOrigin: o.inRegion)
    }
  }

  // MARK: Chunks

  /// The decoded chunk at `coords`, or `nil` if it is not stored.
  public func readChunk(_ coords: [Int]) throws -> [UInt8]? {
    let key = chunkKey(coords)
    guard let stored = try store.get(key) else { return nil }
    do {
      return try codecChain.decode(stored)
    } catch {
      throw error.at(key: key)
    }
  }

  /// Encodes and stores one whole chunk (or deletes it when it equals the fill value).
  public func writeChunk(_ coords: [Int], _ chunk: [UInt8]) throws {
    try writeChunk(coords, chunk, gate: nil)
  }

  /// ``writeChunk(_:_:)`` with the encoding inside `gate` (the store request outside it).
  func writeChunk(_ coords: [Int], _ chunk: [UInt8], gate: CoreGate?) throws {
    let key = chunkKey(coords)
    let encoded: [UInt8]? = try (gate ?? CoreGate(width: 1, threads: 1)).run {
      if !writeEmptyChunks, chunk.withUnsafeBytes({ ElementOps.allEqual($0, to: fillValue.bytes) }) { return nil }
      do {
        return try codecChain.encode(chunk)
      } catch {
        throw error.at(key: key)
      }
    }
    if let encoded { try store.set(key, encoded) } else { try store.delete(key) }
  }

  // MARK: Read

  /// Reads `region` (the whole array by default) into a new buffer.
  public func read(_ region: [Range<Int>]? = nil) throws -> ArrayBuffer {
    let region = region ?? fullRegion
    try check(region)
    let limit = ReadLimits.current.maxBufferBytes
    guard let count = CheckedArithmetic.product(region.map(\.count), times: dataType.size), count <= limit else {
      throw ZarrError(.invalidArgument,
        "a region of shape \(region.map(\.count)) of \(dataType) is larger than the limit of \(limit) bytes for one read", key: path)
    }
    var failure: (any Error)? = nil
    let bytes = [UInt8](unsafeUninitializedCapacity: count) { buf, initialized in
      do {
        if let base = buf.baseAddress { try read(region, into: UnsafeMutableRawPointer(base)) }
      } catch {
        failure = error
      }
      initialized = count
    }
    if let failure { throw failure }
    return try ArrayBuffer(shape: region.map(\.count), dataType: dataType, bytes: bytes)
  }

  /// Reads `region` as typed elements in C order.
  public func read<T: BitwiseCopyable>(_ region: [Range<Int>]? = nil, as type: T.Type) throws -> [T] {
    try read(region).elements(as: T.self)
  }

  /// Reads `region` into `destination` (the region's elements in C order; need not be initialised).
  public func read(_ region: [Range<Int>], into destination: UnsafeMutableRawPointer) throws {
    try check(region)
    if let partialDecoder {
      try partialDecoder.decode(parts(of: region), from: store, into: destination, outputShape: region.map(\.count),
        concurrency: concurrency)
      return
    }
    let chunkList = chunks(intersecting: region)
    let elementSize = dataType.size
    let regionShape = region.map(\.count)
    let chunkShape = self.chunkShape
    let fill = fillValue.bytes
    let target = SendablePointer(destination)
    let shape = self.shape
    // Remote stores: many threads wait for chunks, as many as there are cores decode them.
    let threads = Parallel.ioWidth(store, cores: concurrency)
    let gate = CoreGate(width: concurrency, threads: threads)
    try Parallel.forEach(chunkList.count, width: threads) { i in
      let coords = chunkList[i]
      guard let o = Overlap(box: zip(coords, chunkShape).map(*), shape: chunkShape, region: region, arrayShape: shape) else {
        return
      }
      let key = chunkKey(coords)
      guard let stored = try store.get(key) else {
        ElementOps.fillRegion(target.pointer, shape: regionShape, origin: o.inRegion, extent: o.extent, element: fill)
        return
      }
      try gate.run {
        let chunk: [UInt8]
        do { chunk = try codecChain.decode(stored) } catch { throw error.at(key: key) }
        chunk.withUnsafeBytes { src in
          guard let base = src.baseAddress else { return }
          ElementOps.copyRegion(from: base, shape: chunkShape, origin: o.inBox,
            to: target.pointer, shape: regionShape, origin: o.inRegion, extent: o.extent, elementSize: elementSize)
        }
      }
    }
  }

  // MARK: Write

  /// Writes `buffer` with its first element at `origin` (the array origin by default).
  ///
  /// Chunks covered completely are encoded without reading them; partly covered chunks are
  /// read, updated and rewritten under a per-chunk lock, so concurrent writers in one process
  /// never lose each other's updates.
  public func write(_ buffer: ArrayBuffer, at origin: [Int]? = nil) throws {
    let origin = origin ?? [Int](repeating: 0, count: shape.count)
    guard buffer.dataType == dataType else {
      throw ZarrError(.invalidArgument, "buffer holds \(buffer.dataType) but the array is \(dataType)", key: path)
    }
    guard origin.count == shape.count, buffer.shape.count == shape.count else {
      throw ZarrError(.invalidArgument, "buffer has \(buffer.shape.count) dimensions but the array has \(shape.count)", key: path)
    }
    let region = zip(origin, buffer.shape).map { $0..<($0 + $1) }
    try check(region)
    if let partialEncoder {
      let options = PartialWriteOptions(writeEmptyChunks: writeEmptyChunks, skipStoredChunks: skipStoredChunks, concurrency: concurrency)
      try buffer.bytes.withUnsafeBytes { src in
        if let base = src.baseAddress {
          try partialEncoder.encode(parts(of: region), from: base, sourceShape: buffer.shape, to: store, options: options)
        }
      }
      return
    }
    let chunkList = chunks(intersecting: region)
    let elementSize = dataType.size
    let chunkShape = self.chunkShape
    let shape = self.shape
    let threads = Parallel.ioWidth(store, cores: concurrency)
    let gate = CoreGate(width: concurrency, threads: threads)
    try buffer.bytes.withUnsafeBytes { src in
      let source = SendablePointer(UnsafeMutableRawPointer(mutating: src.baseAddress))
      try Parallel.forEach(chunkList.count, width: threads) { i in
        let coords = chunkList[i]
        guard let o = Overlap(box: zip(coords, chunkShape).map(*), shape: chunkShape, region: region, arrayShape: shape) else {
          return
        }
        let update = { (chunk: inout [UInt8]) in
          chunk.withUnsafeMutableBytes { dst in
            ElementOps.copyRegion(from: source.pointer!, shape: buffer.shape, origin: o.inRegion,
              to: dst.baseAddress!, shape: chunkShape, origin: o.inBox, extent: o.extent, elementSize: elementSize)
          }
        }
        if o.coversBox {
          if skipStoredChunks, try codecChain.storedChunkIsIntact(chunkKey(coords), in: store) { return }
          var chunk = ArrayBuffer(shape: chunkShape, dataType: dataType, fill: fillValue).bytes
          update(&chunk)
          try writeChunk(coords, chunk, gate: gate)
        } else {
          try ObjectLocks.withLock(chunkKey(coords)) {
            var chunk = try readChunk(coords) ?? ArrayBuffer(shape: chunkShape, dataType: dataType, fill: fillValue).bytes
            update(&chunk)
            try writeChunk(coords, chunk, gate: gate)
          }
        }
      }
    }
  }

  /// Writes typed elements (C order) into `region`.
  public func write<T: BitwiseCopyable>(_ elements: [T], region: [Range<Int>]) throws {
    let buffer = try ArrayBuffer(shape: region.map(\.count), dataType: dataType, elements: elements)
    try write(buffer, at: region.map(\.lowerBound))
  }

  /// Fills `region` with the fill value (deleting chunks it covers completely).
  public func erase(_ region: [Range<Int>]? = nil) throws {
    let region = region ?? fullRegion
    try write(ArrayBuffer(shape: region.map(\.count), dataType: dataType, fill: fillValue), at: region.map(\.lowerBound))
  }
}
