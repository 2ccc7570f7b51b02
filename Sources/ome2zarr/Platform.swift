#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// What the CLI needs from the C library (standard error, exit, terminals), under one name on
/// every platform: the only file of the CLI that names Glibc, Musl or Darwin.
enum Platform {
  /// Writes `text` to standard error at once (unbuffered), whole.
  static func writeToStandardError(_ text: String) { writeAll(2, text) }

  /// Writes `text` to standard output at once (unbuffered), whole: for a line another program
  /// waits for while this one keeps running (a server's URL).
  static func writeToStandardOutput(_ text: String) { writeAll(1, text) }

  private static func writeAll(_ fd: Int32, _ text: String) {
    var text = text
    text.withUTF8 { buffer in
      var offset = 0
      while offset < buffer.count {
        let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
        if n <= 0 { return }
        offset += n
      }
    }
  }

  /// Ends the process with exit code `code`.
  static func terminate(_ code: Int32) -> Never {
    exit(code)
  }

  /// Whether standard error is a terminal.
  static var standardErrorIsTerminal: Bool { isatty(2) != 0 }
}

/// Standard error as a `TextOutputStream` (for `print(_:to:)`).
struct StandardError: TextOutputStream {
  /// Writes `string` to standard error.
  mutating func write(_ string: String) { Platform.writeToStandardError(string) }
}
