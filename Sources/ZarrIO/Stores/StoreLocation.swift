import Foundation
import Synchronization

/// Where data lives, as a user writes it: a filesystem path, a `file://` URL, an `http(s)://` URL,
/// or a URL of any scheme registered with ``LocationSchemes``.
///
/// A location is a value: it parses, resolves relative references, compares and prints without
/// touching the filesystem or the network. ``openStore(create:)`` asks the registered scheme for a
/// store rooted at the location; a JSON document at a location is the key ``name`` in the store of
/// its ``parent`` (``read()`` and ``write(_:)``).
///
///     let image = try StoreLocation("data/image.ome.zarr")          // relative to the working directory
///     let remote = try StoreLocation("https://example.org/data/image.ome.zarr")
///     let store = try remote.openStore()                           // an HTTPStore
///     let sibling = remote.resolving("../other.ome.zarr")          // https://example.org/data/other.ome.zarr
public struct StoreLocation: Sendable, Hashable, CustomStringConvertible {
  /// The scheme in lower case: `file` for filesystem paths, `http`, `https`, or another URL scheme.
  public let scheme: String
  /// The host (and port) of a URL, the bucket of an object store; empty for files.
  public let authority: String
  /// The path as components: never empty, `.` or `..` (a location cannot leave its authority's root).
  public let components: [String]

  /// A location from its parts (components are normalised: `.` dropped, `..` goes up).
  public init(scheme: String, authority: String = "", components: [String]) {
    self.scheme = scheme.lowercased()
    self.authority = authority
    self.components = StorePath.normalizedComponents(components)
  }

  /// Parses what a user typed: a path (relative to the working directory), or a URL `scheme://…`.
  /// - Throws: `ZarrError.invalidArgument` for an empty text or a malformed URL.
  public init(_ text: String) throws {
    guard !text.isEmpty else { throw ZarrError(.invalidArgument, "an empty location") }
    guard let scheme = StoreLocation.scheme(of: text) else {
      let absolute = text.hasPrefix("/") ? text : FileManager.default.currentDirectoryPath + "/" + text
      self.init(scheme: "file", components: absolute.split(separator: "/").map(String.init))
      return
    }
    let rest = text.dropFirst(scheme.count + 3)
    let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
    let authority = String(rest[..<authorityEnd])
    let pathText = rest[authorityEnd...]
    // A query or fragment cannot be carried to the keys below the location: refuse rather than drop it.
    if pathText.contains(where: { $0 == "?" || $0 == "#" }) {
      throw ZarrError(.invalidArgument, "'\(text)': a store URL cannot have a query or fragment (percent-encode '?' and '#' in names)")
    }
    var components: [String] = []
    for part in pathText.split(separator: "/") {
      guard let decoded = String(part).removingPercentEncoding else {
        throw ZarrError(.invalidArgument, "'\(text)' is not a valid URL (bad percent-encoding in '\(part)')")
      }
      components.append(decoded)
    }
    if scheme == "file" {
      guard authority.isEmpty || authority.lowercased() == "localhost" else {
        throw ZarrError(.invalidArgument, "'\(text)': file URLs on other hosts are not supported")
      }
      self.init(scheme: "file", components: components)
    } else {
      guard !authority.isEmpty else { throw ZarrError(.invalidArgument, "'\(text)' is not a valid URL (no host)") }
      self.init(scheme: scheme, authority: authority, components: components)
    }
  }

  /// The scheme of `text` when it is written as a URL (`scheme://…`), lower-cased; `nil` for a path.
  public static func scheme(of text: String) -> String? {
    guard let colon = text.firstIndex(of: ":"), text[colon...].hasPrefix("://") else { return nil }
    let scheme = text[..<colon]
    guard let first = scheme.first, first.isASCII, first.isLetter,
      scheme.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == ".") })
    else { return nil }
    return scheme.lowercased()
  }

  /// Whether `text` is written as a URL (`scheme://…`) rather than a path.
  public static func isURL(_ text: String) -> Bool { scheme(of: text) != nil }

  /// A location on the local filesystem.
  public var isFile: Bool { scheme == "file" }
  /// A location reached over the network (not `file`).
  public var isRemote: Bool { !isFile }

  /// The path: `/a/b` (percent-decoded).
  public var path: String { "/" + components.joined(separator: "/") }

  /// The last component (`""` at the root).
  public var name: String { components.last ?? "" }

  /// The location holding this one (the root is its own parent).
  public var parent: StoreLocation {
    StoreLocation(scheme: scheme, authority: authority, components: Array(components.dropLast()))
  }

  /// A filesystem path for files, the URL for everything else (percent-encoded).
  public var description: String {
    if isFile { return path }
    let encoded = components.map { $0.addingPercentEncoding(withAllowedCharacters: StoreLocation.segmentAllowed) ?? $0 }
    return "\(scheme)://\(authority)" + (encoded.isEmpty ? "" : "/" + encoded.joined(separator: "/"))
  }

  /// Characters kept as they are in a URL path segment.
  static let segmentAllowed: CharacterSet = {
    var s = CharacterSet.urlPathAllowed
    s.remove(charactersIn: "/?#")
    return s
  }()

  /// The location a reference names from this one (a directory-like base): a URL of any scheme is
  /// taken as it is; `/x` is `x` from the root of this location's authority; anything else is
  /// relative (`..` goes up, never above the root).
  /// - Throws: `ZarrError.invalidArgument` for a malformed URL.
  public func resolving(_ reference: String) throws -> StoreLocation {
    if StoreLocation.isURL(reference) { return try StoreLocation(reference) }
    let start = reference.hasPrefix("/") ? [] : components
    return StoreLocation(scheme: scheme, authority: authority, components: start + reference.split(separator: "/").map(String.init))
  }

  /// A location below this one (`key` split at `/`).
  public func appending(_ key: String) -> StoreLocation {
    StoreLocation(scheme: scheme, authority: authority, components: components + key.split(separator: "/").map(String.init))
  }

  /// Whether `other` is this location or below it (same scheme and authority).
  public func contains(_ other: StoreLocation) -> Bool {
    scheme == other.scheme && authority == other.authority && other.components.starts(with: components)
  }

  /// The store key of `other` below this location (`""` for the location itself), or `nil` when
  /// `other` is not inside it.
  public func key(of other: StoreLocation) -> String? {
    guard contains(other) else { return nil }
    return other.components.dropFirst(components.count).joined(separator: "/")
  }

  /// `other` as a reference relative to this location (`./x`, `../x`, `.`), or its full text when
  /// it has another scheme or authority.
  public func relativeReference(to other: StoreLocation) -> String {
    guard scheme == other.scheme, authority == other.authority else { return other.description }
    return StorePath.relative(from: components, to: other.components)
  }

  // MARK: Stores

  /// The store rooted at this location, from the scheme registered for it.
  /// - Throws: `ZarrError.invalidArgument` for a scheme or archive type no registered scheme
  ///   handles (the message names what is supported), or the store's own error.
  public func openStore(create: Bool = false) throws -> any Store {
    try LocationSchemes.handler(for: self).store(at: self, create: create)
  }

  /// What is at this location, when its scheme can tell without listing; `nil` when it cannot
  /// (HTTP without listing) or the scheme is not supported.
  public func entry() -> StoreEntry? {
    (try? LocationSchemes.handler(for: self))?.entry(at: self)
  }

  /// The size and modification time of the object at this location, when its scheme keeps them
  /// (files); `nil` when it does not or nothing is there.
  public func objectInfo() -> StoreObjectInfo? {
    (try? LocationSchemes.handler(for: self))?.objectInfo(at: self)
  }

  /// This location with symbolic links resolved (for files), for deciding what is inside what.
  public var canonical: StoreLocation {
    (try? LocationSchemes.handler(for: self))?.canonical(self) ?? self
  }

  /// The bytes of the object at this location (a JSON document, say), or `nil` when it is absent.
  public func read() throws -> [UInt8]? {
    guard !components.isEmpty else { return nil }
    return try parent.openStore().get(name)
  }

  /// Stores `bytes` as the object at this location, atomically, creating what holds it.
  public func write(_ bytes: [UInt8]) throws {
    guard !components.isEmpty else { throw ZarrError(.invalidArgument, "cannot write an object at the root '\(self)'") }
    try parent.openStore(create: true).set(name, bytes)
  }
}

/// What a location holds, as far as its scheme can tell.
public enum StoreEntry: Sendable, Hashable {
  /// Nothing is there.
  case absent
  /// An object (a file): something to ``StoreLocation/read()``.
  case object
  /// A prefix holding objects (a directory): a store root.
  case prefix
}

/// The size and modification time of a stored object.
public struct StoreObjectInfo: Sendable, Hashable {
  /// The size in bytes.
  public var size: Int
  /// The modification time, in seconds since 1970.
  public var modified: Double
  /// An object's size and modification time.
  public init(size: Int, modified: Double) {
    self.size = size
    self.modified = modified
  }
}

/// A way to reach stores: the URL schemes (and archive file extensions) it handles and how it
/// opens a store at a location. A new place to keep data is one conforming type, registered with
/// ``LocationSchemes/register(_:)``.
public protocol LocationScheme: Sendable {
  /// The URL schemes handled, lower case (`file`; `http`, `https`).
  var schemes: [String] { get }
  /// File extensions (without the dot) of archives this scheme opens as stores, e.g. `ozx`:
  /// a location whose last component ends so is handed to this scheme whatever its URL scheme.
  var archiveExtensions: [String] { get }
  /// The store rooted at `location`.
  func store(at location: StoreLocation, create: Bool) throws -> any Store
  /// What is at `location`; `nil` when the scheme cannot tell without listing.
  func entry(at location: StoreLocation) -> StoreEntry?
  /// `location` with aliases (symbolic links) resolved; the location itself by default.
  func canonical(_ location: StoreLocation) -> StoreLocation
  /// The size and modification time of the object at `location`; `nil` by default.
  func objectInfo(at location: StoreLocation) -> StoreObjectInfo?
}

extension LocationScheme {
  /// No archive extensions.
  public var archiveExtensions: [String] { [] }
  /// No aliases.
  public func canonical(_ location: StoreLocation) -> StoreLocation { location }
  /// No object information.
  public func objectInfo(at location: StoreLocation) -> StoreObjectInfo? { nil }
}

/// The registry of location schemes: files, HTTP(S), S3 and ZIP archives built in, more registered at run time.
public enum LocationSchemes {
  private static let registry = Mutex<[any LocationScheme]>([ZipLocationScheme(), FileLocationScheme(), HTTPLocationScheme(), S3LocationScheme()])

  /// Archive extensions recognised as such even before a scheme for them is registered, with
  /// what they are called in messages: writing `out.ozx` must never create a directory of that name.
  static let knownArchives: [String: String] = ["ozx": "a zipped OME-Zarr (.ozx)", "zip": "a zip archive (.zip)"]

  /// Adds `scheme`; it takes precedence over earlier schemes for the same names.
  public static func register(_ scheme: any LocationScheme) {
    registry.withLock { $0.insert(scheme, at: 0) }
  }

  /// The URL schemes that can be opened, sorted.
  public static var supportedSchemes: [String] {
    registry.withLock { Array(Set($0.flatMap(\.schemes))).sorted() }
  }

  /// The scheme that opens `location`.
  /// - Throws: `ZarrError.invalidArgument` naming the location and what is supported.
  public static func handler(for location: StoreLocation) throws -> any LocationScheme {
    let schemes = registry.withLock { $0 }
    // The first component naming an archive decides: the location is that archive or inside it.
    for name in location.components {
      guard let dot = name.lastIndex(of: ".") else { continue }
      let ext = name[name.index(after: dot)...].lowercased()
      if let archive = schemes.first(where: { $0.archiveExtensions.contains(ext) }) { return archive }
      if let what = knownArchives[ext], name == location.name {
        throw ZarrError(.invalidArgument, "'\(location)' is \(what), which this version cannot read or write")
      }
    }
    guard let handler = schemes.first(where: { $0.schemes.contains(location.scheme) }) else {
      let supported = supportedSchemes.filter { $0 != "file" }.map { "\($0)://" }.joined(separator: ", ")
      throw ZarrError(.invalidArgument,
        "'\(location)': the scheme '\(location.scheme)://' is not supported (use a path, file://, \(supported))")
    }
    return handler
  }
}

/// Path algebra on `/`-separated node paths and store keys: the one place it is done (with
/// ``joinKey(_:)`` and ``normalizePath(_:)``).
public enum StorePath {
  /// `relative` resolved against the node path `base`: `.` is dropped, `..` goes up (never above
  /// the root), and a leading `/` starts from the root.
  public static func resolve(_ relative: String, from base: String) -> String {
    let start = relative.hasPrefix("/") ? [] : base.split(separator: "/").map(String.init)
    return normalizedComponents(start + relative.split(separator: "/").map(String.init)).joined(separator: "/")
  }

  /// The parent of a node path (`""` for a top-level name or the root).
  public static func parent(_ path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "" }
    return String(path[..<slash])
  }

  /// Components with `.` and empty ones dropped and `..` applied (never above the first).
  static func normalizedComponents(_ components: [String]) -> [String] {
    var out: [String] = []
    for c in components where !c.isEmpty && c != "." {
      if c == ".." { if !out.isEmpty { out.removeLast() } } else { out.append(c) }
    }
    return out
  }

  /// `target` relative to the directory `base`, as `./x` or `../x` (`.` for the directory itself).
  static func relative(from base: [String], to target: [String]) -> String {
    var common = 0
    while common < min(base.count, target.count) && base[common] == target[common] { common += 1 }
    let up = [String](repeating: "..", count: base.count - common)
    let parts = up + target[common...]
    if parts.isEmpty { return "." }
    return up.isEmpty ? "./" + parts.joined(separator: "/") : parts.joined(separator: "/")
  }

  /// The direct children of `prefix` among `keys` (every key under it, as ``Store/list(prefix:)``
  /// gives them): the keys stored right there and the names of the sub-prefixes, each sorted.
  public static func children(of keys: [String], under prefix: String) -> (keys: [String], prefixes: [String]) {
    var names: [String] = [], prefixes = Set<String>()
    let drop = prefix.isEmpty ? 0 : prefix.count + 1
    for key in keys {
      let rest = key.dropFirst(drop)
      if let slash = rest.firstIndex(of: "/") { prefixes.insert(String(rest[..<slash])) } else { names.append(String(rest)) }
    }
    return (names.sorted(), prefixes.sorted())
  }

  /// `target` relative to the node path `base`, as `./x` or `../x` (`.` for the same path).
  public static func relative(from base: String, to target: String) -> String {
    relative(from: base.split(separator: "/").map(String.init), to: target.split(separator: "/").map(String.init))
  }
}

/// Joins node paths and key parts with `/`, skipping empty parts.
public func joinKey(_ parts: String...) -> String {
  parts.filter { !$0.isEmpty }.joined(separator: "/")
}

/// Normalises a user-given node path: no leading, trailing or doubled slashes.
public func normalizePath(_ path: String) -> String {
  path.split(separator: "/", omittingEmptySubsequences: true).joined(separator: "/")
}
