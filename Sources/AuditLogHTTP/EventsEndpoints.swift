import AuditLog
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `GET /v1/events`, `GET /v1/events/{id}` and `POST /v1/events`.
extension AuditLogAPI {
    static let listParameters = QueryParameters.filterNames.union(["limit", "cursor", "order"])

    /// A page of matching events, newest first by default:
    /// `{"data":[…],"next_cursor":"…"|null}`.
    ///
    /// At most `limit` events (1,000) and about ``Configuration/maxPageBytes`` of them (always
    /// at least one): a page of large events ends early, with a cursor. It is streamed in
    /// chunks read off the cooperative pool, each sent before the next is read, so a slow
    /// client holds one chunk, not the page.
    func listEvents(_ request: Request, caller: Caller) async throws -> Response {
        let q = try QueryParameters(request, allowed: Self.listParameters)
        let requested = try q.filter()
        let query = Query(
            window: try q.window(), filter: caller.restrict(requested) ?? requested, order: try q.order(default: .newestFirst),
            limit: try q.limit(default: 50, maximum: 1000), cursor: try q.one("cursor")
        )
        let readAudit = self.readAudit
        guard caller.restrict(requested) != nil else {
            // The token's teams and the filter's exclude each other: nothing to see.
            readAudit.record(caller, route: "/v1/events", request: request, events: 0)
            return Self.json(Array(#"{"data":[],"next_cursor":null}"#.utf8) + [0x0A])
        }
        let log = self.log
        let made: Result<QueryIterator, AuditLogError> = await Self.capture { () async throws(AuditLogError) in try log.queryIterator(query) }
        if case .failure(let error) = made, error.code == .invalidArgument {
            // The only argument of a page the log can refuse is the cursor.
            throw APIError.invalidParameter("cursor", error.message)
        }
        let page = PageStream(iterator: try made.get(), maxBytes: configuration.maxPageBytes)
        // The first chunk is read before the status is sent: a failure there is still a 5xx.
        let first = Array(#"{"data":["#.utf8) + (try await offloaded { () throws(AuditLogError) in try page.nextChunk() })
        let body = ResponseBody { writer in
            try await writer.write(ByteBuffer(bytes: first))
            while !page.isDone {
                let chunk = try await offloaded { () throws(AuditLogError) in try page.nextChunk() }
                try await writer.write(ByteBuffer(bytes: chunk))
            }
            var end = Array(#"],"next_cursor":"#.utf8)
            JSONValue.string(page.nextCursor).appendJSON(to: &end)
            end += Array("}\n".utf8)
            try await writer.write(ByteBuffer(bytes: end))
            try await writer.finish(nil)
            readAudit.record(caller, route: "/v1/events", request: request, events: page.count)
        }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: body)
    }

    /// The outcome of `work` as a value. (A `catch where` clause on a typed-throws `await`
    /// hangs the Swift 6.3 compiler; this keeps the handler free of one.)
    static func capture<T>(_ work: () async throws(AuditLogError) -> T) async -> Result<T, AuditLogError> {
        do throws(AuditLogError) {
            return .success(try await work())
        } catch {
            return .failure(error)
        }
    }

    /// One event by id, or 404. The path segment is percent-decoded as UTF-8 (`order%2042` is
    /// `order 42`, `a%2Fb` is `a/b`); a malformed escape is a 400.
    ///
    /// An event the caller's token may not see (another team's) is a 404, as if it did not
    /// exist. With `location=true`, the answer is `{seq, segment, frame_offset, chain_value,
    /// event}` as `auditlog show --json` prints it.
    func event(_ request: Request, rawID: String, caller: Caller) async throws -> Response {
        let located = try QueryParameters(request, allowed: ["location"]).flag("location")
        guard let id = Self.percentDecoded(rawID) else {
            throw APIError(.badRequest, code: "invalid_id", "the event id in the path is not valid percent-encoded UTF-8: '\(rawID.prefix(100))'")
        }
        let found = try await log.event(id: id)
        guard let record = found, caller.sees(record.event) else {
            readAudit.record(caller, route: "/v1/events/{id}", request: request, events: 0, details: [JSONMember("id", .string(String(id.prefix(200))))])
            throw APIError.notFound("no event with id '\(id)'")
        }
        readAudit.record(caller, route: "/v1/events/{id}", request: request, events: 1, details: [JSONMember("id", .string(String(id.prefix(200))))])
        guard located else {
            var body: [UInt8] = []
            record.event.appendJSON(to: &body, seq: record.seq)
            body.append(0x0A)
            return Self.json(body)
        }
        // Where it is stored and the chain value after it: `auditlog show --json`'s object.
        let location = try await log.location(of: record.seq)
        return Self.json(
            .object([
                JSONMember("seq", .integer(record.seq.rawValue)),
                JSONMember("segment", .string(location?.file)),
                JSONMember("frame_offset", location.map { .integer($0.frameOffset) } ?? .null),
                JSONMember("chain_value", .string(location?.chainValue.hex)),
                JSONMember("event", try JSONValue.parse(record.event.jsonText())),
            ]))
    }

    /// Appends one event, a JSON array of events or NDJSON, all or nothing; answers 201 after
    /// the events are as durable as the log's policy promises.
    ///
    /// A team-scoped token appends only events of its teams (403 otherwise).
    func appendEvents(_ request: Request, caller: Caller) async throws -> Response {
        _ = try QueryParameters(request, allowed: [])
        guard log.options.access == .readWrite else {
            throw APIError(.methodNotAllowed, code: "read_only", "this server serves a read-only log; append through its writer", headers: [.allow: "GET"])
        }
        let limit = configuration.maxBodyBytes
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            metrics.recordRejectedBatch()
            throw APIError(.contentTooLarge, code: "too_large", "the request body is \(length) bytes; this server accepts at most \(limit)")
        }
        let form = try BodyForm(contentType: request.headers[.contentType], required: configuration.tokens == nil)
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            metrics.recordRejectedBatch()
            throw APIError(.contentTooLarge, code: "too_large", "the request body exceeds \(limit) bytes, this server's limit")
        }
        do {
            // Parsing a large body is CPU work: it runs on its own thread, so the handlers of
            // other requests (health checks above all) never wait behind it.
            let bytes = Array(buffer.readableBytesView)
            let events = try await offloaded { () throws(AuditLogError) in try Self.decodeEvents(bytes, form: form) }
            if let teams = caller.teams, let i = events.firstIndex(where: { !caller.sees($0) }) {
                throw APIError(
                    .forbidden, code: "forbidden",
                    "event \(i) has team '\(events[i].team ?? "")'; this token writes only events of team(s) \(teams.sorted().joined(separator: ", "))")
            }
            let receipt = try await log.append(events)
            metrics.recordAppend(events: receipt.count, bytes: buffer.readableBytes)
            var body = Array(#"{"accepted":"#.utf8)
            let counts: String = "\(receipt.count),\"first_seq\":\(receipt.firstSeq.rawValue),\"last_seq\":\(receipt.lastSeq.rawValue),\"ids\":"
            body += Array(counts.utf8)
            JSONValue.array(receipt.ids.map { .string($0) }).appendJSON(to: &body)
            body += Array("}\n".utf8)
            return Self.json(body, status: .created)
        } catch {
            metrics.recordRejectedBatch()
            throw error
        }
    }

    /// How a request body holds events.
    enum BodyForm {
        /// One object or an array of objects.
        case json
        /// One object a line.
        case ndjson

        /// `required`: a body without a Content-Type is refused too (a server without
        /// authentication, where a page could post a typeless blob); else it is taken as JSON.
        init(contentType: String?, required: Bool = false) throws(APIError) {
            var type = "application/json"
            if let contentType, let first = contentType.split(separator: ";").first {
                type = first.trimmingCharacters(in: .whitespaces).lowercased()
            } else if required {
                throw APIError(.unsupportedMediaType, code: "unsupported_media_type", "a body needs 'Content-Type: application/json' or 'application/x-ndjson' on a server without authentication")
            }
            switch type {
            case "application/json": self = .json
            case "application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines": self = .ndjson
            default:
                // Types a browser may send cross-site without asking (text/plain, forms) are
                // refused: no web page can post events (with curl, pass
                // -H 'Content-Type: application/json').
                throw APIError(.unsupportedMediaType, code: "unsupported_media_type", "Content-Type '\(type)' is not application/json or application/x-ndjson")
            }
        }
    }

    /// The events of a body; an error names the event's 0-based index (and line, field).
    static func decodeEvents(_ body: [UInt8], form: BodyForm) throws(AuditLogError) -> [AuditEvent] {
        // A UTF-8 byte order mark is not part of the JSON.
        let bytes = body.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(body.dropFirst(3)) : body
        guard let start = bytes.firstIndex(where: { (b: UInt8) -> Bool in !isWhitespace(b) }) else {
            throw AuditLogError(.invalidEvent, "the request body holds no events")
        }
        let first: UInt8 = bytes[start]
        if form == .json && first == UInt8(ascii: "{") {
            let result: Result<AuditEvent, AuditLogError> = bytes.withUnsafeBytes { raw in
                do throws(AuditLogError) {
                    return .success(try AuditEvent(jsonBytes: raw))
                } catch {
                    return .failure(error.at(index: 0))
                }
            }
            return [try result.get()]
        }
        if form == .json && first != UInt8(ascii: "[") {
            throw AuditLogError(.invalidEvent, "the body is neither a JSON object nor an array of objects")
        }
        let reader = EventInputReader(bytes: bytes)
        var events: [AuditEvent] = []
        do throws(AuditLogError) {
            while try reader.next(into: &events) != nil {}
        } catch {
            throw error.at(index: events.count)
        }
        guard !events.isEmpty else { throw AuditLogError(.invalidEvent, "the request body holds no events") }
        return events
    }
}

/// JSON white space: space, tab, line feed, carriage return.
private func isWhitespace(_ b: UInt8) -> Bool {
    switch b {
    case 0x20, 0x09, 0x0A, 0x0D: true
    default: false
    }
}

extension AuditLogError {
    /// A copy naming the event's position in its request, unless it already does.
    func at(index: Int) -> AuditLogError {
        var copy = self
        if copy.location.index == nil { copy.location.index = index }
        return copy
    }
}

extension JSONValue {
    func appendJSON(to bytes: inout [UInt8]) {
        bytes += Array(jsonText.utf8)
    }
}

/// One page of `/v1/events` read a chunk at a time. Used by one task at a time (the response
/// body's), each chunk on a Dispatch thread; hence `@unchecked Sendable`.
final class PageStream: @unchecked Sendable {
    static let chunkBytes = 64 << 10

    private let iterator: QueryIterator
    private let maxBytes: Int
    private(set) var count = 0
    private var written = 0
    private(set) var isDone = false

    init(iterator: QueryIterator, maxBytes: Int) {
        self.iterator = iterator
        self.maxBytes = maxBytes
    }

    /// The events' JSON, comma separated, until about a chunk is ready, the page holds
    /// `maxBytes` or the results end.
    func nextChunk() throws(AuditLogError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(Self.chunkBytes + 4096)
        while !isDone && out.count < Self.chunkBytes {
            let mark = out.count
            if count > 0 { out.append(UInt8(ascii: ",")) }
            guard try iterator.nextJSON(into: &out) else {
                out.removeSubrange(mark...)
                isDone = true
                break
            }
            count += 1
            written += out.count - mark
            if written >= maxBytes { isDone = true }
        }
        return out
    }

    /// Where the next page starts (nil when there is none), once ``isDone``.
    var nextCursor: String? { iterator.nextCursor }
}

extension AuditLogAPI {
    /// `text` with every `%XX` replaced by its byte, read as UTF-8; nil for a truncated or
    /// non-hex escape or bytes that are not UTF-8. (`+` stays `+`: this is a path.)
    static func percentDecoded(_ text: String) -> String? {
        let bytes = Array(text.utf8)
        guard bytes.contains(UInt8(ascii: "%")) else { return text }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        func hex(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "%") {
                guard i + 2 < bytes.count, let high = hex(bytes[i + 1]), let low = hex(bytes[i + 2]) else { return nil }
                out.append(high << 4 | low)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(validating: out, as: UTF8.self)
    }
}
