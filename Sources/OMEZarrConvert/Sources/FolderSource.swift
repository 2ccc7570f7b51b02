import Foundation
import OMEZarr
import ZarrIO

/// A folder (or list) of single-plane TIFFs, sorted in natural order (`z2` before `z10`), or
/// arranged by a filename pattern such as `img_t{t}_c{c}_z{z}.tif`.
public final class FolderSource: PlaneSource {
  /// The stacked image: the planes of the files along the leading axes, then y and x.
  public let description: SourceDescription
  private let files: [String]
  private let sources: [TIFFSource]

  /// Natural ordering: digit runs compare as numbers.
  public static func naturalLess(_ a: String, _ b: String) -> Bool {
    var i = a.startIndex, j = b.startIndex
    while i < a.endIndex, j < b.endIndex {
      if a[i].isNumber, b[j].isNumber {
        var ie = i, je = j
        while ie < a.endIndex, a[ie].isNumber { ie = a.index(after: ie) }
        while je < b.endIndex, b[je].isNumber { je = b.index(after: je) }
        let na = a[i..<ie].drop { $0 == "0" }, nb = b[j..<je].drop { $0 == "0" }
        if na.count != nb.count { return na.count < nb.count }
        if na != nb { return na < nb }
        i = ie
        j = je
      } else {
        if a[i] != b[j] { return a[i] < b[j] }
        i = a.index(after: i)
        j = b.index(after: j)
      }
    }
    return a.count < b.count
  }

  /// The TIFF files of a folder, naturally sorted.
  public static func listTIFFs(_ folder: String) throws -> [String] {
    let names = try InputSource.contents(of: folder)
      .filter { $0.lowercased().hasSuffix(".tif") || $0.lowercased().hasSuffix(".tiff") }
      .sorted(by: naturalLess)
    guard !names.isEmpty else { throw ConvertError(.unreadable, "no .tif or .tiff files in the folder", file: folder) }
    return names.map { (folder as NSString).appendingPathComponent($0) }
  }

  /// Planes from `files`; with `pattern` (placeholders `{t}`, `{c}`, `{z}` standing for numbers)
  /// each file's name gives its position, else the files are z planes in the given order.
  public init(files: [String], pattern: String? = nil) throws {
    guard !files.isEmpty else { throw ConvertError(.invalidArgument, "no input files") }
    var positions: [[String: Int]] = []
    var order = ["t", "c", "z"]
    if let pattern {
      let regex = try FolderSource.regex(for: pattern)
      order = order.filter { pattern.contains("{\($0)}") }
      for f in files {
        let name = (f as NSString).lastPathComponent
        guard let m = regex.firstMatch(in: name, range: NSRange(name.startIndex..., in: name)) else {
          throw ConvertError(.invalidArgument, "the name does not match the pattern '\(pattern)'", file: f)
        }
        var p: [String: Int] = [:]
        for k in order {
          let r = m.range(withName: k)
          if let rr = Range(r, in: name), let v = Int(name[rr]) { p[k] = v }
        }
        positions.append(p)
      }
    } else {
      order = ["z"]
      positions = files.indices.map { ["z": $0] }
    }
    // Distinct values per axis, in increasing order.
    var values: [String: [Int]] = [:]
    for k in order { values[k] = Array(Set(positions.compactMap { $0[k] })).sorted() }
    let sizes = order.map { values[$0]?.count ?? 1 }
    guard sizes.reduce(1, *) == files.count else {
      throw ConvertError(.invalidArgument, "\(files.count) files do not fill a \(zip(order, sizes).map { "\($0)=\($1)" }.joined(separator: " ")) grid")
    }
    var slots = [Int](repeating: -1, count: files.count)
    for (fi, p) in positions.enumerated() {
      var linear = 0
      for (k, size) in zip(order, sizes) { linear = linear * size + (values[k]?.firstIndex(of: p[k] ?? 0) ?? 0) }
      guard slots[linear] < 0 else { throw ConvertError(.invalidArgument, "two files have the same position", file: files[fi]) }
      slots[linear] = fi
    }
    self.files = slots.map { files[$0] }
    sources = try self.files.map { try TIFFSource(path: $0) }
    let first = sources[0].description
    for (s, f) in zip(sources, self.files) where s.description.shape != first.shape || s.description.dataType != first.dataType {
      throw ConvertError(.unsupported, "the plane is \(s.description.shape) \(s.description.dataType) unlike the first \(first.shape) \(first.dataType)", file: f)
    }
    guard first.planeCount == 1 else {
      throw ConvertError(.unsupported, "folder inputs need single-plane files; this one has \(first.planeCount) planes", file: self.files[0])
    }
    var axes: [Axis] = [], shape: [Int] = [], scale: [Double] = []
    for (k, size) in zip(order, sizes) where size > 1 {
      axes.append(k == "c" ? .channel() : k == "t" ? .time() : .space("z"))
      shape.append(size)
      scale.append(1)
    }
    axes += first.axes.suffix(2)
    shape += first.planeShape
    scale += first.scale.suffix(2)
    let folder = (files[0] as NSString).deletingLastPathComponent
    description = SourceDescription(name: (folder as NSString).lastPathComponent, axes: axes, shape: shape,
      dataType: first.dataType, scale: scale, files: self.files)
  }

  static func regex(for pattern: String) throws -> NSRegularExpression {
    var re = "^"
    var rest = Substring(pattern)
    while let open = rest.firstIndex(of: "{") {
      re += NSRegularExpression.escapedPattern(for: String(rest[..<open]))
      guard let close = rest[open...].firstIndex(of: "}") else { break }
      let key = rest[rest.index(after: open)..<close]
      guard ["t", "c", "z"].contains(key) else {
        throw ConvertError(.invalidArgument, "pattern placeholders are {t}, {c} and {z}, not {\(key)}")
      }
      re += "(?<\(key)>\\d+)"
      rest = rest[rest.index(after: close)...]
    }
    re += NSRegularExpression.escapedPattern(for: String(rest)) + "$"
    return try NSRegularExpression(pattern: re)
  }

  /// Reads `rows` from the single-plane TIFF at `index` in file order.
  public func read(plane index: [Int], rows: Range<Int>, into buffer: UnsafeMutableRawBufferPointer) throws {
    var linear = 0
    for (i, size) in description.leadingShape.enumerated() { linear = linear * size + index[i] }
    try sources[linear].read(plane: [], rows: rows, into: buffer)
  }
}
