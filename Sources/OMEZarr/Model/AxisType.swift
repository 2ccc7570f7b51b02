import ZarrIO

/// The `type` of an axis: `space`, `time`, `channel`, the 0.6 types, or any other string.
///
/// Open: a type this library does not know is kept as written and round-trips unchanged.
///
///     let axis = Axis(name: "z", type: .space, unit: "micrometer")
///     axis.type == .space        // true
///     AxisType("spectrum").isKnown   // false, and written back as "spectrum"
public struct AxisType: RawRepresentable, Hashable, Sendable, Codable, ExpressibleByStringLiteral, CustomStringConvertible {
  /// The type as written in the metadata.
  public var rawValue: String

  /// The type written as `rawValue`.
  public init(rawValue: String) { self.rawValue = rawValue }
  /// The type written as `rawValue`.
  public init(_ rawValue: String) { self.rawValue = rawValue }
  /// The type written as the literal.
  public init(stringLiteral value: String) { self.rawValue = value }

  /// A spatial axis (`space`).
  public static let space = AxisType("space")
  /// A time axis (`time`).
  public static let time = AxisType("time")
  /// A channel axis (`channel`).
  public static let channel = AxisType("channel")
  /// 0.6: an axis of array indices (`array`).
  public static let array = AxisType("array")
  /// 0.6: an axis of coordinates (`coordinate`), e.g. of a coordinate field.
  public static let coordinate = AxisType("coordinate")
  /// 0.6: an axis of displacements (`displacement`), e.g. of a displacement field.
  public static let displacement = AxisType("displacement")

  /// The types the specifications name (`space`, `time`, `channel`, and 0.6's `array`,
  /// `coordinate`, `displacement`).
  public static let known: [AxisType] = [.space, .time, .channel, .array, .coordinate, .displacement]

  /// Whether the specifications name this type.
  public var isKnown: Bool { Self.known.contains(self) }

  /// The type as written.
  public var description: String { rawValue }

  /// The type 0.1–0.3 implied for an axis written as a bare name (`x`, `y`, `z`: space, `t`: time,
  /// `c`: channel), `nil` for other names.
  public static func implied(byName name: String) -> AxisType? {
    switch name {
    case "x", "y", "z": .space
    case "t": .time
    case "c": .channel
    default: nil
    }
  }
}
