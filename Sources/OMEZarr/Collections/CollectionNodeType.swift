import ZarrIO

/// The `type` of an RFC-8 node: `collection`, `multiscale`, `singlescale`, or a prefixed custom
/// type (`mobie:table`).
///
/// Open: any other string is kept as written and round-trips unchanged (the validator reports
/// unknown, unprefixed types).
///
///     CollectionNode(type: .multiscale, name: "raw", path: PathReference(type: "zarr", path: "./raw.ome.zarr"))
public struct CollectionNodeType: RawRepresentable, Hashable, Sendable, Codable, ExpressibleByStringLiteral,
  CustomStringConvertible {
  /// The type as written in the metadata.
  public var rawValue: String

  /// The type written as `rawValue`.
  public init(rawValue: String) { self.rawValue = rawValue }
  /// The type written as `rawValue`.
  public init(_ rawValue: String) { self.rawValue = rawValue }
  /// The type written as the literal.
  public init(stringLiteral value: String) { self.rawValue = value }

  /// A node grouping other nodes (`collection`).
  public static let collection = CollectionNodeType("collection")
  /// A multiscale image (`multiscale`).
  public static let multiscale = CollectionNodeType("multiscale")
  /// One resolution level of a multiscale image, or a plain array (`singlescale`).
  public static let singlescale = CollectionNodeType("singlescale")

  /// The types the RFC names.
  public static let known: [CollectionNodeType] = [.collection, .multiscale, .singlescale]

  /// Whether the RFC names this type.
  public var isKnown: Bool { Self.known.contains(self) }
  /// Whether this is a custom type with a namespace prefix (`prefix:name`).
  public var isPrefixed: Bool { rawValue.contains(":") }
  /// Whether this is a type an RFC-8 node may have: a known one or a prefixed custom one.
  public var isNodeType: Bool { isKnown || isPrefixed }

  /// The type as written.
  public var description: String { rawValue }
}
