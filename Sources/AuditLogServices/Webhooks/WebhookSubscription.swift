import AuditLog
import Crypto
import Foundation

/// What a webhook subscription is sent.
public enum WebhookEventType: String, Sendable, Hashable, CaseIterable {
    /// An event with verdict `block`.
    case blocked = "event.blocked"
    /// An event with verdict `redact`.
    case redacted = "event.redacted"
    /// An event with verdict `escalate`.
    case escalated = "event.escalated"
    /// A spend threshold of the subscription was crossed (once per window).
    case spendThreshold = "spend.threshold"
    /// The first event of a model never seen before in the log.
    case modelFirstSeen = "model.first_seen"

    /// The verdict an `event.*` type stands for.
    var verdict: Verdict? {
        switch self {
        case .blocked: .block
        case .redacted: .redact
        case .escalated: .escalate
        case .spendThreshold, .modelFirstSeen: nil
        }
    }

    /// The CloudEvents `type`: `auditlog.event.blocked`, ….
    public var cloudEventType: String { "auditlog." + rawValue }
}

/// One webhook subscription: where to post, which events, signed with which secret, and the
/// seq it started at (events appended after it was created).
public struct WebhookSubscription: Sendable, Hashable {
    /// `wh_` and 20 random characters.
    public var id: String
    /// Where deliveries are posted (http or https).
    public var url: String
    /// What is sent.
    public var events: [WebhookEventType]
    /// Conditions in the filter grammar (`team=payments`), all of which an event must meet.
    public var filter: [String]
    /// Spend thresholds (`team=payments cost>100/day`), for `spend.threshold`.
    public var thresholds: [SpendThreshold]
    /// The signing secret, `whsec_` + base64 (Standard Webhooks).
    public var secret: String
    /// When it was created.
    public var createdAt: Timestamp
    /// The log's last seq when it was created: delivery starts after it.
    public var startSeq: UInt64
    /// The teams of the team-scoped token that created it (its deliveries are limited to
    /// them, and only such a token manages it); nil: created with full access.
    public var teams: [String]?
    /// Who created it.
    public var createdBy: String

    /// The event filter deliveries are chosen by: ``filter`` and, for a team-scoped creator,
    /// its teams. Nil when they exclude each other (nothing is ever delivered).
    func eventFilter() throws(AuditLogError) -> EventFilter? {
        var expressions: [FilterExpression] = []
        for text in filter { expressions.append(try FilterExpression(parsing: text)) }
        let filter = EventFilter(expressions: expressions)
        if let teams { return filter.restricted(field: "team", to: Set(teams)) }
        return filter
    }

    /// A new random secret.
    public static func newSecret() -> String {
        "whsec_" + Base64.encode(Self.randomBytes(24))
    }

    /// A new random id.
    static func newID() -> String {
        let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz")
        return "wh_" + String(randomBytes(20).map { alphabet[Int($0) % alphabet.count] })
    }

    static func randomBytes(_ n: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<n).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    /// The HMAC key of a secret as Standard Webhooks reads one: the base64 after an optional
    /// `whsec_` prefix. Nil when that is not base64 of 16 to 64 bytes.
    static func key(ofSecret secret: String) -> [UInt8]? {
        let encoded = secret.hasPrefix("whsec_") ? secret.dropFirst(6) : Substring(secret)
        guard let bytes = Base64.decode(encoded), (16...64).contains(bytes.count) else { return nil }
        return bytes
    }

    /// The HMAC key of ``secret`` (``key(ofSecret:)``; secrets are checked when added).
    var signingKey: SymmetricKey {
        SymmetricKey(data: Self.key(ofSecret: secret) ?? Array(secret.utf8))
    }
}

/// A spend alert: `[<user|team|model|api_key>=<value>] <cost|tokens|requests>><amount>/<hour|day>`,
/// e.g. `team=payments cost>100/day`.
public struct SpendThreshold: Sendable, Hashable, CustomStringConvertible {
    /// What is summed.
    public enum Metric: String, Sendable, Hashable { case cost, tokens, requests }
    /// The window it is summed over (UTC hours or days).
    public enum Window: String, Sendable, Hashable {
        case hour, day
        var nanos: Int64 { self == .hour ? 3_600_000_000_000 : 86_400_000_000_000 }
    }

    /// The field the spend is counted for (`team`), nil for the whole log.
    public var key: String?
    /// Its value (`payments`).
    public var value: String?
    public var metric: Metric
    /// The amount to exceed: dollars for cost (exact, as text), a count otherwise.
    public var amount: String
    public var window: Window
    /// As written.
    public var description: String

    static let keys = ["user", "team", "model", "api_key"]

    /// Parses the form above; the error says what is wrong.
    public init(parsing text: String) throws(AuditLogError) {
        description = text.trimmingCharacters(in: .whitespaces)
        let words = description.split(separator: " ", omittingEmptySubsequences: true)
        guard words.count == 1 || words.count == 2, let condition = words.last else {
            throw AuditLogError(.invalidArgument, "threshold '\(text)' is not '[team=<team>] cost>100/day' (a key, then metric>amount/window)")
        }
        if words.count == 2 {
            let pair = words[0].split(separator: "=", maxSplits: 1)
            guard pair.count == 2, Self.keys.contains(String(pair[0])), !pair[1].isEmpty else {
                throw AuditLogError(.invalidArgument, "threshold '\(text)': '\(words[0])' is not <user|team|model|api_key>=<value>")
            }
            key = String(pair[0])
            value = String(pair[1])
        }
        let parts = condition.split(separator: ">", maxSplits: 1)
        guard parts.count == 2, let metric = Metric(rawValue: String(parts[0])) else {
            throw AuditLogError(.invalidArgument, "threshold '\(text)': '\(condition)' is not <cost|tokens|requests>><amount>/<hour|day>")
        }
        let amountAndWindow = parts[1].split(separator: "/", maxSplits: 1)
        guard amountAndWindow.count == 2, let window = Window(rawValue: String(amountAndWindow[1])) else {
            throw AuditLogError(.invalidArgument, "threshold '\(text)': give the window after the amount, /hour or /day")
        }
        let amount = String(amountAndWindow[0])
        switch metric {
        case .cost:
            guard let cost = Cost(decimal: amount), cost.nanodollars >= 0 else { throw AuditLogError(.invalidArgument, "threshold '\(text)': '\(amount)' is not an amount of dollars") }
        case .tokens, .requests:
            guard let n = Int64(amount), n >= 0 else { throw AuditLogError(.invalidArgument, "threshold '\(text)': '\(amount)' is not a whole number") }
        }
        self.metric = metric
        self.amount = amount
        self.window = window
    }

    /// The filter of the events it counts.
    var eventFilter: EventFilter {
        guard let key, let value else { return EventFilter() }
        return EventFilter(fields: [key: [value]])
    }

    /// The sum in `row` and whether it exceeds the amount.
    func observe(_ row: UsageRow) -> (observed: String, exceeded: Bool) {
        switch metric {
        case .cost:
            let limit = Cost(decimal: amount)?.nanodollars ?? .max
            return (row.cost.description, row.cost.nanodollars > limit)
        case .tokens:
            let total = row.tokensIn + row.tokensOut
            return (String(total), total > (Int64(amount) ?? .max))
        case .requests:
            return (String(row.requests), row.requests > (Int64(amount) ?? .max))
        }
    }
}
