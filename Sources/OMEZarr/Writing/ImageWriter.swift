import ZarrIO

/// How an image is written: version, axes, physical size, layout and pyramid.
public struct ImageOptions: Sendable {
  /// The NGFF version (0.5 by default: Zarr v3, sharded).
  public var version: NGFFVersion = .latest05
  /// A name for the image, written as the multiscale's `name`.
  public var name: String?
  /// One axis per dimension (e.g. `[.channel(), .space("z"), .space("y"), .space("x")]`).
  public var axes: [Axis]
  /// Level-0 pixel size per axis (default 1).
  public var scale: [Double]?
  /// Position of level 0's first pixel centre per axis (default 0).
  public var translation: [Double]?
  /// Chunk shape of every level (clamped to the level shape); default: 64³ for volumes,
  /// 512² (256² over 2-byte types) for planes, 1 along non-space axes.
  public var chunkShape: [Int]?
  /// Shard shape (Zarr v3 only); default: ``ZarrIO/ArrayMetadata/defaultShardShape(shape:chunkShape:dataType:)``.
  public var shardShape: [Int]?
  /// Shard the arrays (Zarr v3 only).
  public var sharded = true
  /// blosc (zstd level 3, byte shuffle): smaller and faster than plain zstd on microscopy data.
  public var compressor: Compressor = .blosc(cname: "zstd", clevel: 3, shuffle: .shuffle)
  /// Exact number of levels; default: until the largest space dimension fits one chunk.
  public var levels: Int?
  /// How each level is computed from the one above (`mean` by default; `mode` suits labels).
  public var method: DownsamplingMethod = .mean
  /// Never downsample z.
  public var xyOnly = false
  /// Channel rendering; default: computed from the data when there is a channel axis or one channel.
  public var channels: [Omero.Channel]?
  /// Extra keys for the multiscale's `metadata` object.
  public var metadata: JSONObject = [:]
  /// Replace an existing node.
  public var overwrite = false

  /// Options for an image with `axes`, level-0 pixel size and position, written as `version`.
  public init(axes: [Axis], scale: [Double]? = nil, translation: [Double]? = nil, version: NGFFVersion = .latest05) {
    self.axes = axes
    self.scale = scale
    self.translation = translation
    self.version = version
  }

  /// Default axes for an image of `ndim` dimensions: `[c,] [z,] y, x` style (t, c, z, y, x for 5).
  public static func defaultAxes(ndim: Int) -> [Axis] {
    let all: [Axis] = [.time(), .channel(), .space("z"), .space("y"), .space("x")]
    return Array(all.suffix(max(2, min(ndim, 5))))
  }
}

/// Writes multiscale images (with their pyramid), label images and plates.
public enum ImageWriter {
  /// Writes `source` as a multiscale image at `path`, computing its pyramid.
  ///
  /// Levels are written block by block (one shard at a time), each level computed from the one
  /// before, so memory stays bounded by a few shards whatever the image size. The group's OME
  /// metadata is written last: an interrupted write never looks like a complete image.
  @discardableResult
  public static func write(
    _ source: any LevelSource, to store: any Store, at path: String = "", options: ImageOptions,
    imageLabel: ImageLabel? = nil, plan given: PyramidPlan? = nil
  ) throws -> OMENode {
    let shape = source.shape
    let n = shape.count
    var axes = options.axes
    guard axes.count == n else {
      throw OMEZarrError(.invalidArgument, "\(axes.count) axes given for an image of \(n) dimensions (shape \(shape))")
    }
    guard Set(axes.map(\.name)).count == n else {
      throw OMEZarrError(.invalidArgument, "axis names must be unique: \(axes.map(\.name))")
    }
    for i in axes.indices {
      if let u = axes[i].unit, let c = Units.canonical(u) { axes[i].unit = c }
    }
    if let s = options.scale, s.count != n {
      throw OMEZarrError(.invalidArgument, "scale has \(s.count) values for \(n) axes")
    }
    if let t = options.translation, t.count != n {
      throw OMEZarrError(.invalidArgument, "translation has \(t.count) values for \(n) axes")
    }
    let version = options.version
    let dataType = source.dataType
    let chunkShape = options.chunkShape ?? defaultChunkShape(shape: shape, axes: axes, dataType: dataType)
    guard chunkShape.count == n, chunkShape.allSatisfy({ $0 > 0 }) else {
      throw OMEZarrError(.invalidArgument, "chunk shape \(chunkShape) does not fit \(n) dimensions")
    }
    let plan = given ?? PyramidPlan.make(shape: shape, axes: axes, scale: options.scale, translation: options.translation,
      chunkShape: chunkShape, levels: options.levels, xyOnly: options.xyOnly, method: options.method)

    let root = try ZarrGroup.create(in: store, path: path, format: version.zarrFormat, overwrite: options.overwrite)
    var levels: [ZarrArray] = []
    for (i, levelShape) in plan.shapes.enumerated() {
      let meta = levelMetadata(shape: levelShape, dataType: dataType, axes: axes, chunkShape: chunkShape, options: options)
      let array = try root.createArray(String(i), metadata: meta)
      if i == 0 {
        try copy(source, into: array)
      } else {
        try downsample(levels[i - 1], into: array, factors: plan.factors[i], method: options.method)
      }
      levels.append(array)
    }

    // Metadata last.
    var ome = OMEAttributes()
    ome.version = version.description
    ome.multiscales = [multiscale(plan: plan, axes: axes, options: options)]
    if imageLabel == nil {
      ome.omero = try options.channels.map { Omero(channels: $0) } ?? Omero.computed(from: levels.last!, axes: axes, name: options.name)
      if var o = ome.omero, case .v04 = version { o.version = version.description; ome.omero = o }
    } else if var label = imageLabel {
      if case .v04 = version { label.version = version.description }
      ome.imageLabel = label
    }
    let g = try root.setAttributes(ome.applied(to: root.attributes))
    return OMENode(zarr: .group(g), kind: imageLabel == nil ? .image : .labelImage, metadata: ome)
  }

  /// Writes `labels` (integer data of the image's shape) as label image `name` of the image at
  /// `image`, with as many levels as the image (mode downsampling), and lists it in the image's
  /// `labels` group.
  @discardableResult
  public static func writeLabels(
    _ labels: any LevelSource, name: String, of image: OMENode, colors: [ImageLabel.Color]? = nil,
    properties: [JSONObject]? = nil, options: ImageOptions? = nil
  ) throws -> OMENode {
    guard labels.dataType.isInteger else {
      throw OMEZarrError(.invalidArgument, "label images must have an integer data type, not \(labels.dataType)")
    }
    guard let img = try image.image() else {
      throw OMEZarrError(.wrongKind, "labels belong to an image; this node is a \(image.kind)", path: image.path)
    }
    guard labels.shape == img.levels[0].shape else {
      throw OMEZarrError(.invalidArgument, "labels of shape \(labels.shape) do not match the image's \(img.levels[0].shape)")
    }
    let version = image.version?.canonical ?? .latest05
    var opts = options ?? ImageOptions(axes: img.axes, version: version)
    opts.version = version
    opts.axes = img.axes
    opts.method = .mode
    opts.scale = img.scale(level: 0)
    opts.translation = img.translation(level: 0)
    opts.overwrite = true
    if opts.name == nil { opts.name = name }
    // The same levels as the image: shapes and factors from its arrays.
    var plan = PyramidPlan(shapes: [], factors: [], scales: [], translations: [])
    for (i, level) in img.levels.enumerated() {
      plan.shapes.append(level.shape)
      plan.factors.append(i == 0 ? [Int](repeating: 1, count: level.shape.count)
        : zip(img.levels[i - 1].shape, level.shape).map { prev, cur in cur == 0 ? 1 : max(1, (prev + cur - 1) / cur) })
      plan.scales.append(img.scale(level: i) ?? [Double](repeating: 1, count: level.shape.count))
      plan.translations.append(img.translation(level: i) ?? [Double](repeating: 0, count: level.shape.count))
    }
    let store = image.store
    let labelsPath = joinKey(image.path, "labels")
    // The labels group lists every label image.
    var list = (try? OMENode.open(in: store, path: labelsPath))?.metadata.labels ?? []
    if !list.contains(name) { list.append(name) }
    var labelsMeta = OMEAttributes()
    labelsMeta.version = version.description
    labelsMeta.labels = list
    let node = try write(labels, to: store, at: joinKey(labelsPath, name), options: opts,
      imageLabel: ImageLabel(colors: colors, properties: properties, sourceImage: "../../"), plan: plan)
    let group: ZarrGroup
    if case .group(let g)? = try? ZarrNode.open(in: store, path: labelsPath) { group = g } else {
      group = try ZarrGroup.create(in: store, path: labelsPath, format: version.zarrFormat)
    }
    _ = try group.setAttributes(labelsMeta.applied(to: group.attributes))
    return node
  }

  // MARK: Pieces

  /// 64³ chunks over three space axes, 512² (256² for types over 2 bytes) over two, 1 elsewhere.
  public static func defaultChunkShape(shape: [Int], axes: [Axis], dataType: DataType) -> [Int] {
    ArrayMetadata.defaultChunkShape(shape: shape, dataType: dataType, spatialDimensions: axes.indices.filter { axes[$0].isSpace })
  }

  /// The array metadata of one level: Zarr v2 (0.4, `/` keys) or v3 (sharded unless disabled),
  /// chunk and shard shapes clamped to the level, `dimension_names` from the axes.
  public static func levelMetadata(shape: [Int], dataType: DataType, axes: [Axis], chunkShape: [Int], options: ImageOptions) -> ArrayMetadata {
    let chunks = zip(chunkShape, shape).map { max(1, min($0, $1)) }
    let names: [String?] = axes.map(\.name)
    switch options.version.zarrFormat {
    case .v2:
      return ArrayMetadata(shape: shape, dataType: dataType, chunkShape: chunks,
        codecs: [Codecs.bytes(endian: dataType.hasEndianness ? .little : nil)] + options.compressor.codecs(for: dataType),
        chunkKeyEncoding: .v2(separator: .slash), zarrFormat: .v2)
    case .v3:
      guard options.sharded else {
        return ArrayMetadata(shape: shape, dataType: dataType, chunkShape: chunks,
          codecs: [Codecs.bytes(endian: dataType.hasEndianness ? .little : nil)] + options.compressor.codecs(for: dataType),
          dimensionNames: names)
      }
      let wanted = options.shardShape ?? ArrayMetadata.defaultShardShape(shape: shape, chunkShape: chunks, dataType: dataType)
      // A shard is a whole number of chunks and no larger than the level needs.
      let shards = (0..<shape.count).map { d -> Int in
        let limit = (shape[d] + chunks[d] - 1) / chunks[d] * chunks[d]
        let s = max(chunks[d], min(wanted[d], limit))
        return (s + chunks[d] - 1) / chunks[d] * chunks[d]
      }
      return .sharded(shape: shape, dataType: dataType, shardShape: shards, innerChunkShape: chunks,
        compressor: options.compressor, dimensionNames: names)
    }
  }

  /// Copies a source into a level-0 array one shard (or chunk) at a time.
  static func copy(_ source: any LevelSource, into array: ZarrArray) throws {
    if let buffer = source as? ArrayBuffer {
      try array.write(buffer)
      return
    }
    for box in gridBoxes(shape: array.shape, cell: array.chunkShape) {
      try array.write(try source.readRegion(box), at: box.map(\.lowerBound))
    }
  }

  /// Computes a level from the previous one, one output shard at a time, each assembled from
  /// slabs so that at most a few shards are in memory.
  static func downsample(_ previous: ZarrArray, into array: ZarrArray, factors: [Int], method: DownsamplingMethod) throws {
    let inner = array.metadata.innerChunkShape
    for box in gridBoxes(shape: array.shape, cell: array.chunkShape) {
      var block = ArrayBuffer(shape: box.map(\.count), dataType: array.dataType)
      // Slabs along the first dimension, one chunk deep (gaussian: 2 planes, its window is wider).
      let depth = method == .gaussian ? 2 : max(1, inner.first ?? 1)
      var z = box.first?.lowerBound ?? 0
      let end = box.first?.upperBound ?? 1
      repeat {
        var slab = box
        if !slab.isEmpty { slab[0] = z..<min(z + depth, end) }
        let reduced: ArrayBuffer
        if method == .gaussian {
          // One voxel of context on each side of the blocks (clamped to the image).
          let window = (0..<slab.count).map { d -> Range<Int> in
            factors[d] == 1 ? slab[d]
              : max(0, 2 * slab[d].lowerBound - 1)..<min(previous.shape[d], 2 * slab[d].upperBound + 1)
          }
          reduced = try Downsample.gaussian(window: try previous.read(window), origin: window.map(\.lowerBound),
            fullShape: previous.shape, factors: factors, outputs: slab)
        } else {
          let input = (0..<slab.count).map { d in
            (slab[d].lowerBound * factors[d])..<min(slab[d].upperBound * factors[d], previous.shape[d])
          }
          reduced = try Downsample.apply(try previous.read(input), factors: factors, method: method)
        }
        try block.paste(reduced, at: (0..<slab.count).map { slab[$0].lowerBound - box[$0].lowerBound })
        z += depth
      } while z < end
      try array.write(block, at: box.map(\.lowerBound))
    }
  }

  /// The `multiscales` entry for a plan: per-level scale and translation (0.6: one transformation
  /// to the "physical" coordinate system), the method as `type` and in `metadata`.
  public static func multiscale(plan: PyramidPlan, axes: [Axis], options: ImageOptions) -> Multiscale {
    var meta = options.metadata
    meta["method"] = .string("ome-zarr-swift \(options.method.rawValue) downsampling")
    if meta["description"] == nil { meta["description"] = .string("Levels computed with \(options.method.rawValue) of 2x blocks") }
    let isV06 = options.version.hasCoordinateSystems
    let systemName = "physical"
    var datasets: [Dataset] = []
    for i in 0..<plan.count {
      let s = plan.scales[i], t = plan.translations[i]
      let path = String(i)
      if isV06 {
        let tr: Transformation
        if t.allSatisfy({ $0 == 0 }) {
          tr = Transformation(.scale(s), input: CoordinateSystemRef(path: path), output: CoordinateSystemRef(name: systemName))
        } else {
          tr = Transformation(.sequence([.scale(s), .translation(t)]), input: CoordinateSystemRef(path: path),
            output: CoordinateSystemRef(name: systemName))
        }
        datasets.append(Dataset(path: path, coordinateTransformations: [tr]))
      } else {
        var list: [Transformation] = [.scale(s)]
        if !t.allSatisfy({ $0 == 0 }) { list.append(.translation(t)) }
        datasets.append(Dataset(path: path, coordinateTransformations: list))
      }
    }
    var m = Multiscale(name: options.name, datasets: datasets, type: options.method.rawValue, metadata: .object(meta))
    // RFC-4 orientation is defined in 0.9 only: earlier versions are written without it.
    let axes = options.version.hasAxisOrientation ? axes : axes.map { a in
      var a = a
      a.orientation = nil
      return a
    }
    switch options.version {
    case .v04(let v):
      m.version = v
      m.axes = axes
    case .v05: m.axes = axes
    case .v06, .v09: m.coordinateSystems = [CoordinateSystem(name: systemName, axes: axes)]
    }
    return m
  }

}
