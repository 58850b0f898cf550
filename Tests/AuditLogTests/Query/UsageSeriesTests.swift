import Testing

@testable import AuditLog

/// Usage over time (issue 17): week and month buckets, the series order, the zeros for empty
/// buckets, the new keys and the per-request columns, on hand-placed events.
@Suite struct UsageSeriesTests {
    static func event(_ time: String, team: String, reason: String? = nil, gateway: String? = nil, cost: String = "1", tokens: Int64 = 10) -> AuditEvent {
        var e = AuditEvent(eventType: "decision", timestamp: Timestamp(rfc3339: time)!, id: nil)
        e.verdict = reason == nil ? .allow : .block
        e.reasonCode = reason
        e.team = team
        e.gateway = gateway
        e.cost = Cost(decimal: cost)
        e.tokensIn = tokens
        e.tokensOut = tokens
        return e
    }

    static let events = [
        event("2026-01-30T10:00:00Z", team: "a", gateway: "gw-1"),  // Friday: week of Jan 26
        event("2026-02-02T00:00:00Z", team: "b", reason: "pii", gateway: "gw-2", cost: "3", tokens: 20),  // Monday 00:00: its own week
        event("2026-02-20T23:59:59Z", team: "a", reason: "pii", gateway: "gw-1"),
        event("2026-04-05T12:00:00Z", team: "b", reason: "secret"),  // Sunday: week of Mar 30; no event in March
    ]

    func withLog(_ body: (AuditLog) async throws -> Void) async throws {
        try await withTemporaryDirectory { dir in
            var options = AuditLogOptions()
            options.durability = .none
            let log = try await AuditLog.open(directory: dir, options: options)
            _ = try await log.append(Self.events)
            try await body(log)
            try await log.close()
        }
    }

    @Test func monthsAndWeeksComeOldestFirstWithZerosForEmptyBuckets() async throws {
        try await withLog { log in
            let months = try await log.usage(groupBy: [.month])
            #expect(months.rows.map { $0.group[0] ?? "" } == ["2026-01-01T00:00:00.000Z", "2026-02-01T00:00:00.000Z", "2026-03-01T00:00:00.000Z", "2026-04-01T00:00:00.000Z"])
            #expect(months.rows.map(\.requests) == [1, 2, 0, 1])

            let weeks = try await log.usage(groupBy: [.week])
            let starts = weeks.rows.map { String(($0.group[0] ?? "").prefix(10)) }
            #expect(starts.first == "2026-01-26" && starts.last == "2026-03-30" && starts.count == 10)
            #expect(starts.contains("2026-02-02") && starts.contains("2026-02-16"))
            #expect(weeks.rows.map(\.requests).reduce(0, +) == 4 && weeks.rows.filter { $0.requests == 0 }.count == 6)

            // A time key with one other key: every bucket for every team.
            let byTeam = try await log.usage(groupBy: [.month, .team])
            #expect(byTeam.rows.count == 8)
            #expect(byTeam.rows.map { ($0.group[0] ?? "").prefix(7) + "/" + ($0.group[1] ?? "") }.filter { $0.hasPrefix("2026-03") }.count == 2)

            // A window sets the series' ends, even where it has no events.
            let window = TimeWindow(since: Timestamp(rfc3339: "2025-12-15T00:00:00Z"), until: Timestamp(rfc3339: "2026-03-01T00:00:00Z"))
            let bounded = try await log.usage(window: window, groupBy: [.month])
            #expect(bounded.rows.map { String(($0.group[0] ?? "").prefix(7)) } == ["2025-12", "2026-01", "2026-02"])
            #expect(bounded.rows.map(\.requests) == [0, 1, 2])
        }
    }

    @Test func uniqueUsersAndReasonsPerGroup() async throws {
        try await withTemporaryDirectory { dir in
            var options = AuditLogOptions()
            options.durability = .none
            options.segmentSizeLimitBytes = 4 << 10  // several segments: users are merged by name across them
            let log = try await AuditLog.open(directory: dir, options: options)
            for i in 0..<300 {
                var e = Self.event("2026-02-0\(1 + i % 5)T10:00:00Z", team: i % 2 == 0 ? "a" : "b", reason: i % 7 == 0 ? "pii" : i % 11 == 0 ? "secret" : nil)
                e.user = "user-\(i % 13)"
                _ = try await log.append([e])
            }
            #expect(log.segments.count > 3)
            let report = try await log.usage(groupBy: [.team], columns: [.uniqueUsers, .reasons])
            let a = try #require(report.rows.first { $0.group == ["a"] })
            // Team a: even i; users i % 13 over even i take all 13 values; pii: i % 14 == 0
            // (22 of them); secret: i % 22 == 0 and i % 7 != 0 (12 of them).
            #expect(a.uniqueUsers == 13)
            #expect(a.reasons == ["pii": 22, "secret": 12])
            #expect(report.totals.uniqueUsers == 13)
            #expect(report.totals.reasons == ["pii": 43, "secret": 24])
            let plain = try await log.usage(groupBy: [.team])
            #expect(plain.rows.allSatisfy { $0.uniqueUsers == nil && $0.reasons == nil })
            let json = report.json().jsonText
            #expect(json.contains("\"unique_users\":13") && json.contains("\"reasons\":{\"pii\":22,\"secret\":12}"))
            try await log.close()
        }
    }

    @Test func newKeysAndPerRequestColumns() async throws {
        try await withLog { log in
            let reasons = try await log.usage(groupBy: [.reasonCode])
            #expect(Dictionary(uniqueKeysWithValues: reasons.rows.map { ($0.group[0] ?? "-", $0.requests) }) == ["-": 1, "pii": 2, "secret": 1])
            let gateways = try await log.usage(groupBy: [.gateway])
            #expect(Dictionary(uniqueKeysWithValues: gateways.rows.map { ($0.group[0] ?? "-", $0.requests) }) == ["gw-1": 2, "gw-2": 1, "-": 1])
            let types = try await log.usage(groupBy: [.eventType, .source])
            #expect(types.rows.count == 1 && types.rows.first?.group == ["decision", nil])
            let total = try await log.usage()
            #expect(total.totals.tokens == 100)
            #expect(total.totals.averageCost == Cost(decimal: "1.5"))
            #expect(total.totals.averageTokens == 25)
            // The CSV carries them, in the documented columns.
            let csv = String(decoding: total.csv(), as: UTF8.self)
            #expect(csv.hasPrefix("requests,tokens_in,tokens_out,cost,cache_hit_rate,blocked,redacted,escalated,avg_latency_ms,p95_latency_ms,tokens,avg_cost,avg_tokens\r\n"))
            #expect(csv.hasSuffix(",100,1.5,25.0\r\n"))
        }
    }
}
