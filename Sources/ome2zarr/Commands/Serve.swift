import ArgumentParser
import Dispatch
import Foundation
import OMEZarrServe
import Synchronization
import ZarrIO

/// `ome2zarr serve LOCATION`: an image (any store) over HTTP for browser viewers and Zarr clients.
struct Serve: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Serve an OME-Zarr (directory, .ozx, bucket prefix or URL) over HTTP for viewers and Zarr clients.",
    usage: "ome2zarr serve <location> [--host 127.0.0.1] [--port 0] [--token auto|none|VALUE] [--json]",
    discussion: """
      Answers GET (single and suffix byte ranges, 206/416), HEAD, conditional requests (ETag, \
      If-None-Match, If-Range) and CORS preflights, with CORS headers on every answer (404s \
      included), as browser viewers need. Values are streamed, never loaded whole.

      Safe by default: it listens on 127.0.0.1 only, every URL starts with a random token \
      (http://127.0.0.1:PORT/TOKEN/), nothing outside the location is served (no '..', no \
      symbolic links out of a directory), there are no listings, and it is read-only. Prints the \
      URL (--json: the URL, port and token as one JSON line) and serves until interrupted.

      Exit codes: 0 stopped by SIGINT or SIGTERM, 2 a location that cannot be opened or an \
      address that cannot be bound.
      """)

  @Argument(help: "What to serve: a directory, a .ozx, an s3:// prefix or an http(s):// URL.")
  var location: String
  @OptionGroup(title: "Serving") var serving: ServerOptions
  @Flag(help: "Print the URL, port and token as one JSON line.")
  var json = false

  @OptionGroup(title: "Remote storage") var remote: RemoteOptions

  func run() throws {
    let where_ = try StoreLocation(location)
    guard where_.entry() != .absent else { throw CommandFailure.io("'\(location)' does not exist") }
    let configuration = serving.configuration(serving: location)
    let server = try StoreServer(location: where_, configuration: configuration)
    let json = self.json
    let name = where_.description
    let token = configuration.token
    try serveUntilStopped(server, what: location) { url, port in
      if json {
        let object: JSONValue = ["url": .string(url), "port": .int(Int64(port)),
          "token": token.map { .string($0) } ?? .null, "location": .string(name)]
        Platform.writeToStandardOutput(object.serialized(pretty: false) + "\n")
      } else {
        Platform.writeToStandardOutput("serving \(name) at \(url)  (Ctrl-C stops)\n")
      }
    }
  }
}

/// Runs `server` until SIGINT or SIGTERM; `started` gets its URL and port once it listens.
/// - Throws: `CommandFailure.io` naming `what` when it cannot start or fails.
func serveUntilStopped(_ server: StoreServer, what: String, started: @escaping @Sendable (String, Int) -> Void) throws {
  let failure = Mutex<(any Error)?>(nil)
  let done = DispatchSemaphore(value: 0)
  let task = Task {
    do { try await server.run(started: started) } catch { failure.withLock { $0 = error } }
    done.signal()
  }
  // The signals stop the server (its connections closed) instead of killing the process.
  let signals = [SIGINT, SIGTERM].map { number in
    signal(number, SIG_IGN)
    let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
    source.setEventHandler { task.cancel() }
    source.resume()
    return source
  }
  done.wait()
  signals.forEach { $0.cancel() }
  if let error = failure.withLock({ $0 }) { throw CommandFailure.io("cannot serve '\(what)': \(error)") }
}
