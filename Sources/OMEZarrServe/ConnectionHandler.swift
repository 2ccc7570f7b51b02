#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
import NIOCore
import NIOHTTP1
import NIOPosix
import ZarrIO

/// One connection of a ``StoreServer``: its requests answered one after another (keep-alive and
/// pipelining; NIO's HTTP/1.1 codec parses and orders them), each answer written with
/// backpressure: a file by `sendfile`, a store's value in pieces read while the previous is sent.
final class ConnectionHandler: ChannelInboundHandler {
  typealias InboundIn = HTTPServerRequestPart
  typealias OutboundOut = HTTPServerResponsePart

  private let responder: StoreResponder
  /// The request whose end has not arrived yet.
  private var head: HTTPRequestHead?
  /// Whether an answer is being decided or written (an idle connection is closed only between).
  private var answering = false
  /// When the last request arrived or the last answer was written.
  private var lastActivity = NIODeadline.now()
  /// The next look at whether the connection has been idle for too long.
  private var idleCheck: Scheduled<Void>?

  init(responder: StoreResponder) {
    self.responder = responder
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
      answering = true
      lastActivity = .now()
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
  }

  /// Writes `answer` to `request`, then logs it and, without keep-alive, closes the connection.
  private func send(_ answer: Answer, to request: HTTPRequestHead, context: ChannelHandlerContext) {
    var fields = answer.fields
    let keepAlive = request.isKeepAlive
    if !keepAlive {
      fields.replaceOrAdd(name: "Connection", value: "close")
    } else if request.version.minor == 0 {
      fields.replaceOrAdd(name: "Connection", value: "keep-alive")
    }
    let head = HTTPResponseHead(version: request.version, status: answer.status, headers: fields)
    context.write(wrapOutboundOut(.head(head)), promise: nil)
    let log = responder.server.configuration.log
    var file: NIOFileHandle? = nil
    switch answer.body {
    case .none:
      break
    case .bytes(let buffer):
      context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
    case .file(let opened, let range):
      let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: opened.descriptor)
      let region = FileRegion(fileHandle: handle, readerIndex: range.lowerBound, endIndex: range.upperBound)
      context.write(wrapOutboundOut(.body(.fileRegion(region))), promise: nil)
      file = handle
    case .stream(let store, let key, let range):
      stream(key, range, of: store, context: context).assumeIsolated().whenComplete { result in
        self.finished(answer, request, keepAlive: keepAlive, failed: result.isFailure, context: context)
      }
      return
    }
    // Most answers need nothing once written: no promise to complete.
    guard file != nil || log != nil || !keepAlive else {
      context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
      answering = false
      lastActivity = .now()
      return
    }
    context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { result in
      try? file?.close()
      self.finished(answer, request, keepAlive: keepAlive, failed: result.isFailure, context: context)
    }
  }

  /// Logs an answer once written and closes the connection after a failure or without keep-alive.
  private func finished(_ answer: Answer, _ request: HTTPRequestHead, keepAlive: Bool, failed: Bool,
    context: ChannelHandlerContext)
  {
    answering = false
    lastActivity = .now()
    if let log = responder.server.configuration.log {
      log(request.method.rawValue, request.uri, Int(answer.status.code), request.method == .HEAD ? 0 : answer.length)
    }
    // A failed write (the client left, or the value changed while sent) ends the connection.
    if failed || !keepAlive { context.close(promise: nil) }
  }

  /// Writes `range` of `key` as body and end: pieces of ``StoreResponder/readPiece`` read off the
  /// event loops, the next one read while the previous is written (two pieces at most in memory).
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
        guard case .success(let buffer) = result else {
          if case .failure(let error) = result { done.fail(error) }
          return
        }
        let end = offset + buffer.readableBytes
        let written = context.writeAndFlush(self.wrapOutboundOut(.body(.byteBuffer(buffer))))
        let next = end < range.upperBound ? read(from: end) : nil
        written.assumeIsolated().whenComplete { outcome in
          if case .failure(let error) = outcome { return done.fail(error) }
          guard let next else {
            return context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: done)
          }
          write(next, at: end)
        }
      }
    }
    write(read(from: range.lowerBound), at: range.lowerBound)
    return done.futureResult
  }

  func channelActive(context: ChannelHandlerContext) {
    scheduleIdleCheck(in: StoreServer.idleTimeout, context: context)
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
      if !self.answering && idle >= StoreServer.idleTimeout {
        context.close(promise: nil)
      } else {
        self.scheduleIdleCheck(in: self.answering ? StoreServer.idleTimeout : StoreServer.idleTimeout - idle, context: context)
      }
    }
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    context.close(promise: nil)
  }
}

extension Result {
  /// Whether this is a failure.
  fileprivate var isFailure: Bool {
    if case .failure = self { return true }
    return false
  }
}
