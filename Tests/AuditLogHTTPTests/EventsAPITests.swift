import AuditLog
import AuditLogHTTP
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@Suite("GET /v1/events")
struct ListEventsTests {
    @Test("newest first, default limit 50, next_cursor walks every page across segments")
    func pagination() async throws {
        var options = AuditLogOptions()
        options.partition = .hour  // a segment an hour
        let events = sampleEvents(230)
        try await withAPI(options: options, events: events) { log, client in
            #expect(log.segments.count > 3)
            let first = try await client.execute(uri: "/v1/events", method: .get, headers: TestTokens.reader)
            #expect(first.status == .ok)
            #expect(first.headers[.contentType] == "application/json")
            let body = try first.json()
            let data = try #require(body["data"]?.arrayValue)
            #expect(data.count == 50)
            #expect(data.first?["id"]?.stringValue == "evt_sample_229")
            #expect(data.first?["seq"]?.intValue == 230)

            var seen: [String] = []
            var cursor: String? = nil
            repeat {
                let uri = "/v1/events?limit=40&order=oldest" + (cursor.map { "&cursor=\($0)" } ?? "")
                let page = try await client.execute(uri: uri, method: .get, headers: TestTokens.reader).json()
                seen += try #require(page["data"]?.arrayValue).compactMap { $0["id"]?.stringValue }
                cursor = page["next_cursor"]?.stringValue
            } while cursor != nil
            #expect(seen == events.compactMap(\.id))
        }
    }

    @Test("filters: repeated parameters mean OR, different parameters AND; since/until windows")
    func filters() async throws {
        let events = sampleEvents(200)
        try await withAPI(events: events) { _, client in
            let uri = "/v1/events?verdict=block&verdict=redact&user=alice@acme.com&limit=1000&since=2026-03-20T10:00:00Z&until=2026-03-20T11:30:00Z"
            let page = try await client.execute(uri: uri, method: .get, headers: TestTokens.reader).json()
            let ids = try #require(page["data"]?.arrayValue).compactMap { $0["id"]?.stringValue }
            let since = Timestamp(rfc3339: "2026-03-20T10:00:00Z")!
            let until = Timestamp(rfc3339: "2026-03-20T11:30:00Z")!
            let expected = events.reversed().filter {
                [.block, .redact].contains($0.verdict) && $0.user == "alice@acme.com" && $0.timestamp >= since && $0.timestamp < until
            }.compactMap(\.id)
            #expect(!expected.isEmpty)
            #expect(ids == expected)
            #expect(page["next_cursor"] == .null)

            // Empty values, as HTML forms send them, are parameters not given.
            let blank = try await client.execute(uri: "/v1/events?since=&until=&cursor=&limit=&verdict=", method: .get, headers: TestTokens.reader)
            #expect(blank.status == .ok)
            #expect(try blank.json()["data"]?.arrayValue?.count == 50)

            let teams = try await client.execute(uri: "/v1/events?team=search&model=llama-3&event_type=decision&provider=openai&limit=1000", method: .get, headers: TestTokens.reader).json()
            let teamIDs = try #require(teams["data"]?.arrayValue).compactMap { $0["id"]?.stringValue }
            #expect(teamIDs == events.reversed().filter { $0.team == "search" && $0.model == "llama-3" }.compactMap(\.id))
        }
    }

    @Test("limit is capped at 1000")
    func limitCap() async throws {
        try await withAPI(events: sampleEvents(1200)) { _, client in
            let page = try await client.execute(uri: "/v1/events?limit=5000", method: .get, headers: TestTokens.reader).json()
            #expect(page["data"]?.arrayValue?.count == 1000)
            #expect(page["next_cursor"]?.stringValue != nil)
        }
    }

    @Test(
        "bad parameters are 400 invalid_parameter naming the parameter",
        arguments: [
            ("since=yesterday", "since"), ("verdict=maybe", "verdict"), ("limit=0", "limit"), ("limit=ten", "limit"),
            ("order=sideways", "order"), ("cursor=bogus", "cursor"), ("colour=red", "colour"), ("cache_hit=yes", "cache_hit"),
            ("since=2026-03-20T12:00:00Z&until=2026-03-20T10:00:00Z", "until"),
            // Seqs past 2⁶³ − 1 (2⁶⁴ − 1 and 2⁶³ in base 36): refused, not a trap of the server.
            ("order=oldest&cursor=c1o3w5e11264sgsf", "cursor"), ("cursor=c1n1y2p0ij32e8e8", "cursor"),
        ])
    func badParameters(query: String, parameter: String) async throws {
        try await withAPI(events: sampleEvents(3)) { _, client in
            let response = try await client.execute(uri: "/v1/events?\(query)", method: .get, headers: TestTokens.reader)
            #expect(response.status == .badRequest)
            let error = try response.json()["error"]
            #expect(error?["code"]?.stringValue == "invalid_parameter")
            #expect(error?["parameter"]?.stringValue == parameter)
            #expect(error?["message"]?.stringValue?.isEmpty == false)
        }
    }
}

@Suite("GET /v1/events/{id}")
struct GetEventTests {
    @Test("the event with its seq, or 404 with a JSON error")
    func byID() async throws {
        let events = sampleEvents(20)
        try await withAPI(events: events) { _, client in
            let found = try await client.execute(uri: "/v1/events/evt_sample_7", method: .get, headers: TestTokens.reader)
            #expect(found.status == .ok)
            let event = try found.json()
            #expect(event["id"]?.stringValue == "evt_sample_7")
            #expect(event["seq"]?.intValue == 8)
            #expect(event["user"]?.stringValue == events[7].user)

            let missing = try await client.execute(uri: "/v1/events/evt_nope", method: .get, headers: TestTokens.reader)
            #expect(missing.status == .notFound)
            #expect(missing.headers[.contentType] == "application/json")
            #expect(try missing.errorCode() == "not_found")
        }
    }
}

@Suite("POST /v1/events")
struct AppendEventsTests {
    static let one = #"{"event_type":"decision","timestamp":"2026-03-20T10:30:00Z","verdict":"block","user":"alice@acme.com","model":"gpt-4o"}"#

    @Test("one object, an array and NDJSON: 201 with accepted, first_seq, last_seq; readable at once")
    func accepted() async throws {
        try await withAPI { log, client in
            let single = try await client.execute(uri: "/v1/events", method: .post, headers: TestTokens.writer.with(.contentType, "application/json"), body: Self.one.buffer)
            #expect(single.status == .created)
            let s = try single.json()
            #expect(s["accepted"]?.intValue == 1)
            #expect(s["first_seq"]?.intValue == 1)
            #expect(s["last_seq"]?.intValue == 1)

            let array = "[\n" + Array(repeating: Self.one, count: 3).joined(separator: ",\n") + "\n]"
            let a = try await client.execute(uri: "/v1/events", method: .post, headers: TestTokens.writer, body: array.buffer).json()
            #expect(a["accepted"]?.intValue == 3)
            #expect(a["first_seq"]?.intValue == 2)
            #expect(a["last_seq"]?.intValue == 4)

            let ndjson = Array(repeating: Self.one, count: 5).joined(separator: "\n") + "\n"
            let n = try await client.execute(uri: "/v1/events", method: .post, headers: TestTokens.writer.with(.contentType, "application/x-ndjson"), body: ndjson.buffer).json()
            #expect(n["accepted"]?.intValue == 5)
            #expect(n["last_seq"]?.intValue == 9)
            let ids = try #require(n["ids"]?.arrayValue)
            #expect(ids.count == 5)

            // Durable and visible: another (read-only) handle sees all nine.
            let reader = try await AuditLog.open(directory: log.directory, options: .readOnly)
            #expect(reader.head.lastSeq == SequenceNumber(9))
            let id = try #require(ids.last?.stringValue)
            let fetched = try await client.execute(uri: "/v1/events/\(id)", method: .get, headers: TestTokens.reader).json()
            #expect(fetched["seq"]?.intValue == 9)
        }
    }

    @Test("one invalid event rejects the whole request: 400 naming its index and field, nothing written")
    func allOrNothing() async throws {
        try await withAPI(events: sampleEvents(2)) { log, client in
            let bad = Self.one.replacingOccurrences(of: #""verdict":"block""#, with: #""verdict":"perhaps""#)
            let lines = [Self.one, Self.one, bad, Self.one].joined(separator: "\n")
            let r = try await client.execute(uri: "/v1/events", method: .post, headers: TestTokens.writer.with(.contentType, "application/x-ndjson"), body: lines.buffer)
            #expect(r.status == .badRequest)
            let error = try #require(try r.json()["error"])
            #expect(error["code"]?.stringValue == "invalid_event")
            #expect(error["index"]?.intValue == 2)
            #expect(error["field"]?.stringValue == "verdict")
            #expect(error["line"]?.intValue == 3)
            #expect(log.head.lastSeq == SequenceNumber(2))

            let array = "[" + [Self.one, #"{"timestamp":"2026-03-20T10:30:00Z"}"#].joined(separator: ",") + "]"
            let r2 = try await client.execute(uri: "/v1/events", method: .post, headers: TestTokens.writer, body: array.buffer)
            #expect(r2.status == .badRequest)
            let e2 = try #require(try r2.json()["error"])
            #expect(e2["index"]?.intValue == 1)
            #expect(e2["field"]?.stringValue == "event_type")
            #expect(log.head.lastSeq == SequenceNumber(2))

            for body in ["", "not json", "[]", "{\"event_type\":"] {
                let r3 = try await client.execute(uri: "/v1/events", method: .post, headers: TestTokens.writer, body: body.buffer)
                #expect(r3.status == .badRequest, "body \(body)")
                #expect(try r3.errorCode() == "invalid_event")
            }
            #expect(log.head.lastSeq == SequenceNumber(2))
        }
    }

    @Test("a duplicate client id is 409 and writes nothing")
    func duplicateID() async throws {
        try await withAPI(events: sampleEvents(2)) { log, client in
            let dup = #"{"id":"evt_sample_1","event_type":"decision","timestamp":"2026-03-20T10:30:00Z"}"#
            let r = try await client.execute(uri: "/v1/events", method: .post, headers: TestTokens.writer, body: dup.buffer)
            #expect(r.status == .conflict)
            #expect(try r.errorCode() == "duplicate_id")
            #expect(log.head.lastSeq == SequenceNumber(2))
        }
    }

    @Test("bodies over the limit get 413; unknown content types 415")
    func limits() async throws {
        let configuration = TestTokens.configuration(maxBodyBytes: 1024)
        try await withAPI(configuration: configuration) { log, client in
            let big = Array(repeating: Self.one, count: 20).joined(separator: "\n")
            let r = try await client.execute(uri: "/v1/events", method: .post, headers: TestTokens.writer.with(.contentType, "application/x-ndjson"), body: big.buffer)
            #expect(r.status == .contentTooLarge)
            #expect(try r.errorCode() == "too_large")
            #expect(log.head.lastSeq == nil)

            let xml = try await client.execute(uri: "/v1/events", method: .post, headers: TestTokens.writer.with(.contentType, "application/xml"), body: "<event/>".buffer)
            #expect(xml.status == .unsupportedMediaType)
            #expect(try xml.errorCode() == "unsupported_media_type")
        }
    }
}

extension HTTPFields {
    func with(_ name: HTTPField.Name, _ value: String) -> HTTPFields {
        var copy = self
        copy[name] = value
        return copy
    }
}
