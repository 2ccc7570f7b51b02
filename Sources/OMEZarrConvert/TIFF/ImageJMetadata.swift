import Foundation
import ZarrIO

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
  /// Why the plane counts cannot be used, e.g. `"slices=0 is not a count from 1 to 4194304"`:
  /// counts that are not integers from 1 to ``ConvertLimits/maxPlanes``, or whose product exceeds it.
  public var problems: [String] = []
  /// Steps left out because they are not finite positive sizes, e.g. `"spacing=nan is not a positive size"`.
  public var ignored: [String] = []

  /// Parses `ImageJ=1.x\nimages=...` text; `nil` if it is not an ImageJ description.
  public init?(description: String) {
    guard description.hasPrefix("ImageJ=") else { return nil }
    for line in description.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
      guard let eq = line.firstIndex(of: "=") else { continue }
      values[String(line[..<eq]).trimmingCharacters(in: .whitespaces)] = String(line[line.index(after: eq)...]).trimmingCharacters(in: .whitespaces)
    }
    var problems: [String] = [], ignored: [String] = []
    // A count: absent is 1; anything but an integer from 1 to the plane limit is a problem.
    func count(_ k: String) -> Int {
      guard let text = values[k] else { return 1 }
      guard let v = Int(text), (1...ConvertLimits.maxPlanes).contains(v) else {
        problems.append("\(k)=\(text) is not a count from 1 to \(ConvertLimits.maxPlanes)")
        return 1
      }
      return v
    }
    // A step: absent is nil; anything but a finite positive number is a problem (and left out).
    func step(_ k: String) -> Double? {
      guard let text = values[k] else { return nil }
      guard let v = Double(text), ConvertLimits.isPhysicalSize(v) else {
        ignored.append("\(k)=\(text) is not a positive size")
        return nil
      }
      return v
    }
    images = count("images")
    channels = count("channels")
    slices = count("slices")
    frames = count("frames")
    if let product = CheckedArithmetic.product([channels, slices, frames]), product <= ConvertLimits.maxPlanes {
      // Plain stacks often give only images=N: they are z slices.
      if product != images, channels == 1, frames == 1 { slices = images }
    } else {
      problems.append("channels=\(channels) x slices=\(slices) x frames=\(frames) is more than \(ConvertLimits.maxPlanes) planes")
    }
    unit = values["unit"].map { $0 == "\\u00B5m" ? "µm" : $0 }
    spacing = step("spacing")
    frameInterval = step("finterval")
    self.problems = problems
    self.ignored = ignored
  }
}
