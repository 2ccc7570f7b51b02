import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import ZarrIO

/// Serves the keys of a store over HTTP/1.1 to browser viewers and Zarr clients: a directory, a
/// `.ozx` (its entries as keys, read by byte range), a bucket prefix or an HTTP source.
///
/// SwiftNIO handles connections, HTTP/1.1 parsing and keep-alive; what viewers need from the
/// answers is done here, over ``Store``: `GET` with single and suffix ranges (206 with
/// `Content-Range`, 416 when unsatisfiable), `HEAD` with `Content-Length`, `ETag`,
/// `Last-Modified` and conditional requests (`If-None-Match`, `If-Range`), and CORS on every
/// answer, 404s and preflights included. It is safe by default: loopback only, a random token
/// as the first path segment, `Host` checked against the address (DNS rebinding), no path that
/// leaves the root (`..` in any encoding, symbolic links out of a directory), no listings,
/// read-only. A directory's files are sent by the kernel (`sendfile`); other values are streamed
/// in 1 MiB reads, so memory stays bounded with many clients.
///
///     let server = try StoreServer(location: StoreLocation("image.ome.zarr"))
///     try await server.run { url in print(url) }       // http://127.0.0.1:PORT/TOKEN/
public struct StoreServer: Sendable {
  /// Where and how to listen.
  public struct Configuration: Sendable {
    /// The address to bind (loopback unless asked otherwise).
    public var host = "127.0.0.1"
    /// The port (0: any free one).
    public var port = 0
    /// The first path segment every request must carry (`nil`: none).
    public var token: String? = StoreServer.randomToken()
    /// A directory of static files (a viewer's client) served under `/v/TOKEN/` (`/v/` without a
    /// token), `index.html` for the directory itself; `nil`: none.
    public var client: String? = nil
    /// How long, in seconds, a keep-alive connection may wait for its next request (nginx's
    /// default: 75).
    public var idleTimeout: Double = 75
    /// Called once per answer (method, request path, status, body bytes): an access log.
    public var log: (@Sendable (_ method: String, _ path: String, _ status: Int, _ bytes: Int) -> Void)? = nil
    /// A configuration with the defaults: loopback, any free port, a random token.
    public init() {}
  }

  /// A random token of 160 bits, as 40 hexadecimal digits.
  public static func randomToken() -> String {
    var g = SystemRandomNumberGenerator()
    return (0..<20).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &g)) }.joined()
  }

  /// The store served.
  public let store: any Store
  /// Its location, when it has one (a directory's symbolic links are checked against it).
  public let location: StoreLocation?
  /// Where and how to listen.
  public let configuration: Configuration

  /// Serves `store` (at `location`, when known).
  public init(store: any Store, location: StoreLocation? = nil, configuration: Configuration = Configuration()) {
    self.store = store
    self.location = location ?? store.location
    self.configuration = configuration
  }

  /// Serves what is at `location`.
  /// - Throws: `ZarrError` when it cannot be opened.
  public init(location: StoreLocation, configuration: Configuration = Configuration()) throws {
    self.init(store: try location.openStore(), location: location, configuration: configuration)
  }

  /// The base URL for a server listening on `port`: `http://HOST:PORT/TOKEN/`.
  public func url(port: Int) -> String {
    "http://\(hostForURL):\(port)/" + (configuration.token.map { $0 + "/" } ?? "")
  }

  /// The URL of the client directory (``Configuration/client``) on `port`: `http://HOST:PORT/v/TOKEN/`.
  public func clientURL(port: Int) -> String {
    "http://\(hostForURL):\(port)/v/" + (configuration.token.map { $0 + "/" } ?? "")
  }

  private var hostForURL: String {
    configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
  }

  /// Serves until the task is cancelled (then closes every connection); `started` gets the base
  /// URL and the port once the server listens.
  /// - Throws: the system's error when the address cannot be bound.
  public func run(started: @escaping @Sendable (_ url: String, _ port: Int) -> Void = { _, _ in }) async throws {
    let responder = StoreResponder(server: self)
    let connections = ConnectionSet()
    let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
      .serverChannelOption(.backlog, value: 1024)
      .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
      .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
      .childChannelOption(.maxMessagesPerRead, value: 16)
      .childChannelInitializer { channel in
        connections.insert(channel)
        return channel.eventLoop.makeCompletedFuture {
          let pipeline = channel.pipeline.syncOperations
          // NIO parses the requests; the answers (fields of our own) are serialized by the handler.
          try pipeline.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
          try pipeline.addHandler(ConnectionHandler(responder: responder))
        }
      }
      .bind(host: configuration.host, port: configuration.port).get()
    let port = listener.localAddress?.port ?? configuration.port
    responder.allowHosts(port: port)
    started(url(port: port), port)
    await withTaskCancellationHandler {
      try? await listener.closeFuture.get()
    } onCancel: {
      listener.close(promise: nil)
    }
    connections.closeAll()
  }
}

/// The open connections of a server, closed when it stops.
final class ConnectionSet: Sendable {
  private let channels = Mutex<[ObjectIdentifier: any Channel]>([:])

  func insert(_ channel: any Channel) {
    let id = ObjectIdentifier(channel)
    channels.withLock { $0[id] = channel }
    channel.closeFuture.whenComplete { _ in _ = self.channels.withLock { $0.removeValue(forKey: id) } }
  }

  func closeAll() {
    for channel in channels.withLock({ Array($0.values) }) { channel.close(promise: nil) }
  }
}
