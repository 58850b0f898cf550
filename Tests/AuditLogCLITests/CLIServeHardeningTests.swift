import AsyncHTTPClient
import AuditLog
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// `auditlog serve` against what the outside probe threw at it (issue 13, items 8–13): floods
/// of idle connections, slow heads, huge URLs, foreign hosts and origins, clients that stop
/// reading, and a shutdown with such a client attached. A real process, real sockets.
@Suite(.serialized) struct CLIServeHardeningTests {
    typealias Server = CLIServeTests.Server

    static func get(_ port: Int, _ path: String, host: String? = nil, headers: String = "") -> String? {
        RawConnection.request(port: port, "GET \(path) HTTP/1.1\r\nHost: \(host ?? "127.0.0.1:\(port)")\r\n\(headers)Connection: close\r\n\r\n")
    }

    @Test func aFloodOfIdleConnectionsDoesNotStopHealthChecks() async throws {
        try await withTemporaryDirectory { root in
            // 256 descriptors, as the probe ran it; 300 idle connections from here.
            let server = try Server(["--dir", root + "/log", "--insecure-no-auth"], directory: root, openFiles: 256)
            try await server.waitUntilListening()
            var flood: [RawConnection] = []
            for _ in 0..<300 {
                if let c = RawConnection(port: server.port) { flood.append(c) }
            }
            try await Task.sleep(for: .milliseconds(300))
            for attempt in 0..<3 {
                let started = Date()
                let health = Self.get(server.port, "/healthz")
                #expect(health?.hasPrefix("HTTP/1.1 200") == true, "attempt \(attempt): \(health ?? "no answer")")
                #expect(Date().timeIntervalSince(started) < 1.5, "attempt \(attempt)")
            }
            flood.removeAll()
            #expect(server.stop() == 0, "\(server.stderr)")
        }
    }

    @Test func largeArrayBodiesDoNotStallTheServer() async throws {
        try await withTemporaryDirectory { root in
            let server = try Server(["--dir", root + "/log", "--insecure-no-auth", "--durability", "none"], directory: root)
            try await server.waitUntilListening()
            let event = #"{"event_type":"decision","timestamp":"2026-03-20T10:30:00Z","user":"alice@acme.com","model":"gpt-4o","tokens_in":1200}"#
            let body = "[\n" + Array(repeating: event, count: 14_000).joined(separator: ",\n") + "\n]"  // about 1.6 MB
            let port = server.port
            let posts = (0..<3).map { _ in
                Task.detached { () -> String? in
                    RawConnection.request(
                        port: port, "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n" + body,
                        seconds: 60)
                }
            }
            try await Task.sleep(for: .milliseconds(100))
            for _ in 0..<5 {
                let started = Date()
                #expect(Self.get(port, "/healthz")?.hasPrefix("HTTP/1.1 200") == true)
                #expect(Date().timeIntervalSince(started) < 2, "healthz waited behind the bodies")
                try await Task.sleep(for: .milliseconds(100))
            }
            for post in posts {
                let answer = await post.value
                #expect(answer?.hasPrefix("HTTP/1.1 201") == true, "\(answer?.prefix(300) ?? "no answer")")
            }
            #expect(server.stop() == 0)
        }
    }

    @Test func idleAndSlowHeadConnectionsAreClosed() async throws {
        try await withTemporaryDirectory { root in
            let server = try Server(["--dir", root + "/log", "--insecure-no-auth", "--idle-timeout", "1s", "--header-timeout", "1s"], directory: root)
            try await server.waitUntilListening()
            let idle = try #require(RawConnection(port: server.port))
            #expect(idle.receive(for: 4).closed, "an idle connection stayed open")
            let slow = try #require(RawConnection(port: server.port))
            slow.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1")
            #expect(slow.receive(for: 4).closed, "a half-sent head stayed open")
            // Kept alive after a response, then idle: closed too.
            let kept = try #require(RawConnection(port: server.port))
            kept.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:\(server.port)\r\n\r\n")
            let answer = kept.receive(for: 4)
            #expect(answer.text.hasPrefix("HTTP/1.1 200") && answer.closed)
            #expect(server.stop() == 0)
        }
    }

    @Test func aHugeURLGetsAJSONError() async throws {
        try await withTemporaryDirectory { root in
            let server = try Server(["--dir", root + "/log", "--insecure-no-auth"], directory: root)
            try await server.waitUntilListening()
            let answer = Self.get(server.port, "/v1/events?user=" + String(repeating: "a", count: 100_000)) ?? ""
            #expect(answer.hasPrefix("HTTP/1.1 400"), "\(answer.prefix(200))")
            #expect(answer.contains("application/json") && answer.contains(#""code":"bad_request""#), "\(answer.prefix(400))")
            #expect(Self.get(server.port, "/healthz")?.hasPrefix("HTTP/1.1 200") == true)
            let head = RawConnection.request(port: server.port, "HEAD /healthz HTTP/1.1\r\nHost: 127.0.0.1:\(server.port)\r\nConnection: close\r\n\r\n")
            #expect(head?.hasPrefix("HTTP/1.1 200") == true, "\(head ?? "")")
            #expect(server.stop() == 0)
        }
    }

    @Test func withoutAuthOnlyThisHostAndOriginAreAnswered() async throws {
        try await withTemporaryDirectory { root in
            let server = try Server(["--dir", root + "/log", "--insecure-no-auth"], directory: root)
            try await server.waitUntilListening()
            let port = server.port
            #expect(Self.get(port, "/v1/events")?.hasPrefix("HTTP/1.1 200") == true)
            #expect(Self.get(port, "/v1/events", host: "localhost:\(port)")?.hasPrefix("HTTP/1.1 200") == true)
            // DNS rebinding: a name that resolves here, but is not this server's.
            #expect(Self.get(port, "/v1/events", host: "attacker.example:\(port)")?.hasPrefix("HTTP/1.1 421") == true)
            #expect(Self.get(port, "/v1/events", host: "127.0.0.1:1")?.hasPrefix("HTTP/1.1 421") == true)
            #expect(Self.get(port, "/v1/events", headers: "Origin: http://attacker.example\r\n")?.hasPrefix("HTTP/1.1 403") == true)
            #expect(Self.get(port, "/v1/events", headers: "Origin: http://127.0.0.1:\(port)\r\n")?.hasPrefix("HTTP/1.1 200") == true)
            // A page posting a text/plain "simple request": refused before anything is read.
            let event = #"{"event_type":"decision","timestamp":"2026-03-20T10:30:00Z"}"#
            let post = RawConnection.request(
                port: port, "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nContent-Type: text/plain\r\nContent-Length: \(event.utf8.count)\r\nConnection: close\r\n\r\n\(event)")
            #expect(post?.hasPrefix("HTTP/1.1 415") == true, "\(post ?? "")")
            #expect(server.stop() == 0)
            // --host is resolved, not matched as text.
            let fake = try CLIRunner.run(["serve", "--dir", root + "/log", "--port", "0", "--insecure-no-auth", "--host", "127.foo.example"])
            #expect(fake.status == 64 && fake.stderr.contains("loopback"), "\(fake.stderr)")
        }
    }

    @Test func shutdownDoesNotWaitForAClientThatStoppedReading() async throws {
        try await withTemporaryDirectory { root in
            let dir = root + "/log"
            let gen = try CLIRunner.run(["gen", "--count", "60000", "--seed", "3", "--days", "1"])
            #expect(try CLIRunner.run(["ingest", "--dir", dir, "-"], stdin: Data(gen.stdout.utf8)).status == 0)
            let server = try Server(["--dir", dir, "--insecure-no-auth", "--shutdown-timeout", "2s"], directory: root)
            try await server.waitUntilListening()
            let stuck = try #require(RawConnection(port: server.port))
            stuck.setReceiveBuffer(4096)
            stuck.send("GET /v1/export HTTP/1.1\r\nHost: 127.0.0.1:\(server.port)\r\n\r\n")
            try await Task.sleep(for: .seconds(1))
            let started = Date()
            server.process.terminate()
            server.process.waitUntilExit()
            let took = Date().timeIntervalSince(started)
            #expect(took < 8, "serve took \(took) s to stop")
            // The writer lock is free again.
            let reopened = try await AuditLog.open(directory: dir)
            try await reopened.close()
            _ = stuck
        }
    }

    @Test func tailClientsAreCountedOutAsSoonAsTheyLeave() async throws {
        try await withTemporaryDirectory { root in
            let server = try Server(["--dir", root + "/log", "--insecure-no-auth"], directory: root)
            try await server.waitUntilListening()
            var clients: [RawConnection] = []
            for _ in 0..<3 {
                let c = try #require(RawConnection(port: server.port))
                c.send("GET /v1/tail HTTP/1.1\r\nHost: 127.0.0.1:\(server.port)\r\n\r\n")
                clients.append(c)
            }
            try await Task.sleep(for: .milliseconds(500))
            #expect(Self.get(server.port, "/metrics")?.contains("auditlog_tail_clients 3") == true)
            clients.removeAll()
            var gauge = ""
            for _ in 0..<20 {
                try await Task.sleep(for: .milliseconds(100))
                gauge = Self.get(server.port, "/metrics") ?? ""
                if gauge.contains("auditlog_tail_clients 0") { break }
            }
            #expect(gauge.contains("auditlog_tail_clients 0"), "the gauge stayed up 2 s after its clients left")
            #expect(server.stop() == 0)
        }
    }

    @Test func tokenFilesWithCRLFAndAnEnvironmentTokenWithSpacesWork() async throws {
        try await withTemporaryDirectory { root in
            let tokens = root + "/tokens"
            try "# windows\r\nwrite \(CLIServeTests.hex("crlf-token"))\r\n".write(toFile: tokens, atomically: true, encoding: .utf8)
            let server = try Server(["--dir", root + "/log", "--token-file", tokens], environment: ["AUDITLOG_API_TOKEN": "spaced-token \n"], directory: root)
            try await server.waitUntilListening()
            #expect(server.stderr.contains("trimmed"))
            for token in ["crlf-token", "spaced-token"] {
                let answer = Self.get(server.port, "/v1/head", headers: "Authorization: Bearer \(token)\r\n")
                #expect(answer?.hasPrefix("HTTP/1.1 200") == true, "\(token): \(answer ?? "")")
            }
            #expect(server.stop() == 0)
        }
    }
}
