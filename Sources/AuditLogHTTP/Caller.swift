import AuditLog
import Hummingbird
import NIOCore

/// Who sent a request: its token's entry (nil on a server without authentication) and the
/// client's address. What a team-scoped token may see is decided here, for every route.
struct Caller: Sendable {
    var token: APIToken?
    /// The client's IP address, when the connection is known.
    var client: String?

    /// How records name the caller: the token's name or digest prefix, else `anonymous`.
    var actor: String { token?.label ?? "anonymous" }

    /// The teams whose events the caller may see (nil: all events).
    var teams: Set<String>? { token?.teams }

    /// `filter` limited to what the caller may see; nil when that leaves nothing.
    func restrict(_ filter: EventFilter) -> EventFilter? {
        guard let teams else { return filter }
        return filter.restricted(field: "team", to: teams)
    }

    /// The window and filter a query of the caller runs with: `filter` limited to its teams,
    /// and, when that leaves nothing, a window no event is in (an empty page, export or
    /// usage report; a tail that stays quiet).
    func scope(_ window: TimeWindow, _ filter: EventFilter) -> (window: TimeWindow, filter: EventFilter) {
        guard let visible = restrict(filter) else {
            let never = Timestamp(nanosSinceEpoch: 0)
            return (TimeWindow(since: never, until: never), filter)
        }
        return (window, visible)
    }

    /// Whether the caller may see `event`.
    func sees(_ event: AuditEvent) -> Bool {
        guard let teams else { return true }
        return event.team.map(teams.contains) ?? false
    }

    /// Throws 403 unless the caller sees every event (routes that answer with other teams'
    /// events in bulk, such as tlog entry bundles).
    func requireUnscoped(_ what: String) throws {
        guard let token, let teams = token.teams else { return }
        throw APIError(.forbidden, code: "forbidden", "this token sees only team(s) \(teams.sorted().joined(separator: ", ")); \(what) hold every team's events")
    }
}

extension AuditLogAPI {
    /// The caller of a request that passed authentication.
    func caller(_ request: Request, context: some RequestContext) -> Caller {
        let token = configuration.tokens.flatMap { tokens in BearerAuthMiddleware<BasicRequestContext>.bearerToken(request).flatMap(tokens.token) }
        return Caller(token: token, client: Self.clientAddress(context))
    }

    /// The client's IP address, from the connection when the context knows it.
    static func clientAddress(_ context: some RequestContext) -> String? {
        guard let address = (context as? any ConnectionAwareContext)?.channel?.remoteAddress else { return nil }
        return address.ipAddress
    }
}
