/// The error type of the converter: a code, a message, and the input file (and IFD) concerned.
public struct ConvertError: Error, Sendable, Hashable, CustomStringConvertible {
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    public let name: String
    init(_ name: String) { self.name = name }
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

  public var code: Code
  public var message: String
  public var file: String?
  public var ifd: Int?

  public init(_ code: Code, _ message: String, file: String? = nil, ifd: Int? = nil) {
    self.code = code
    self.message = message
    self.file = file
    self.ifd = ifd
  }

  public var description: String {
    var s = message
    var loc: [String] = []
    if let file { loc.append("file '\(file)'") }
    if let ifd { loc.append("IFD \(ifd)") }
    if !loc.isEmpty { s += " (" + loc.joined(separator: ", ") + ")" }
    return s
  }
}
