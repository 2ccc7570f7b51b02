import Foundation

/// A local static file server (`http_server.py`, standard-library Python) for HTTP store tests.
///
///     let server = try HTTPServer(serving: dir)
///     defer { server.stop() }
///     let store = try HTTPStore(url: server.url + "/image.ome.zarr")
public final class HTTPServer: @unchecked Sendable {
  /// `http://127.0.0.1:<port>`.
  public let url: String
  private let process: Process
  /// The server's stdin: closing it (or this process ending) stops the server.
  private let input: Pipe

  /// Serves `directory`; with `ranges: false` the server ignores `Range` headers.
  public init(serving directory: URL, ranges: Bool = true) throws {
    let script = packageRoot.appendingPathComponent("Tests/TestSupport/http_server.py").path
    let (p, input, port) = try startPortServer([script, directory.path] + (ranges ? [] : ["--no-range"]), what: "HTTP server")
    process = p
    self.input = input
    url = "http://127.0.0.1:\(port)"
  }

  /// The number of file requests served so far and the body bytes they sent.
  public func statistics() throws -> (requests: Int, bytes: Int) {
    let data = try Data(contentsOf: URL(string: url + "/__requests")!)
    let parts = String(decoding: data, as: UTF8.self).split(separator: " ").compactMap { Int($0) }
    return parts.count == 2 ? (parts[0], parts[1]) : (-1, -1)
  }

  public func stop() {
    stopPortServer(process, input: input)
  }

  deinit { stop() }
}
