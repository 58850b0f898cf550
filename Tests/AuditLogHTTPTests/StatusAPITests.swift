import AuditLog
import AuditLogHTTP
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("verify, head, usage, metrics")
struct StatusAPITests {
    @Test("GET /v1/head: latest seq, chain value, event time")
    func head() async throws {
        let events = sampleEvents(10)
        try await withAPI(events: events) { log, client in
            let r = try await client.execute(uri: "/v1/head", method: .get, headers: TestTokens.reader)
            #expect(r.status == .ok)
            let head = try r.json()
            #expect(head["last_seq"]?.intValue == 10)
            #expect(head["chain_head"]?.stringValue == log.head.chainHead.hex)
            #expect(head["event_time"]?.stringValue == events[9].timestamp.rfc3339)
        }
        try await withAPI { _, client in
            let head = try await client.execute(uri: "/v1/head", method: .get, headers: TestTokens.reader).json()
            #expect(head["last_seq"] == .null)
            #expect(head["event_time"] == .null)
        }
    }

    @Test("GET /v1/verify runs verification and returns the report")
    func verify() async throws {
        try await withAPI(events: sampleEvents(500)) { log, client in
            let r = try await client.execute(uri: "/v1/verify", method: .get, headers: TestTokens.reader)
            #expect(r.status == .ok)
            let report = try r.json()
            #expect(report["ok"] == .bool(true))
            #expect(report["records"]?.intValue == 500)
            #expect(report["chain_head"]?.stringValue == log.head.chainHead.hex)
            #expect(report["issues"]?.arrayValue?.isEmpty == true)
            let bad = try await client.execute(uri: "/v1/verify?from_seq=zero", method: .get, headers: TestTokens.reader)
            #expect(bad.status == .badRequest)

            // Concurrent requests share a run and all get the full report.
            let reports = try await withThrowingTaskGroup(of: JSONValue.self) { group in
                for _ in 0..<4 {
                    group.addTask { try await client.execute(uri: "/v1/verify?deep=true", method: .get, headers: TestTokens.reader).json() }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(reports.count == 4)
            #expect(reports.allSatisfy { $0["ok"] == .bool(true) && $0["records"]?.intValue == 500 })
        }
    }

    @Test("GET /v1/usage: the library's usage report as JSON, group_by repeated or comma-separated")
    func usage() async throws {
        let events = sampleEvents(300)
        try await withAPI(events: events) { log, client in
            let r = try await client.execute(uri: "/v1/usage?group_by=team,model&verdict=allow", method: .get, headers: TestTokens.reader)
            #expect(r.status == .ok)
            let body = try r.json()
            let expected = try await log.usage(groupBy: [.team, .model], filter: EventFilter(verdicts: [.allow]))
            #expect(body == expected.json())
            #expect(body["totals"]?["requests"]?.intValue == events.count { $0.verdict == .allow })

            let repeated = try await client.execute(uri: "/v1/usage?group_by=team&group_by=model&verdict=allow", method: .get, headers: TestTokens.reader).json()
            #expect(repeated == body)

            let limited = try await client.execute(uri: "/v1/usage?group_by=user&sort=requests&limit=1", method: .get, headers: TestTokens.reader).json()
            #expect(limited["rows"]?.arrayValue?.count == 1)

            let bad = try await client.execute(uri: "/v1/usage?group_by=colour", method: .get, headers: TestTokens.reader)
            #expect(bad.status == .badRequest)
            #expect(try bad.json()["error"]?["parameter"]?.stringValue == "group_by")
        }
    }

    @Test("GET /metrics: Prometheus text with requests, appends, latencies, segments, last sweep")
    func metrics() async throws {
        var options = AuditLogOptions()
        options.partition = .hour
        try await withAPI(options: options, events: sampleEvents(300)) { log, client in
            _ = try await client.execute(uri: "/v1/events?verdict=block", method: .get, headers: TestTokens.reader)
            _ = try await client.execute(uri: "/v1/events", method: .post, headers: TestTokens.writer, body: AppendEventsTests.one.buffer)
            // A scrape before the sweep has looked at the whole log already; the next looks
            // only at what was appended since.
            let before = try await client.execute(uri: "/metrics", method: .get)
            #expect(!before.text.contains("auditlog_last_sweep_timestamp_seconds"))
            let sweep = try await log.sweep(.days(1), actor: "test", now: Timestamp(rfc3339: "2026-03-25T00:00:00Z")!)
            #expect(sweep.recordsRemoved > 0)
            let r = try await client.execute(uri: "/metrics", method: .get)
            #expect(r.status == .ok)
            #expect(r.headers[.contentType]?.hasPrefix("text/plain") == true)
            let text = r.text
            #expect(text.contains(#"auditlog_http_requests_total{method="GET",route="/v1/events",status="200"} 1"#))
            #expect(text.contains(#"auditlog_http_requests_total{method="POST",route="/v1/events",status="201"} 1"#))
            #expect(text.contains("auditlog_appended_events_total 1\n"))
            #expect(text.contains(#"auditlog_http_request_duration_seconds_count{route="/v1/events"} 2"#))
            #expect(text.contains(#"auditlog_http_requests_total{method="GET",route="/metrics",status="200"} 1"#))
            #expect(text.contains("auditlog_segments "))
            #expect(text.contains("auditlog_last_seq "))
            #expect(text.contains("auditlog_last_sweep_timestamp_seconds "))
            #expect(text.contains("auditlog_last_sweep_records \(sweep.recordsRemoved)\n"))
        }
    }
}

@Suite("The standalone server")
struct ServerTests {
    @Test("unknown routes are JSON 404s naming the method and path")
    func unknownRoute() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await AuditLog.open(directory: dir)
            let api = AuditLogAPI(log: log, configuration: .init(tokens: TestTokens.all))
            let app = AuditLogServer.application(api: api, host: "127.0.0.1", port: 0)
            try await app.test(.router) { client in
                let r = try await client.execute(uri: "/v2/nothing", method: .get)
                #expect(r.status == .notFound)
                #expect(r.headers[.contentType] == "application/json")
                #expect(try r.errorCode() == "not_found")
                #expect(try r.json()["error"]?["message"]?.stringValue == "no route for GET /v2/nothing")
                let health = try await client.execute(uri: "/healthz", method: .get)
                #expect(health.status == .ok)
                let wrongMethod = try await client.execute(uri: "/v1/events", method: .delete, headers: TestTokens.writer)
                #expect(wrongMethod.status == .methodNotAllowed)
                #expect(wrongMethod.headers[.allow] == "GET, POST")
                #expect(try wrongMethod.errorCode() == "method_not_allowed")
            }
            try await log.close()
        }
    }

    @Test("loopback hosts", arguments: [("127.0.0.1", true), ("127.1.2.3", true), ("::1", true), ("localhost", true), ("0.0.0.0", false), ("10.0.0.5", false), ("::", false)])
    func loopback(host: String, expected: Bool) {
        #expect(AuditLogServer.isLoopback(host) == expected)
    }
}
