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
    func listEvents(_ request: Request) async throws -> Response {
        let q = try QueryParameters(request, allowed: Self.listParameters)
        let query = Query(
            window: try q.window(), filter: try q.filter(), order: try q.order(default: .newestFirst),
            limit: try q.limit(default: 50, maximum: 1000), cursor: try q.one("cursor")
        )
        let result: Result<QueryJSONPage, AuditLogError> = await Self.capture { () async throws(AuditLogError) in try await log.pageJSON(query) }
        if case .failure(let error) = result, error.code == .invalidArgument {
            // The only argument of a page the log can refuse is the cursor.
            throw APIError.invalidParameter("cursor", error.message)
        }
        let page = try result.get()
        var body = Array(#"{"data":"#.utf8)
        body.reserveCapacity(page.json.count + 64)
        body += page.json
        body += Array(#","next_cursor":"#.utf8)
        JSONValue.string(page.nextCursor).appendJSON(to: &body)
        body += Array("}\n".utf8)
        return Self.json(body)
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

    /// One event by id, or 404.
    func event(_ request: Request, id: String) async throws -> Response {
        _ = try QueryParameters(request, allowed: [])
        guard let record = try await log.event(id: id) else {
            throw APIError.notFound("no event with id '\(id)'")
        }
        var body: [UInt8] = []
        record.event.appendJSON(to: &body, seq: record.seq)
        body.append(0x0A)
        return Self.json(body)
    }

    /// Appends one event, a JSON array of events or NDJSON, all or nothing; answers 201 after
    /// the events are as durable as the log's policy promises.
    func appendEvents(_ request: Request) async throws -> Response {
        _ = try QueryParameters(request, allowed: [])
        guard log.options.access == .readWrite else {
            throw APIError(.methodNotAllowed, code: "read_only", "this server serves a read-only log; append through its writer", headers: [.allow: "GET"])
        }
        let limit = configuration.maxBodyBytes
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            metrics.recordRejectedBatch()
            throw APIError(.contentTooLarge, code: "too_large", "the request body is \(length) bytes; this server accepts at most \(limit)")
        }
        let form = try BodyForm(contentType: request.headers[.contentType])
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            metrics.recordRejectedBatch()
            throw APIError(.contentTooLarge, code: "too_large", "the request body exceeds \(limit) bytes, this server's limit")
        }
        do {
            let events = try Self.decodeEvents(Array(buffer.readableBytesView), form: form)
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

        init(contentType: String?) throws(APIError) {
            var type = "application/json"
            if let contentType, let first = contentType.split(separator: ";").first {
                type = first.trimmingCharacters(in: .whitespaces).lowercased()
            }
            switch type {
            // curl's `-d` default is form-encoded; its body is still the JSON the user typed.
            case "application/json", "", "application/x-www-form-urlencoded", "text/plain": self = .json
            case "application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines": self = .ndjson
            default:
                throw APIError(.unsupportedMediaType, code: "unsupported_media_type", "Content-Type '\(type)' is not application/json or application/x-ndjson")
            }
        }
    }

    /// The events of a body; an error names the event's 0-based index (and line, field).
    static func decodeEvents(_ bytes: [UInt8], form: BodyForm) throws(AuditLogError) -> [AuditEvent] {
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
            while let (event, _) = try reader.next() { events.append(event) }
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
