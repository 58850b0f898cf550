/// The typed fields of an event after its header (`id`, `event_type`, `timestamp`): one table,
/// in presence-bit order (docs/FORMAT.md, "Record"), from which every codec is derived — the
/// JSON parser and writer, the binary record encoder, decoder, validator and JSON transcoder,
/// the facts an index keeps, filters, CSV columns and the dimensions usage groups by.
enum EventField: Int, CaseIterable, Sendable {
    case verdict = 0, reasonCode, user, team, model, provider, configVersion, apiKey, source
    case tokensIn, tokensOut, tokensCached, tokensReasoning, cost, latency, cacheHit
    case requestID, sessionID, gateway, ip, userAgent, policies, redactions, resource, details, extra

    /// The field of presence bit `rawValue`, nil above the last. Written out rather than
    /// synthesized: the synthesized initializer is a call on every field of every record a
    /// codec walks (~6 % of `verify`), this a range check. A no-payload enum is stored as its
    /// case index, and the raw values are the case indices in order (a test holds them so).
    @inline(__always)
    init?(rawValue: Int) {
        guard rawValue >= 0, rawValue < 26 else { return nil }
        self = unsafeBitCast(UInt8(truncatingIfNeeded: rawValue), to: EventField.self)
    }

    /// How a field is typed, in JSON and in a record.
    enum Kind: Equatable, Sendable {
        /// `u8` code: allow, block, redact, escalate.
        case verdict
        /// A JSON string; `str`.
        case string
        /// A non-negative JSON integer; varint.
        case count
        /// A non-negative JSON number with at most `scale` decimals, stored × 10^scale as a
        /// varint (cost in nano-dollars, latency in microseconds).
        case fixed(scale: Int)
        /// `true`/`false`; `u8` 0 or 1.
        case bool
        /// Arrays of objects with typed string members and extras.
        case policies, redactions
        /// Any JSON value; *json*.
        case json
        /// The top-level members the model does not know; *members*, in input order.
        case members
    }

    /// The presence bit saying the id is an `evt_` ULID stored as 16 bytes (not a field).
    static let compactIDMask: UInt32 = 1 << 26
    /// Every presence bit a record may set.
    static let allMask: UInt32 = (1 << 27) - 1

    var mask: UInt32 { 1 << UInt32(rawValue) }

    /// The fields in runs of one encoding, in bit order (docs/FORMAT.md, "Record"): verdict;
    /// the strings of bits 1–8 (``leadingStrings``); the varints of bits 9–14 (``integers``);
    /// cache_hit; the strings of bits 16–20 (``trailingStrings``); then policies, redactions,
    /// resource (a string), details and extra. A walk that only checks a record's values goes
    /// run by run — a count of set bits, then that many values of one kind — rather than
    /// dispatching on every field's kind. A test holds the masks to ``kind``.
    static var leadingStrings: UInt32 { 0xFF << 1 }
    static var integers: UInt32 { 0x3F << 9 }
    static var trailingStrings: UInt32 { 0x1F << 16 }

    /// Every field, in bit order: a stored array (`allCases` builds a new one per call, and the
    /// codecs loop over the fields for every record).
    static let all: [EventField] = allCases

    /// The fields whose bits are set in `presence`, in bit order, visited without allocating.
    static func present(in presence: UInt32) -> Present { Present(bits: presence & (compactIDMask - 1)) }

    /// The set bits of a presence word as fields.
    struct Present: Sequence, IteratorProtocol {
        var bits: UInt32

        mutating func next() -> EventField? {
            guard bits != 0 else { return nil }
            let index = bits.trailingZeroBitCount
            bits &= bits - 1
            // From the raw value, not `all[index]`: no lazy global to check a field.
            return EventField(rawValue: index)  // bits above the fields' are masked off
        }
    }

    /// The JSON name (`extra` has none of its own: its members are top-level names).
    var name: StaticString {
        switch self {
        case .verdict: "verdict"
        case .reasonCode: "reason_code"
        case .user: "user"
        case .team: "team"
        case .model: "model"
        case .provider: "provider"
        case .configVersion: "config_version"
        case .apiKey: "api_key"
        case .source: "source"
        case .tokensIn: "tokens_in"
        case .tokensOut: "tokens_out"
        case .tokensCached: "tokens_cached"
        case .tokensReasoning: "tokens_reasoning"
        case .cost: "cost"
        case .latency: "latency_ms"
        case .cacheHit: "cache_hit"
        case .requestID: "request_id"
        case .sessionID: "session_id"
        case .gateway: "gateway"
        case .ip: "ip"
        case .userAgent: "user_agent"
        case .policies: "policies"
        case .redactions: "redactions"
        case .resource: "resource"
        case .details: "details"
        case .extra: "extra"
        }
    }

    var jsonName: String { name.description }

    var kind: Kind {
        switch self {
        case .verdict: .verdict
        case .tokensIn, .tokensOut, .tokensCached, .tokensReasoning: .count
        case .cost: .fixed(scale: 9)
        case .latency: .fixed(scale: 3)
        case .cacheHit: .bool
        case .policies: .policies
        case .redactions: .redactions
        case .details: .json
        case .extra: .members
        default: .string
        }
    }

    /// The largest value input may give a numeric field (``EventLimits``).
    var limit: Int64? {
        switch self {
        case .tokensIn, .tokensOut, .tokensCached, .tokensReasoning: EventLimits.maxTokens
        case .cost: EventLimits.maxCostNanodollars
        case .latency: EventLimits.maxLatencyMicros
        default: nil
        }
    }

    /// The unit of a fixed-point field, for messages.
    var unit: String { self == .cost ? "US dollars" : "milliseconds" }

    /// The field a JSON name names (not `extra`), or nil.
    init?(jsonName: String) {
        guard let field = Self.byName[jsonName] else { return nil }
        self = field
    }

    private static let byName: [String: EventField] = Dictionary(uniqueKeysWithValues: allCases.filter { $0 != .extra }.map { ($0.jsonName, $0) })

    /// The header's names, always present and first in JSON.
    static let headerNames = ["id", "event_type", "timestamp"]

    /// Every top-level name with a typed meaning: the header's, the fields', and `seq`, the
    /// log's own. An unknown member (``AuditEvent/extra``) may not take one.
    static let typedNames: Set<String> = Set(headerNames + allCases.filter { $0 != .extra }.map(\.jsonName) + ["seq"])
}

extension AuditEvent {
    /// The value of a string field.
    subscript(string field: EventField) -> String? {
        get { withString(field) { $0 } }
        set {
            switch field {
            case .reasonCode: reasonCode = newValue
            case .user: user = newValue
            case .team: team = newValue
            case .model: model = newValue
            case .provider: provider = newValue
            case .configVersion: configVersion = newValue
            case .apiKey: apiKey = newValue
            case .source: source = newValue
            case .requestID: requestID = newValue
            case .sessionID: sessionID = newValue
            case .gateway: gateway = newValue
            case .ip: ip = newValue
            case .userAgent: userAgent = newValue
            case .resource: resource = newValue
            default: break
            }
        }
    }

    /// The stored integer of a count or fixed-point field (cost in nano-dollars, latency in
    /// microseconds).
    subscript(integer field: EventField) -> Int64? {
        get {
            switch field {
            case .tokensIn: tokensIn
            case .tokensOut: tokensOut
            case .tokensCached: tokensCached
            case .tokensReasoning: tokensReasoning
            case .cost: cost?.nanodollars
            case .latency: latencyMicros
            default: nil
            }
        }
        set {
            switch field {
            case .tokensIn: tokensIn = newValue
            case .tokensOut: tokensOut = newValue
            case .tokensCached: tokensCached = newValue
            case .tokensReasoning: tokensReasoning = newValue
            case .cost: cost = newValue.map { Cost(nanodollars: $0) }
            case .latency: latencyMicros = newValue
            default: break
            }
        }
    }

    /// Calls `body` with a string field's value, borrowed from its stored property: the codecs'
    /// per-record paths, where the getter's copy (a retain and a release a field) would cost.
    func withString<R>(_ field: EventField, _ body: (String?) -> R) -> R {
        switch field {
        case .reasonCode: body(reasonCode)
        case .user: body(user)
        case .team: body(team)
        case .model: body(model)
        case .provider: body(provider)
        case .configVersion: body(configVersion)
        case .apiKey: body(apiKey)
        case .source: body(source)
        case .requestID: body(requestID)
        case .sessionID: body(sessionID)
        case .gateway: body(gateway)
        case .ip: body(ip)
        case .userAgent: body(userAgent)
        case .resource: body(resource)
        default: body(nil)
        }
    }

    /// The presence bits of the event's fields: each field's nil test, straight-line (a test
    /// holds them to what the field table's kinds and accessors say, field by field).
    var presence: UInt32 {
        func bit(_ field: EventField, _ present: Bool) -> UInt32 { present ? field.mask : 0 }
        var bits = bit(.verdict, verdict != nil) | bit(.reasonCode, reasonCode != nil) | bit(.user, user != nil)
        bits |= bit(.team, team != nil) | bit(.model, model != nil) | bit(.provider, provider != nil)
        bits |= bit(.configVersion, configVersion != nil) | bit(.apiKey, apiKey != nil) | bit(.source, source != nil)
        bits |= bit(.tokensIn, tokensIn != nil) | bit(.tokensOut, tokensOut != nil) | bit(.tokensCached, tokensCached != nil)
        bits |= bit(.tokensReasoning, tokensReasoning != nil) | bit(.cost, cost != nil) | bit(.latency, latencyMicros != nil)
        bits |= bit(.cacheHit, cacheHit != nil) | bit(.requestID, requestID != nil) | bit(.sessionID, sessionID != nil)
        bits |= bit(.gateway, gateway != nil) | bit(.ip, ip != nil) | bit(.userAgent, userAgent != nil)
        bits |= bit(.policies, policies != nil) | bit(.redactions, redactions != nil) | bit(.resource, resource != nil)
        return bits | bit(.details, details != nil) | bit(.extra, !extra.isEmpty)
    }
}

extension PolicyDecision {
    /// The typed string members, in presence-bit order (docs/FORMAT.md, "Record", bit 21).
    static let typedMembers: [StaticString] = ["name", "kind", "phase", "verdict", "reason"]
    static let typedKeys: Set<String> = Set(typedMembers.map(\.description))

    /// The typed members' values, in that order.
    var typedValues: [String?] { [name, kind, phase, verdict, reason] }

    init(typedValues v: [String?], extra: [JSONMember]) {
        self.init(name: v[0], kind: v[1], phase: v[2], verdict: v[3], reason: v[4], extra: extra)
    }
}

extension Redaction {
    /// The typed string members, in presence-bit order (bit 22).
    static let typedMembers: [StaticString] = ["kind", "replacement"]
    static let typedKeys: Set<String> = Set(typedMembers.map(\.description))

    var typedValues: [String?] { [kind, replacement] }

    init(typedValues v: [String?], extra: [JSONMember]) {
        self.init(kind: v[0], replacement: v[1], extra: extra)
    }
}
