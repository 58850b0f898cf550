import AuditLog
import Hummingbird
import NIOCore

/// `GET|POST /v1/holds`, `DELETE /v1/holds/{id}` and `POST /v1/sweep`: retention run by the
/// server that holds the log, as `auditlog hold` and `auditlog sweep` run it on a log no one
/// serves. Each change is a record in the chain, its actor the caller's token.
extension AuditLogAPI {
    /// `{"holds": [{"id", "from", "to", "reason", "placed_by", "placed_at", "seq"}]}`.
    func listHolds(_ request: Request) async throws -> Response {
        _ = try QueryParameters(request, allowed: [])
        let holds = try await log.holds()
        return Self.json(.object([JSONMember("holds", .array(holds.map(\.json)))]))
    }

    /// Body `{"from", "to", "reason"}` (times RFC 3339 or a duration before now; either may be
    /// null or absent: open) → 201 with the hold.
    func placeHold(_ request: Request, caller: Caller) async throws -> Response {
        _ = try QueryParameters(request, allowed: [])
        try requireWritable()
        let body = try await Self.jsonBody(request, fields: ["from", "to", "reason"])
        guard let reason = try Self.string(body, "reason"), !reason.isEmpty else {
            throw APIError(.badRequest, code: "invalid_body", "a hold needs a non-empty \"reason\"")
        }
        let from = try Self.time(body, "from")
        let to = try Self.time(body, "to")
        let hold = try await log.placeHold(from: from, until: to, reason: reason, actor: caller.actor)
        return Self.json(hold.json, status: .created)
    }

    /// Releases a hold (recorded as `hold.released`); `?reason=` says why.
    func releaseHold(_ request: Request, rawID: String, caller: Caller) async throws -> Response {
        let q = try QueryParameters(request, allowed: ["reason"])
        try requireWritable()
        guard let id = Self.percentDecoded(rawID) else {
            throw APIError(.badRequest, code: "invalid_id", "the hold id in the path is not valid percent-encoded UTF-8")
        }
        guard try await log.holds().contains(where: { $0.id == id }) else { throw APIError.notFound("no hold '\(id.prefix(200))' is in place") }
        try await log.releaseHold(id, actor: caller.actor, reason: try q.one("reason"))
        return Self.json(.object([JSONMember("released", .string(id))]))
    }

    /// Body `{"max_age": "90d", "max_size": "50GB" | bytes, "dry_run": true, "reason": "…"}` →
    /// the report `auditlog sweep --json` prints.
    func sweep(_ request: Request, caller: Caller) async throws -> Response {
        _ = try QueryParameters(request, allowed: [])
        try requireWritable()
        let body = try await Self.jsonBody(request, fields: ["max_age", "max_size", "dry_run", "reason"])
        var policy = RetentionPolicy()
        if let text = try Self.string(body, "max_age") {
            guard let nanos = TimeExpression.durationNanos(text) else {
                throw APIError(.badRequest, code: "invalid_body", "\"max_age\": '\(text.prefix(100))' is not a duration such as 90d, 12h or 2w")
            }
            policy.maxAgeNanos = nanos
        }
        switch body["max_size"] {
        case nil, .null?: break
        case .number(let n)?:
            guard let bytes = Int64(n), bytes >= 0 else { throw APIError(.badRequest, code: "invalid_body", "\"max_size\": \(n.prefix(40)) is not a number of bytes") }
            policy.maxTotalBytes = bytes
        case .string(let text)?:
            guard let bytes = ByteSize.parse(text) else { throw APIError(.badRequest, code: "invalid_body", "\"max_size\": '\(text.prefix(100))' is not a size such as 500MB or 50GB") }
            policy.maxTotalBytes = bytes
        default: throw APIError(.badRequest, code: "invalid_body", "\"max_size\" is a size (\"50GB\") or a number of bytes")
        }
        guard policy.maxAgeNanos != nil || policy.maxTotalBytes != nil else {
            throw APIError(.badRequest, code: "invalid_body", "give \"max_age\", \"max_size\" or both")
        }
        var dryRun = false
        switch body["dry_run"] {
        case nil, .null?: break
        case .bool(let b)?: dryRun = b
        default: throw APIError(.badRequest, code: "invalid_body", "\"dry_run\" is true or false")
        }
        let report = try await log.sweep(policy, actor: caller.actor, reason: try Self.string(body, "reason"), dryRun: dryRun)
        return Self.json(report.json)
    }

    /// 405 on a read-only log.
    func requireWritable() throws {
        guard log.options.access == .readWrite else {
            throw APIError(.methodNotAllowed, code: "read_only", "this server serves a read-only log; ask its writer", headers: [.allow: "GET"])
        }
    }

    /// A small JSON object body (at most 64 KiB) with only the `fields` named.
    static func jsonBody(_ request: Request, fields: Set<String>) async throws -> JSONValue {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: 64 << 10)
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, code: "too_large", "the request body exceeds 64 KiB")
        }
        if buffer.readableBytes == 0 { return .object([]) }
        _ = try BodyForm(contentType: request.headers[.contentType], required: true)
        let value: JSONValue
        do {
            value = try JSONValue.parse(Array(buffer.readableBytesView))
        } catch {
            throw APIError(.badRequest, code: "invalid_body", "the body is \(error.message) at byte \(error.location.offset ?? 0)")
        }
        guard case .object(let members) = value else { throw APIError(.badRequest, code: "invalid_body", "the body is not a JSON object") }
        var seen = Set<String>()
        for m in members {
            guard fields.contains(m.key) else {
                throw APIError(.badRequest, code: "invalid_body", "unknown field \"\(m.key.prefix(60))\"; this endpoint takes \(fields.sorted().joined(separator: ", "))")
            }
            guard seen.insert(m.key).inserted else { throw APIError(.badRequest, code: "invalid_body", "\"\(m.key.prefix(60))\" is given twice") }
        }
        return value
    }

    /// A string member (nil when absent or null).
    static func string(_ body: JSONValue, _ name: String) throws -> String? {
        switch body[name] {
        case nil, .null?: return nil
        case .string(let s)?: return s
        default: throw APIError(.badRequest, code: "invalid_body", "\"\(name)\" is not a string")
        }
    }

    /// A time member: RFC 3339 or a duration before now.
    static func time(_ body: JSONValue, _ name: String) throws -> Timestamp? {
        guard let text = try string(body, name) else { return nil }
        guard let t = TimeExpression.parse(text) else {
            throw APIError(.badRequest, code: "invalid_body", "\"\(name)\": '\(text.prefix(100))' is not \(TimeExpression.acceptedForms)")
        }
        return t
    }
}
