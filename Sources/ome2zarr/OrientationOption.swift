import ArgumentParser
import Foundation
import OMEZarr

/// `convert --orientation z=superior-to-inferior,y=anterior-to-posterior,x=left-to-right`: the
/// RFC-4 anatomical direction of space axes, which OME-Zarr 0.9 defines.
enum OrientationOption {
  /// The pairs of `text`, in order.
  /// - Throws: a usage error for a pair that is not `AXIS=DIRECTION`, a direction outside the 24,
  ///   an axis given twice, or a direction (or its inverse) given for two axes.
  static func parse(_ text: String) throws(ValidationError) -> [(axis: String, direction: AnatomicalDirection)] {
    var out: [(axis: String, direction: AnatomicalDirection)] = []
    for pair in text.split(separator: ",", omittingEmptySubsequences: false) {
      let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map {
        $0.trimmingCharacters(in: .whitespaces)
      }
      guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
        throw ValidationError("--orientation takes AXIS=DIRECTION pairs such as z=superior-to-inferior,x=left-to-right, not '\(pair)'")
      }
      guard let direction = AnatomicalDirection(rawValue: parts[1]) else {
        throw ValidationError("unknown orientation '\(parts[1])' for axis '\(parts[0])'; the directions are "
          + AnatomicalDirection.allCases.map(\.rawValue).joined(separator: ", "))
      }
      if out.contains(where: { $0.axis == parts[0] }) {
        throw ValidationError("--orientation gives axis '\(parts[0])' twice")
      }
      if let other = out.first(where: { $0.direction == direction || $0.direction == direction.inverse }) {
        throw ValidationError("--orientation gives '\(other.axis)' \(other.direction) and '\(parts[0])' \(direction): "
          + "a direction or its inverse may be used for one axis only")
      }
      out.append((parts[0], direction))
    }
    return out
  }

  /// Checks `text` for `version`: orientation is written in OME-Zarr 0.9 only.
  /// - Throws: a usage error as ``parse(_:)``, or when `version` is not 0.9.
  static func check(_ text: String, version: NGFFVersion) throws(ValidationError) {
    _ = try parse(text)
    guard version.hasAxisOrientation else {
      throw ValidationError("--orientation needs --version 0.9: OME-Zarr \(version) does not define axis orientation "
        + "(RFC-4 adds it in 0.9)")
    }
  }

  /// The orientations of `text` by axis name, each naming a space axis of `axes`.
  /// - Throws: a usage error as ``parse(_:)``, or for an axis that is not among `axes` or not a
  ///   space axis.
  static func resolve(_ text: String, axes: [Axis]) throws(ValidationError) -> [String: AxisOrientation] {
    var out: [String: AxisOrientation] = [:]
    for (name, direction) in try parse(text) {
      guard let axis = axes.first(where: { $0.name == name }) else {
        throw ValidationError("--orientation names axis '\(name)', but the image's axes are \(axes.map(\.name).joined(separator: ","))")
      }
      guard axis.isSpace else {
        throw ValidationError("--orientation names axis '\(name)' of type \(axis.type?.rawValue ?? "none"); only space axes have an orientation")
      }
      out[name] = AxisOrientation(direction)
    }
    return out
  }
}
