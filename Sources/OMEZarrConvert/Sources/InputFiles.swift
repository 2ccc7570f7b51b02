import Foundation

/// The local input files of a conversion: the one place OMEZarrConvert asks the filesystem about
/// them (TIFF pixels themselves are read with libtiff). Output goes through stores only.
enum InputFiles {
  /// The size in bytes and modification time (seconds since 1970) of `path`; zeros when it
  /// cannot be read (a resumed run then sees a changed input).
  static func stamp(_ path: String) -> (size: Int, modified: Double) {
    let attributes = (try? FileManager.default.attributesOfItem(atPath: path)) ?? [:]
    return ((attributes[.size] as? Int) ?? 0, (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)
  }
}
