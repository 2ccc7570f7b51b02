import ArgumentParser
import OMEZarrServe

/// `--host`, `--port`, `--token`, `--log`: how `serve` and `view` listen.
struct ServerOptions: ParsableArguments {
  @Option(help: "The address to listen on (127.0.0.1: this machine only; 0.0.0.0: every interface).")
  var host = "127.0.0.1"
  @Option(help: "The port (0: any free port).")
  var port = 0
  @Option(help: ArgumentHelp("The URL's first path segment: auto (random), none, or a value of 16+ letters, digits, - or _.",
    valueName: "auto|none|VALUE"))
  var token = "auto"
  @Flag(help: "Log every request on standard error (method, path, status, bytes).")
  var log = false

  /// Refuses a port outside 0–65535 and a token that is not auto, none or 16+ safe characters.
  mutating func validate() throws {
    guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
    if token != "auto", token != "none" {
      guard token.count >= 16, token.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
        throw ValidationError("--token must be auto, none, or at least 16 letters, digits, '-' or '_'")
      }
    }
  }

  /// The server configuration these options give (a random token for `auto`), warning on
  /// standard error when the address is not loopback.
  func configuration(serving what: String) -> StoreServer.Configuration {
    var c = StoreServer.Configuration()
    c.host = host
    c.port = port
    c.token = token == "auto" ? StoreServer.randomToken() : token == "none" ? nil : token
    if log { c.log = { method, path, status, bytes in Platform.writeToStandardError("\(method) \(path) \(status) \(bytes)\n") } }
    if !["127.0.0.1", "::1", "localhost"].contains(host) {
      Platform.writeToStandardError("ome2zarr: warning: listening on \(host): anyone who can reach it and knows the URL can read '\(what)'\n")
    }
    return c
  }
}
