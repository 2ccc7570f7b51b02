/// The error type of ZarrIO: a code, a message, and where it happened.
///
/// `key` is the store key (e.g. `"raw/0/zarr.json"` or `"raw/0/c/1/2"`), `pointer` a JSON pointer
/// into that document (e.g. `"/codecs/1/configuration/level"`).
public struct ZarrError: Error, Sendable, Hashable, CustomStringConvertible {
  /// What went wrong, for programs to switch on.
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    /// The code's name, e.g. `"notFound"`.
    public let name: String
    init(_ name: String) { self.name = name }
    /// The code's name.
    public var description: String { name }

    /// Text is not valid JSON.
    public static let invalidJSON = Code("invalidJSON")
    /// JSON is valid but not valid metadata (wrong type, missing or out-of-range field).
    public static let invalidMetadata = Code("invalidMetadata")
    /// A field, codec, data type or extension this implementation does not understand.
    public static let unsupported = Code("unsupported")
    /// Nothing stored at the key (missing node).
    public static let notFound = Code("notFound")
    /// A node exists where a new one should be created, or has the wrong kind.
    public static let nodeExists = Code("nodeExists")
    /// Stored bytes could not be decoded (truncated, corrupt, wrong size, bad checksum).
    public static let corruptData = Code("corruptData")
    /// A region, buffer or argument does not fit the array.
    public static let invalidArgument = Code("invalidArgument")
    /// The store failed (I/O error, permission).
    public static let storeFailure = Code("storeFailure")
    /// A codec failed to encode.
    public static let codecFailure = Code("codecFailure")
  }

  /// What went wrong, for programs to switch on.
  public var code: Code
  /// A human-readable description of the problem, without the key and pointer.
  public var message: String
  /// Store key of the object concerned, when known.
  public var key: String?
  /// JSON pointer into the metadata document concerned, when known.
  public var pointer: String?

  /// An error with a code, a message and, when known, the store key and JSON pointer concerned.
  public init(_ code: Code, _ message: String, key: String? = nil, pointer: String? = nil) {
    self.code = code
    self.message = message
    self.key = key
    self.pointer = pointer
  }

  /// The same error with `key` set if it was not already.
  public func at(key: String) -> ZarrError {
    var e = self
    if e.key == nil { e.key = key }
    return e
  }

  /// The same error with `pointer` prefixed by `prefix`.
  public func under(_ prefix: String) -> ZarrError {
    var e = self
    e.pointer = prefix + (e.pointer ?? "")
    return e
  }

  /// The message followed by the key and pointer, when known.
  public var description: String {
    var s = message
    var loc: [String] = []
    if let key { loc.append("key '\(key)'") }
    if let pointer, !pointer.isEmpty { loc.append("at \(pointer)") }
    if !loc.isEmpty { s += " (" + loc.joined(separator: ", ") + ")" }
    return s
  }
}

extension Error {
  /// A ``ZarrError`` with `key` set if not already; other errors unchanged.
  func at(key: String) -> any Error { (self as? ZarrError)?.at(key: key) ?? self }
  /// A ``ZarrError`` with its pointer prefixed; other errors unchanged.
  func under(_ prefix: String) -> any Error { (self as? ZarrError)?.under(prefix) ?? self }
}
