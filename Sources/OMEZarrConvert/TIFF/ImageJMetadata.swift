import Foundation

/// What an ImageJ hyperstack's ImageDescription says.
public struct ImageJMetadata: Sendable, Hashable {
  /// The number of planes (`images=`).
  public var images = 1
  /// The number of channels (`channels=`).
  public var channels = 1
  /// The number of z slices (`slices=`; all planes for a plain stack that gives only `images=`).
  public var slices = 1
  /// The number of time points (`frames=`).
  public var frames = 1
  /// The length unit of the pixel size as written (`unit=`; an escaped `\u00B5m` becomes `µm`).
  public var unit: String?
  /// The z step in ``unit`` (`spacing=`).
  public var spacing: Double?
  /// The time step between frames (`finterval=`, in ImageJ's time unit, seconds unless `tunit=` says otherwise).
  public var frameInterval: Double?
  /// Every `key=value` line as written.
  public var values: [String: String] = [:]

  /// Parses `ImageJ=1.x\nimages=...` text; `nil` if it is not an ImageJ description.
  public init?(description: String) {
    guard description.hasPrefix("ImageJ=") else { return nil }
    for line in description.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
      guard let eq = line.firstIndex(of: "=") else { continue }
      values[String(line[..<eq]).trimmingCharacters(in: .whitespaces)] = String(line[line.index(after: eq)...]).trimmingCharacters(in: .whitespaces)
    }
    func int(_ k: String) -> Int? { values[k].flatMap { Int($0) } }
    images = int("images") ?? 1
    channels = int("channels") ?? 1
    slices = int("slices") ?? 1
    frames = int("frames") ?? 1
    if channels * slices * frames != images {
      // Plain stacks often give only images=N: they are z slices.
      if channels == 1 && frames == 1 { slices = images }
    }
    unit = values["unit"].map { $0 == "\\u00B5m" ? "µm" : $0 }
    spacing = values["spacing"].flatMap { Double($0) }
    frameInterval = values["finterval"].flatMap { Double($0) }
  }
}
