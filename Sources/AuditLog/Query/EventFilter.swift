import struct Foundation.Date

/// A half-open window of event time, `[since, until)`; nil bounds are open.
public struct TimeWindow: Hashable, Sendable {
    /// Inclusive lower bound.
    public var since: Timestamp?
    /// Exclusive upper bound.
    public var until: Timestamp?

    public init(since: Timestamp? = nil, until: Timestamp? = nil) {
        self.since = since
        self.until = until
    }

    /// The events of `[range.lowerBound, range.upperBound)`.
    public init(_ range: Range<Date>) {
        self.init(since: Timestamp(range.lowerBound), until: Timestamp(range.upperBound))
    }

    /// All of time.
    public static let all = TimeWindow()

    /// The last `duration` up to `now`, open at the end so that events arriving while a
    /// query runs are included: `.last(.seconds(3600))`, `.last(.hours(1))`.
    public static func last(_ duration: Duration, now: Timestamp = .now) -> TimeWindow {
        TimeWindow(since: now - duration)
    }

    func contains(_ nanos: Int64) -> Bool {
        (since.map { nanos >= $0.nanosSinceEpoch } ?? true) && (until.map { nanos < $0.nanosSinceEpoch } ?? true)
    }

    /// Whether `[min, max]` overlaps the window.
    func overlaps(min: Int64, max: Int64) -> Bool {
        (since.map { max >= $0.nanosSinceEpoch } ?? true) && (until.map { min < $0.nanosSinceEpoch } ?? true)
    }

    /// Whether `[min, max]` lies wholly inside the window.
    func covers(min: Int64, max: Int64) -> Bool { contains(min) && contains(max) }
}

/// Which events a query or a usage report considers: AND across fields, OR within the values
/// of one field. Equality on any top-level field by its JSON text (`"0.0142"`, `"true"`); the
/// other operators, prefixes, custom and policy fields through ``expressions``; a free-text
/// ``search``.
public struct EventFilter: Hashable, Sendable {
    /// Accepted verdicts (empty: any).
    public var verdicts: Set<Verdict>
    /// Accepted users (empty: any).
    public var users: Set<String>
    /// Accepted models (empty: any).
    public var models: Set<String>
    /// Other fields: name (snake_case, as in the JSON) → accepted values.
    public var fields: [String: Set<String>]
    /// Conditions as users write them (``FilterExpression``): `=` on one field (here or in the
    /// sets above) means any of the values; every other condition must hold too.
    public var expressions: [FilterExpression]
    /// Case-insensitive text that one of the event's string fields must contain (ids, user,
    /// team, model, reason, resource, request, `details`, policy names and reasons, custom
    /// string fields); nil or empty: no search.
    public var search: String?

    public init(
        verdicts: Set<Verdict> = [], users: Set<String> = [], models: Set<String> = [], fields: [String: Set<String>] = [:],
        expressions: [FilterExpression] = [], search: String? = nil
    ) {
        self.verdicts = verdicts
        self.users = users
        self.models = models
        self.fields = fields
        self.expressions = expressions
        self.search = search
    }

    /// No filter.
    package var isEmpty: Bool { tests.isEmpty && searchBytes == nil }

    /// The reference predicate: whether `event` passes. The query engine gives the same answers
    /// from index columns wherever it can.
    package func matches(_ event: AuditEvent) -> Bool {
        FieldTests(self).matches(event)
    }
}

extension AuditEvent {
    /// The JSON text of a top-level field for equality filters: strings as they are, numbers in
    /// their canonical form, booleans as `true`/`false`; objects and arrays as compact JSON.
    /// Nil when the event does not have the field.
    package func fieldText(_ name: String, customOnly: Bool = false) -> String? {
        switch customOnly ? "" : name {
        case "id": return id
        case "event_type": return eventType
        case "timestamp": return timestamp.rfc3339
        default:
            if !customOnly, let field = EventField(jsonName: name) { return text(of: field) }
            guard let value = extra.first(where: { $0.key == name })?.value else { return nil }
            switch value {
            case .null: return nil
            case .string(let s): return s
            case .number(let n): return n
            case .bool(let b): return b ? "true" : "false"
            case .array, .object: return value.jsonText
            }
        }
    }

    /// The filter text of a typed field (see ``fieldText(_:)``); for `extra`, its members as
    /// one JSON object.
    func text(of field: EventField) -> String? {
        switch field.kind {
        case .verdict: verdict?.rawValue
        case .string: self[string: field]
        case .count: self[integer: field].map { String($0) }
        case .fixed(let scale): self[integer: field].map { FixedPoint.format($0, scale: scale) }
        case .bool: cacheHit.map { $0 ? "true" : "false" }
        case .policies: policies.map { JSONValue.array($0.map(\.jsonValue)).jsonText }
        case .redactions: redactions.map { JSONValue.array($0.map(\.jsonValue)).jsonText }
        case .json: details?.jsonText
        case .members: extra.isEmpty ? nil : JSONValue.object(extra).jsonText
        }
    }
}
