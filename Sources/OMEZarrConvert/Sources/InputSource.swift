import OMEZarr
import ZarrIO

/// One image to convert, chosen from the inputs of a conversion: its name and its planes.
///
/// `InputSource.open(_:)` decides what the inputs are (a Zarr to re-encode, a folder of planes,
/// several plane files, or one TIFF with one or more images), asking the location layer what the
/// paths hold; TIFF pixels are read with libtiff (`TIFF/TIFFFile.swift`).
public struct InputSource: Sendable {
  /// What a list of inputs is.
  public enum Kind: String, Sendable, Hashable, CustomStringConvertible {
    /// A directory holding a Zarr array or group (an OME-Zarr image or a plain array): re-encoded.
    case zarr
    /// A directory of single-plane TIFFs (natural order, or a filename pattern).
    case planeFolder
    /// Several single-plane TIFF files (natural order, or a filename pattern).
    case planeFiles
    /// One TIFF, OME-TIFF or ImageJ stack; an OME-TIFF with several images gives one source each.
    case tiff

    /// The kind's name.
    public var description: String { rawValue }
  }

  /// The image's name: the OME-TIFF series index, or "0" for a single image.
  public var name: String
  /// The image's planes.
  public var source: any PlaneSource

  /// An input image named `name`.
  public init(name: String, source: any PlaneSource) {
    self.name = name
    self.source = source
  }

  /// What `inputs` are, without opening them: one directory (or URL) is a Zarr when it holds Zarr
  /// metadata, else a folder of planes; several paths are plane files; one file is a TIFF.
  ///
  /// Throws `ConvertError.unreadable` when a single input does not exist.
  public static func kind(of inputs: [String]) throws -> Kind {
    guard let first = inputs.first else { throw ConvertError(.invalidArgument, "no input files") }
    if inputs.count > 1 { return .planeFiles }
    // A URL can only be a Zarr (libtiff reads local files); a store is asked through its location.
    if StoreLocation.isURL(first) && StoreLocation.scheme(of: first) != "file" { return .zarr }
    if isDirectory(first) {
      let detected = (try? NodeKind.detect(StoreLocation(first).openStore(), "")) ?? nil
      return detected != nil ? .zarr : .planeFolder
    }
    guard let found = entry(first), found != .absent else {
      throw ConvertError(.unreadable, "no such file or directory", file: first)
    }
    return .tiff
  }

  /// Opens the images of `inputs` (see ``kind(of:)``): one source, or one per OME-TIFF image.
  ///
  /// - Parameters:
  ///   - pattern: For plane folders and files, a filename pattern with `{t}`, `{c}` and `{z}`.
  ///   - series: For a TIFF, the one OME-TIFF image to open (default: every image).
  public static func open(_ inputs: [String], pattern: String? = nil, series: Int? = nil) throws -> [InputSource] {
    switch try kind(of: inputs) {
    case .zarr:
      return [InputSource(name: "0", source: try ZarrSource(path: inputs[0]))]
    case .planeFolder:
      return [InputSource(name: "0", source: try FolderSource(files: try FolderSource.listTIFFs(inputs[0]), pattern: pattern))]
    case .planeFiles:
      return [InputSource(name: "0", source: try FolderSource(files: inputs.sorted(by: FolderSource.naturalLess), pattern: pattern))]
    case .tiff:
      let path = inputs[0]
      if let series { return [InputSource(name: String(series), source: try TIFFSource(path: path, series: series))] }
      return try (0..<TIFFSource.seriesCount(path: path)).map {
        InputSource(name: String($0), source: try TIFFSource(path: path, series: $0))
      }
    }
  }

  /// What is at `path` (`nil` when the path cannot be a location).
  static func entry(_ path: String) -> StoreEntry? { (try? StoreLocation(path))?.entry() }

  /// Whether `path` is an existing directory.
  static func isDirectory(_ path: String) -> Bool { entry(path) == .prefix }

  /// The names in `folder` (files and folders), or an `unreadable` error.
  static func contents(of folder: String) throws -> [String] {
    do {
      guard entry(folder) == .prefix else { throw ZarrError(.notFound, "not a folder") }
      let (keys, prefixes) = try StoreLocation(folder).openStore().listDirectory("")
      return keys + prefixes
    } catch {
      throw ConvertError(.unreadable, "cannot list the folder", file: folder)
    }
  }

  /// The size in bytes and modification time of an input file (0 when it cannot be read).
  static func fileAttributes(_ path: String) -> (size: Int, modified: Double) {
    let info = (try? StoreLocation(path))?.objectInfo()
    return (info?.size ?? 0, info?.modified ?? 0)
  }
}
