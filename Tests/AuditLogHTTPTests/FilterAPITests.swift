import AuditLog
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// `filter=` and `q=` (issue 17): the CLI's grammar over HTTP, on a live server on loopback,
/// against an oracle written on the events; the first mistakes are 400s that say what to write.
@Suite("filter= and q= on /v1/events, /v1/export and /v1/usage")
struct FilterAPITests {
    static func events() -> [AuditEvent] {
        var events = sampleEvents(300)
        var enabled = AuditEvent(eventType: "model.enabled", timestamp: Timestamp(rfc3339: "2026-03-20T11:00:00Z")!, id: "evt_admin_1")
        enabled.user = "Zoë <ops@acme.com>"
        enabled.resource = "model/gpt-4.1"
        enabled.details = .object([JSONMember("enabled", .object([JSONMember("old", .bool(false)), JSONMember("new", .bool(true))]))])
        enabled.extra = [JSONMember("region", .string("eu"))]
        var revoked = AuditEvent(eventType: "api_key.revoked", timestamp: Timestamp(rfc3339: "2026-03-20T11:30:00Z")!, id: "evt_admin_2")
        revoked.user = "alice@acme.com"
        revoked.resource = "key/k1"
        revoked.extra = [JSONMember("region", .string("us"))]
        events += [enabled, revoked]
        return events.sorted { $0.timestamp < $1.timestamp }
    }

    @Test("each operator and field returns what a scan of the events does")
    func operators() async throws {
        let events = Self.events()
        try await withAPI(.live, events: events) { _, client in
            let cases: [(String, (AuditEvent) -> Bool)] = [
                ("filter=event_type!%3Ddecision", { $0.eventType != "decision" }),
                ("filter=event_type%3Dmodel.*", { $0.eventType.hasPrefix("model.") }),
                ("filter=user%3Dalice*&filter=verdict%3DBLOCK", { ($0.user ?? "").hasPrefix("alice") && $0.verdict == .block }),
                ("filter=model!%3Dgpt-4o", { $0.model != "gpt-4o" }),
                ("filter=tokens_in%3E350", { ($0.tokensIn ?? -1) > 350 }),
                ("filter=latency_ms%3C%3D5", { ($0.latencyMicros ?? .max) <= 5000 }),
                ("filter=extra.region%3Deu", { $0.extra.contains { $0.key == "region" && $0.value == .string("eu") } }),
                ("filter=resource%3Dkey/*", { ($0.resource ?? "").hasPrefix("key/") }),
                ("admin=true", { $0.eventType != "decision" }),
                ("admin=TRUE&filter=user%3Dalice*", { $0.eventType != "decision" && ($0.user ?? "").hasPrefix("alice") }),
                ("q=ZO%C3%8B", { ($0.user ?? "").lowercased().contains("zoë") }),
                ("q=payments&verdict=Redact", { $0.team == "payments" && $0.verdict == .redact }),
            ]
            for (query, predicate) in cases {
                let response = try await client.execute(uri: "/v1/events?limit=1000&\(query)", method: .get, headers: TestTokens.reader)
                #expect(response.status == .ok, "\(query)")
                let ids = try #require(try response.json()["data"]?.arrayValue, "\(query)").compactMap { $0["id"]?.stringValue }
                let expected = events.reversed().filter(predicate).compactMap(\.id)
                #expect(!expected.isEmpty, "\(query) selects nothing: a weak case")
                #expect(ids == expected, "\(query)")
            }
            // Export and usage take the same grammar.
            let export = try await client.execute(uri: "/v1/export?format=ndjson&filter=event_type!%3Ddecision", method: .get, headers: TestTokens.reader)
            #expect(export.status == .ok)
            #expect(String(buffer: export.body).split(separator: "\n").count == 2)
            let usage = try await client.execute(uri: "/v1/usage?filter=user%3Dalice*", method: .get, headers: TestTokens.reader)
            #expect(usage.status == .ok)
            let requests = try usage.json()["totals"]?["requests"]?.intValue
            #expect(requests == events.filter { ($0.user ?? "").hasPrefix("alice") }.count)
            // The usage CSV is the CLI's: a header, then one line a bucket, oldest first.
            let csv = try await client.execute(uri: "/v1/usage?format=csv&group_by=hour&filter=event_type%3Ddecision", method: .get, headers: TestTokens.reader)
            #expect(csv.status == .ok)
            #expect(csv.headers[.contentType] == "text/csv; charset=utf-8")
            let lines = String(buffer: csv.body).components(separatedBy: "\r\n").filter { !$0.isEmpty }
            #expect(lines.first?.hasPrefix("hour,requests,tokens_in,tokens_out,cost,") == true)
            #expect(lines.count == 1 + 5, "\(lines)")  // 07:00 to 11:59
            #expect(Array(lines.dropFirst()) == lines.dropFirst().sorted())
            let bad = try await client.execute(uri: "/v1/usage?format=xml", method: .get, headers: TestTokens.reader)
            #expect(bad.status == .badRequest)
        }
    }

    @Test(
        "a mistake is a 400 on the filter parameter that says what to write",
        arguments: [
            ("filter=decision%3Dblock", "filter", "Did you mean 'verdict'?"),
            ("filter=verdict%3Dblocked", "filter", "allow, block, redact, escalate"),
            ("filter=region%3Deu", "filter", "extra.region"),
            ("filter=team%3E3", "filter", "compares numbers"),
            ("filter=team", "filter", "field=value"),
            ("verdict=blocked", "verdict", "allow, block, redact, escalate"),
            ("admin=yes", "admin", "true or false"),
        ])
    func mistakes(query: String, parameter: String, needle: String) async throws {
        try await withAPI(events: sampleEvents(3)) { _, client in
            for path in ["/v1/events", "/v1/export", "/v1/usage"] {
                let response = try await client.execute(uri: "\(path)?\(query)", method: .get, headers: TestTokens.reader)
                #expect(response.status == .badRequest, "\(path)?\(query)")
                let error = try response.json()["error"]
                #expect(error?["code"]?.stringValue == "invalid_parameter")
                #expect(error?["parameter"]?.stringValue == parameter)
                #expect(error?["message"]?.stringValue?.contains(needle) == true, "\(path)?\(query): \(String(describing: error))")
            }
        }
    }
}
