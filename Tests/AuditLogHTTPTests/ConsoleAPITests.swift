import AuditLog
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import AuditLogHTTP

/// The console's files as the server serves them (the page itself is driven in a browser by
/// CLIConsoleTests), and the API routes it added: verify progress and latest, an event's
/// location, the checkpoint size in the head.
@Suite("The events console and the routes it uses")
struct ConsoleAPITests {
    func withServer(
        tokens: APITokens? = TestTokens.all, console: Bool = true, events: [AuditEvent] = sampleEvents(40),
        _ body: @escaping @Sendable (AuditLog, any TestClientProtocol) async throws -> Void
    ) async throws {
        try await withTemporaryDirectory { dir in
            let log = try await AuditLog.open(directory: dir)
            _ = try await log.append(events)
            var configuration = TestTokens.configuration()
            configuration.tokens = tokens
            let api = AuditLogAPI(log: log, configuration: configuration)
            let app = AuditLogServer.application(api: api, host: "127.0.0.1", port: 0, console: console)
            do {
                try await app.test(.router) { client in try await body(log, client) }
            } catch {
                try? await log.close()
                throw error
            }
            try await log.close()
        }
    }

    @Test("GET / serves the page with a policy that allows only its own origin; assets have types and ETags")
    func pageAndAssets() async throws {
        try await withServer { _, client in
            let page = try await client.execute(uri: "/", method: .get)
            #expect(page.status == .ok)
            #expect(page.headers[.contentType] == "text/html; charset=utf-8")
            let csp = page.headers[HTTPField.Name("Content-Security-Policy")!] ?? ""
            #expect(csp.contains("default-src 'none'") && csp.contains("script-src 'self'") && csp.contains("connect-src 'self'") && csp.contains("frame-ancestors 'none'"))
            #expect(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"))
            #expect(page.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
            #expect(page.text.contains("<script type=\"module\" src=\"/console/app.js\"></script>"))

            let script = try await client.execute(uri: "/console/app.js", method: .get)
            #expect(script.status == .ok && script.headers[.contentType] == "text/javascript; charset=utf-8")
            let etag = try #require(script.headers[.eTag])
            let again = try await client.execute(uri: "/console/app.js", method: .get, headers: [.ifNoneMatch: etag])
            #expect(again.status == .notModified && again.body.readableBytes == 0)
            #expect(try await client.execute(uri: "/console/console.css", method: .get).headers[.contentType] == "text/css; charset=utf-8")
            #expect(try await client.execute(uri: "/", method: .head).status == .ok)

            let missing = try await client.execute(uri: "/console/missing.js", method: .get)
            #expect(missing.status == .notFound)
            #expect(try missing.errorCode() == "not_found")
            let traversal = try await client.execute(uri: "/console/..%2FPackage.swift", method: .get)
            #expect(traversal.status == .notFound)
            let post = try await client.execute(uri: "/", method: .post)
            #expect(post.status == .methodNotAllowed && post.headers[.allow] == "GET, HEAD")

            let config = try await client.execute(uri: "/console/config.json", method: .get).json()
            #expect(config["auth_required"] == .bool(true))
            #expect(config["read_only"] == .bool(false))
        }
    }

    @Test("without authentication the page says so; --no-console serves no page")
    func configAndNoConsole() async throws {
        // The console on a router of its own, over an API without tokens (the standalone
        // server adds its loopback checks in front of both).
        try await withTemporaryDirectory { dir in
            let log = try await AuditLog.open(directory: dir)
            var configuration = TestTokens.configuration()
            configuration.tokens = nil
            let router = Router()
            let api = AuditLogAPI(log: log, configuration: configuration)
            api.register(on: router)
            AuditLogConsole(api: api).register(on: router)
            try await Application(router: router).test(.router) { client in
                let config = try await client.execute(uri: "/console/config.json", method: .get)
                #expect(config.status == .ok)
                #expect(try await client.execute(uri: "/console/config.json", method: .get).json()["auth_required"] == .bool(false))
                #expect(try await client.execute(uri: "/", method: .get).status == .ok)
            }
            try await log.close()
        }
        try await withServer(console: false) { _, client in
            let page = try await client.execute(uri: "/", method: .get)
            #expect(page.headers[.contentType] == "application/json")
            #expect(try await client.execute(uri: "/", method: .get).status == .notFound)
            #expect(try await client.execute(uri: "/console/app.js", method: .get).status == .notFound)
        }
    }

    @Test("every file the page loads is served, no page holds inline script or style, and all weigh ≤ 150 KB")
    func assetsAreComplete() throws {
        let names = Set(ConsoleAssets.named.keys)
        var referenced: Set<String> = []
        for (name, asset) in ConsoleAssets.named {
            let text = String(decoding: asset.bytes, as: UTF8.self)
            for pattern in [#"from "\./([a-z]+\.js)""#, #"(?:src|href)="/console/([a-z.]+)""#] {
                let regex = try NSRegularExpression(pattern: pattern)
                for match in regex.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                    if let range = Range(match.range(at: 1), in: text) { referenced.insert(String(text[range])) }
                }
            }
            if name.hasSuffix(".html") {
                #expect(!text.contains("<script>") && !text.contains(" style=") && text.range(of: #" on[a-z]+="#, options: .regularExpression) == nil)
            }
            if name.hasSuffix(".js") {
                #expect(!text.contains("innerHTML") && !text.contains("eval("), "\(name) builds elements, never HTML strings")
            }
        }
        #expect(referenced.isSubset(of: names), "not served: \(referenced.subtracting(names).sorted())")
        #expect(names.subtracting(referenced).subtracting(["index.html"]).isEmpty, "never loaded: \(names.subtracting(referenced).sorted())")
        #expect(ConsoleAssets.totalBytes <= 150_000, "\(ConsoleAssets.totalBytes) bytes")
    }

    @Test("/v1/verify?progress=true streams Server-Sent Events ending in the report; /v1/verify/latest keeps it")
    func verifyProgressAndLatest() async throws {
        try await withServer(events: sampleEvents(600)) { _, client in
            let none = try await client.execute(uri: "/v1/verify/latest", method: .get, headers: TestTokens.reader).json()
            #expect(none["report"] == .null && none["finished_at"] == .null)

            let stream = try await client.execute(uri: "/v1/verify?progress=true", method: .get, headers: TestTokens.reader)
            #expect(stream.status == .ok && stream.headers[.contentType] == "text/event-stream")
            let messages = stream.text.components(separatedBy: "\n\n").filter { $0.hasPrefix("event: ") }
            let last = try #require(messages.last)
            #expect(last.hasPrefix("event: report\ndata: "))
            let report = try JSONValue.parse(String(last.dropFirst("event: report\ndata: ".count)))
            #expect(report["ok"] == .bool(true) && report["records"]?.intValue == 600)
            for progress in messages.dropLast() {
                #expect(progress.hasPrefix("event: progress\ndata: "))
                let step = try JSONValue.parse(String(progress.dropFirst("event: progress\ndata: ".count)))
                #expect((step["bytes_done"]?.intValue ?? -1) <= (step["bytes_total"]?.intValue ?? -2))
            }

            let latest = try await client.execute(uri: "/v1/verify/latest", method: .get, headers: TestTokens.reader).json()
            #expect(latest["report"]?["ok"] == .bool(true) && latest["report"]?["records"]?.intValue == 600)
            #expect(latest["options"]?["deep"] == .bool(false))
            #expect(latest["finished_at"]?.stringValue.flatMap(Timestamp.init(rfc3339:)) != nil)

            let bad = try await client.execute(uri: "/v1/verify?progress=often", method: .get, headers: TestTokens.reader)
            #expect(bad.status == .badRequest)
            #expect(try bad.json()["error"]?["parameter"] == .string("progress"))
            #expect(try await client.execute(uri: "/v1/verify/latest", method: .get).status == .unauthorized)
        }
    }

    @Test("/v1/events/{id}?location=true is auditlog show --json's object; /v1/head names the checkpoint size")
    func locationAndCheckpointSize() async throws {
        try await withServer { log, client in
            let last = try await client.execute(uri: "/v1/events/evt_sample_39?location=true", method: .get, headers: TestTokens.reader).json()
            #expect(last["seq"]?.intValue == 40)
            #expect(last["segment"]?.stringValue?.hasPrefix("segments/") == true)
            #expect(last["event"]?["id"] == .string("evt_sample_39") && last["event"]?["seq"] == nil)
            #expect(last["chain_value"]?.stringValue == log.head.chainHead.hex, "the last event's chain value is the head")
            let plain = try await client.execute(uri: "/v1/events/evt_sample_39", method: .get, headers: TestTokens.reader).json()
            #expect(plain["id"] == .string("evt_sample_39") && plain["seq"]?.intValue == 40)
            let bad = try await client.execute(uri: "/v1/events/evt_sample_39?location=yes", method: .get, headers: TestTokens.reader)
            #expect(bad.status == .badRequest)

            #expect(try await client.execute(uri: "/v1/head", method: .get, headers: TestTokens.reader).json()["checkpoint_size"] == .null)
            let signer = try NoteSigner(name: "test.example/log", seed: Array(repeating: 7, count: 32))
            _ = try await log.signCheckpoint(with: signer)
            #expect(try await client.execute(uri: "/v1/head", method: .get, headers: TestTokens.reader).json()["checkpoint_size"]?.intValue == 40)
        }
    }
}
