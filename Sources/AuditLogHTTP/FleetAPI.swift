import AuditLog
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The HTTP API over a fleet (``AuditFleet``: every node's archived log under one prefix),
/// read-only: `auditlog serve --fleet` runs it.
///
/// Endpoints (docs/HTTP.md, "A fleet"): `GET /v1/nodes`, `GET /v1/events` (pages merged by event
/// time, each event with its `node`; `node=` selects nodes), `GET /v1/events/{id}`,
/// `GET /v1/usage` (summed exactly across nodes), `GET /v1/verify` (per node), `GET /healthz`.
public struct FleetAPI: Sendable {
    /// The fleet served.
    public let fleet: AuditFleet
    /// Tokens (read scope suffices for everything here); nil: no authentication.
    public let tokens: APITokens?

    /// The API over `fleet`.
    public init(fleet: AuditFleet, tokens: APITokens?) {
        self.fleet = fleet
        self.tokens = tokens
    }

    /// Adds the routes to `router`.
    public func register<Context: RequestContext>(on router: some RouterMethods<Context>) {
        let errors = APIErrorMiddleware<Context>(metrics: nil)
        let open = router.group().add(middleware: errors)
        open.get("healthz") { _, _ in AuditLogAPI.json(.object([JSONMember("status", .string("ok")), JSONMember("nodes", .integer(fleet.nodes.count))])) }
        let read = router.group("v1").add(middleware: errors).add(middleware: BearerAuthMiddleware<Context>(tokens: tokens, scope: .read, servesScopedTokens: false))
        read.get("nodes") { request, _ in try nodes(request) }
        read.get("events") { request, _ in try await events(request) }
        read.get("events/:id") { request, context in try await event(request, rawID: context.parameters.get("id") ?? "") }
        read.get("usage") { request, _ in try await usage(request) }
        read.get("verify") { request, _ in try await verify(request) }
    }

    /// `{"nodes":[{"node","segments","records","first_seq","last_seq","min_time","max_time"}]}`.
    func nodes(_ request: Request) throws -> Response {
        _ = try QueryParameters(request, allowed: [])
        let list = fleet.nodes.map { node -> JSONValue in
            let segments = node.log.segments
            return .object([
                JSONMember("node", .string(node.id)),
                JSONMember("segments", .integer(segments.count)),
                JSONMember("records", .integer(segments.reduce(UInt64(0)) { $0 + $1.recordCount })),
                JSONMember("first_seq", segments.first.map { .integer($0.firstSeq.rawValue) } ?? .null),
                JSONMember("last_seq", node.log.head.lastSeq.map { .integer($0.rawValue) } ?? .null),
                JSONMember("min_time", .string(segments.compactMap(\.minTimestamp).min()?.rfc3339)),
                JSONMember("max_time", .string(segments.compactMap(\.maxTimestamp).max()?.rfc3339)),
            ])
        }
        return AuditLogAPI.json(.object([JSONMember("nodes", .array(list))]))
    }

    /// The nodes `node=` names (repeatable, or comma-separated), nil for all.
    static func selectedNodes(_ q: QueryParameters) -> Set<String>? {
        let names = q.all("node").flatMap { $0.split(separator: ",").map(String.init) }
        return names.isEmpty ? nil : Set(names)
    }

    /// `{"data":[…],"next_cursor":…}`: events of every node merged by event time, each with
    /// `node` and its seq in that node's log.
    func events(_ request: Request) async throws -> Response {
        let q = try QueryParameters(request, allowed: AuditLogAPI.listParameters.union(["node"]))
        let query = Query(
            window: try q.window(), filter: try q.filter(), order: try q.order(default: .newestFirst), limit: try q.limit(default: 50, maximum: 1000),
            cursor: try q.one("cursor"))
        let fleet = self.fleet
        let only = Self.selectedNodes(q)
        let page = try Self.parameterErrors(await AuditLogAPI.capture { () async throws(AuditLogError) in try await fleet.page(query, only: only) }, default: "cursor")
        var body = Array(#"{"data":["#.utf8)
        for (i, record) in page.records.enumerated() {
            if i > 0 { body.append(UInt8(ascii: ",")) }
            body += Array(record.jsonText().utf8)
        }
        body += Array(#"],"next_cursor":"#.utf8)
        JSONValue.string(page.nextCursor).appendJSON(to: &body)
        body += Array("}\n".utf8)
        return AuditLogAPI.json(body)
    }

    /// The value, or the error: an invalid argument (an unknown node, a foreign cursor) as a 400
    /// naming its parameter.
    static func parameterErrors<T>(_ result: Result<T, AuditLogError>, default parameter: String) throws -> T {
        switch result {
        case .success(let value): return value
        case .failure(let error) where error.code == .invalidArgument: throw APIError.invalidParameter(error.location.field ?? parameter, error.message)
        case .failure(let error): throw error
        }
    }

    /// One event by id, from whichever node has it, with `node`; or 404.
    func event(_ request: Request, rawID: String) async throws -> Response {
        _ = try QueryParameters(request, allowed: [])
        guard let id = AuditLogAPI.percentDecoded(rawID) else {
            throw APIError(.badRequest, code: "invalid_id", "the event id in the path is not valid percent-encoded UTF-8: '\(rawID.prefix(100))'")
        }
        guard let record = try await fleet.event(id: id) else { throw APIError.notFound("no event with id '\(id)' on any node") }
        return AuditLogAPI.json(Array((record.jsonText() + "\n").utf8))
    }

    /// Usage summed exactly across the nodes (`node=` selects), as `GET /v1/usage` answers
    /// for one log.
    func usage(_ request: Request) async throws -> Response {
        let u = try UsageParameters(request, extra: ["node"])
        let fleet = self.fleet
        let only = Self.selectedNodes(u.query)
        let report = try Self.parameterErrors(
            await AuditLogAPI.capture { () async throws(AuditLogError) in
                try await fleet.usage(window: u.window, groupBy: u.groupBy, filter: u.filter, columns: u.columns, only: only)
            }, default: "node")
        return u.response(report)
    }

    /// `{"intact":…,"nodes":[{"node":…, …the report of one log…}]}`.
    func verify(_ request: Request) async throws -> Response {
        _ = try QueryParameters(request, allowed: [])
        let started = Date()
        let verification = try await fleet.verify()
        let seconds = Date().timeIntervalSince(started)
        let nodes = verification.nodes.map { n -> JSONValue in
            guard case .object(let members) = n.report.json(seconds: seconds) else { return .null }
            return .object([JSONMember("node", .string(n.node))] + members)
        }
        return AuditLogAPI.json(.object([JSONMember("intact", .bool(verification.isIntact)), JSONMember("nodes", .array(nodes))]))
    }
}
