import Foundation
import OMEZarr
import OMEZarrConvert
import TestSupport
import Testing
import ZarrIO

@testable import ome2zarr

/// The one mapping from errors to exit codes: 0 success, 1 invalid data, 2 usage or I/O.
@Suite("ome2zarr exit codes")
struct ExitStatusTests {
  /// The exit code for `error`.
  func code(_ error: any Error) -> Int32 { ExitStatus(for: error).code }

  /// The error argument-parser throws for `arguments` (a help request is thrown when it runs).
  func parseError(_ arguments: [String]) -> (any Error)? {
    do {
      var command = try Ome2Zarr.parseAsRoot(arguments)
      if String(describing: type(of: command)) == "HelpCommand" { try command.run() }
      return nil
    } catch {
      return error
    }
  }

  @Test func libraryErrors() {
    #expect(code(ZarrError(.notFound, "no such node")) == 2)
    #expect(code(ZarrError(.storeFailure, "disk full")) == 2)
    #expect(code(ZarrError(.invalidArgument, "bad region")) == 2)
    #expect(code(ZarrError(.invalidMetadata, "bad zarr.json")) == 1)
    #expect(code(ZarrError(.corruptData, "checksum")) == 1)
    #expect(code(ConvertError(.unreadable, "not a TIFF")) == 2)
    #expect(code(ConvertError(.outputExists, "exists")) == 2)
    #expect(code(ConvertError(.unsupported, "12-bit")) == 1)
    #expect(code(ConvertError(.invalidArgument, "--scale needs 3 values")) == 1)
    #expect(code(OMEZarrError(.invalidMetadata, "no axes")) == 1)
    #expect(code(OMEZarrError(.invalidArgument, "unknown coordinate system")) == 1)
    #expect(code(CocoaError(.fileNoSuchFile)) == 2)
    #expect(ExitStatus.message(for: ZarrError(.notFound, "no such node")) == "no such node")
  }

  @Test func commandErrors() {
    #expect(code(CommandFailure.invalidData("no member 'x'")) == 1)
    #expect(code(CommandFailure.usage("give COORDINATES")) == 2)
    #expect(code(CommandFailure.io("'out.json' exists")) == 2)
    #expect(ExitStatus.message(for: CommandFailure.io("'out.json' exists")) == "'out.json' exists")
    // A command that printed its own report: the cause decides, nothing more is printed.
    let reported = AlreadyReported(cause: CommandFailure.invalidData("invalid"))
    #expect(code(reported) == 1)
    #expect(ExitStatus.message(for: reported) == nil)
    #expect(code(AlreadyReported(cause: ZarrError(.notFound, "gone"))) == 2)
  }

  @Test func argumentParserErrors() throws {
    let help = try #require(parseError(["convert", "--help"]))
    #expect(code(help) == 0)
    let missing = try #require(parseError(["convert"]))
    #expect(code(missing) == 2)
    let badValue = try #require(parseError(["convert", "a.tif", "out.zarr", "--method", "blur"]))
    #expect(code(badValue) == 2)
    #expect(ExitStatus.message(for: badValue)?.hasPrefix("The value 'blur' is invalid for '--method <method>'") == true)
    let unknownCommand = try #require(parseError(["frobnicate"]))
    #expect(code(unknownCommand) == 2)
    let unknownOption = try #require(parseError(["info", "x.zarr", "--frobnicate"]))
    #expect(code(unknownOption) == 2)
    let conflict = try #require(parseError(["convert", "a.tif", "out.zarr", "--level", "3", "--compression-level", "4"]))
    #expect(code(conflict) == 2)
    #expect(parseError(["convert", "a.tif", "out.zarr", "--level", "4", "--compression-level", "4"]) == nil)
  }

  @Test func statusCodes() {
    #expect(ExitStatus.allCases.map(\.code) == [0, 1, 2])
  }
}

/// Exit codes of real runs, help texts and option spellings.
@Suite("ome2zarr conventions", .serialized)
struct ConventionsTests {
  /// A 4-plane 32 x 32 uint16 TIFF at `path` (parent folders created).
  static func writeTIFF(_ path: String) throws {
    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
      withIntermediateDirectories: true)
    let writer = try TIFFWriter(path: path)
    for z in 0..<4 {
      let plane: [UInt16] = (0..<(32 * 32)).map { UInt16(z * 1000 + $0) }
      try writer.append(try ArrayBuffer(shape: [32, 32], dataType: .uint16, elements: plane))
    }
  }

  /// The first codec named `name` anywhere in `json` (sharding codecs nest their inner chain).
  static func codec(_ name: String, in json: JSONValue) -> JSONValue? {
    if json["name"]?.stringValue == name { return json }
    for child in json.arrayValue ?? json.objectValue.map({ $0.entries.map(\.value) }) ?? [] {
      if let found = codec(name, in: child) { return found }
    }
    return nil
  }

  @Test func convertsATIFFInAFolderNamedWithAHash() throws {
    let dir = try CLI.temporaryDirectory()
    let tiff = dir.appendingPathComponent("run#1/a.tif").path
    try Self.writeTIFF(tiff)
    let out = dir.appendingPathComponent("out.ome.zarr").path
    let r = try CLI.ome2zarr("convert", tiff, out, "--quiet")
    #expect(r.status == 0, "\(r.stderr)")
    let image = try #require(try OMENode.open(path: out).image())
    #expect(image.levels[0].shape == [4, 32, 32])
    let plane = try image.levels[0].read([2..<3, 0..<32, 0..<32]).elements(as: UInt16.self)
    let expected: [UInt16] = (0..<(32 * 32)).map { UInt16(2000 + $0) }
    #expect(plane == expected)
    #expect(try CLI.ome2zarr("verify", tiff, out).status == 0)
    // The library decides the same for the same input.
    #expect(try InputSource.kind(of: [tiff]) == .tiff)
    #expect(try InputSource.open([tiff]).map(\.name) == ["0"])
  }

  @Test func compressionLevelAndItsOldName() throws {
    let dir = try CLI.temporaryDirectory()
    let tiff = dir.appendingPathComponent("a.tif").path
    try Self.writeTIFF(tiff)
    for (spelling, level) in [("--compression-level", 7), ("--level", 9)] {
      let out = dir.appendingPathComponent("\(level).ome.zarr").path
      let r = try CLI.ome2zarr("convert", tiff, out, "--quiet", "--compressor", "zstd", spelling, String(level))
      #expect(r.status == 0, "\(spelling): \(r.stderr)")
      let meta = try JSONValue.parse([UInt8](try Data(contentsOf: URL(fileURLWithPath: out + "/0/zarr.json"))))
      #expect(Self.codec("zstd", in: meta)?["configuration"]?["level"] == .int(Int64(level)), "\(spelling)")
    }
    let both = try CLI.ome2zarr("convert", tiff, dir.appendingPathComponent("x.zarr").path, "--level", "1", "--compression-level", "2")
    #expect(both.status == 2 && both.stderr.contains("--compression-level"))
    let help = try CLI.ome2zarr("convert", "--help")
    #expect(help.stdout.contains("--compression-level <compression-level>"))
    #expect(!help.stdout.contains("--level <level>"))
  }

  @Test func optionValuesAreListedAndChecked() throws {
    let help = try CLI.ome2zarr("convert", "--help")
    #expect(help.status == 0)
    let text = help.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
    #expect(text.contains("(values: mean, nearest, mode, min, max, median, gaussian; default: mean)"))
    #expect(text.contains("(values: blosc-zstd, zstd, blosc-lz4, gzip, none; default: blosc-zstd)"))
    #expect(text.contains("(values: 0.4, 0.5, 0.6, 0.9; default: 0.5)"))
    for (option, value) in [("--method", "blur"), ("--compressor", "lzma"), ("--version", "0.7")] {
      let r = try CLI.ome2zarr("convert", "in.tif", "out.zarr", option, value)
      #expect(r.status == 2, "\(option) \(value)")
      #expect(r.stderr.contains("The value '\(value)' is invalid for '\(option)"), "\(r.stderr)")
    }
  }

  /// Every command's help, at 100 columns: paragraphs wrapped by argument-parser, not by hand.
  @Test(arguments: [
    ["convert"], ["info"], ["validate"], ["verify"], ["transform"], ["collection"], ["collection", "create"],
    ["collection", "add"], ["collection", "remove"], ["collection", "set"], ["collection", "list"], ["collection", "from"], [],
  ])
  func helpIsWrappedParagraphs(_ command: [String]) throws {
    let r = try runProcess("/usr/bin/env", ["COLUMNS=100", CLI.binary] + command + ["--help"])
    #expect(r.status == 0)
    let lines = r.stdoutText.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    #expect(lines.count > 5)
    for (i, line) in lines.enumerated() {
      #expect(line.count <= 100, "\(command): \(line.count) columns: \(line)")
      // A short line followed by one that goes on mid-sentence is a hard-wrapped paragraph.
      if i + 1 < lines.count, !line.trimmingCharacters(in: .whitespaces).isEmpty, line.count < 40,
        let next = lines[i + 1].first, next.isLowercase
      {
        Issue.record("\(command): ragged lines '\(line)' / '\(lines[i + 1])'")
      }
    }
  }

  @Test func collectionListOfAMissingFileIsAnIOError() throws {
    let dir = try CLI.temporaryDirectory()
    let r = try CLI.ome2zarr("collection", "list", dir.appendingPathComponent("missing.json").path)
    #expect(r.status == 2)
    #expect(r.stderr.contains("missing.json"))
    let json = try CLI.ome2zarr("collection", "list", dir.appendingPathComponent("missing.json").path, "--json")
    #expect(json.status == 2)
    // Unknown commands and missing arguments are usage errors.
    #expect(try CLI.ome2zarr("frobnicate").status == 2)
    #expect(try CLI.ome2zarr("collection", "list").status == 2)
    #expect(try CLI.ome2zarr("--version").status == 0)
  }

  @Test func infoStatsForImageLevels() throws {
    let dir = try CLI.temporaryDirectory()
    let path = dir.appendingPathComponent("img.ome.zarr").path
    let store = try FilesystemStore(root: path, create: true)
    var options = ImageOptions(axes: [.space("y"), .space("x")])
    options.chunkShape = [4, 4]
    options.sharded = false
    options.compressor = .none
    options.levels = 2
    let data = try ArrayBuffer(shape: [8, 8], dataType: .uint8, elements: (1...64).map { UInt8($0) })
    _ = try ImageWriter.write(data, to: store, options: options)

    let text = try CLI.ome2zarr("info", path, "--stats")
    #expect(text.status == 0, "\(text.stderr)")
    let lines = text.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
    let level0 = try #require(lines.firstIndex { $0.hasPrefix("level 0 '0'") })
    let level1 = try #require(lines.firstIndex { $0.hasPrefix("level 1 '1'") })
    #expect(lines[level0 + 1] == "stored 4 of 4 objects, 64 bytes")
    #expect(lines[level1 + 1] == "stored 1 of 1 objects, 16 bytes")
    let plain = try CLI.ome2zarr("info", path)
    #expect(!plain.stdout.contains("stored"))

    let json = try CLI.ome2zarr("info", path, "--stats", "--json")
    #expect(json.status == 0)
    let levels = try JSONValue.parse(json.stdout)["root"]?["ome"]?["image"]?["levels"]?.arrayValue ?? []
    #expect(levels.map { $0["stored_chunks"] } == [4, 1])
    #expect(levels.map { $0["stored_bytes"] } == [64, 16])
    try CLI.expectMatchesSchema(json.stdout, "info.schema.json")
    let noStats = try JSONValue.parse(try CLI.ome2zarr("info", path, "--json").stdout)
    #expect(noStats["root"]?["ome"]?["image"]?["levels"]?.arrayValue?.first?["stored_chunks"] == nil)
  }
}
