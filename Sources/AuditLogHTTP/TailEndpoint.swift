import AuditLog
import HTTPTypes
import Hummingbird
import NIOCore
import ServiceLifecycle

/// `GET /v1/tail`: Server-Sent Events of matching events appended after the client connected.
extension AuditLogAPI {
    /// Streams each new matching event as one SSE message, `id: <seq>` and `data: <event JSON
    /// with seq>`, oldest first. A client that reconnects with `Last-Event-ID` (or
    /// `after_seq=`) resumes after that seq. Quiet streams get a `: keep-alive` comment; the
    /// stream ends when the client goes away or the server shuts down.
    ///
    /// Messages are read in batches of at most 1,000 events and about 256 KiB, each written
    /// (suspending while the client does not read) before the next is read. Where the request
    /// context knows its connection (``ConnectionAwareContext``), the stream ends as soon as
    /// the client goes away, not at the next write.
    func tail(_ request: Request, caller: Caller, channel: (any Channel)? = nil) async throws -> Response {
        let q = try QueryParameters(request, allowed: QueryParameters.filterNames.union(["after_seq"]))
        let (window, filter) = caller.scope(try q.window(), try q.filter())
        let readAudit = self.readAudit
        var resumeAfter = log.head.lastSeq?.rawValue ?? 0
        if let text = try q.one("after_seq") ?? request.headers[.lastEventID] {
            guard let seq = UInt64(text) else {
                throw APIError.invalidParameter("after_seq", "'\(text)' is not a seq (a non-negative integer), as after_seq or Last-Event-ID")
            }
            resumeAfter = seq
        }
        let start = resumeAfter
        let log = self.log
        let metrics = self.metrics
        let poll = configuration.tailPollInterval
        let keepAlive = configuration.tailKeepAlive
        let body = ResponseBody { writer in
            metrics.tailClientConnected(1)
            var sent = 0
            defer {
                metrics.tailClientConnected(-1)
                readAudit.record(caller, route: "/v1/tail", request: request, events: sent, coalesce: false, details: [JSONMember("after_seq", .integer(start))])
            }
            try await writer.write(ByteBuffer(string: "retry: 2000\n: connected after seq \(start)\n\n"))
            var last = start
            var quietSince = ContinuousClock.now
            while !Task.isCancelled && !Task.isShuttingDownGracefully && channel?.isActive != false {
                try await log.refresh()
                if let head = log.head.lastSeq?.rawValue, head > last {
                    let after = last
                    let (bytes, newLast, count) = try await offloaded { () throws(AuditLogError) in
                        try Self.messages(log: log, window: window, filter: filter, after: after, head: head)
                    }
                    last = newLast
                    sent += count
                    if !bytes.isEmpty {
                        try await writer.write(ByteBuffer(bytes: bytes))
                        quietSince = .now
                        continue
                    }
                }
                if ContinuousClock.now - quietSince >= keepAlive {
                    try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                    quietSince = .now
                }
                try await Task.sleep(for: poll)
            }
            try await writer.finish(nil)
        }
        return Self.eventStream(body)
    }

    /// A Server-Sent Events response: not cached, not buffered by a reverse proxy.
    static func eventStream(_ body: ResponseBody) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        headers[.accelBuffering] = "no"
        return Response(status: .ok, headers: headers, body: body)
    }

    /// Most bytes of messages read at once.
    static let batchBytes = 256 << 10

    /// SSE messages for up to 1,000 matching records (and about ``batchBytes``) after `after`,
    /// how many, and the seq to resume after next time (`head` once every record up to it has been
    /// looked at).
    static func messages(log: AuditLog, window: TimeWindow, filter: EventFilter, after: UInt64, head: UInt64) throws(AuditLogError) -> ([UInt8], UInt64, Int) {
        let query = Query(window: window, filter: filter, order: .oldestFirst, limit: 1000, cursor: Query.cursor(after: SequenceNumber(after), order: .oldestFirst))
        let iterator = try log.queryIterator(query)
        var bytes: [UInt8] = []
        var last = after
        var full = false
        var count = 0
        while let record = try iterator.next() {
            count += 1
            bytes += Array("id: \(record.seq.rawValue)\ndata: ".utf8)
            record.event.appendJSON(to: &bytes, seq: record.seq)
            bytes += [0x0A, 0x0A]
            last = record.seq.rawValue
            if bytes.count >= batchBytes {
                full = true
                break
            }
        }
        // Not stopped by a limit: nothing else matched up to the head seen.
        if !full && iterator.nextCursor == nil { last = max(last, head) }
        return (bytes, last, count)
    }
}

extension HTTPField.Name {
    /// The SSE resume header.
    static let lastEventID = HTTPField.Name("Last-Event-ID") ?? .accept
    /// Tells a reverse proxy (nginx) not to buffer the stream.
    static let accelBuffering = HTTPField.Name("X-Accel-Buffering") ?? .cacheControl
}
