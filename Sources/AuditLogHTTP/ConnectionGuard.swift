import AuditLog
import Foundation
import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// How the standalone server treats connections, so that nobody without a token can use up
/// its descriptors or threads: idle and slow connections are closed, and the number open is
/// capped below the process's descriptor limit (docs/HTTP.md, "Limits").
public struct ConnectionLimits: Sendable {
    /// A connection with no request in progress is closed after this long.
    public var idleTimeout: Duration
    /// A request's head must arrive whole within this long of its first byte.
    public var headerTimeout: Duration
    /// Connections open at once. At the cap, a new connection closes the one that has waited
    /// longest without a request in progress (an idle or slow client), or is itself refused
    /// when every connection is busy.
    public var maxConnections: Int

    /// The defaults: 30 s idle, 10 s for a request head, and a cap below the descriptor limit.
    public init(idleTimeout: Duration = .seconds(30), headerTimeout: Duration = .seconds(10), maxConnections: Int? = nil) {
        self.idleTimeout = idleTimeout
        self.headerTimeout = headerTimeout
        self.maxConnections = max(1, maxConnections ?? Self.defaultMaxConnections())
    }

    /// Descriptors kept back from the cap for the log's own files (segments, index files,
    /// temporary files), the listening socket and the process's standard streams.
    static let reservedDescriptors = 64

    /// Raises the soft descriptor limit to the hard one (as servers do), then leaves
    /// ``reservedDescriptors`` of it to the log: the cap on connections.
    public static func defaultMaxConnections() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = min(limit.rlim_max, 1 << 20)
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        let usable = Int(min(limit.rlim_cur, 1 << 20))
        return max(8, usable - reservedDescriptors)
    }
}

/// Every open connection and whether it is busy: where the cap is enforced, by closing the
/// connection that has waited longest without a request in progress.
final class ConnectionRegistry: Sendable {
    private struct Entry {
        var channel: any Channel
        var busy: Bool
        var since: ContinuousClock.Instant
    }

    private struct State {
        var entries: [ObjectIdentifier: Entry] = [:]
    }

    private let state = Locked(State())
    let limits: ConnectionLimits

    init(limits: ConnectionLimits) { self.limits = limits }

    /// Connections open now.
    var count: Int { state.withLock { $0.entries.count } }

    /// Registers a new connection; at the cap, closes the longest-waiting one that is not busy,
    /// or refuses the new one when all are busy. Returns false when the new one was refused.
    func opened(_ channel: any Channel) -> Bool {
        let id = ObjectIdentifier(channel)
        let victim: (any Channel)? = state.withLock { s in
            s.entries[id] = Entry(channel: channel, busy: false, since: .now)
            guard s.entries.count > limits.maxConnections else { return nil }
            let waiting = s.entries.filter { $0.key != id && !$0.value.busy }
            if let oldest = waiting.min(by: { $0.value.since < $1.value.since }) {
                s.entries[oldest.key] = nil
                return oldest.value.channel
            }
            s.entries[id] = nil
            return channel
        }
        victim?.close(promise: nil)
        return victim !== channel
    }

    func closed(_ channel: any Channel) {
        _ = state.withLock { $0.entries.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    /// Marks a connection busy (a request head arrived) or waiting (its response ended).
    func set(_ channel: any Channel, busy: Bool) {
        state.withLock { s in
            let id = ObjectIdentifier(channel)
            guard var entry = s.entries[id] else { return }
            entry.busy = busy
            entry.since = .now
            s.entries[id] = entry
        }
    }
}

/// The first handler of a connection's pipeline, on raw bytes: starts the request-head timer
/// when the first byte of a request arrives, and unregisters the connection when it closes.
final class HeadTimeoutHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let registry: ConnectionRegistry
    /// Whether a request is being read or answered (set by ``RequestPhaseHandler``).
    var inRequest = false
    private var timer: Scheduled<Void>?

    init(registry: ConnectionRegistry) { self.registry = registry }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if !inRequest && timer == nil {
            let timeout = registry.limits.headerTimeout
            let channel = context.channel
            timer = context.eventLoop.scheduleTask(in: TimeAmount(timeout)) { channel.close(promise: nil) }
        }
        context.fireChannelRead(data)
    }

    /// The request's head arrived whole.
    func headReceived(_ channel: any Channel) {
        inRequest = true
        timer?.cancel()
        timer = nil
        registry.set(channel, busy: true)
    }

    /// Its response ended: the connection waits for the next request.
    func responseEnded(_ channel: any Channel) {
        inRequest = false
        registry.set(channel, busy: false)
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        registry.closed(context.channel)
        context.fireChannelInactive()
    }
}

/// After HTTP decoding: tells ``HeadTimeoutHandler`` when a request head has arrived and when
/// its response has ended.
final class RequestPhaseHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let head: HeadTimeoutHandler

    init(head: HeadTimeoutHandler) { self.head = head }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head = unwrapInboundIn(data) { head.headReceived(context.channel) }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { head.responseEnded(context.channel) }
        context.write(data, promise: promise)
    }
}

/// Between the HTTP decoder and the rest: a request the decoder cannot parse (a head too long,
/// bad syntax) gets the API's JSON error body instead of a bare 400, then the connection
/// closes.
final class ParseErrorHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private var answered = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parseError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        guard !answered else { return }
        answered = true
        let message: String
        switch parseError {
        case .headerOverflow: message = "the request head (URL and headers) exceeds the server's limit of 80 KiB"
        default: message = "the request is not valid HTTP/1.1 (\(parseError))"
        }
        let body = APIError(.badRequest, code: "bad_request", message).body
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(body.count))
        headers.add(name: "Connection", value: "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .badRequest, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }
}

/// HTTP/1.1 with the guards above around Hummingbird's own channel: the registry and timers
/// first in the pipeline, the phase tracker after decoding, the JSON parse-error answer right
/// after the decoder.
struct GuardedHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let inner: HTTP1Channel
    let registry: ConnectionRegistry

    init(responder: @escaping HTTPChannelHandler.Responder, registry: ConnectionRegistry) {
        self.registry = registry
        // Each connection gets its own pair of handlers; the phase handler reaches the head
        // handler through the channel's pipeline, where setup put it.
        let configuration = HTTP1Channel.Configuration(
            additionalChannelHandlers: [],
            idleTimeout: TimeAmount(registry.limits.idleTimeout)
        )
        inner = HTTP1Channel(responder: responder, configuration: configuration)
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let registry = self.registry
        return inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let head = HeadTimeoutHandler(registry: registry)
            let pipeline = channel.pipeline.syncOperations
            try pipeline.addHandler(head, position: .first)
            let decoder = try pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try pipeline.addHandler(ParseErrorHandler(), position: .after(decoder))
            let codec = try pipeline.handler(type: HTTP1ToHTTPServerCodec.self)
            try pipeline.addHandler(RequestPhaseHandler(head: head), position: .after(codec))
            if !registry.opened(channel) {
                throw ChannelError.inputClosed
            }
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
