/// One immutable audit event: a gateway decision or an administrative change.
///
/// Its JSON form is the snake_case object gateways emit (see ``init(json:)`` and
/// ``jsonText``); only `event_type` and `timestamp` are required. Fields this type does not
/// know are kept in ``extra`` and written back unchanged.
public struct AuditEvent: Hashable, Sendable {
    /// The event id, e.g. `evt_01J…`. Assigned at append (`evt_` + ULID) when nil; a
    /// client-supplied id must be unique in the log.
    public var id: String?
    /// `decision` for a gateway decision, `<resource>.<verb>` (`model.enabled`) for admin actions.
    public var eventType: String
    /// When the event happened (event time, not append time).
    public var timestamp: Timestamp
    /// The gateway's decision.
    public var verdict: Verdict?
    /// Machine-readable reason, e.g. `prompt_injection_detected`.
    public var reasonCode: String?
    /// The actor: the developer for a decision, the admin for an admin action.
    public var user: String?
    /// The actor's team.
    public var team: String?
    /// The model requested, e.g. `gpt-4o`.
    public var model: String?
    /// The model's provider, e.g. `openai`.
    public var provider: String?
    /// The version of the gateway configuration that decided.
    public var configVersion: String?
    /// The API key (its name, never the secret) the request came with.
    public var apiKey: String?
    /// Where the request came from, e.g. `ide`, `cli`, `ci`.
    public var source: String?
    /// Input tokens, including cached input tokens.
    public var tokensIn: Int64?
    /// Output tokens (reasoning tokens are counted in ``tokensReasoning``).
    public var tokensOut: Int64?
    /// Input tokens served from the provider's prompt cache.
    public var tokensCached: Int64?
    /// Reasoning tokens billed as output.
    public var tokensReasoning: Int64?
    /// Exact cost in US dollars.
    public var cost: Cost?
    /// Latency in microseconds (JSON `latency_ms`, up to 3 decimals).
    public var latencyMicros: Int64?
    /// True when the gateway answered from its response cache.
    public var cacheHit: Bool?
    /// The gateway's request id.
    public var requestID: String?
    /// The client's session id.
    public var sessionID: String?
    /// The gateway node that decided.
    public var gateway: String?
    /// The client IP address.
    public var ip: String?
    /// The client's User-Agent.
    public var userAgent: String?
    /// The policies that fired, in order.
    public var policies: [PolicyDecision]?
    /// What was redacted.
    public var redactions: [Redaction]?
    /// The object acted on, e.g. `chat:conv_abc123` or `model:gpt-4o`.
    public var resource: String?
    /// Free-form details (for admin actions: `{"old":…,"new":…}`).
    public var details: JSONValue?
    /// Top-level fields this type does not model, in their original order.
    public var extra: [JSONMember]

    /// Creates an event with the two required fields.
    public init(eventType: String, timestamp: Timestamp, id: String? = nil) {
        self.eventType = eventType
        self.timestamp = timestamp
        self.id = id
        self.extra = []
    }
}

/// One policy evaluation recorded on an event.
public struct PolicyDecision: Hashable, Sendable {
    /// The policy's name.
    public var name: String?
    /// What the policy checks, e.g. `prompt_injection`.
    public var kind: String?
    /// `input` or `output`.
    public var phase: String?
    /// The policy's own verdict (free text: gateways use more than the four event verdicts).
    public var verdict: String?
    /// Why it decided so.
    public var reason: String?
    /// Members this type does not model.
    public var extra: [JSONMember]

    public init(name: String? = nil, kind: String? = nil, phase: String? = nil, verdict: String? = nil, reason: String? = nil, extra: [JSONMember] = []) {
        self.name = name
        self.kind = kind
        self.phase = phase
        self.verdict = verdict
        self.reason = reason
        self.extra = extra
    }
}

/// One redaction recorded on an event.
public struct Redaction: Hashable, Sendable {
    /// What was redacted, e.g. `api_key` or `email`.
    public var kind: String?
    /// The text that replaced it, e.g. `[REDACTED:api_key]`.
    public var replacement: String?
    /// Members this type does not model.
    public var extra: [JSONMember]

    public init(kind: String? = nil, replacement: String? = nil, extra: [JSONMember] = []) {
        self.kind = kind
        self.replacement = replacement
        self.extra = extra
    }
}

/// An event as stored: its sequence number and the event (whose ``AuditEvent/id`` is set).
public struct Record: Hashable, Sendable {
    /// The record's position in the log.
    public var seq: SequenceNumber
    /// The event.
    public var event: AuditEvent

    package init(seq: SequenceNumber, event: AuditEvent) {
        self.seq = seq
        self.event = event
    }
}

/// Limits on a single event (TigerBeetle style: everything has a bound).
package enum EventLimits {
    /// Largest JSON text of one event accepted by the decoder.
    package static let maxJSONBytes = 1 << 20
    /// Longest `id` in bytes.
    package static let maxIDBytes = 256
    /// Longest `event_type` in bytes.
    package static let maxEventTypeBytes = 256
    /// Largest token count of one event (`tokens_in`, `tokens_out`, `tokens_cached`,
    /// `tokens_reasoning`): 10¹².
    package static let maxTokens: Int64 = 1_000_000_000_000
    /// Largest cost of one event: US$1,000,000 (10¹⁵ nano-dollars).
    package static let maxCostNanodollars: Int64 = 1_000_000_000_000_000
    /// Largest latency of one event: 10⁹ ms (about 11.6 days), in microseconds.
    package static let maxLatencyMicros: Int64 = 1_000_000_000_000

}
