/// Limits on what an input may ask for, checked before anything is allocated, looped over or written.
///
/// Every number a TIFF header, an OME-XML or ImageJ description or a Zarr input gives is checked
/// against these (and against what the file can hold) before it sizes a buffer or a loop.
public enum ConvertLimits {
  /// The most planes one image may have, and the most IFDs one TIFF may have: 4,194,304.
  public static let maxPlanes = 1 << 22
  /// The most bytes one decoded TIFF strip or tile may take: 1 GiB.
  public static let maxBlockBytes = 1 << 30
  /// The most bytes one image may hold (its level 0): 2^60.
  public static let maxImageBytes = 1 << 60
  /// The physical sizes (pixel sizes, z spacing, time increment) kept; others become 1 with a warning.
  public static let physicalSizes: ClosedRange<Double> = 1e-30...1e30
  /// The largest magnitude of a translation kept; larger or non-finite ones become 0 with a warning.
  public static let maxTranslation = 1e30
  /// The most tiles (or strips) one export writes, over every plane and resolution: 2^25, whose
  /// offsets and sizes take 512 MiB until the directories are written.
  public static let maxExportSegments = 1 << 25
  /// The largest companion OME-XML document (`.companion.ome`) read: 256 MiB.
  public static let maxCompanionBytes = 1 << 28

  /// Whether `value` is a usable physical size (finite, positive, within ``physicalSizes``).
  static func isPhysicalSize(_ value: Double) -> Bool { physicalSizes.contains(value) }
}
