import AuditLog
import HTTPTypes
import Hummingbird
import NIOCore

/// `/v1/checkpoint`, `/v1/proof/inclusion`, `/v1/proof/consistency` and the C2SP tlog-tiles
/// read API under `/tlog/` (docs/HTTP.md, "Evidence").
extension AuditLogAPI {
    func checkpoint(_ request: Request) async throws -> Response {
        _ = try QueryParameters(request, allowed: [])
        return try await latestCheckpointResponse()
    }

    func tlogCheckpoint(_ request: Request) async throws -> Response {
        if !configuration.publicTree { try BearerAuthMiddleware<BasicRequestContext>.authorize(request, tokens: configuration.tokens, scope: .read) }
        return try await latestCheckpointResponse()
    }

    private func latestCheckpointResponse() async throws -> Response {
        guard let note = try await log.latestCheckpoint() else {
            throw APIError.notFound("no checkpoint has been signed for this log yet (serve --signing-key, or auditlog checkpoint)")
        }
        return Response(
            status: .ok, headers: [.contentType: "text/plain; charset=utf-8", .cacheControl: "no-cache"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: note)))
    }

    /// An event the caller may not see (another team's) is a 404, as for a lookup by id.
    func inclusionProof(_ request: Request, caller: Caller) async throws -> Response {
        let q = try QueryParameters(request, allowed: ["id", "seq", "size"])
        let size = try Self.positive(q, "size")
        let id = try q.one("id")
        let seqNumber = try Self.positive(q, "seq")
        guard (id == nil) != (seqNumber == nil) else { throw APIError.invalidParameter("id", "give exactly one of 'id' and 'seq'") }
        var seq = SequenceNumber(seqNumber ?? 1)
        if let id {
            guard let record = try await log.event(id: id) else { throw APIError.notFound("no event with id '\(id.prefix(200))'") }
            seq = record.seq
        }
        let bundle: JSONValue
        do {
            bundle = try await log.inclusionBundle(seq: seq, size: size)
        } catch {
            if error.code == .noLog { throw APIError.notFound(error.message) }
            throw error
        }
        let visible = caller.teams.map { teams in bundle["event"]?["team"]?.stringValue.map(teams.contains) ?? false } ?? true
        readAudit.record(caller, route: "/v1/proof/inclusion", request: request, events: visible ? 1 : 0)
        guard visible else { throw APIError.notFound("no event at seq \(seq.rawValue) this token may see") }
        return Self.json(bundle)
    }

    func consistencyProof(_ request: Request) async throws -> Response {
        let q = try QueryParameters(request, allowed: ["old", "new"])
        guard let old = try Self.positive(q, "old") else { throw APIError.invalidParameter("old", "'old' (the older tree size, at least 1) is required") }
        let new = try Self.positive(q, "new")
        if let new, old > new { throw APIError.invalidParameter("old", "'old=\(old)' is larger than 'new=\(new)'") }
        return Self.json(try await log.consistencyBundle(oldSize: old, newSize: new))
    }

    /// A parameter that must be a positive integer when present.
    private static func positive(_ q: QueryParameters, _ name: String) throws(APIError) -> UInt64? {
        guard let text = try q.one(name) else { return nil }
        guard let n = UInt64(text), n >= 1, String(n) == text else {
            throw APIError.invalidParameter(name, "'\(name)=\(text.prefix(100))' is not a positive integer")
        }
        return n
    }

    /// `/tlog/tile/<L>/<N>[.p/<W>]` and `/tlog/tile/entries/<N>[.p/<W>]`.
    ///
    /// Entry bundles hold every team's events: a team-scoped token is refused them (403).
    func tlogTile(_ request: Request, context: some RequestContext) async throws -> Response {
        let path = request.uri.path
        let prefix = "/tlog/"
        guard path.hasPrefix(prefix), let tile = TlogTiles.parse(String(path.dropFirst(prefix.count))) else {
            throw APIError.notFound("'\(path.prefix(200))' is not a tile path (tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>], N in x-prefixed groups of three digits)")
        }
        // Entry bundles hold the events: always behind a read token.
        if tile.level == nil || !configuration.publicTree {
            try BearerAuthMiddleware<BasicRequestContext>.authorize(request, tokens: configuration.tokens, scope: .read)
        }
        let caller = tile.level == nil ? caller(request, context: context) : nil
        if let caller { try caller.requireUnscoped("entry bundles") }
        guard request.uri.query == nil || request.uri.query == "" else {
            throw APIError.invalidParameter("query", "tiles take no query parameters")
        }
        guard let bytes = try await log.tlogTile(tile) else {
            throw APIError.notFound("the tree holds no tile '\(TlogTiles.path(tile))' (past its end, a partial tile whose full one exists, or swept)")
        }
        if let caller { readAudit.record(caller, route: "/tlog/tile/entries", request: request, events: tile.width) }
        return Response(
            status: .ok, headers: [.contentType: "application/octet-stream", .cacheControl: "public, max-age=31536000, immutable"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
