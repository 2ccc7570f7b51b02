import ArgumentParser
import Foundation
import OMEZarr
import OMEZarrConvert
import ZarrIO

/// The exit codes of `ome2zarr`, decided here and nowhere else from the error a command throws:
/// 0 success, 1 invalid data or a failed validation, 2 a usage or I/O error.
enum ExitStatus: Int32, Sendable, CaseIterable {
  /// The command did what was asked (also `--help` and `--version`).
  case success = 0
  /// The data is invalid, or a check (validation, verification, a reference) failed.
  case invalidData = 1
  /// The arguments are wrong, or an input or output cannot be read or written.
  case usageOrIO = 2

  /// The process exit code.
  var code: Int32 { rawValue }

  /// The status a command ends with when it throws `error`.
  init(for error: any Error) {
    switch error {
    case let e as AlreadyReported:
      self = ExitStatus(for: e.cause)
    case let e as CommandFailure:
      self = e.kind == .invalidData ? .invalidData : .usageOrIO
    case let e as ZarrError:
      self = [.notFound, .storeFailure, .invalidArgument].contains(e.code) ? .usageOrIO : .invalidData
    case let e as ConvertError:
      self = [.unreadable, .outputExists].contains(e.code) ? .usageOrIO : .invalidData
    case is OMEZarrError:
      self = .invalidData
    case is CocoaError, is POSIXError:
      // Reading or writing a file failed.
      self = .usageOrIO
    default:
      // argument-parser's errors: help and version succeed, every parsing or validation error is
      // a usage error; `ExitCode(n)` thrown by a command keeps its code mapped the same way.
      switch Ome2Zarr.exitCode(for: error) {
      case .success: self = .success
      case .validationFailure: self = .usageOrIO
      case let code: self = ExitStatus(rawValue: code.rawValue) ?? (code.rawValue == 0 ? .success : .invalidData)
      }
    }
  }

  /// The message to print on standard error for `error`, or nil when there is none (the command
  /// already reported, or argument-parser prints help).
  static func message(for error: any Error) -> String? {
    switch error {
    case is AlreadyReported: return nil
    case let e as CommandFailure: return e.message
    case let e as ZarrError: return e.description
    case let e as ConvertError: return e.description
    case let e as OMEZarrError: return e.description
    case let e as CocoaError: return e.localizedDescription
    default:
      let text = Ome2Zarr.fullMessage(for: error)
      let prefix = "Error: "
      let message = text.hasPrefix(prefix) ? String(text.dropFirst(prefix.count)) : text
      return message.isEmpty ? nil : message
    }
  }
}

/// An error a command throws for what no library error describes; its kind decides the exit code.
struct CommandFailure: Error, CustomStringConvertible {
  /// What went wrong, as far as the exit code is concerned.
  enum Kind: Sendable {
    /// Invalid data or a failed check (exit 1).
    case invalidData
    /// Wrong arguments (exit 2).
    case usage
    /// An input or output that cannot be read or written, or an output in the way (exit 2).
    case io
  }

  /// What went wrong.
  var kind: Kind
  /// The message printed after `ome2zarr: error: `.
  var message: String

  /// The description is the message.
  var description: String { message }

  /// Invalid data or a failed check (exit 1).
  static func invalidData(_ message: String) -> CommandFailure { CommandFailure(kind: .invalidData, message: message) }
  /// Wrong arguments (exit 2).
  static func usage(_ message: String) -> CommandFailure { CommandFailure(kind: .usage, message: message) }
  /// An input or output that cannot be read or written, or an output in the way (exit 2).
  static func io(_ message: String) -> CommandFailure { CommandFailure(kind: .io, message: message) }
}

/// Ends a command that has already printed its result or why it failed (a validation report, a
/// JSON message): nothing more is printed, and the exit code is that of `cause`.
struct AlreadyReported: Error {
  /// The error that decides the exit code.
  var cause: any Error
}
