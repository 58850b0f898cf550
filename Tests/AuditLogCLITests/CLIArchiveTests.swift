import AsyncHTTPClient
import AuditLog
import AuditLogTestSupport
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// The archive through the tool, as an operator uses it: `--archive` once, then every command
/// on the directory reads through it with credentials from the environment.
@Suite(.enabled(if: MotoServer.isAvailable, "moto_server is not installed (pip install 'moto[server]')"))
struct CLIArchiveTests {
    @Test func archiveEvictAndReadThroughTheTool() async throws {
        let moto = try MotoServer(buckets: ["audit"])
        defer { moto.stop() }
        try await withTemporaryDirectory { tmp in
            let dir = tmp + "/log"
            let env = moto.environment
            let gen = try CLIRunner.run(["gen", "--count", "3000", "--seed", "7", "--days", "0.5"])
            #expect(gen.status == 0)
            let ingest = try CLIRunner.run(
                ["ingest", "--dir", dir, "--partition", "hour", "--archive", "s3://audit/gw1", "--s3-endpoint", moto.endpoint, "-"], stdin: Data(gen.stdout.utf8),
                environment: env)
            #expect(ingest.status == 0, "\(ingest.stderr)")
            let before = try CLIRunner.run(["export", "--dir", dir], environment: env)
            #expect(before.status == 0)

            // Every sealed segment is archived; the directory remembers where.
            let segments = try CLIRunner.run(["segments", "--dir", dir, "--json"], environment: env)
            let list = try #require(try JSONSerialization.jsonObject(with: Data(segments.stdout.utf8)) as? [[String: Any]])
            #expect(list.count >= 6)
            #expect(list.dropLast().allSatisfy { $0["archive"] as? String == "archived" })
            #expect(list.last?["archive"] is NSNull)
            #expect(FileManager.default.fileExists(atPath: dir + "/archive.json"))

            // A writer with --local-retention 0s leaves only the active segment on disk.
            let evict = try CLIRunner.run(["ingest", "--dir", dir, "--local-retention", "0s", "-"], stdin: Data(), environment: env)
            #expect(evict.status == 0, "\(evict.stderr)")
            let local = try FileManager.default.contentsOfDirectory(atPath: dir + "/segments").filter { $0.hasSuffix(".seg") }
            #expect(local.count == 1)
            let table = try CLIRunner.run(["segments", "--dir", dir], environment: env)
            #expect(table.stdout.contains("ARCHIVE") && table.stdout.contains("evicted"))

            // Reads and verify see the same log, with no flag.
            let after = try CLIRunner.run(["export", "--dir", dir], environment: env)
            #expect(after.status == 0, "\(after.stderr)")
            #expect(after.stdout == before.stdout)
            let verify = try CLIRunner.run(["verify", "--dir", dir], environment: env)
            #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
            #expect(verify.stdout.contains("3000 records"))

            // Without credentials (and no cache to fall back on), a read that needs the archive
            // fails naming the object: never a shorter answer.
            try? FileManager.default.removeItem(atPath: dir + "/archive-cache")
            let noCredentials = try CLIRunner.run(
                ["export", "--dir", dir], environment: ["AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""])
            #expect(noCredentials.status == 69, "\(noCredentials.stderr)")
            #expect(noCredentials.stderr.contains("gw1/") && noCredentials.stderr.contains("segments/"))
            // A writer without credentials says it will not upload.
            let blind = try CLIRunner.run(["ingest", "--dir", dir, "-"], stdin: Data(), environment: ["AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""])
            #expect(blind.status == 0)
            #expect(blind.stderr.contains("warning: this log archives to s3://audit/gw1"), "\(blind.stderr)")
            // A store that is down: the same, naming the object.
            moto.stop()
            let down = try CLIRunner.run(["tail", "--dir", dir, "--since", "2000-01-01", "--limit", "5000"], environment: env)
            #expect(down.status == 69, "\(down.stderr)")
            #expect(down.stderr.contains("s3://audit/gw1/"))
        }
    }

    @Test func serveUploadsWhatItSealsAndShowsTheLagInMetrics() async throws {
        let moto = try MotoServer(buckets: ["audit"])
        defer { moto.stop() }
        try await withTemporaryDirectory { root in
            let dir = root + "/log"
            let tokenFile = root + "/tokens"
            try "write \(CLIServeTests.hex("tok-write"))\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
            let server = try CLIServeTests.Server(
                ["--dir", dir, "--token-file", tokenFile, "--partition", "hour", "--archive", "s3://audit/served", "--s3-endpoint", moto.endpoint],
                environment: moto.environment, directory: root)
            try await server.waitUntilListening()
            let base = "http://127.0.0.1:\(server.port)"
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            do {
                // Three hours of events: two segments seal.
                let events = (0..<3).map { #"{"event_type":"decision","timestamp":"2026-03-20T0\#($0):30:00Z","verdict":"allow"}"# }
                for event in events {
                    var request = HTTPClientRequest(url: base + "/v1/events")
                    request.method = .POST
                    request.headers.add(name: "Authorization", value: "Bearer tok-write")
                    request.headers.add(name: "Content-Type", value: "application/x-ndjson")
                    request.body = .bytes(ByteBuffer(string: event))
                    let response = try await http.execute(request, timeout: .seconds(30))
                    #expect(response.status.code == 201)
                }
                var metrics = ""
                for _ in 0..<100 {
                    let response = try await http.execute(HTTPClientRequest(url: base + "/metrics"), timeout: .seconds(30))
                    metrics = String(buffer: try await response.body.collect(upTo: 1 << 20))
                    if metrics.contains("auditlog_archive_uploaded_segments_total 2") { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(metrics.contains("auditlog_archive_lag_segments 0"), "\(metrics)")
                #expect(metrics.contains("auditlog_archive_uploaded_segments_total 2"))
                #expect(metrics.contains("auditlog_archive_conflicts 0"))
            } catch {
                Issue.record(error)
            }
            try await http.shutdown()
            #expect(server.stop() == 0, "\(server.stderr)")
        }
    }

    @Test func serveFleetAnswersAsTheUnionOfThreeNodes() async throws {
        let moto = try MotoServer(buckets: ["audit"])
        defer { moto.stop() }
        try await withTemporaryDirectory { root in
            let env = moto.environment
            var union = ""
            for n in 0..<3 {
                let dir = root + "/node\(n)"
                let gen = try CLIRunner.run(["gen", "--count", "1500", "--seed", String(20 + n), "--days", "0.5"])
                let args = ["ingest", "--dir", dir, "--partition", "hour", "--archive", "s3://audit/fleet", "--s3-endpoint", moto.endpoint, "-"]
                #expect(try CLIRunner.run(args, stdin: Data(gen.stdout.utf8), environment: env).status == 0)
                union += gen.stdout
                // A later event opens a new segment: every generated event is in a sealed one.
                let sentinel = #"{"event_type":"decision","timestamp":"2030-01-01T00:00:00Z","id":"sentinel-\#(n)"}"#
                #expect(try CLIRunner.run(["ingest", "--dir", dir, "-"], stdin: Data(sentinel.utf8), environment: env).status == 0)
            }
            let merged = try CLIRunner.run(["ingest", "--dir", root + "/merged", "-"], stdin: Data(union.utf8))
            #expect(merged.status == 0, "\(merged.stderr)")

            let server = try CLIServeTests.Server(
                ["--dir", root + "/fleet", "--insecure-no-auth", "--fleet", "--archive", "s3://audit/fleet", "--s3-endpoint", moto.endpoint], environment: env,
                directory: root)
            try await server.waitUntilListening()
            let base = "http://127.0.0.1:\(server.port)"
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            func get(_ path: String) async throws -> (Int, String) {
                let response = try await http.execute(HTTPClientRequest(url: base + path), timeout: .seconds(60))
                return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 64 << 20)))
            }
            do {
                let (status, nodes) = try await get("/v1/nodes")
                #expect(status == 200)
                guard case .array(let list)? = try JSONValue.parse(nodes)["nodes"] else { throw CLIError(message: "no nodes", status: 1) }
                #expect(list.count == 3)

                // Pages of 500 until the cursor ends: each generated event once, with its node.
                var ids: [String] = []
                var nodesSeen = Set<String>()
                var cursor: String?
                repeat {
                    let (code, body) = try await get("/v1/events?limit=500" + (cursor.map { "&cursor=" + $0 } ?? ""))
                    #expect(code == 200, "\(body)")
                    let page = try JSONValue.parse(body)
                    guard case .array(let data)? = page["data"] else { break }
                    for event in data {
                        ids.append(event["id"]?.stringValue ?? "")
                        nodesSeen.insert(event["node"]?.stringValue ?? "")
                    }
                    cursor = page["next_cursor"]?.stringValue
                } while cursor != nil
                #expect(ids.count == 4500)
                #expect(Set(ids).count == 4500)
                #expect(nodesSeen.count == 3)

                // Usage is that of one log holding the three nodes' events, byte for byte.
                let (_, usage) = try await get("/v1/usage?group_by=team&group_by=model")
                let cli = try CLIRunner.run(["usage", "--dir", root + "/merged", "--group-by", "team", "--group-by", "model", "--format", "json"])
                #expect(usage == cli.stdout)

                // A lookup, a node filter, mistakes.
                let first = ids[0]
                #expect(try await get("/v1/events/" + first).0 == 200)
                #expect(try await get("/v1/events/nope").0 == 404)
                #expect(try await get("/v1/events?node=0123").0 == 400)
                #expect(try await get("/v1/events?cursor=garbage").0 == 400)

                let (verifyStatus, verify) = try await get("/v1/verify")
                #expect(verifyStatus == 200)
                #expect(try JSONValue.parse(verify)["intact"] == .bool(true))
            } catch {
                Issue.record(error)
            }
            try await http.shutdown()
            #expect(server.stop() == 0, "\(server.stderr)")
        }
    }

    @Test func archiveFlagsAreCheckedBeforeAnythingOpens() throws {
        let bad = try CLIRunner.run(["export", "--dir", "/nonexistent", "--archive", "http://bucket"])
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("s3://"))
        let lonely = try CLIRunner.run(["export", "--dir", "/nonexistent", "--s3-endpoint", "http://x"])
        #expect(lonely.status == 64)
        let retention = try CLIRunner.run(["ingest", "--dir", "/nonexistent", "--local-retention", "soon", "-"])
        #expect(retention.status == 64)
        #expect(retention.stderr.contains("--local-retention"))
    }
}
