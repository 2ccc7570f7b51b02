import ArgumentParser
import Foundation
import OMEZarr
import OMEZarrServe
import ZarrIO

/// `ome2zarr view LOCATION`: serves an image and prints (and opens) a viewer URL showing it.
struct View: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Serve an image and open it in a browser viewer (neuroglancer or vizarr).",
    usage: "ome2zarr view <location> [--viewer neuroglancer|vizarr] [--client DIR] [<serve options>]",
    discussion: """
      Serves the image as `ome2zarr serve` does and prints a viewer URL with a sensible initial state. \
      For neuroglancer: one layer per channel with the names, colours and windows of `omero`, the \
      physical scales of level 0, and each label image as a segmentation layer (neuroglancer finds \
      neither by itself). For vizarr: ?source=. The URL is opened when there is a desktop.

      By default the URL opens the public viewer deployment, which fetches from this machine's \
      loopback address (browsers may ask to allow access to the local network). --client DIR serves \
      a viewer client from the same address instead (for example the client inside the neuroglancer \
      Python package, neuroglancer/static/client), which also works offline.

      Exit codes: 0 stopped by SIGINT or SIGTERM, 1 a location that is not an image, 2 a location \
      that cannot be opened or an address that cannot be bound.
      """)

  /// The viewers a URL can be made for.
  enum Viewer: String, ExpressibleByArgument, CaseIterable {
    case neuroglancer, vizarr
  }

  @Argument(help: "The image: a directory, a .ozx, an s3:// prefix or an http(s):// URL.")
  var location: String
  @Option(help: "The viewer.")
  var viewer: Viewer = .neuroglancer
  @Option(help: ArgumentHelp("Serve this viewer client directory at /v/TOKEN/ and use it instead of the public deployment.",
    valueName: "dir"))
  var client: String?
  @OptionGroup(title: "Serving") var serving: ServerOptions
  @Flag(inversion: .prefixedNo, help: "Open the URL in a browser (default: when there is a desktop).")
  var open: Bool?
  @Flag(help: "Print the URLs, port, token and viewer state as one JSON line.")
  var json = false

  @OptionGroup(title: "Remote storage") var remote: RemoteOptions

  func run() throws {
    let where_ = try StoreLocation(location)
    guard where_.entry() != .absent else { throw CommandFailure.io("'\(location)' does not exist") }
    let node = try OMENode.open(where_)
    guard let image = try node.image() else {
      throw CommandFailure.invalidData("'\(location)' is a \(node.kind), not an image")
    }
    let labels = (try? node.labelNames()) ?? []
    if let client {
      guard (try? StoreLocation(client))?.entry() == .prefix else { throw CommandFailure.usage("--client '\(client)' is not a directory") }
    }
    var configuration = serving.configuration(serving: location)
    configuration.client = client.map { (try? StoreLocation($0).path) ?? $0 }
    let server = try StoreServer(location: where_, configuration: configuration)
    let (viewer, json, hasClient, name) = (self.viewer, self.json, client != nil, where_.description)
    let open = self.open ?? Self.hasDesktop
    let token = configuration.token
    try serveUntilStopped(server, what: location) { url, port in
      let base = hasClient ? server.clientURL(port: port) : nil
      let state: JSONValue
      let link: String
      switch viewer {
      case .neuroglancer:
        state = ViewerLink.neuroglancerState(image: image, labels: labels, source: url)
        link = ViewerLink.neuroglancerURL(state: state, base: base ?? ViewerLink.neuroglancer)
      case .vizarr:
        state = .null
        link = ViewerLink.vizarrURL(source: url, base: base ?? ViewerLink.vizarr)
      }
      if json {
        let object: JSONValue = ["url": .string(url), "port": .int(Int64(port)), "token": token.map { .string($0) } ?? .null,
          "location": .string(name), "viewer": .string(viewer.rawValue), "viewer_url": .string(link), "state": state]
        Platform.writeToStandardOutput(object.serialized(pretty: false) + "\n")
      } else {
        Platform.writeToStandardOutput("serving \(name) at \(url)  (Ctrl-C stops)\n\(viewer.rawValue): \(link)\n")
      }
      if open { Self.openInBrowser(link) }
    }
  }

  /// Whether a graphical session is there to open a browser in.
  static var hasDesktop: Bool {
    let env = ProcessInfo.processInfo.environment
    return env["DISPLAY"] != nil || env["WAYLAND_DISPLAY"] != nil
  }

  /// Asks the desktop to open `url` (xdg-open); failures are ignored: the URL is printed anyway.
  static func openInBrowser(_ url: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["xdg-open", url]
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try? p.run()
  }
}
