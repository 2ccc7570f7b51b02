import ArgumentParser

/// The `ome2zarr` command: OME-Zarr conversion, inspection and validation.
@main
struct Ome2Zarr: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ome2zarr",
    abstract: "Convert, inspect and validate OME-Zarr and Zarr data.",
    discussion: """
      Exit codes: 0 success, 1 invalid data (or a failed validation or verification), 2 a usage error or an input or output that cannot be read or written.
      """,
    version: "0.1.0",
    subcommands: [Convert.self, Info.self, Validate.self, Verify.self, Transform.self, Collection.self, Pack.self, Unpack.self, Serve.self, View.self, Export.self])

  /// Parses arguments and runs; a thrown error ends the process with the code `ExitStatus` gives it.
  static func main() {
    do {
      var command = try parseAsRoot()
      (command as? any ReadLimitedCommand)?.readLimits.apply()
      (command as? any RemoteCommand)?.remote.apply()
      try command.run()
    } catch {
      let status = ExitStatus(for: error)
      if status == .success {
        exit(withError: error)  // --help, --version: argument-parser prints them
      }
      if let message = ExitStatus.message(for: error) { printError(message) }
      Platform.terminate(status.code)
    }
  }

  /// Prints `ome2zarr: error: MESSAGE` on standard error.
  static func printError(_ message: String) {
    var stderr = StandardError()
    print("ome2zarr: error: \(message)", to: &stderr)
  }
}
