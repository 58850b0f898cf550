import AsyncHTTPClient
import AuditLog
import AuditLogHTTP
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOHTTP1
import Testing

/// Export and tail read through a real HTTP client on a loopback port, a chunk at a time.
@Suite("Streaming: /v1/export and /v1/tail")
struct StreamingAPITests {
    @Test("export: same bytes as the library's export encoder, in every format, with filters")
    func exportFormats() async throws {
        var options = AuditLogOptions()
        options.partition = .hour
        let events = sampleEvents(400)
        try await withAPI(options: options, events: events) { log, client in
            for format in ExportFormat.allCases {
                for filter in ["", "&verdict=block&team=payments", "&since=2026-03-20T10:00:00Z&user=nobody"] {
                    let r = try await client.execute(uri: "/v1/export?format=\(format.rawValue)\(filter)", method: .get, headers: TestTokens.reader)
                    #expect(r.status == .ok)
                    #expect(r.headers[.contentType] == format.mediaType)
                    let q = QueryParametersForTest(filter)
                    let iterator = try log.queryIterator(Query(window: q.window, filter: q.filter, order: .oldestFirst))
                    var encoder = ExportEncoder(format: format)
                    var expected: [UInt8] = []
                    while try encoder.encodeNext(from: iterator, into: &expected) {}
                    #expect(Array(r.body.readableBytesView) == expected, "\(format) \(filter)")
                }
            }
            let bad = try await client.execute(uri: "/v1/export?format=xml", method: .get, headers: TestTokens.reader)
            #expect(bad.status == .badRequest)
            #expect(try bad.json()["error"]?["parameter"]?.stringValue == "format")
        }
    }

    @Test("export of a log far larger than what may be buffered streams at the client's pace")
    func exportLargeLog() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await AuditLog.open(directory: dir)
            var generator = EventGenerator(seed: 7, count: 80_000, days: 2, end: Timestamp(rfc3339: "2026-03-20T00:00:00Z")!)
            var batch: [AuditEvent] = []
            while let e = generator.next() {
                batch.append(e)
                if batch.count == 10_000 {
                    _ = try await log.append(batch)
                    batch.removeAll(keepingCapacity: true)
                }
            }
            if !batch.isEmpty { _ = try await log.append(batch) }

            try await withLiveServer(log: log) { port, http in
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/export?format=ndjson")
                request.headers.add(name: "Authorization", value: "Bearer \(TestTokens.read)")
                let response = try await http.execute(request, timeout: .seconds(600))
                #expect(response.status == .ok)
                var body = response.body.makeAsyncIterator()
                var received = 0
                var lines = 0
                func take(_ chunk: ByteBuffer) {
                    received += chunk.readableBytes
                    lines += chunk.readableBytesView.count { $0 == 0x0A }
                }
                if let first = try await body.next() { take(first) }
                // The client stops reading: the server must stop producing, holding no more
                // than socket buffers' worth ahead of the client, not the whole export.
                try await Task.sleep(for: .seconds(1))
                let paused = try await exportedBytes(port: port, http: http)
                #expect(paused > 0)
                #expect(paused < 24 << 20, "the server produced \(paused) bytes for a client that read \(received)")
                while let chunk = try await body.next() { take(chunk) }
                #expect(lines == 80_000)
                #expect(received > 40 << 20)
                #expect(received > paused * 2)
                #expect(try await exportedBytes(port: port, http: http) == received)
            }
            try await log.close()
        }
    }

    @Test("tail: an event appended after the client connected arrives as a Server-Sent Event")
    func tailDeliversNewEvents() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await AuditLog.open(directory: dir)
            _ = try await log.append(sampleEvents(5))
            try await withLiveServer(log: log) { port, http in
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/tail?verdict=block")
                request.headers.add(name: "Authorization", value: "Bearer \(TestTokens.read)")
                let response = try await http.execute(request, timeout: .seconds(30))
                #expect(response.status == .ok)
                #expect(response.headers.first(name: "content-type") == "text/event-stream")
                var body = response.body.makeAsyncIterator()
                var text = ""
                // The stream opens with a comment; nothing that existed before is replayed.
                while !text.contains("\n\n"), let chunk = try await body.next() { text += String(buffer: chunk) }
                #expect(text.hasPrefix("retry:"))
                #expect(!text.contains("data:"))

                var allowed = AuditEvent(eventType: "decision", timestamp: .now, id: "evt_tail_allowed")
                allowed.verdict = .allow
                var blocked = AuditEvent(eventType: "decision", timestamp: .now, id: "evt_tail_blocked")
                blocked.verdict = .block
                _ = try await log.append([allowed, blocked])

                text = ""
                while !text.contains("evt_tail_blocked"), let chunk = try await body.next() { text += String(buffer: chunk) }
                let message = try #require(text.components(separatedBy: "\n\n").first { $0.contains("data:") })
                #expect(message.contains("id: 7\n"))
                let data = try #require(message.components(separatedBy: "\n").first { $0.hasPrefix("data: ") })
                let event = try JSONValue.parse(String(data.dropFirst(6)))
                #expect(event["id"]?.stringValue == "evt_tail_blocked")
                #expect(event["seq"]?.intValue == 7)
                #expect(!text.contains("evt_tail_allowed"))
            }
            try await log.close()
        }
    }

    @Test("tail resumes after Last-Event-ID")
    func tailResumes() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await AuditLog.open(directory: dir)
            _ = try await log.append(sampleEvents(5))
            try await withLiveServer(log: log) { port, http in
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/tail")
                request.headers.add(name: "Authorization", value: "Bearer \(TestTokens.read)")
                request.headers.add(name: "Last-Event-ID", value: "3")
                let response = try await http.execute(request, timeout: .seconds(30))
                var text = ""
                for try await chunk in response.body {
                    text += String(buffer: chunk)
                    if text.contains("evt_sample_4") { break }
                }
                #expect(text.contains("id: 4\n"))
                #expect(text.contains("id: 5\n"))
                #expect(!text.contains("id: 3\n"))
            }
            try await log.close()
        }
    }
}

/// Runs the API for `log` on a loopback port and hands the test a real HTTP client.
func withLiveServer(log: AuditLog, _ body: @escaping @Sendable (Int, HTTPClient) async throws -> Void) async throws {
    let router = Router()
    AuditLogAPI(log: log, configuration: .init(tokens: TestTokens.all)).register(on: router)
    let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    try await app.test(.live) { client in
        let port = try #require(client.port)
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await body(port, http)
        } catch {
            try? await http.shutdown()
            throw error
        }
        try await http.shutdown()
    }
}

/// `auditlog_exported_bytes_total` from the server's /metrics.
func exportedBytes(port: Int, http: HTTPClient) async throws -> Int {
    let response = try await http.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/metrics"), timeout: .seconds(30))
    let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
    let line = text.split(separator: "\n").first { $0.hasPrefix("auditlog_exported_bytes_total ") }
    return Int(line?.split(separator: " ").last ?? "") ?? -1
}

/// The window and filter a test's query-string suffix means (only the forms the tests use).
struct QueryParametersForTest {
    var window = TimeWindow()
    var filter = EventFilter()

    init(_ suffix: String) {
        for pair in suffix.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2 else { continue }
            switch kv[0] {
            case "since": window.since = Timestamp(rfc3339: kv[1])
            case "verdict": if let v = Verdict(rawValue: kv[1]) { filter.verdicts.insert(v) }
            case "user": filter.users.insert(kv[1])
            default: filter.fields[kv[0], default: []].insert(kv[1])
            }
        }
    }
}
