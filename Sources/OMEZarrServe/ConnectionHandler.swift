import NIOCore
import NIOHTTP1
import NIOPosix
import ZarrIO

/// One connection of a ``StoreServer``. NIO's HTTP/1.1 decoder parses the requests; they are
/// answered one after another in the order they came (keep-alive and pipelining), and no more is
/// read from the socket while one is answered, so a client cannot queue unbounded work. Each
/// answer is written with backpressure: its head as one buffer, then a file's bytes by
/// `sendfile`, or a store's value in pieces read while the previous one is sent.
final class ConnectionHandler: ChannelDuplexHandler {
  typealias InboundIn = HTTPServerRequestPart
  typealias OutboundIn = IOData
  typealias OutboundOut = IOData

  private let responder: StoreResponder
  /// The request whose end has not arrived yet.
  private var head: HTTPRequestHead?
  /// Complete requests waiting for the one being answered (pipelining).
  private var waiting = CircularBuffer<HTTPRequestHead>(initialCapacity: 2)
  /// Whether an answer is being decided or written.
  private var answering = false
  /// Whether a read from the socket was held back while answering.
  private var readHeld = false
  /// Whether what followed the requests so far did not parse (answered with 400 after them).
  private var unparsable = false
  /// When the last request arrived or the last answer was written.
  private var lastActivity = NIODeadline.now()
  /// The next look at whether the connection has been idle for too long.
  private var idleCheck: Scheduled<Void>?

  /// How long a keep-alive connection may wait for its next request.
  private let idleTimeout: TimeAmount

  init(responder: StoreResponder) {
    self.responder = responder
    idleTimeout = .nanoseconds(Int64(min(max(0.001, responder.server.configuration.idleTimeout), 1e9) * 1e9))
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    switch unwrapInboundIn(data) {
    case .head(let h):
      head = h
    case .body:
      break  // GET and HEAD carry no body worth reading; others are refused
    case .end:
      guard let request = head else { return }
      head = nil
      lastActivity = .now()
      if answering {
        waiting.append(request)
      } else {
        answer(request, context: context)
      }
    }
  }

  /// Holds reads back while answering: the next requests wait in the socket, not in memory.
  func read(context: ChannelHandlerContext) {
    if answering || !waiting.isEmpty {
      readHeld = true
    } else {
      context.read()
    }
  }

  /// Decides and writes the answer to `request`.
  private func answer(_ request: HTTPRequestHead, context: ChannelHandlerContext) {
    answering = true
    switch responder.resolve(request) {
    case .ready(let answer):
      send(answer, to: request, context: context)
    case .blocking(let work):
      NIOThreadPool.singleton.runIfActive(eventLoop: context.eventLoop, work).assumeIsolated().whenComplete { result in
        switch result {
        case .success(let answer): self.send(answer, to: request, context: context)
        case .failure: context.close(promise: nil)  // the pool is shutting down
        }
      }
    }
  }

  /// Writes `answer` to `request`, then goes on with the next request.
  private func send(_ answer: Answer, to request: HTTPRequestHead, context: ChannelHandlerContext) {
    let keepAlive = request.isKeepAlive
    let connection: String? = !keepAlive ? "close" : request.version.minor == 0 ? "keep-alive" : nil
    let head = answer.serializedHead(connection: connection)
    let needsCompletion = responder.server.configuration.log != nil || !keepAlive
    switch answer.body {
    case .none:
      write(head, flushing: needsCompletion, answer, request, keepAlive, context: context)
    case .bytes(var buffer):
      var whole = head
      whole.writeBuffer(&buffer)
      write(whole, flushing: needsCompletion, answer, request, keepAlive, context: context)
    case .file(let opened, let range):
      context.write(wrapOutboundOut(.byteBuffer(head)), promise: nil)
      let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: opened.descriptor)
      let region = FileRegion(fileHandle: handle, readerIndex: range.lowerBound, endIndex: range.upperBound)
      context.writeAndFlush(wrapOutboundOut(.fileRegion(region))).assumeIsolated().whenComplete { result in
        try? handle.close()
        self.finished(answer, request, keepAlive: keepAlive, failed: result.isFailure, context: context)
      }
    case .stream(let store, let key, let range):
      context.write(wrapOutboundOut(.byteBuffer(head)), promise: nil)
      stream(key, range, of: store, context: context).assumeIsolated().whenComplete { result in
        self.finished(answer, request, keepAlive: keepAlive, failed: result.isFailure, context: context)
      }
    }
  }

  /// Writes the whole answer `bytes`; waits for the write only when something follows it (a log
  /// line, closing the connection).
  private func write(_ bytes: ByteBuffer, flushing wait: Bool, _ answer: Answer, _ request: HTTPRequestHead,
    _ keepAlive: Bool, context: ChannelHandlerContext)
  {
    guard wait else {
      context.writeAndFlush(wrapOutboundOut(.byteBuffer(bytes)), promise: nil)
      finished(answer, request, keepAlive: keepAlive, failed: false, context: context)
      return
    }
    context.writeAndFlush(wrapOutboundOut(.byteBuffer(bytes))).assumeIsolated().whenComplete { result in
      self.finished(answer, request, keepAlive: keepAlive, failed: result.isFailure, context: context)
    }
  }

  /// Logs an answer once written, closes the connection after a failure or without keep-alive,
  /// and otherwise answers the next request (or reads again).
  private func finished(_ answer: Answer, _ request: HTTPRequestHead, keepAlive: Bool, failed: Bool,
    context: ChannelHandlerContext)
  {
    answering = false
    lastActivity = .now()
    if let log = responder.server.configuration.log {
      log(request.method.rawValue, request.uri, Int(answer.status.code), request.method == .HEAD ? 0 : answer.length)
    }
    // A failed write (the client left, or the value changed while sent) ends the connection.
    if failed || !keepAlive {
      waiting.removeAll()
      context.close(promise: nil)
      return
    }
    if let next = waiting.popFirst() {
      self.answer(next, context: context)
    } else if unparsable {
      refuseUnparsable(context: context)
    } else if readHeld {
      readHeld = false
      context.read()
    }
  }

  /// Answers 400 to what did not parse, then ends the connection.
  private func refuseUnparsable(context: ChannelHandlerContext) {
    answering = true
    let bad = StoreResponder.answer(.badRequest, text: "bad request")
    var whole = bad.serializedHead(connection: "close")
    if case .bytes(var text) = bad.body { whole.writeBuffer(&text) }
    context.writeAndFlush(wrapOutboundOut(.byteBuffer(whole))).assumeIsolated().whenComplete { _ in
      context.close(promise: nil)
    }
  }

  /// Writes `range` of `key`: pieces of ``StoreResponder/readPiece`` read off the event loops,
  /// the next one read while the previous is written (two pieces at most in memory).
  private func stream(_ key: String, _ range: Range<Int>, of store: any Store, context: ChannelHandlerContext)
    -> EventLoopFuture<Void>
  {
    let loop = context.eventLoop
    let done = loop.makePromise(of: Void.self)
    func read(from offset: Int) -> EventLoopFuture<ByteBuffer> {
      let piece = offset..<min(range.upperBound, offset + StoreResponder.readPiece)
      return NIOThreadPool.singleton.runIfActive(eventLoop: loop) { try StoreResponder.read(key, piece, from: store) }
    }
    func write(_ pending: EventLoopFuture<ByteBuffer>, at offset: Int) {
      pending.assumeIsolated().whenComplete { result in
        let buffer: ByteBuffer
        switch result {
        case .failure(let error): return done.fail(error)
        case .success(let b): buffer = b
        }
        let end = offset + buffer.readableBytes
        let written = context.writeAndFlush(self.wrapOutboundOut(.byteBuffer(buffer)))
        let next = end < range.upperBound ? read(from: end) : nil
        written.assumeIsolated().whenComplete { outcome in
          if case .failure(let error) = outcome { return done.fail(error) }
          guard let next else { return done.succeed() }
          write(next, at: end)
        }
      }
    }
    write(read(from: range.lowerBound), at: range.lowerBound)
    return done.futureResult
  }

  func channelActive(context: ChannelHandlerContext) {
    scheduleIdleCheck(in: idleTimeout, context: context)
    context.fireChannelActive()
  }

  func channelInactive(context: ChannelHandlerContext) {
    idleCheck?.cancel()
    idleCheck = nil
    context.fireChannelInactive()
  }

  /// Closes a keep-alive connection that has waited too long for its next request (never one
  /// being answered); otherwise looks again when it could be.
  private func scheduleIdleCheck(in delay: TimeAmount, context: ChannelHandlerContext) {
    idleCheck = context.eventLoop.assumeIsolated().scheduleTask(in: delay) {
      let idle = NIODeadline.now() - self.lastActivity
      if !self.answering && idle >= self.idleTimeout {
        context.close(promise: nil)
      } else {
        self.scheduleIdleCheck(in: self.answering ? self.idleTimeout : self.idleTimeout - idle, context: context)
      }
    }
  }

  /// A request that does not parse gets 400 once the requests before it are answered, and the
  /// connection ends; any other error ends it at once.
  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    guard error is HTTPParserError else {
      context.close(promise: nil)
      return
    }
    unparsable = true
    if !answering && waiting.isEmpty { refuseUnparsable(context: context) }
  }
}

extension Result {
  /// Whether this is a failure.
  fileprivate var isFailure: Bool {
    if case .failure = self { return true }
    return false
  }
}
