import ArgumentParser
import Foundation
import OMEZarr
import ZarrIO

/// `ome2zarr collection …`: build and browse RFC-8 collections.
struct Collection: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Build and browse collections of images (RFC-8).",
    discussion: """
      A collection document is a standalone JSON file (OUT ends in .json) or a Zarr group (its zarr.json). Members are referenced by paths relative to the document; nothing is copied.

      Resolving references never leaves the collection's directory or fetches a URL unless --allow-outside or --allow-remote is given. A collection may itself be an http(s) URL: its relative paths are then followed over HTTP (never to local files); other URLs still need --allow-remote.

      Exit codes: 0 success, 1 a member or reference that is missing or does not resolve, 2 a usage error or a collection that cannot be read or written.
      """,
    subcommands: [Create.self, Add.self, Remove.self, SetAttributes.self, List.self, From.self])

  /// Where a change goes: the document and an inline sub-collection (`--into a/b`).
  struct Target: ParsableArguments {
    @Option(help: "Inline sub-collection to work in, as names separated by '/' (created if missing).")
    var into: String?
    var names: [String] { into.map { $0.split(separator: "/").map(String.init) } ?? [] }
  }

  struct Resolution: ParsableArguments {
    @Flag(help: "Follow paths that leave the collection's directory.")
    var allowOutside = false
    @Flag(help: "Follow http(s) URLs (documents and image metadata are fetched; no pixel data).")
    var allowRemote = false
    @Option(help: "The most referenced documents to follow in one chain.")
    var maxDepth = 16
    @Option(help: "The most nodes to walk (groups, arrays and collection nodes); a larger hierarchy or collection is refused.")
    var maxNodes = CollectionResolver.Options().maxNodes

    mutating func validate() throws {
      guard maxNodes > 0 else { throw ValidationError("--max-nodes must be positive, not \(maxNodes)") }
      guard maxDepth >= 0 else { throw ValidationError("--max-depth must not be negative, not \(maxDepth)") }
    }

    var options: CollectionResolver.Options {
      var o = CollectionResolver.Options()
      o.allowOutside = allowOutside
      o.allowRemote = allowRemote
      o.maxDepth = maxDepth
      o.maxNodes = maxNodes
      return o
    }
  }

  /// Reads the collection document at `path`; one that does not exist or cannot be read is an I/O
  /// error (exit 2), not invalid data.
  static func read(_ path: String) throws -> CollectionDocument {
    do {
      return try CollectionDocument.read(path: path)
    } catch let error as OMEZarrError where error.code == .invalidArgument {
      throw CommandFailure.io(error.description)
    }
  }

  /// Parses `key=json` (a value that is not JSON is taken as a string).
  static func attribute(_ s: String) throws -> (String, JSONValue) {
    guard let eq = s.firstIndex(of: "="), eq != s.startIndex else {
      throw ValidationError("--attr takes KEY=JSON, not '\(s)'")
    }
    let key = String(s[..<eq]), text = String(s[s.index(after: eq)...])
    return (key, (try? JSONValue.parse(text)) ?? .string(text))
  }

  /// Refuses members that do not exist (exit 2, like any missing input) and members outside the
  /// document's directory unless allowed (they would not resolve).
  static func checkInside(_ location: StoreLocation, _ doc: CollectionDocument, allowOutside: Bool) throws {
    guard location.entry() != .absent else { throw CommandFailure.io("'\(location)' does not exist") }
    let r = CollectionResolver(root: doc.rootLocation)
    if !allowOutside && !r.isInside(location) {
      throw CommandFailure.usage("'\(location)' is outside the collection's directory '\(doc.rootLocation)'; "
        + "readers will not follow it by default (use --allow-outside to add it anyway)")
    }
  }

  struct Create: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Create a collection, optionally with members.", usage: "ome2zarr collection create <output> [<members> ...] [<options>]")
    @Argument(help: "The collection: a .json file or a Zarr group directory.")
    var output: String
    @Option(help: "The collection's name (default: from OUT).")
    var name: String?
    @Argument(help: "Images (or collections) to add as members.")
    var members: [String] = []
    @Option(name: .customLong("attr"), help: "Collection attribute KEY=JSON (repeatable).")
    var attributes: [String] = []
    @Flag(help: "Allow members outside the collection's directory.")
    var allowOutside = false
    @Flag(help: "Replace an existing collection.")
    var overwrite = false

    @OptionGroup(title: "Limits") var readLimits: ReadLimitOptions
    @OptionGroup(title: "Remote storage") var remote: RemoteOptions

    func run() throws {
      let out = try StoreLocation(output)
      if !overwrite, let entry = out.entry(), entry != .absent {
        if try out.name.hasSuffix(".json") || out.openStore().exists("zarr.json") {
          throw CommandFailure.io("'\(output)' exists (use --overwrite, or collection add)")
        }
      }
      var doc = CollectionDocument.new(at: out, root: CollectionNode(type: "collection",
        name: name ?? CollectionNode.defaultName(for: out.path), nodes: []))
      if !attributes.isEmpty {
        var a = JSONObject()
        for s in attributes { let (k, v) = try Collection.attribute(s); a[k] = v }
        doc.root.attributes = a
      }
      for m in members {
        let member = try StoreLocation(m)
        try Collection.checkInside(member, doc, allowOutside: allowOutside)
        let node = try CollectionBuilder.member(member, in: doc)
        doc.root.nodes?.append(node)
      }
      try Collection.checkNames(doc.root.nodes ?? [])
      CollectionBuilder.assignIDs(&doc.root)
      try doc.write()
      print("created \(doc.location) with \(members.count) member\(members.count == 1 ? "" : "s")")
    }
  }

  static func checkNames(_ nodes: [CollectionNode]) throws {
    var seen: Set<String> = []
    for n in nodes where !seen.insert(n.name).inserted {
      throw CommandFailure.usage("two members are named '\(n.name)'; names must be unique in a collection (use --name)")
    }
  }

  struct Add: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Add a member (image or collection) to a collection.", usage: "ome2zarr collection add <collection> <member> [<options>]")
    @Argument(help: "The collection (.json file or Zarr group).")
    var collection: String
    @Argument(help: "The image or collection to add.")
    var member: String
    @Option(help: "The member's name (default: from its path).")
    var name: String?
    @Option(help: "The member's id (default: from its name).")
    var id: String?
    @Option(name: .customLong("attr"), help: "Member attribute KEY=JSON, e.g. 'example-viewer:settings={\"isDisabled\":true}' (repeatable).")
    var attributes: [String] = []
    @OptionGroup var target: Target
    @Flag(help: "Allow a member outside the collection's directory.")
    var allowOutside = false

    @OptionGroup(title: "Limits") var readLimits: ReadLimitOptions
    @OptionGroup(title: "Remote storage") var remote: RemoteOptions

    func run() throws {
      var doc = try Collection.read(collection)
      let member = try StoreLocation(self.member)
      try Collection.checkInside(member, doc, allowOutside: allowOutside)
      var node = try CollectionBuilder.member(member, in: doc, name: name)
      node.id = id
      if !attributes.isEmpty {
        var a = node.attributes ?? [:]
        for s in attributes { let (k, v) = try Collection.attribute(s); a[k] = v }
        node.attributes = a
      }
      if let id, doc.root.walk().contains(where: { $0.node.id == id }) {
        throw CommandFailure.usage("the id '\(id)' is already used in this document")
      }
      try doc.root.modify(at: target.names) { (sub: inout CollectionNode) throws in
        if sub.nodes?.contains(where: { $0.name == node.name }) == true {
          throw CommandFailure.usage("'\(sub.name)' already has a member named '\(node.name)' (use --name)")
        }
        sub.nodes = (sub.nodes ?? []) + [node]
      }
      CollectionBuilder.assignIDs(&doc.root)
      try doc.write()
      print("added '\(node.name)' (\(node.type), \(node.path?.path ?? "")) to \(doc.location)")
    }
  }

  struct Remove: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Remove a member (by name or id) from a collection. Its data is not touched.",
      usage: "ome2zarr collection remove <collection> <member> [<options>]")
    @Argument(help: "The collection (.json file or Zarr group).")
    var collection: String
    @Argument(help: "The member's name or id.")
    var member: String
    @OptionGroup var target: Target

    @OptionGroup(title: "Limits") var readLimits: ReadLimitOptions
    @OptionGroup(title: "Remote storage") var remote: RemoteOptions

    func run() throws {
      var doc = try Collection.read(collection)
      guard doc.root.child(named: target.names) != nil else {
        throw CommandFailure.invalidData("no sub-collection '\(target.into ?? "")'")
      }
      var removed = false
      doc.root.modify(at: target.names) { sub in
        let before = sub.nodes?.count ?? 0
        sub.nodes?.removeAll { $0.name == member || $0.id == member }
        removed = (sub.nodes?.count ?? 0) < before
      }
      guard removed else { throw CommandFailure.invalidData("no member '\(member)'") }
      try doc.write()
      print("removed '\(member)' from \(doc.location)")
    }
  }

  struct SetAttributes: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "set",
      abstract: "Change a member's (or the collection's) attributes or name in place.",
      usage: "ome2zarr collection set <collection> [<member>] [<options>]",
      discussion: """
        Without MEMBER the collection itself (or the --into sub-collection) is changed.

        Example: ome2zarr collection set study.json endo_pred --attr 'example-viewer:settings={"isDisabled":false}' --unset other-viewer:voxelType
        """)
    @Argument(help: "The collection (.json file or Zarr group).")
    var collection: String
    @Argument(help: "The member's name or id (omit for the collection itself).")
    var member: String?
    @Option(name: .customLong("attr"), help: "Attribute KEY=JSON to set (repeatable).")
    var attributes: [String] = []
    @Option(name: .customLong("unset"), help: "Attribute KEY to remove (repeatable).")
    var unset: [String] = []
    @Option(help: "A new name (unique among its siblings).")
    var rename: String?
    @OptionGroup var target: Target

    @OptionGroup(title: "Limits") var readLimits: ReadLimitOptions
    @OptionGroup(title: "Remote storage") var remote: RemoteOptions

    func run() throws {
      guard !attributes.isEmpty || !unset.isEmpty || rename != nil else {
        throw CommandFailure.usage("nothing to change: give --attr, --unset or --rename")
      }
      let set = try attributes.map(Collection.attribute)
      var doc = try Collection.read(collection)
      guard doc.root.child(named: target.names) != nil else {
        throw CommandFailure.invalidData("no sub-collection '\(target.into ?? "")'")
      }
      func edit(_ node: inout CollectionNode, siblings: [CollectionNode]) throws {
        var a = node.attributes ?? [:]
        for key in unset where a[key] == nil {
          throw CommandFailure.invalidData("'\(node.name)' has no attribute '\(key)'")
        }
        for key in unset { a[key] = nil }
        for (k, v) in set { a[k] = v }
        node.attributes = a.isEmpty ? nil : a
        if let rename {
          guard !rename.isEmpty else { throw CommandFailure.usage("a name cannot be empty") }
          if siblings.contains(where: { $0.name == rename }) {
            throw CommandFailure.usage("a sibling is already named '\(rename)'")
          }
          node.name = rename
        }
      }
      var changed = ""
      try doc.root.modify(at: target.names) { (sub: inout CollectionNode) throws in
        guard let member else {
          try edit(&sub, siblings: [])
          changed = sub.name
          return
        }
        guard var nodes = sub.nodes, let i = nodes.firstIndex(where: { $0.name == member || $0.id == member }) else {
          throw CommandFailure.invalidData("no member '\(member)'")
        }
        try edit(&nodes[i], siblings: nodes.enumerated().filter { $0.offset != i }.map(\.element))
        changed = nodes[i].name
        sub.nodes = nodes
      }
      try doc.write()
      print("changed '\(changed)' in \(doc.location)")
    }
  }

  struct From: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Make a collection of a bioformats2raw root, a plate, or a folder of OME-Zarr images (no data is copied).",
      usage: "ome2zarr collection from <source> <output> [<options>]")
    @Argument(help: "The bioformats2raw root, plate, or folder.")
    var source: String
    @Argument(help: "The collection to write (.json file, or a Zarr group directory).")
    var output: String
    @Option(help: "The collection's name (default: from SOURCE).")
    var name: String?
    @Flag(help: "Replace an existing collection.")
    var overwrite = false
    @Flag(help: "Print the collection's tree as JSON.")
    var json = false

    @OptionGroup(title: "Limits") var readLimits: ReadLimitOptions
    @OptionGroup(title: "Remote storage") var remote: RemoteOptions

    func run() throws {
      let out = try StoreLocation(output)
      if out.entry() == .object && !overwrite && output.hasSuffix(".json") {
        throw CommandFailure.io("'\(output)' exists (use --overwrite)")
      }
      let doc = try CollectionBuilder.collection(from: try StoreLocation(source), output: out, name: name)
      try doc.write()
      let tree = CollectionResolver.resolve(doc)
      if json {
        print(JSONValue.object(List.json(tree)).serialized())
      } else {
        print(List.render(tree), terminator: "")
      }
    }
  }

  struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Show a collection's tree: each member's kind, shape, version and whether its reference resolves.",
      usage: "ome2zarr collection list <collection> [<options>]",
      discussion: "Exit codes: 0 every reference resolves, 1 one does not, 2 the collection cannot be read.")
    @Argument(help: "The collection (.json file or Zarr group; a path or an http(s) URL).")
    var collection: String
    @OptionGroup var resolution: Resolution
    @Flag(help: "Print JSON.")
    var json = false

    @OptionGroup(title: "Limits") var readLimits: ReadLimitOptions
    @OptionGroup(title: "Remote storage") var remote: RemoteOptions

    func run() throws {
      let doc = try Collection.read(collection)
      let tree = CollectionResolver.resolve(doc, options: resolution.options)
      if json {
        print(JSONValue.object(Self.json(tree)).serialized())
      } else {
        print(Self.render(tree), terminator: "")
      }
      if tree.all.contains(where: { ![.inline, .resolved].contains($0.status) }) {
        throw AlreadyReported(cause: CommandFailure.invalidData("a reference does not resolve"))
      }
    }

    static func json(_ r: CollectionResolver.Resolved) -> JSONObject {
      var o = JSONObject()
      o["name"] = .string(r.node.name)
      o["type"] = .string(r.node.type.rawValue)
      o["id"] = r.node.id.map(JSONValue.string)
      o["path"] = r.node.path.map { .string($0.path) }
      o["status"] = .string(r.status.rawValue)
      o["location"] = r.location.map { .string($0.description) }
      o["kind"] = r.kind.map(JSONValue.string)
      o["version"] = r.version.map(JSONValue.string)
      o["shape"] = r.shape.map { .array($0.map { .int(Int64($0)) }) }
      o["data_type"] = r.dataType.map(JSONValue.string)
      o["message"] = r.message.map(JSONValue.string)
      if !r.children.isEmpty { o["nodes"] = .array(r.children.map { .object(json($0)) }) }
      return JSONObject(o.entries.filter { !$0.value.isNull })
    }

    static func render(_ r: CollectionResolver.Resolved) -> String {
      var out = "\(r.node.name)  \(r.node.type)\(r.version.map { " \($0)" } ?? "")  \(r.location?.description ?? "")\n"
      func walk(_ nodes: [CollectionResolver.Resolved], _ prefix: String) {
        for (i, n) in nodes.enumerated() {
          let last = i == nodes.count - 1
          var line = "\(prefix)\(last ? "└─ " : "├─ ")\(n.node.name)  \(n.node.type)"
          if let p = n.node.path { line += "  \(p.path)" }
          switch n.status {
          case .resolved:
            line += "  -> \(n.kind ?? "?")\(n.version.map { " \($0)" } ?? "")"
            if let s = n.shape { line += " \(s.map(String.init).joined(separator: "x"))" }
            if let d = n.dataType { line += " \(d)" }
          case .inline: break
          default: line += "  [\(n.status.rawValue)] \(n.message ?? "")"
          }
          out += line + "\n"
          walk(n.children, prefix + (last ? "   " : "│  "))
        }
      }
      walk(r.children, "")
      return out
    }
  }
}

