import Foundation

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// An element of an S3 answer (`<ListBucketResult>`, `<Error>`, ...): its name, text and children.
///
/// S3 answers are small, flat documents; they are parsed whole into this tree with Foundation's
/// XMLParser (libxml2), after ``XMLText`` made them safe for it.
struct S3XML: Sendable {
  /// The element name without a namespace prefix.
  var name: String
  /// The text directly inside the element (trimmed of nothing: S3 keys may end in spaces).
  var text: String
  /// The child elements, in document order.
  var children: [S3XML]

  /// The first child named `name`.
  func child(_ name: String) -> S3XML? { children.first { $0.name == name } }
  /// Every child named `name`.
  func children(_ name: String) -> [S3XML] { children.filter { $0.name == name } }
  /// The text of the first child named `name`.
  func text(of name: String) -> String? { child(name)?.text }

  /// The root element of `data`, or `nil` when it is not well-formed XML.
  static func parse(_ bytes: [UInt8]) -> S3XML? {
    let parser = XMLParser(data: Data(XMLText.withProcessingInstructionData(bytes)))
    let builder = Builder()
    parser.delegate = builder
    parser.shouldProcessNamespaces = true
    guard parser.parse(), let root = builder.root else { return nil }
    return root
  }

  private final class Builder: NSObject, XMLParserDelegate {
    var stack: [S3XML] = []
    var root: S3XML?

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
      stack.append(S3XML(name: elementName, text: "", children: []))
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
      guard !stack.isEmpty else { return }
      stack[stack.count - 1].text += string
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
      guard let element = stack.popLast() else { return }
      if stack.isEmpty { root = element } else { stack[stack.count - 1].children.append(element) }
    }
  }
}
