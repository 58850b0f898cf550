import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import AuditLog
@testable import AuditLogHTTP

/// The HTTP side of the outside probe's findings (issue 13).
@Suite("The outside probe, over HTTP")
struct ProbeAPITests {
    static let json = TestTokens.writer.with(.contentType, "application/json")
    static let ndjson = TestTokens.writer.with(.contentType, "application/x-ndjson")

    @Test("an event above a limit or of a reserved type is a 400 naming the field; nothing is written")
    func refusedEvents() async throws {
        try await withAPI { log, client in
            let base = #"{"event_type":"decision","timestamp":"2026-03-20T10:30:00Z""#
            for (body, field) in [
                (base + #","tokens_out":9223372036854775807}"#, "tokens_out"),
                (base + #","cost":9223372036.854775807}"#, "cost"),
                (#"{"event_type":"retention.sweep","timestamp":"2026-03-20T10:30:00Z","details":{"ranges":[]}}"#, "event_type"),
                (#"{"event_type":"hold.released","timestamp":"2026-03-20T10:30:00Z","details":{"hold_id":"evt_x"}}"#, "event_type"),
                (base + #","seq":12}"#, "seq"),
            ] {
                let r = try await client.execute(uri: "/v1/events", method: .post, headers: Self.json, body: body.buffer)
                #expect(r.status == .badRequest, "\(body)")
                #expect(try r.json()["error"]?["field"]?.stringValue == field, "\(r.text)")
            }
            // In NDJSON the error names the line too.
            let lines = base + "}\n" + #"{"event_type":"log.recovered","timestamp":"2026-03-20T10:30:00Z"}"# + "\n"
            let r = try await client.execute(uri: "/v1/events", method: .post, headers: Self.ndjson, body: lines.buffer)
            #expect(r.status == .badRequest)
            #expect(try r.json()["error"]?["line"]?.intValue == 2)
            #expect(log.head.lastSeq == nil)
        }
    }

    @Test("usage of a log already holding 2^63 - 1 counters answers, saturated")
    func hugeCounters() async throws {
        var huge = AuditEvent(eventType: "decision", timestamp: Timestamp(rfc3339: "2026-03-20T10:30:00Z")!)
        huge.tokensOut = .max
        huge.cost = Cost(nanodollars: .max)
        let stored = [huge, huge]
        try await withAPI(events: sampleEvents(5)) { log, client in
            // As a version without the per-event limits could have stored them.
            _ = try await log.append(stored, origin: .unvalidatedForTesting)
            let usage = try await client.execute(uri: "/v1/usage?group_by=user", method: .get, headers: TestTokens.reader)
            #expect(usage.status == .ok)
            let totals = try usage.json()["totals"]
            #expect(totals?["tokens_out"]?.intValue == Int(Int64.max))
            #expect(totals?["saturated"] == .bool(true))
            let page = try await client.execute(uri: "/v1/events?limit=10", method: .get, headers: TestTokens.reader)
            #expect(page.status == .ok)
        }
    }

    @Test("ids in paths are percent-decoded")
    func percentDecodedIDs() async throws {
        let ids = ["order 42", "café-1", "a/b", "50%", "x+y"]
        let events = ids.map { AuditEvent(eventType: "decision", timestamp: Timestamp(rfc3339: "2026-03-20T10:30:00Z")!, id: $0) }
        try await withAPI(events: events) { _, client in
            for (id, path) in zip(ids, ["order%2042", "caf%C3%A9-1", "a%2Fb", "50%25", "x+y"]) {
                let r = try await client.execute(uri: "/v1/events/" + path, method: .get, headers: TestTokens.reader)
                #expect(r.status == .ok, "\(path)")
                #expect(try r.json()["id"]?.stringValue == id)
            }
            let bad = try await client.execute(uri: "/v1/events/%zz", method: .get, headers: TestTokens.reader)
            #expect(bad.status == .badRequest)
            let notUTF8 = try await client.execute(uri: "/v1/events/%C3%28", method: .get, headers: TestTokens.reader)
            #expect(notUTF8.status == .badRequest)
        }
    }

    @Test("types a browser sends cross-site without asking are refused")
    func contentTypes() async throws {
        try await withAPI { _, client in
            for type in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"] {
                let r = try await client.execute(uri: "/v1/events", method: .post, headers: TestTokens.writer.with(.contentType, type), body: AppendEventsTests.one.buffer)
                #expect(r.status == .unsupportedMediaType, "\(type)")
            }
            let bom = try await client.execute(uri: "/v1/events", method: .post, headers: Self.json, body: ByteBuffer(bytes: [0xEF, 0xBB, 0xBF] + Array(AppendEventsTests.one.utf8)))
            #expect(bom.status == .created, "\(bom.text)")
        }
    }

    @Test("a page of large events is capped by bytes and continues by cursor")
    func pageBytes() async throws {
        let big = (0..<40).map { i -> AuditEvent in
            var e = AuditEvent(eventType: "decision", timestamp: Timestamp(nanosSinceEpoch: 1_700_000_000_000_000_000 + Int64(i)), id: "big-\(i)")
            e.details = .string(String(repeating: "x", count: 100_000))
            return e
        }
        let configuration = TestTokens.configuration(maxPageBytes: 1 << 20)
        try await withAPI(configuration: configuration, events: big) { _, client in
            var cursor: String?
            var seen: [String] = []
            var pages = 0
            repeat {
                let uri = "/v1/events?limit=1000&order=oldest" + (cursor.map { "&cursor=\($0)" } ?? "")
                let r = try await client.execute(uri: uri, method: .get, headers: TestTokens.reader)
                #expect(r.status == .ok)
                #expect(r.body.readableBytes < (1 << 20) + 200_000, "a page of \(r.body.readableBytes) bytes")
                let page = try r.json()
                seen += (page["data"]?.arrayValue ?? []).compactMap { $0["id"]?.stringValue }
                cursor = page["next_cursor"]?.stringValue
                pages += 1
            } while cursor != nil && pages < 20
            #expect(seen == big.compactMap(\.id))
            #expect(pages >= 4)
        }
    }

    @Test("a live tail of large events arrives whole, batch after batch")
    func tailBatches() async throws {
        try await withAPI { log, _ in
            var events: [AuditEvent] = []
            for i in 0..<12 {
                var e = AuditEvent(eventType: "decision", timestamp: .now, id: "tail-\(i)")
                e.details = .string(String(repeating: "y", count: 60_000))
                events.append(e)
            }
            _ = try await log.append(events)
            var after: UInt64 = 0
            var batches = 0
            var ids: [String] = []
            while after < 12 && batches < 20 {
                let (bytes, last, _) = try AuditLogAPI.messages(log: log, window: .all, filter: EventFilter(), after: after, head: 12)
                #expect(bytes.count < AuditLogAPI.batchBytes + 70_000)
                let text = String(decoding: bytes, as: UTF8.self)
                ids += text.split(separator: "\n").filter { $0.hasPrefix("data: ") }.compactMap { line in
                    (try? JSONValue.parse(String(line.dropFirst(6))))?["id"]?.stringValue
                }
                after = last
                batches += 1
            }
            #expect(ids == events.compactMap(\.id))
            #expect(batches >= 3)
        }
    }
}
