/// What usage can be grouped by.
public enum UsageGroup: String, CaseIterable, Hashable, Sendable {
    case user, team, model, provider
    case apiKey = "api_key"
    case verdict
    case reasonCode = "reason_code"
    case source
    case eventType = "event_type"
    /// The gateway node (not an index column: the events are read).
    case gateway
    /// The UTC hour of the event time.
    case hour
    /// The UTC day of the event time.
    case day
    /// The ISO week (from Monday 00:00 UTC) of the event time.
    case week
    /// The UTC calendar month of the event time.
    case month

    /// Whether the group is a time bucket (rows then come oldest first, as a time series).
    public var isTime: Bool { self == .hour || self == .day || self == .week || self == .month }

    /// The dimension grouped by, nil for time groups and the gateway.
    var dimension: Dimension? {
        switch self {
        case .user: .user
        case .team: .team
        case .model: .model
        case .provider: .provider
        case .apiKey: .apiKey
        case .verdict: .verdict
        case .reasonCode: .reasonCode
        case .source: .source
        case .eventType: .eventType
        case .gateway, .hour, .day, .week, .month: nil
        }
    }

    private static let hourNanos: Int64 = 3_600_000_000_000
    private static let dayNanos: Int64 = 86_400_000_000_000

    /// The bucket start of `nanos` for a time group.
    func bucket(_ nanos: Int64) -> Int64 {
        switch self {
        case .hour: return nanos - nanos % Self.hourNanos
        case .week:
            // 1970-01-01 was a Thursday: Monday is 3 days before.
            let days = nanos / Self.dayNanos
            return (days - (days + 3) % 7) * Self.dayNanos
        case .month:
            let (y, m, _) = Timestamp.civilFromDays(Int(nanos / Self.dayNanos))
            return Int64(Timestamp.daysFromCivil(year: y, month: m, day: 1)) * Self.dayNanos
        default: return nanos - nanos % Self.dayNanos
        }
    }

    /// The start of the bucket after the one starting at `start`.
    func nextBucket(_ start: Int64) -> Int64 {
        switch self {
        case .hour: return start + Self.hourNanos
        case .week: return start + 7 * Self.dayNanos
        case .month:
            let (y, m, _) = Timestamp.civilFromDays(Int(start / Self.dayNanos))
            return Int64(Timestamp.daysFromCivil(year: m == 12 ? y + 1 : y, month: m == 12 ? 1 : m + 1, day: 1)) * Self.dayNanos
        default: return start + Self.dayNanos
        }
    }

    /// The unit a packed scan key counts a time bucket in.
    var packingUnit: Int64 { self == .hour ? Self.hourNanos : Self.dayNanos }
}

/// Usage of one group: counts, tokens, exact cost, cache hits and latency.
public struct UsageRow: Hashable, Sendable {
    /// One value per ``UsageReport/groupBy`` key (hour and day as RFC 3339 bucket starts);
    /// nil when the events have no such field.
    public var group: [String?]
    /// Events.
    public var requests: Int64
    /// Input tokens.
    public var tokensIn: Int64
    /// Output tokens.
    public var tokensOut: Int64
    /// Exact total cost.
    public var cost: Cost
    /// Events answered from the gateway cache.
    public var cacheHits: Int64
    /// Events with verdict block.
    public var blocked: Int64
    /// Events with verdict redact.
    public var redacted: Int64
    /// Events with verdict escalate.
    public var escalated: Int64
    /// Mean latency in microseconds over events with a latency (nil when none has one).
    public var averageLatencyMicros: Int64?
    /// Median latency in microseconds (from a log-linear sketch, ≤ 6.25% relative error), nil
    /// when no event has a latency.
    public var p50LatencyMicros: Int64?
    /// 95th percentile latency in microseconds (same sketch), nil when no event has one.
    public var p95LatencyMicros: Int64?
    /// Distinct users, when asked for (``UsageColumns/uniqueUsers``); nil otherwise.
    public var uniqueUsers: Int?
    /// Events per reason code, when asked for (``UsageColumns/reasons``); nil otherwise.
    public var reasons: [String: Int64]?
    /// True when a sum (tokens, cost or latency) exceeds what its 64-bit field holds: that
    /// field then shows its maximum, `Int64.max`. Only a log holding events written before
    /// the per-event input limits (docs/FORMAT.md, "Input limits") can get there.
    public var isSaturated: Bool

    /// Input plus output tokens (saturating, like the sums).
    public var tokens: Int64 {
        let (sum, overflow) = tokensIn.addingReportingOverflow(tokensOut)
        return overflow ? .max : sum
    }

    /// Cost ÷ requests, rounded down to a nano-dollar; nil without requests.
    public var averageCost: Cost? { requests > 0 ? Cost(nanodollars: cost.nanodollars / requests) : nil }

    /// Tokens (in + out) ÷ requests; nil without requests.
    public var averageTokens: Double? { requests > 0 ? Double(tokens) / Double(requests) : nil }

    /// Cache hits ÷ requests (0 when there are no requests).
    package var cacheHitRate: Double { requests > 0 ? Double(cacheHits) / Double(requests) : 0 }

    init(group: [String?], _ a: UsageAggregate, detail: UsageDetail = UsageDetail(), columns: UsageColumns = []) {
        self.group = group
        uniqueUsers = columns.contains(.uniqueUsers) ? detail.users.count : nil
        reasons = columns.contains(.reasons) ? detail.reasons : nil
        requests = a.requests
        tokensIn = Int64(clamping: a.tokensIn)
        tokensOut = Int64(clamping: a.tokensOut)
        cost = Cost(nanodollars: Int64(clamping: a.costNanos))
        isSaturated = !a.fitsRollupRow
        cacheHits = a.cacheHits
        blocked = a.blocked
        redacted = a.redacted
        escalated = a.escalated
        averageLatencyMicros = a.latencyCount > 0 ? Int64(clamping: a.latencySumMicros / Int128(a.latencyCount)) : nil
        p50LatencyMicros = a.sketch.quantile(0.5)
        p95LatencyMicros = a.sketch.quantile(0.95)
    }
}

/// The result of ``AuditLog/usage(window:groupBy:filter:)``.
public struct UsageReport: Hashable, Sendable {
    /// The grouping keys, in order.
    public var groupBy: [UsageGroup]
    /// One row per group, highest cost first (then most requests, then by group values).
    public var rows: [UsageRow]
    /// All groups together.
    public var totals: UsageRow
    /// Segments answered from their rollups.
    package var segmentsFromRollups: Int
    /// Segments whose index columns (or records) were scanned.
    package var segmentsScanned: Int
}
