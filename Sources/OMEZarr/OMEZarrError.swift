import ZarrIO

/// The error type of OMEZarr: a code, a message, and where it happened.
///
/// `path` is the store path of the node (e.g. `"plate/A/1/0"`), `pointer` a JSON pointer into that
/// node's OME metadata (e.g. `"/multiscales/0/datasets/2/path"`).
public struct OMEZarrError: Error, Sendable, Hashable, CustomStringConvertible {
  /// What kind of failure an error is, for callers that branch on it.
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    /// The code's name, e.g. `invalidMetadata`.
    public let name: String
    init(_ name: String) { self.name = name }
    /// The code's name.
    public var description: String { name }

    /// The OME metadata is malformed (wrong type, missing required field).
    public static let invalidMetadata = Code("invalidMetadata")
    /// A version, transformation or feature this implementation does not handle.
    public static let unsupported = Code("unsupported")
    /// The node is not the kind of OME-Zarr node the operation needs.
    public static let wrongKind = Code("wrongKind")
    /// Data and metadata disagree (a level's shape, a missing array).
    public static let inconsistent = Code("inconsistent")
    /// An argument does not fit (shapes, axes, options).
    public static let invalidArgument = Code("invalidArgument")
  }

  /// What kind of failure this is.
  public var code: Code
  /// What went wrong, in one human-readable sentence.
  public var message: String
  /// The store path of the node where it happened (`""` is the root), if known.
  public var path: String?
  /// A JSON pointer into that node's OME metadata, if the error concerns one value.
  public var pointer: String?

  /// Creates an error with a code, a message, and optionally where it happened.
  public init(_ code: Code, _ message: String, path: String? = nil, pointer: String? = nil) {
    self.code = code
    self.message = message
    self.path = path
    self.pointer = pointer
  }

  /// The same error with its pointer prefixed by `prefix`.
  public func under(_ prefix: String) -> OMEZarrError {
    var e = self
    e.pointer = prefix + (e.pointer ?? "")
    return e
  }

  /// The same error with `path` set if it was not already.
  public func at(path: String) -> OMEZarrError {
    var e = self
    if e.path == nil { e.path = path }
    return e
  }

  /// The message followed by where it happened: `message (node 'plate/A/1', at /well/images/0)`.
  public var description: String {
    var s = message
    var loc: [String] = []
    if let path { loc.append("node '\(path.isEmpty ? "/" : path)'") }
    if let pointer, !pointer.isEmpty { loc.append("at \(pointer)") }
    if !loc.isEmpty { s += " (" + loc.joined(separator: ", ") + ")" }
    return s
  }
}

extension Error {
  /// An ``OMEZarrError`` with its pointer prefixed; other errors unchanged.
  func omeUnder(_ prefix: String) -> any Error { (self as? OMEZarrError)?.under(prefix) ?? self }
  /// An ``OMEZarrError`` with `path` set if not already; other errors unchanged.
  func omeAt(path: String) -> any Error { (self as? OMEZarrError)?.at(path: path) ?? self }
}
