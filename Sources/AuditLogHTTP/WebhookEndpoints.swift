import AuditLog
import AuditLogServices
import Hummingbird

/// `GET|POST /v1/webhooks` and `DELETE /v1/webhooks/{id}` (write scope). A team-scoped token
/// manages only the subscriptions it created, and they are sent only its teams' events.
extension AuditLogAPI {
    /// `{"webhooks": [ … ]}`: each subscription with its delivery state, never its secret.
    func listWebhooks(_ request: Request, caller: Caller) async throws -> Response {
        _ = try QueryParameters(request, allowed: [])
        let webhooks = try requireWebhooks()
        let statuses = try webhooks.statuses(teams: caller.teams)
        return Self.json(.object([JSONMember("webhooks", .array(statuses.map(\.json)))]))
    }

    /// Body `{"url", "events": [...], "filter": [...], "thresholds": [...], "secret"}` → 201
    /// `{"id", "secret", …}`; the secret is generated when not given and shown only here.
    func addWebhook(_ request: Request, caller: Caller) async throws -> Response {
        _ = try QueryParameters(request, allowed: [])
        let webhooks = try requireWebhooks()
        let body = try await Self.jsonBody(request, fields: ["url", "events", "filter", "thresholds", "secret"])
        guard let url = try Self.string(body, "url") else { throw APIError(.badRequest, code: "invalid_body", "\"url\" is required") }
        var events: [WebhookEventType] = []
        for text in try Self.strings(body, "events") {
            guard let type = WebhookEventType(rawValue: text) else {
                throw APIError(.badRequest, code: "invalid_body", "\"events\": '\(text.prefix(60))' is not one of \(WebhookEventType.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            events.append(type)
        }
        var thresholds: [SpendThreshold] = []
        for text in try Self.strings(body, "thresholds") { thresholds.append(try SpendThreshold(parsing: text)) }
        let subscription = try await webhooks.add(
            url: url, events: events, filter: try Self.strings(body, "filter"), thresholds: thresholds, secret: try Self.string(body, "secret"),
            actor: caller.actor, teams: caller.teams)
        var members: [JSONMember] = []
        if case .object(let listed) = Webhooks.Status(new: subscription).json {
            members = listed
        }
        members.insert(JSONMember("secret", .string(subscription.secret)), at: 1)
        return Self.json(.object(members), status: .created)
    }

    /// Removes a subscription (recorded as `audit.webhook_removed`).
    func removeWebhook(_ request: Request, rawID: String, caller: Caller) async throws -> Response {
        _ = try QueryParameters(request, allowed: [])
        let webhooks = try requireWebhooks()
        guard let id = Self.percentDecoded(rawID) else { throw APIError(.badRequest, code: "invalid_id", "the webhook id in the path is not valid percent-encoded UTF-8") }
        do {
            try await webhooks.remove(id: id, actor: caller.actor, teams: caller.teams)
        } catch  where error.code == .noLog {
            throw APIError.notFound(error.message)
        }
        return Self.json(.object([JSONMember("removed", .string(id))]))
    }

    private func requireWebhooks() throws -> Webhooks {
        guard let webhooks else {
            throw APIError(.methodNotAllowed, code: "read_only", "this server delivers no webhooks (a read-only log); manage them on its writer", headers: [.allow: "GET"])
        }
        return webhooks
    }

    /// A member that is an array of strings (empty when absent or null).
    static func strings(_ body: JSONValue, _ name: String) throws -> [String] {
        switch body[name] {
        case nil, .null?: return []
        case .array(let items)?:
            return try items.map { item in
                guard let s = item.stringValue else { throw APIError(.badRequest, code: "invalid_body", "\"\(name)\" is an array of strings") }
                return s
            }
        default: throw APIError(.badRequest, code: "invalid_body", "\"\(name)\" is an array of strings")
        }
    }
}
