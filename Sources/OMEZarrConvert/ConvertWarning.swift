/// Something in an input that the conversion repaired (and the user should know about).
///
/// The CLI prints each as `warning: FILE: message` on standard error and lists them under
/// `"warnings"` in the `--json` summary.
public struct ConvertWarning: Sendable, Hashable, CustomStringConvertible {
  /// The input file (or Zarr) concerned, when known.
  public var file: String?
  /// What was wrong and what the conversion did about it.
  public var message: String

  /// A warning about `file` (when known).
  public init(_ message: String, file: String? = nil) {
    self.message = message
    self.file = file
  }

  /// `FILE: message`, or the message alone.
  public var description: String { file.map { "\($0): \(message)" } ?? message }
}
