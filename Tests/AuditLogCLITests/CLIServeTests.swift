import AsyncHTTPClient
import AuditLog
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// `auditlog serve` as a real process on a loopback port, talked to with a real HTTP client.
@Suite(.serialized) struct CLIServeTests {
    /// A running `auditlog serve`; stopped with SIGTERM.
    final class Server {
        let process = Process()
        let stderrURL: URL
        private(set) var port = 0

        /// `openFiles`: run under `ulimit -n` that many descriptors (soft and hard).
        init(_ args: [String], environment: [String: String] = [:], directory: String, openFiles: Int? = nil) throws {
            stderrURL = URL(fileURLWithPath: directory).appendingPathComponent("serve.err")
            _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
            if let openFiles {
                process.executableURL = URL(fileURLWithPath: "/bin/sh")
                process.arguments = ["-c", "ulimit -n \(openFiles) && exec \"$0\" \"$@\"", CLIRunner.executable.path, "serve", "--port", "0"] + args
            } else {
                process.executableURL = CLIRunner.executable
                process.arguments = ["serve", "--port", "0"] + args
            }
            var env = ProcessInfo.processInfo.environment
            env.removeValue(forKey: "AUDITLOG_API_TOKEN")
            for (k, v) in environment { env[k] = v }
            process.environment = env
            process.standardOutput = FileHandle.nullDevice
            process.standardError = try FileHandle(forWritingTo: stderrURL)
            try process.run()
        }

        var stderr: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }

        /// Waits for the "serving … on http://127.0.0.1:PORT" line.
        func waitUntilListening() async throws {
            for _ in 0..<600 {
                let text = stderr
                if let range = text.range(of: #"http://127\.0\.0\.1:(\d+)"#, options: .regularExpression) {
                    port = Int(text[range].split(separator: ":").last ?? "") ?? 0
                    return
                }
                guard process.isRunning else { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            Issue.record("serve did not start: \(stderr)")
        }

        func stop() -> Int32 {
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
            return process.terminationStatus
        }

        /// Runs `body` with an HTTP client and the base URL of the server (listening), then
        /// shuts both down and expects the server to exit 0; when `body` throws, both are
        /// stopped anyway and the error is rethrown.
        func withClient(_ body: (HTTPClient, String) async throws -> Void) async throws {
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            do {
                try await body(http, "http://127.0.0.1:\(port)")
            } catch {
                try? await http.shutdown()
                _ = stop()
                throw error
            }
            try await http.shutdown()
            #expect(stop() == 0, "\(stderr)")
        }
    }

    static func hex(_ token: String) -> String {
        SHA256.hash(data: Array(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    func send(_ http: HTTPClient, _ method: HTTPMethod, _ url: String, token: String?, body: String? = nil, contentType: String? = nil) async throws -> (status: Int, body: String) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await http.execute(request, timeout: .seconds(60))
        let bytes = try await response.body.collect(upTo: 256 << 20)
        return (Int(response.status.code), String(buffer: bytes))
    }

    @Test func serveAnswersOverRealHTTPAndStopsCleanly() async throws {
        try await withTemporaryDirectory { root in
            let dir = root + "/log"
            let gen = try CLIRunner.run(["gen", "--count", "2000", "--seed", "11", "--days", "1"])
            let ingest = try CLIRunner.run(["ingest", "--dir", dir, "-"], stdin: Data(gen.stdout.utf8))
            #expect(ingest.status == 0, "\(ingest.stderr)")
            let tokenFile = root + "/tokens"
            try "# test tokens\nread \(Self.hex("tok-read"))\nwrite \(Self.hex("tok-write"))\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)

            // Reads are not recorded here, so the log holds exactly what the test appends
            // (CLIServiceTests checks the audit.read records).
            let server = try Server(["--dir", dir, "--token-file", tokenFile, "--no-read-audit"], directory: root)
            try await server.waitUntilListening()
            #expect(server.stderr.contains("--no-read-audit: reads through the API are not recorded"))
            try await server.withClient { http, base in
                #expect(try await send(http, .GET, base + "/healthz", token: nil).status == 200)
                #expect(try await send(http, .GET, base + "/v1/events", token: nil).status == 401)
                #expect(try await send(http, .GET, base + "/v1/events", token: "tok-nope").status == 401)

                let blocked = try await send(http, .GET, base + "/v1/events?verdict=block&limit=1000", token: "tok-read")
                #expect(blocked.status == 200)
                let page = try JSONValue.parse(blocked.body)
                guard case .array(let data)? = page["data"] else { throw CLIError(message: "no data array", status: 1) }
                #expect(!data.isEmpty)
                #expect(data.allSatisfy { $0["verdict"]?.stringValue == "block" })

                let event = #"{"event_type":"decision","timestamp":"2026-03-20T10:30:00Z","verdict":"block","user":"served@acme.com"}"#
                let ndjson = Array(repeating: event, count: 3).joined(separator: "\n")
                #expect(try await send(http, .POST, base + "/v1/events", token: "tok-read", body: ndjson, contentType: "application/x-ndjson").status == 403)
                let posted = try await send(http, .POST, base + "/v1/events", token: "tok-write", body: ndjson, contentType: "application/x-ndjson")
                #expect(posted.status == 201, "\(posted.body)")
                #expect(try JSONValue.parse(posted.body)["last_seq"] == .number("2003"))

                // The HTTP export is byte for byte the CLI's (the CLI reads while the server writes).
                for format in ["csv", "ndjson", "json"] {
                    let exported = try await send(http, .GET, base + "/v1/export?format=\(format)&verdict=block", token: "tok-read")
                    let cli = try CLIRunner.run(["export", "--dir", dir, "--format", format, "--verdict", "block"])
                    #expect(exported.status == 200)
                    #expect(exported.body == cli.stdout, "format \(format)")
                }
                let verify = try await send(http, .GET, base + "/v1/verify", token: "tok-read")
                #expect(try JSONValue.parse(verify.body)["ok"] == .bool(true))
                let metrics = try await send(http, .GET, base + "/metrics", token: nil)
                #expect(metrics.body.contains("auditlog_appended_events_total 3"))
            }

            let verify = try CLIRunner.run(["verify", "--dir", dir, "--json"])
            #expect(verify.status == 0)
            #expect(try JSONValue.parse(verify.stdout)["records"] == .number("2003"))
        }
    }

    @Test func serveRefusesToStartWithoutTokensOrOffLoopback() async throws {
        try await withTemporaryDirectory { root in
            let none = try CLIRunner.run(["serve", "--dir", root + "/a", "--port", "0"])
            #expect(none.status == 64)
            #expect(none.stderr.contains("AUDITLOG_API_TOKEN"))
            let open = try CLIRunner.run(["serve", "--dir", root + "/a", "--port", "0", "--insecure-no-auth", "--host", "0.0.0.0"])
            #expect(open.status == 64)
            #expect(open.stderr.contains("loopback"))
            try "read not-a-digest\n".write(toFile: root + "/tokens", atomically: true, encoding: .utf8)
            let bad = try CLIRunner.run(["serve", "--dir", root + "/a", "--port", "0", "--token-file", root + "/tokens"])
            #expect(bad.status == 64)
            #expect(bad.stderr.contains("line 1"))
        }
    }

    @Test func anEnvironmentTokenGrantsWrite() async throws {
        try await withTemporaryDirectory { root in
            let server = try Server(["--dir", root + "/log"], environment: ["AUDITLOG_API_TOKEN": "env-secret"], directory: root)
            try await server.waitUntilListening()
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            let event = #"{"event_type":"model.enabled","timestamp":"2026-03-20T10:30:00Z"}"#
            let r = try await send(http, .POST, "http://127.0.0.1:\(server.port)/v1/events", token: "env-secret", body: event, contentType: "application/json")
            try await http.shutdown()
            #expect(r.status == 201, "\(r.body)")
            #expect(server.stop() == 0)
        }
    }
}

struct CLIError: Error {
    var message: String
    var status: Int32
}
