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
  var fields: HTTPHeaders
  var body: Body

  /// The number of body bytes (what `Content-Length` says; 0 for none).
  var length: Int {
    fields.first(name: "content-length").flatMap { Int($0) } ?? 0
  }
}
