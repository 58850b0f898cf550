import AsyncHTTPClient
import AuditLog
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// `auditlog serve` left running as a service: sweeps on schedule, retention and holds while
/// it holds the log, webhooks to a real receiver (a Python HTTP server that checks every
/// signature itself) across a restart and an outage, spend thresholds, audit.read records.
@Suite(.serialized) struct CLIServiceTests {
    typealias Server = CLIServeTests.Server
    static let receiverScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Scripts/webhook_receiver.py").path
    static let writeToken = "service-write-token"

    /// A token file with one write token.
    static func tokens(_ root: String) throws -> String {
        let path = root + "/tokens"
        try "write \(CLIServeTests.hex(writeToken)) name=ops\n".write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func send(_ http: HTTPClient, _ method: HTTPMethod, _ url: String, body: String? = nil) async throws -> (status: Int, body: String) {
        try await CLIServeTests().send(http, method, url, token: Self.writeToken, body: body, contentType: body == nil ? nil : "application/json")
    }

    /// The `data` array of a page.
    func events(_ http: HTTPClient, _ url: String) async throws -> [JSONValue] {
        let r = try await send(http, .GET, url)
        #expect(r.status == 200, "\(r.body)")
        guard case .array(let items)? = try JSONValue.parse(r.body)["data"] else { return [] }
        return items
    }

    @Test func aServerSweepsOnScheduleAndCommandsSayWhoHoldsTheLog() async throws {
        try await withTemporaryDirectory { root in
            let dir = root + "/log"
            let gen = try CLIRunner.run(["gen", "--count", "3000", "--seed", "5", "--days", "6"])
            #expect(try CLIRunner.run(["ingest", "--dir", dir, "-"], stdin: Data(gen.stdout.utf8)).status == 0)
            let server = try Server(
                ["--dir", dir, "--token-file", try Self.tokens(root), "--sweep-interval", "1s"], environment: ["AUDITLOG_RETENTION_HOURS": "48"], directory: root)
            try await server.waitUntilListening()
            #expect(server.stderr.contains("retention: sweeping segments older than 2d every 1s"), "\(server.stderr)")
            try await server.withClient { http, base in
                // The first sweep runs at start; its record is in the chain.
                var sweeps: [JSONValue] = []
                for _ in 0..<100 where sweeps.isEmpty {
                    sweeps = try await events(http, base + "/v1/events?event_type=retention.sweep")
                    if sweeps.isEmpty { try await Task.sleep(for: .milliseconds(100)) }
                }
                #expect(sweeps.count == 1)
                #expect(sweeps.first?["user"] == .string("auditlog-serve"))
                let cutoff = Timestamp(nanosSinceEpoch: Timestamp.now.nanosSinceEpoch - 72 * 3_600_000_000_000).rfc3339
                #expect(try await events(http, base + "/v1/events?until=\(cutoff)&event_type=decision").isEmpty, "events older than 3 days are swept")

                // While the server holds the log, sweep and hold say so and name it (exit 75).
                let pid = server.process.processIdentifier
                for (args, route) in [(["sweep", "--max-age", "1d"], "POST /v1/sweep"), (["hold", "place", "--reason", "x"], "POST /v1/holds")] {
                    let r = try CLIRunner.run(args + ["--dir", dir])
                    #expect(r.status == 75)
                    #expect(r.stderr.contains("pid \(pid)") && r.stderr.contains(base) && r.stderr.contains(route) && r.stderr.contains("--server"), "\(r.stderr)")
                    #expect(r.stderr.split(separator: "\n").count == 1)
                }
                // --server sends the same request to it.
                let env = ["AUDITLOG_API_TOKEN": Self.writeToken]
                // The hold reaches two days back: the sealed segment of the day before yesterday
                // (what the 48 h retention left of it) is older than the dry run's hour at any
                // time of day, and the hold covers it. (One day back covered only yesterday's
                // segment, which in the first hour after midnight UTC holds events less than an
                // hour old: nothing to hold.)
                let placed = try CLIRunner.run(["hold", "place", "--server", base, "--reason", "case 9", "--from", "2d", "--json"], environment: env)
                #expect(placed.status == 0, "\(placed.stderr)")
                let id = try JSONValue.parse(placed.stdout)["id"]?.stringValue ?? ""
                #expect(try JSONValue.parse(placed.stdout)["placed_by"] == .string("ops"))
                let listed = try CLIRunner.run(["hold", "list", "--server", base, "--json"], environment: env)
                #expect(listed.stdout.contains(id))
                let dry = try CLIRunner.run(["sweep", "--server", base, "--max-age", "1h", "--dry-run", "--json"], environment: env)
                #expect(dry.status == 0, "\(dry.stderr)")
                #expect(try JSONValue.parse(dry.stdout)["dry_run"] == .bool(true))
                // The text says which hold keeps each segment, from the server's `kept`.
                let held = try JSONValue.parse(dry.stdout)["held_segments"]?.arrayValue ?? []
                #expect(!held.isEmpty, "the hold covers the last two days")
                let text = try CLIRunner.run(["sweep", "--server", base, "--max-age", "1h", "--dry-run"], environment: env)
                #expect(text.stdout.components(separatedBy: "under legal hold \(id)\n").count - 1 == held.count, "\(text.stdout)")
                let released = try CLIRunner.run(["hold", "release", id, "--server", base], environment: env)
                #expect(released.status == 0, "\(released.stderr)")
                let denied = try CLIRunner.run(["hold", "list", "--server", base], environment: ["AUDITLOG_API_TOKEN": "wrong"])
                #expect(denied.status == 77 && denied.stderr.contains("401"), "\(denied.stderr)")
            }
            // The holds placed and released over HTTP are in the chain, and it verifies.
            let verify = try CLIRunner.run(["verify", "--dir", dir])
            #expect(verify.status == 0, "\(verify.stdout)")
            let holds = try CLIRunner.run(["tail", "--dir", dir, "--filter", "event_type=hold.released", "--json"])
            #expect(holds.stdout.contains("hold.released"))
        }
    }

    @Test func retentionSettingsThatAreNotDurationsStopTheServerNamingThem() async throws {
        try await withTemporaryDirectory { root in
            let base = ["serve", "--dir", root + "/log", "--port", "0", "--insecure-no-auth"]
            for (env, says) in [(["AUDITLOG_RETENTION": "soon"], "AUDITLOG_RETENTION 'soon'"), (["AUDITLOG_RETENTION_HOURS": "2d"], "AUDITLOG_RETENTION_HOURS '2d'")] {
                let r = try CLIRunner.run(base, environment: env)
                #expect(r.status == 64 && r.stderr.contains(says), "\(r.stderr)")
            }
            let flag = try CLIRunner.run(base + ["--retention", "forever"])
            #expect(flag.status == 64 && flag.stderr.contains("--retention 'forever'"), "\(flag.stderr)")
            let readOnly = try CLIRunner.run(base + ["--retention", "90d", "--read-only"])
            #expect(readOnly.status == 64 && readOnly.stderr.contains("--read-only"), "\(readOnly.stderr)")
        }
    }

    /// A receiver that checks signatures itself; `failUntil` makes it answer 500.
    final class Receiver {
        let process = Process()
        let out: String
        let failUntil: String
        let secret: String
        private(set) var port = 0

        init(root: String) throws {
            out = root + "/received.jsonl"
            failUntil = root + "/fail-until"
            secret = "whsec_" + Data((0..<24).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
            try secret.write(toFile: root + "/secret", atomically: true, encoding: .utf8)
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", CLIServiceTests.receiverScript, root + "/secret", out, root + "/port", failUntil]
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            for _ in 0..<200 {
                if let text = try? String(contentsOfFile: root + "/port", encoding: .utf8), let p = Int(text) {
                    port = p
                    return
                }
                Thread.sleep(forTimeInterval: 0.05)
            }
            throw CLIError(message: "the receiver did not start", status: 1)
        }

        /// Fails deliveries for the next `seconds`.
        func fail(for seconds: Double) throws {
            try String(Date().timeIntervalSince1970 + seconds).write(toFile: failUntil, atomically: true, encoding: .utf8)
        }

        /// Ends an outage begun with ``fail(for:)``.
        func recover() throws {
            try "0".write(toFile: failUntil, atomically: true, encoding: .utf8)
        }

        /// Every delivery received, in arrival order.
        var deliveries: [JSONValue] {
            let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
            return text.split(separator: "\n").compactMap { try? JSONValue.parse(String($0)) }
        }

        /// SIGKILL: a child of the test runner may inherit SIGTERM ignored.
        func stop() {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    static func blockedEvents(_ n: Int, from: Int, team: String = "payments") -> String {
        (0..<n).map { i in
            let verdict = (from + i) % 3 == 0 ? "block" : "allow"
            return #"{"event_type":"decision","timestamp":"\#(Timestamp.now.rfc3339)","verdict":"\#(verdict)","team":"\#(team)","user":"u\#(from + i)","model":"m1","cost":0.001}"#
        }.joined(separator: "\n")
    }

    @Test func webhooksDeliverEveryBlockedEventOnceInOrderAcrossARestartAndAnOutage() async throws {
        try await withTemporaryDirectory { root in
            let dir = root + "/log"
            #expect(try CLIRunner.run(["ingest", "--dir", dir, "-"], stdin: Data(Self.blockedEvents(5, from: 1000).utf8)).status == 0)
            let receiver = try Receiver(root: root)
            defer { receiver.stop() }
            let tokens = try Self.tokens(root)
            let args = ["--dir", dir, "--token-file", tokens, "--webhook-max-backoff", "1s", "--webhook-retry-limit", "1s", "--no-read-audit"]
            var server = try Server(args, directory: root)
            try await server.waitUntilListening()
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            var appended = 0
            do {
                var base = "http://127.0.0.1:\(server.port)"
                let added = try CLIRunner.run(
                    [
                        "webhook", "add", "--server", base, "--url", "http://127.0.0.1:\(receiver.port)/hook", "--events", "event.blocked", "--filter", "team=payments",
                        "--secret-file", root + "/secret", "--json",
                    ], environment: ["AUDITLOG_API_TOKEN": Self.writeToken])
                #expect(added.status == 0, "\(added.stderr)")
                let subscription = try JSONValue.parse(added.stdout)["id"]?.stringValue ?? ""
                func post(_ n: Int, team: String = "payments") async throws {
                    let r = try await send(http, .POST, base + "/v1/events", body: "[" + Self.blockedEvents(n, from: appended, team: team).split(separator: "\n").joined(separator: ",") + "]")
                    #expect(r.status == 201, "\(r.body)")
                    appended += n
                }
                try await post(20)
                try await post(6, team: "infra")
                // The receiver fails while more arrive: past the retry limit (1 s) the
                // subscription shows as failing, and keeps trying. The outage lasts until the
                // test ends it, however slow a loaded machine makes the first attempts.
                try receiver.fail(for: 3600)
                try await post(20)
                var during: JSONValue?
                for _ in 0..<300 {
                    try await Task.sleep(for: .milliseconds(100))
                    during = try JSONValue.parse(try await send(http, .GET, base + "/v1/webhooks").body)["webhooks"]?.arrayValue?.first
                    if during?["state"] == .string("failing") { break }
                }
                #expect(during?["state"] == .string("failing") && during?["last_error"] == .string("HTTP 500"), "\(String(describing: during))")
                // A restart in the middle of the outage: delivery resumes from the saved cursor.
                #expect(server.stop() == 0, "\(server.stderr)")
                server = try Server(args, directory: root)
                try await server.waitUntilListening()
                base = "http://127.0.0.1:\(server.port)"
                try await post(20)
                try receiver.recover()

                let expected = try await events(http, base + "/v1/events?verdict=block&team=payments&order=asc&limit=1000")
                    .compactMap { $0["seq"]?.intValue }.filter { $0 > 5 }
                #expect(expected.count > 15)
                var received: [Int64] = []
                for _ in 0..<300 {
                    var seen = Set<String>()
                    received = receiver.deliveries.filter { seen.insert($0["webhook_id"]?.stringValue ?? "").inserted }.compactMap { $0["event"]?["data"]?["seq"]?.intValue }
                    if received.count >= expected.count { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(received == expected, "every blocked event of payments once, in seq order")
                let deliveries = receiver.deliveries
                #expect(deliveries.allSatisfy { $0["verified"] == .bool(true) }, "signatures")
                #expect(deliveries.allSatisfy { $0["content_type"]?.stringValue?.hasPrefix("application/cloudevents+json") == true })
                let first = try #require(deliveries.first?["event"])
                #expect(first["specversion"] == .string("1.0") && first["type"] == .string("auditlog.event.blocked"))
                #expect(first["source"]?.stringValue?.hasPrefix("auditlog:") == true && first["time"] != nil && first["id"] == deliveries.first?["webhook_id"])
                #expect(first["data"]?["team"] == .string("payments"))

                let list = try JSONValue.parse(try await send(http, .GET, base + "/v1/webhooks").body)
                let status = try #require(list["webhooks"]?.arrayValue?.first)
                #expect(status["id"] == .string(subscription) && status["state"] == .string("ok") && status["secret"] == nil)
                let metrics = try await CLIServeTests().send(http, .GET, base + "/metrics", token: nil).body
                #expect(metrics.contains("auditlog_webhook_lag_records{subscription=\"\(subscription)\"}"))
                // Removing it is recorded.
                #expect(try await send(http, .DELETE, base + "/v1/webhooks/\(subscription)").status == 200)
                #expect(try await events(http, base + "/v1/events?event_type=audit.webhook_removed").count == 1)
            } catch {
                try? await http.shutdown()
                _ = server.stop()
                throw error
            }
            try await http.shutdown()
            #expect(server.stop() == 0, "\(server.stderr)")
        }
    }

    @Test func spendThresholdsFireOncePerWindowAndNewModelsOnce() async throws {
        // The spends below take ~10 s and must fall in one UTC hour (the threshold's window):
        // close to the end of one, start in the next (a run at 20:59:55 saw two alerts).
        let intoHour = Timestamp.now.nanosSinceEpoch % 3_600_000_000_000
        if intoHour > 3_600_000_000_000 - 40_000_000_000 {
            try await Task.sleep(for: .nanoseconds(3_600_000_000_000 - intoHour + 1_000_000_000))
        }
        try await withTemporaryDirectory { root in
            let dir = root + "/log"
            #expect(try CLIRunner.run(["ingest", "--dir", dir, "-"], stdin: Data(Self.blockedEvents(3, from: 1).utf8)).status == 0)
            let receiver = try Receiver(root: root)
            defer { receiver.stop() }
            // Added with the command while no server runs: it opens the log itself.
            let added = try CLIRunner.run([
                "webhook", "add", "--dir", dir, "--url", "http://127.0.0.1:\(receiver.port)/", "--events", "spend.threshold,model.first_seen",
                "--threshold", "team=payments cost>1/hour", "--secret-file", root + "/secret",
            ])
            #expect(added.status == 0 && added.stdout.hasPrefix("added webhook wh_"), "\(added.stderr)")
            let server = try Server(["--dir", dir, "--token-file", try Self.tokens(root), "--no-read-audit"], directory: root)
            try await server.waitUntilListening()
            try await server.withClient { http, base in
                func spend(_ cost: String, model: String = "m1", team: String = "payments") async throws {
                    let event = #"{"event_type":"decision","timestamp":"\#(Timestamp.now.rfc3339)","verdict":"allow","team":"\#(team)","model":"\#(model)","cost":\#(cost)}"#
                    #expect(try await send(http, .POST, base + "/v1/events", body: event).status == 201)
                    try await Task.sleep(for: .milliseconds(1500))
                }
                func count(_ type: String) -> Int { receiver.deliveries.filter { $0["event"]?["type"] == .string(type) }.count }
                try await spend("0.6")
                try await spend("5", team: "infra")
                #expect(count("auditlog.spend.threshold") == 0, "0.60 of payments is under 1")
                try await spend("0.6")
                try await spend("0.6")
                try await spend("0.6", model: "brand-new")
                try await spend("0.6", model: "brand-new")
                #expect(count("auditlog.spend.threshold") == 1, "crossed once this hour: \(receiver.deliveries)")
                let alert = receiver.deliveries.first { $0["event"]?["type"] == .string("auditlog.spend.threshold") }?["event"]?["data"]
                #expect(alert?["threshold"] == .string("team=payments cost>1/hour") && alert?["window"] == .string("hour"))
                #expect(count("auditlog.model.first_seen") == 1, "m1 was seen before the subscription; brand-new once")
                #expect(receiver.deliveries.allSatisfy { $0["verified"] == .bool(true) })
            }
        }
    }

    @Test func readsThroughTheServerAreRecordedAndATailIsOneRecord() async throws {
        try await withTemporaryDirectory { root in
            let dir = root + "/log"
            #expect(try CLIRunner.run(["ingest", "--dir", dir, "-"], stdin: Data(Self.blockedEvents(30, from: 0).utf8)).status == 0)
            let server = try Server(["--dir", dir, "--token-file", try Self.tokens(root)], directory: root)
            try await server.waitUntilListening()
            try await server.withClient { http, base in
                // A tail that sees 4 events, then goes away.
                let tail = Process()
                tail.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
                tail.arguments = ["-sN", "-m", "3", "-H", "Authorization: Bearer \(Self.writeToken)", base + "/v1/tail?verdict=block"]
                tail.standardOutput = FileHandle.nullDevice
                try tail.run()
                try await Task.sleep(for: .milliseconds(800))
                let r = try await send(http, .POST, base + "/v1/events", body: "[" + Self.blockedEvents(12, from: 0).split(separator: "\n").joined(separator: ",") + "]")
                #expect(r.status == 201)
                tail.waitUntilExit()
                _ = try await send(http, .GET, base + "/v1/events?limit=3")
                _ = try await send(http, .GET, base + "/v1/events?limit=3")
                // An event of tomorrow's partition seals today's segment.
                let tomorrow = Timestamp(nanosSinceEpoch: Timestamp.now.nanosSinceEpoch + 86_400_000_000_000).rfc3339
                let next = #"{"event_type":"decision","timestamp":"\#(tomorrow)","verdict":"allow","user":"u-next"}"#
                #expect(try await send(http, .POST, base + "/v1/events", body: next).status == 201)
                // The library's own metrics (swift-metrics, through the Prometheus registry serve
                // bootstraps) beside the API's.
                let metrics = try await CLIServeTests().send(http, .GET, base + "/metrics", token: nil).body
                func value(_ name: String) -> Int? {
                    metrics.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Int($0.split(separator: " ").last ?? "") }
                }
                // The 12 appended, and the server's own records (the token's first use).
                #expect((value("auditlog_writer_records_total") ?? 0) >= 12, "\(metrics)")
                #expect((value("auditlog_writer_sync_duration_seconds_count") ?? 0) >= 1)
                #expect((value("auditlog_writer_seal_duration_seconds_count") ?? 0) >= 1, "\(metrics)")
                #expect(metrics.contains("auditlog_queries_total "))
                #expect(metrics.contains("auditlog_http_requests_total{method=\"POST\",route=\"/v1/events\",status=\"201\"} 2"))
            }
            let reads = try CLIRunner.run(["export", "--dir", dir, "--filter", "event_type=audit.read", "--format", "ndjson"])
            let records = try reads.stdout.split(separator: "\n").map { try JSONValue.parse(String($0)) }
            let tails = records.filter { $0["details"]?["route"] == .string("/v1/tail") }
            #expect(tails.count == 1 && tails.first?["details"]?["events"] == .number("4"), "\(reads.stdout)")
            #expect(tails.first?["user"] == .string("ops") && tails.first?["ip"] == .string("127.0.0.1"))
            let pages = records.filter { $0["details"]?["route"] == .string("/v1/events") }
            // Two pages in a row: one record with a count of 2 (two, on a machine slow enough
            // to let a second pass between them); 6 events either way.
            let requests = pages.compactMap { $0["details"]?["requests"]?.intValue }.reduce(0, +)
            let returned = pages.compactMap { $0["details"]?["events"]?.intValue }.reduce(0, +)
            #expect(requests == 2 && returned == 6 && (1...2).contains(pages.count), "\(pages)")
        }
    }
}
