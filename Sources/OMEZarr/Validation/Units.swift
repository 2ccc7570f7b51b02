extension Units {
  /// `" (did you mean 'micrometer'?)"` when `unit` is a known alias or spelling of a name in `list`.
  static func suggestion(_ unit: String, in list: Set<String>) -> String {
    if let name = canonical(unit), list.contains(name) { return " (did you mean '\(name)'?)" }
    if unit.hasSuffix("s"), let name = canonical(String(unit.dropLast())), list.contains(name) { return " (did you mean '\(name)'?)" }
    return ""
  }
}
