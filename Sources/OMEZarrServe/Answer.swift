import NIOCore
import NIOHTTP1
import ZarrIO

/// An answer decided by ``StoreResponder``, before ``ConnectionHandler`` writes it.
struct Answer: Sendable {
  /// Where the body's bytes come from.
  enum Body: Sendable {
    /// No body (`HEAD`, errors without text, 204, 304, 416).
    case none
    /// Bytes already read.
    case bytes(ByteBuffer)
    /// `range` of an open file, sent by the kernel (`sendfile`); the file is closed once sent.
    case file(OpenedFile, Range<Int>)
    /// `range` of a store's value, read piece by piece off the event loops while it is written.
    case stream(any Store, key: String, Range<Int>)
  }

  var status: HTTPResponseStatus
  /// The header fields, in order (they are ours: no request text is echoed in them).
  var fields: [(String, String)]
  var body: Body

  /// The number of body bytes (what `Content-Length` says; 0 for none).
  var length: Int {
    fields.first { $0.0 == "Content-Length" }.flatMap { Int($0.1) } ?? 0
  }

  /// The status line and header fields, serialized for HTTP/1.1, with `connection` as the
  /// `Connection` field when given.
  func serializedHead(connection: String?) -> ByteBuffer {
    var buffer = ByteBufferAllocator().buffer(capacity: 384)
    buffer.writeStaticString("HTTP/1.1 ")
    buffer.writeString(String(status.code))
    buffer.writeStaticString(" ")
    buffer.writeString(status.reasonPhrase)
    buffer.writeStaticString("\r\n")
    for (name, value) in fields {
      buffer.writeString(name)
      buffer.writeStaticString(": ")
      buffer.writeString(value)
      buffer.writeStaticString("\r\n")
    }
    if let connection {
      buffer.writeStaticString("Connection: ")
      buffer.writeString(connection)
      buffer.writeStaticString("\r\n")
    }
    buffer.writeStaticString("\r\n")
    return buffer
  }
}
