/// The error type of the converter: a code, a message, and the input file (and IFD) concerned.
public struct ConvertError: Error, Sendable, Hashable, CustomStringConvertible {
  /// What went wrong, for programs to switch on.
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    /// The code's name, e.g. `"unreadable"`.
    public let name: String
    init(_ name: String) { self.name = name }
    /// The code's name.
    public var description: String { name }
    /// The input cannot be read (missing, not a TIFF, truncated, corrupt).
    public static let unreadable = Code("unreadable")
    /// The input is valid but uses something not supported (a bit depth, a compression).
    public static let unsupported = Code("unsupported")
    /// Options or inputs that do not fit together.
    public static let invalidArgument = Code("invalidArgument")
    /// The output exists (and neither `--overwrite` nor a matching `--resume` was given).
    public static let outputExists = Code("outputExists")
  }

  /// What went wrong, for programs to switch on.
  public var code: Code
  /// A human-readable description of the problem, without the file and IFD.
  public var message: String
  /// The path of the input file concerned, when known.
  public var file: String?
  /// The number of the TIFF IFD concerned (from 0), when known.
  public var ifd: Int?

  /// An error with a code, a message and, when known, the input file and IFD concerned.
  public init(_ code: Code, _ message: String, file: String? = nil, ifd: Int? = nil) {
    self.code = code
    self.message = message
    self.file = file
    self.ifd = ifd
  }

  /// The message followed by the file and IFD, when known.
  public var description: String {
    var s = message
    var loc: [String] = []
    if let file { loc.append("file '\(file)'") }
    if let ifd { loc.append("IFD \(ifd)") }
    if !loc.isEmpty { s += " (" + loc.joined(separator: ", ") + ")" }
    return s
  }
}
