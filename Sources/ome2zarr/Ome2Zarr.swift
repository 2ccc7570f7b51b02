import ArgumentParser
import OMEZarr
import OMEZarrConvert
import ZarrIO

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The `ome2zarr` command: OME-Zarr conversion, inspection and validation.
@main
struct Ome2Zarr: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ome2zarr",
    abstract: "Convert, inspect and validate OME-Zarr and Zarr data.",
    discussion: """
      Exit codes: 0 success, 1 invalid data, 2 usage or I/O error.
      """,
    version: "0.1.0",
    subcommands: [Convert.self, Info.self, Validate.self, Verify.self, Transform.self, Collection.self])

  /// Parses arguments and runs, mapping errors to the documented exit codes.
  static func main() {
    do {
      var command = try parseAsRoot()
      try command.run()
    } catch let error as ZarrError {
      printError(error.description)
      terminate(exitCode(for: error))
    } catch let error as ConvertError {
      printError(error.description)
      terminate(error.code == .unreadable || error.code == .outputExists ? 2 : 1)
    } catch let error as OMEZarrError {
      printError(error.description)
      terminate(1)
    } catch let error as CommandFailure {
      printError(error.message)
      terminate(error.exitCode)
    } catch {
      let code = exitCode(for: error)
      if code == .success {
        exit(withError: error)  // --help, --version
      }
      if code == .validationFailure {
        printError(fullMessage(for: error))
        terminate(2)
      }
      exit(withError: error)
    }
  }

  static func exitCode(for error: ZarrError) -> Int32 {
    switch error.code {
    case .notFound, .storeFailure, .invalidArgument: return 2
    default: return 1
    }
  }

  static func printError(_ message: String) {
    var stderr = StandardError()
    print("ome2zarr: error: \(message)", to: &stderr)
  }
}

/// An error that ends a command with a message and an exit code.
struct CommandFailure: Error {
  var message: String
  var exitCode: Int32
}

struct StandardError: TextOutputStream {
  mutating func write(_ string: String) {
    var s = string
    s.withUTF8 { buf in _ = Glibc.write(2, buf.baseAddress, buf.count) }
  }
}

/// Ends the process with `code`.
func terminate(_ code: Int32) -> Never { Glibc.exit(code) }
