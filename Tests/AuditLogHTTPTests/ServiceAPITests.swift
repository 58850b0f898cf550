import AuditLog
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import AuditLogHTTP

/// The API as a service: `audit.read` records of each read route, team-scoped tokens checked
/// against an oracle over the whole log, holds and sweeps over HTTP.
@Suite("Service routes: audit.read, scoped tokens, holds and sweeps")
struct ServiceAPITests {
    static let payments = "payments-token-000000"
    static let auditor = "auditor-token-1111111"
    static let paymentsWriter = "payments-writer-22222"

    static var tokens: APITokens {
        var tokens = TestTokens.all
        tokens.add(token: payments, scope: .read, teams: ["payments"], name: "payments-dash")
        tokens.add(token: auditor, scope: .read, name: "auditor")
        tokens.add(token: paymentsWriter, scope: .write, teams: ["payments"])
        return tokens
    }

    /// A log with `events`, the API recording reads, and a way to flush its records.
    func withRecordingAPI(
        events: [AuditEvent], recordReads: Bool = true, options: AuditLogOptions = AuditLogOptions(),
        _ body: @escaping @Sendable (AuditLog, AuditLogAPI, any TestClientProtocol) async throws -> Void
    ) async throws {
        try await withTemporaryDirectory { dir in
            let log = try await AuditLog.open(directory: dir, options: options)
            if !events.isEmpty { _ = try await log.append(events) }
            var configuration = AuditLogAPI.Configuration(tokens: Self.tokens)
            configuration.recordReads = recordReads
            // However slow the machine, pages of one test are one record (written at shutdown).
            configuration.readAuditTiming = ReadAudit.Timing(quiet: .seconds(600), longest: .seconds(600))
            let api = AuditLogAPI(log: log, configuration: configuration)
            let router = Router()
            api.register(on: router)
            let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
            do {
                try await app.test(.router) { client in try await body(log, api, client) }
            } catch {
                await api.shutdown()
                try? await log.close()
                throw error
            }
            await api.shutdown()
            try await log.close()
        }
    }

    static func records(_ log: AuditLog, _ filter: EventFilter = EventFilter()) async throws -> [Record] {
        var out: [Record] = []
        for try await r in log.query(Query(filter: filter, order: .oldestFirst)) { out.append(r) }
        return out
    }

    static func reads(_ log: AuditLog) async throws -> [AuditEvent] {
        try await records(log, EventFilter(fields: ["event_type": ["audit.read"]])).map(\.event)
    }

    @Test("each read route is recorded once, with the token's name, the parameters and the count; pages coalesce")
    func readsAreRecorded() async throws {
        try await withRecordingAPI(events: sampleEvents(120)) { log, api, client in
            let auditor = TestTokens.bearer(Self.auditor)
            // Three pages in a row: one record with requests 3.
            var cursor: String?
            var paged = 0
            for _ in 0..<3 {
                let uri = "/v1/events?verdict=block&limit=5" + (cursor.map { "&cursor=\($0)" } ?? "")
                let page = try await client.execute(uri: uri, method: .get, headers: auditor).json()
                paged += page["data"]?.arrayValue?.count ?? 0
                cursor = page["next_cursor"]?.stringValue
            }
            #expect(try await client.execute(uri: "/v1/events/evt_sample_7", method: .get, headers: auditor).status == .ok)
            let export = try await client.execute(uri: "/v1/export?format=csv&team=search", method: .get, headers: auditor)
            let exported = export.text.split(separator: "\r\n").count - 1
            let usage = try await client.execute(uri: "/v1/usage?group_by=model", method: .get, headers: TestTokens.reader).json()
            for _ in 0..<3 {
                let refused = try await client.execute(uri: "/v1/events", method: .get, headers: TestTokens.bearer("not-a-token"))
                #expect(refused.status == .unauthorized)
            }
            // Pages are recorded when their caller has been quiet, not on the request's path.
            let early = try await Self.reads(log)
            #expect(!early.contains { $0.details?["route"] == .string("/v1/events") })
            await api.shutdown()
            let reads = try await Self.reads(log)
            func one(_ route: String) -> AuditEvent? {
                let matching = reads.filter { $0.details?["route"]?.stringValue == route }
                #expect(matching.count == 1, "\(route): \(matching.count) records")
                return matching.first
            }
            let pages = one("/v1/events")
            #expect(pages?.user == "auditor")
            #expect(pages?.details?["token"] == .string("auditor"))
            #expect(pages?.details?["requests"] == .number("3"))
            #expect(pages?.details?["events"] == .number(String(paged)))
            #expect(pages?.details?["parameters"]?["verdict"] == .string("block"))
            #expect(one("/v1/events/{id}")?.details?["id"] == .string("evt_sample_7"))
            let exportRecord = one("/v1/export")
            #expect(exportRecord?.details?["events"] == .number(String(exported)))
            #expect(exportRecord?.details?["format"] == .string("csv"))
            let usageRecord = one("/v1/usage")
            #expect(usageRecord?.details?["events"] == usage["totals"]?["requests"])
            // A token without a name is named by its digest prefix, never by itself.
            #expect(usageRecord?.user?.hasPrefix("sha256:") == true)
            // Refused requests: coalesced per client, with their count.
            let failed = try await Self.records(log, EventFilter(fields: ["event_type": ["audit.auth_failed"]])).map(\.event)
            #expect(failed.count == 1 && failed.first?.details?["requests"] == .number("3") && failed.first?.details?["status"] == .number("401"), "\(failed)")
            let text = (reads + failed).map { $0.jsonText() }.joined()
            for secret in [Self.auditor, TestTokens.read, "not-a-token"] { #expect(!text.contains(secret)) }
            // The records are the log's own: a client cannot append one.
            var forged = AuditEvent(eventType: "audit.read", timestamp: .now)
            forged.user = "someone-else"
            let refused = try await client.execute(
                uri: "/v1/events", method: .post, headers: TestTokens.writer.merging([.contentType: "application/json"]), body: forged.jsonText().buffer)
            #expect(refused.status == .badRequest || refused.status == .unprocessableContent)
        }
    }

    @Test("with recordReads off nothing is recorded")
    func readsAreNotRecordedWhenOff() async throws {
        try await withRecordingAPI(events: sampleEvents(10), recordReads: false) { log, api, client in
            let page = try await client.execute(uri: "/v1/events", method: .get, headers: TestTokens.reader)
            #expect(page.status == .ok)
            await api.shutdown()
            let reads = try await Self.reads(log)
            #expect(reads.isEmpty)
            #expect(!api.recordsReads)
        }
    }

    /// Every route a read token has, for a token of team payments, against the oracle: the
    /// events of the whole log whose team is payments.
    @Test("a team-scoped token never sees another team's event, on any route")
    func scopedTokensSeeOnlyTheirTeam() async throws {
        var events = sampleEvents(200)
        events[5].team = nil
        events[6].team = "payments-ops"
        try await withRecordingAPI(events: events, recordReads: false) { log, _, client in
            let all = try await Self.records(log)
            let headers = TestTokens.bearer(Self.payments)
            func ids(_ uri: String) async throws -> [String] {
                var out: [String] = []
                var cursor: String?
                repeat {
                    let page = try await client.execute(uri: uri + "&limit=37" + (cursor.map { "&cursor=\($0)" } ?? ""), method: .get, headers: headers).json()
                    out += page["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
                    cursor = page["next_cursor"]?.stringValue
                } while cursor != nil
                return out
            }
            let cases: [(String, (AuditEvent) -> Bool)] = [
                ("order=asc", { _ in true }),
                ("order=asc&verdict=block", { $0.verdict == .block }),
                ("order=asc&team=search", { $0.team == "search" }),
                ("order=asc&team=search&team=payments", { $0.team == "search" || $0.team == "payments" }),
                ("order=asc&filter=team%3Dpay*", { $0.team?.hasPrefix("pay") == true }),
                ("order=asc&q=alice", { $0.user?.contains("alice") == true }),
            ]
            for (query, predicate) in cases {
                let expected = all.filter { $0.event.team == "payments" && predicate($0.event) }.compactMap(\.event.id)
                #expect(try await ids("/v1/events?" + query) == expected, "\(query)")
            }
            // Lookups: another team's event (or one without a team) is not found.
            #expect(try await client.execute(uri: "/v1/events/evt_sample_0", method: .get, headers: headers).status == .ok)
            for other in ["evt_sample_1", "evt_sample_5", "evt_sample_6"] {
                let r = try await client.execute(uri: "/v1/events/\(other)", method: .get, headers: headers)
                #expect(r.status == .notFound, "\(other)")
            }
            // Export and usage.
            let export = try await client.execute(uri: "/v1/export?format=ndjson", method: .get, headers: headers)
            let exported = try export.text.split(separator: "\n").map { try JSONValue.parse(String($0))["id"]?.stringValue }
            #expect(exported == all.filter { $0.event.team == "payments" }.map(\.event.id))
            let none = try await client.execute(uri: "/v1/export?format=ndjson&team=search", method: .get, headers: headers)
            #expect(none.status == .ok && none.text.isEmpty)
            let usage = try await client.execute(uri: "/v1/usage?group_by=team", method: .get, headers: headers).json()
            let rows = usage["rows"]?.arrayValue ?? []
            #expect(rows.count == 1 && rows.first?["team"] == .string("payments"), "\(usage)")
            #expect(usage["totals"]?["requests"] == .number(String(all.filter { $0.event.team == "payments" }.count)))
            // Tail's first batch, from seq 0.
            let tail = try Self.tailIDs(log: log, filter: Caller(token: Self.tokens.token(Self.payments)).restrict(EventFilter()))
            #expect(tail == all.filter { $0.event.team == "payments" }.compactMap(\.event.id))
            // Entry bundles hold every team's events: refused.
            let bundle = try await client.execute(uri: "/tlog/tile/entries/000", method: .get, headers: headers)
            #expect(bundle.status == .forbidden)
            // A team-scoped writer appends only its team's events.
            let writer = TestTokens.bearer(Self.paymentsWriter).merging([.contentType: "application/json"])
            let ok = try await client.execute(uri: "/v1/events", method: .post, headers: writer, body: #"{"event_type":"decision","timestamp":"2026-03-20T12:00:00Z","team":"payments"}"#.buffer)
            #expect(ok.status == .created)
            let refused = try await client.execute(uri: "/v1/events", method: .post, headers: writer, body: #"{"event_type":"decision","timestamp":"2026-03-20T12:00:00Z","team":"search"}"#.buffer)
            #expect(refused.status == .forbidden)
        }
    }

    static func tailIDs(log: AuditLog, filter: EventFilter?) throws -> [String] {
        guard let filter else { return [] }
        let head = log.head.lastSeq?.rawValue ?? 0
        let (bytes, _, _) = try AuditLogAPI.messages(log: log, window: .all, filter: filter, after: 0, head: head)
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").filter { $0.hasPrefix("data: ") }.compactMap { line in
            (try? JSONValue.parse(String(line.dropFirst(6))))?["id"]?.stringValue
        }
    }

    /// A fleet's routes cannot limit a token to its teams, so they refuse scoped tokens.
    @Test("routes that cannot honour a team scope refuse scoped tokens")
    func unscopedOnlyRoutesRefuseScopedTokens() async throws {
        let router = Router()
        router.group("v1").add(middleware: BearerAuthMiddleware<BasicRequestContext>(tokens: Self.tokens, scope: .read, servesScopedTokens: false))
            .get("nodes") { _, _ in "ok" }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.router) { client in
            let scoped = try await client.execute(uri: "/v1/nodes", method: .get, headers: TestTokens.bearer(Self.payments))
            #expect(scoped.status == .forbidden)
            #expect(scoped.text.contains("team scope"))
            let full = try await client.execute(uri: "/v1/nodes", method: .get, headers: TestTokens.bearer(Self.auditor))
            #expect(full.status == .ok)
        }
    }

    @Test("token file lines take team= and name=, and say what is wrong")
    func tokenFileScopes() throws {
        let digest = String(repeating: "ab", count: 32)
        let tokens = try APITokens(parsing: "read \(digest) team=payments,infra name=grafana\nwrite \(digest.uppercased())\n", file: "tokens")
        #expect(tokens.count == 2)
        for (line, says) in [
            ("read \(digest) team=", "team=<team>"), ("read \(digest) color=red", "team=<team>"), ("read \(digest) team=a,,b", "empty team"),
            ("read \(digest) name=a name=b", "twice"), ("read", "got 1 word"),
        ] {
            do {
                _ = try APITokens(parsing: line, file: "tokens")
                Issue.record("accepted: \(line)")
            } catch {
                #expect(error.message.contains(says), "\(line): \(error.message)")
                #expect(error.location.line == 1)
            }
        }
    }

    @Test("holds and sweeps over HTTP: placed, listed, kept by a sweep, released, recorded with the token's name")
    func holdsAndSweeps() async throws {
        var options = AuditLogOptions()
        options.partition = .hour
        let old = sampleEvents(300, end: Timestamp(rfc3339: "2026-01-10T12:00:00Z")!)
        try await withRecordingAPI(events: old, recordReads: false, options: options) { log, _, client in
            let writer = TestTokens.writer.merging([.contentType: "application/json"])
            let placed = try await client.execute(
                uri: "/v1/holds", method: .post, headers: writer, body: #"{"from":"2026-01-10T09:00:00Z","to":"2026-01-10T10:00:00Z","reason":"case 7"}"#.buffer)
            #expect(placed.status == .created, "\(placed.text)")
            let hold = try placed.json()
            let id = try #require(hold["id"]?.stringValue)
            #expect(hold["reason"] == .string("case 7"))
            #expect(hold["from"]?.stringValue.flatMap { Timestamp(rfc3339: $0) } == Timestamp(rfc3339: "2026-01-10T09:00:00Z"), "\(hold)")
            let listed = try await client.execute(uri: "/v1/holds", method: .get, headers: TestTokens.reader).json()
            #expect(listed["holds"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == [id])

            let dry = try await client.execute(uri: "/v1/sweep", method: .post, headers: writer, body: #"{"max_age":"30d","dry_run":true}"#.buffer).json()
            #expect(dry["dry_run"] == .bool(true))
            #expect((dry["held_segments"]?.arrayValue?.count ?? 0) == 1, "\(dry)")
            let before = log.segments.count
            #expect(log.segments.count == before)
            let swept = try await client.execute(uri: "/v1/sweep", method: .post, headers: writer, body: #"{"max_age":"30d","reason":"policy"}"#.buffer).json()
            #expect(swept["record_seq"]?.intValue != nil)
            #expect(log.segments.count < before)
            let sweepRecord = try #require(try await Self.records(log, EventFilter(fields: ["event_type": ["retention.sweep"]])).last)
            #expect(sweepRecord.event.user == "sha256:" + String(Hex.encode(APITokens.digest(TestTokens.write)).prefix(12)))
            #expect(sweepRecord.event.details?["reason"] == .string("policy"))
            // The held hour is still there, the hours around it are not.
            #expect(try await log.event(id: "evt_sample_150") != nil)
            #expect(try await log.event(id: "evt_sample_10") == nil)

            let released = try await client.execute(uri: "/v1/holds/\(id)?reason=closed", method: .delete, headers: TestTokens.writer)
            #expect(released.status == .ok)
            #expect(try await client.execute(uri: "/v1/holds/\(id)", method: .delete, headers: TestTokens.writer).status == .notFound)
            #expect(try await log.holds().isEmpty)
            // Read scope cannot change retention; bad bodies say what is wrong.
            #expect(try await client.execute(uri: "/v1/sweep", method: .post, headers: TestTokens.reader.merging([.contentType: "application/json"]), body: "{}".buffer).status == .forbidden)
            for (body, says) in [
                ("{}", "max_age"), (#"{"max_age":"soon"}"#, "duration"), (#"{"max_age":"1d","dry_run":"yes"}"#, "true or false"),
                (#"{"max_age":"1d","extra":1}"#, "unknown field"), ("[1]", "not a JSON object"), ("{", "not valid JSON"),
            ] {
                let r = try await client.execute(uri: "/v1/sweep", method: .post, headers: writer, body: body.buffer)
                #expect(r.status == .badRequest, "\(body)")
                #expect(try r.json()["error"]?["message"]?.stringValue?.contains(says) == true, "\(body): \(r.text)")
            }
            let noReason = try await client.execute(uri: "/v1/holds", method: .post, headers: writer, body: #"{"from":"2026-01-10T09:00:00Z"}"#.buffer)
            #expect(noReason.status == .badRequest)
        }
    }
}

extension HTTPFields {
    func merging(_ other: HTTPFields) -> HTTPFields {
        var copy = self
        for field in other { copy.append(field) }
        return copy
    }
}
