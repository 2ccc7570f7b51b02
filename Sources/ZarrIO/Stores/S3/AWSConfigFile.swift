import Foundation

/// An AWS shared `config` or `credentials` file, parsed the tolerant way the AWS SDKs read it.
///
/// The dialect (<https://docs.aws.amazon.com/sdkref/latest/guide/file-format.html>):
/// - `[section]` lines (a comment may follow the `]`); names are trimmed, case kept;
/// - `key = value` lines (keys lowercased, keys and values trimmed; `:` is accepted when there is no `=`);
/// - whole-line comments starting with `#` or `;`, and inline comments where `#` or `;` follows whitespace;
/// - a key with an empty value followed by indented `key = value` lines is a nested block
///   (`s3 =` / `  addressing_style = path`);
/// - lines before the first section and lines that are none of these are ignored; a section that
///   appears twice is merged, later values winning.
struct AWSConfigFile: Sendable, Hashable {
  /// A property: a plain value, or a nested block of sub-properties.
  enum Value: Sendable, Hashable {
    case string(String)
    case nested([String: String])

    /// The plain value; `nil` for a nested block.
    var string: String? {
      if case .string(let s) = self { return s }
      return nil
    }

    /// The sub-properties; empty for a plain value.
    var nested: [String: String] {
      if case .nested(let d) = self { return d }
      return [:]
    }
  }

  /// Properties by section name (as written, e.g. `"default"`, `"profile lab"`).
  var sections: [String: [String: Value]]

  /// Parses the text of a file.
  init(text: String) {
    var sections: [String: [String: Value]] = [:]
    var section: String?
    var lastKey: String?
    for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) {
      let line = String(rawLine)
      let trimmed = line.trimmingCharacters(in: .whitespaces)
      if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix(";") { continue }
      if trimmed.hasPrefix("[") {
        guard let close = trimmed.firstIndex(of: "]") else { section = nil; lastKey = nil; continue }
        let name = trimmed[trimmed.index(after: trimmed.startIndex)..<close].trimmingCharacters(in: .whitespaces)
        section = name.isEmpty ? nil : name
        if let name = section, sections[name] == nil { sections[name] = [:] }
        lastKey = nil
        continue
      }
      guard let current = section, let (key, value) = Self.property(trimmed) else { continue }
      let indented = line.first == " " || line.first == "\t"
      if indented, let parent = lastKey, let parentValue = sections[current]?[parent],
        parentValue == .string("") || parentValue.string == nil
      {
        var nested = parentValue.nested
        nested[key] = value
        sections[current]?[parent] = .nested(nested)
        continue
      }
      sections[current]?[key] = .string(value)
      lastKey = key
    }
    self.sections = sections
  }

  /// Reads and parses the file at `path`; `nil` when there is no file.
  /// - Throws: `.storeFailure` when the file exists but cannot be read.
  static func load(path: String) throws -> AWSConfigFile? {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return nil }
    // Read through a handle: `/dev/null` (an empty configuration, as AWS tools take it) is no regular file.
    let limit = 16 << 20
    guard !isDirectory.boolValue, let handle = FileHandle(forReadingAtPath: path) else {
      throw ZarrError(.storeFailure, "cannot read the AWS file '\(path)'")
    }
    let data: Data
    do {
      data = try handle.read(upToCount: limit + 1) ?? Data()  // nil: at the end already (an empty file)
    } catch {
      throw ZarrError(.storeFailure, "cannot read the AWS file '\(path)': \(error.localizedDescription)")
    }
    try? handle.close()
    guard data.count <= limit else { throw ZarrError(.storeFailure, "the AWS file '\(path)' is larger than \(limit) bytes") }
    return AWSConfigFile(text: String(decoding: data, as: UTF8.self))
  }

  /// The properties of profile `name`: in a config file `[default]` (or `[profile default]`) and
  /// `[profile name]`; in a credentials file `[name]`. `nil` when the file has no such section.
  func profile(_ name: String, configFile: Bool) -> [String: Value]? {
    guard configFile else { return sections[name] }
    var found: [String: Value]?
    for (sectionName, properties) in sections {
      let words = sectionName.split(whereSeparator: { $0 == " " || $0 == "\t" })
      let matches = name == "default" && sectionName == "default"
        || (words.count == 2 && words[0] == "profile" && words[1] == name)
      guard matches else { continue }
      // `[profile default]` wins over `[default]` when both exist (as in botocore).
      if sectionName == "default" {
        found = properties.merging(found ?? [:]) { _, new in new }
      } else {
        found = (found ?? [:]).merging(properties) { _, new in new }
      }
    }
    return found
  }

  /// `key = value` (or `key: value`) without an inline comment; `nil` for a line without a delimiter or key.
  private static func property(_ line: String) -> (String, String)? {
    guard let delimiter = line.firstIndex(of: "=") ?? line.firstIndex(of: ":") else { return nil }
    let key = line[..<delimiter].trimmingCharacters(in: .whitespaces).lowercased()
    guard !key.isEmpty else { return nil }
    var value = Substring(line[line.index(after: delimiter)...])
    // An inline comment starts at `#` or `;` preceded by whitespace.
    var previous: Character = " "
    for i in value.indices {
      let c = value[i]
      if (c == "#" || c == ";") && (previous == " " || previous == "\t") && i != value.startIndex {
        value = value[..<i]
        break
      }
      previous = c
    }
    return (key, value.trimmingCharacters(in: .whitespaces))
  }
}
