/// The error type of OMEZarrServe: what stops a server from starting or running.
public struct ServeError: Error, Sendable, CustomStringConvertible {
  /// What went wrong.
  public var message: String
  /// An error with a message.
  public init(_ message: String) { self.message = message }
  /// The message.
  public var description: String { message }
}
