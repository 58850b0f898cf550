import Crypto
import Foundation
import Testing

@testable import AuditLog
@testable import AuditLogServices

/// The pieces of webhooks that need no receiver: signatures against the Standard Webhooks
/// specification's own example, thresholds, subscriptions on disk, and the team restriction of
/// a filter against a scan.
@Suite struct WebhookUnitTests {
    /// The example of the Standard Webhooks specification (and of its reference libraries'
    /// tests): this secret, id, timestamp and body sign to this value.
    @Test func signaturesMatchTheStandardWebhooksExample() {
        var s = WebhookSubscription(
            id: "wh_x", url: "http://x", events: [.blocked], filter: [], thresholds: [], secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", createdAt: .now,
            startSeq: 0, teams: nil, createdBy: "t")
        let signature = WebhookMessage.signature(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: Array(#"{"test": 2432232314}"#.utf8), key: s.signingKey)
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        // As the reference libraries read secrets: the prefix optional, too short refused.
        #expect(WebhookSubscription.key(ofSecret: "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") == WebhookSubscription.key(ofSecret: s.secret))
        #expect(WebhookSubscription.key(ofSecret: "whsec_c2hvcnQ=") == nil)
        #expect(WebhookSubscription.key(ofSecret: "whsec_not base64!") == nil)
        s.secret = "whsec_AAAAAAAAAAAAAAAAAAAAAA=="
        #expect(WebhookMessage.signature(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: Array(#"{"test": 2432232314}"#.utf8), key: s.signingKey) != signature)
    }

    @Test func generatedSecretsAreStandardAndDistinct() {
        let a = WebhookSubscription.newSecret()
        let b = WebhookSubscription.newSecret()
        #expect(a != b)
        #expect(a.hasPrefix("whsec_"))
        #expect(Base64.decode(a.dropFirst(6))?.count == 24)
        #expect(WebhookSubscription.newID().hasPrefix("wh_"))
    }

    @Test func thresholdsParseAndSayWhatIsWrong() throws {
        let t = try SpendThreshold(parsing: "team=payments cost>100/day")
        #expect(t.key == "team" && t.value == "payments" && t.metric == .cost && t.amount == "100" && t.window == .day)
        let global = try SpendThreshold(parsing: "requests>5/hour")
        #expect(global.key == nil && global.metric == .requests && global.window == .hour)
        for (text, says) in [
            ("team=payments cost>100", "/hour or /day"), ("color=red cost>1/day", "user|team|model|api_key"), ("team=a spend>1/day", "cost|tokens|requests"),
            ("team=a cost>abc/day", "dollars"), ("team=a tokens>1.5/day", "whole number"), ("a b c", "metric>amount/window"),
        ] {
            #expect(throws: AuditLogError.self, "\(text)") { try SpendThreshold(parsing: text) }
            do {
                _ = try SpendThreshold(parsing: text)
            } catch {
                #expect(error.message.contains(says), "\(text): \(error.message)")
            }
        }
        var row = UsageRow(group: [], UsageAggregate())
        row.cost = Cost(nanodollars: 100_000_000_001)
        #expect(t.observe(row).exceeded)
        row.cost = Cost(nanodollars: 100_000_000_000)
        #expect(!t.observe(row).exceeded, "exactly the amount is not over it")
    }

    @Test func subscriptionsRoundTripThroughTheirFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wh-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = WebhookStore(logDirectory: dir)
        #expect(try store.subscriptions().isEmpty)
        let s = WebhookSubscription(
            id: "wh_abc", url: "https://hooks.example.com/a?b=c", events: [.blocked, .spendThreshold], filter: ["team=payments", "cost>0.5"],
            thresholds: [try SpendThreshold(parsing: "team=payments cost>100/day")], secret: WebhookSubscription.newSecret(),
            createdAt: Timestamp(nanosSinceEpoch: 1_700_000_000_123_456_789), startSeq: 42, teams: ["payments"], createdBy: "grafana")
        try store.write([s])
        #expect(try store.subscriptions() == [s])
        let attributes = try FileManager.default.attributesOfItem(atPath: dir + "/webhooks")
        #expect((attributes[.posixPermissions] as? Int) == 0o700, "the directory holds secrets")
        var state = WebhookStore.State(cursor: 50)
        state.fired["team=payments cost>100/day"] = Timestamp(nanosSinceEpoch: 1_700_000_000_000_000_000)
        state.failingSince = Timestamp(nanosSinceEpoch: 1_700_000_001_000_000_000)
        state.lastError = "HTTP 500"
        try store.write(state, id: s.id)
        #expect(try store.state(s.id) == state)
        // A damaged file is an error naming it, not a crash or an empty list.
        try Data("{\"version\":1,\"subscriptions\":[{\"id\":\"x\"}]}".utf8).write(to: URL(fileURLWithPath: store.subscriptionsPath))
        #expect(throws: AuditLogError.self) { try store.subscriptions() }
        do {
            _ = try store.subscriptions()
        } catch {
            #expect(error.location.file == "webhooks/subscriptions.json")
        }
    }

    /// A team restriction is an AND with whatever the filter says of the team, checked against
    /// the reference predicate over events of every team.
    @Test func restrictingAFilterToTeamsEqualsFilteringTwice() throws {
        let teams = ["payments", "pay-ops", "infra", "search"]
        var events: [AuditEvent] = []
        for (i, team) in (teams + [nil]).enumerated() {
            for verdict in [Verdict.allow, .block] {
                var e = AuditEvent(eventType: "decision", timestamp: Timestamp(nanosSinceEpoch: Int64(i) * 1_000))
                e.team = team
                e.verdict = verdict
                events.append(e)
            }
        }
        let filters: [EventFilter] = [
            EventFilter(),
            EventFilter(fields: ["team": ["infra"]]),
            EventFilter(fields: ["team": ["payments", "infra"]]),
            EventFilter(expressions: [try FilterExpression(parsing: "team=pay*")]),
            EventFilter(expressions: [try FilterExpression(parsing: "team!=payments")]),
            EventFilter(verdicts: [.block], expressions: [try FilterExpression(parsing: "team=search"), try FilterExpression(parsing: "team=pay*")]),
        ]
        for allowed in [Set(["payments"]), Set(["payments", "search"]), Set(["nobody"])] {
            for filter in filters {
                let expected = events.filter { filter.matches($0) && ($0.team.map(allowed.contains) ?? false) }
                let restricted = filter.restricted(field: "team", to: allowed)
                let got = restricted.map { r in events.filter { r.matches($0) } } ?? []
                #expect(got == expected, "\(filter) within \(allowed)")
            }
        }
    }
}
