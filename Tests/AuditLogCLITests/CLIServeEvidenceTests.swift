import AsyncHTTPClient
@_spi(Testing) import AuditLog
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// `auditlog serve --signing-key`: checkpoints signed on the interval as the log grows, the
/// proof endpoints, and the C2SP tlog-tiles API followed by an independent client (Python)
/// that recomputes the signed root from the tiles — with tokens, `--public-tree` and without.
@Suite(.serialized) struct CLIServeEvidenceTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Scripts/tlog_client.py").path

    @Test func aSigningServerServesCheckpointsProofsAndTiles() async throws {
        try await withTemporaryDirectory { work in
            let key = work + "/signer.key"
            let verifier = try CLIRunner.run(["keygen", "--name", "serve.test/log", "--private", key]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let read = "evidence-read-token"
            let write = "evidence-write-token"
            try Data("read \(CLIServeTests.hex(read))\nwrite \(CLIServeTests.hex(write))\n".utf8).write(to: URL(fileURLWithPath: work + "/tokens"))
            let server = try CLIServeTests.Server(
                ["--dir", work + "/log", "--token-file", work + "/tokens", "--signing-key", key, "--checkpoint-interval", "1s", "--public-tree", "--no-read-audit"], directory: work)
            try await server.waitUntilListening()
            #expect(server.stderr.contains("verifier key: \(verifier)"))
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            let base = "http://127.0.0.1:\(server.port)"
            func get(_ path: String, token: String? = read) async throws -> (status: Int, body: String) {
                try await CLIServeTests().send(http, .GET, base + path, token: token)
            }
            do {
                #expect(try await get("/v1/checkpoint").status == 404)  // nothing signed yet, and the log is empty
                let gen = try CLIRunner.run(["gen", "--count", "1300", "--seed", "21"])
                let posted = try await CLIServeTests().send(http, .POST, base + "/v1/events", token: write, body: gen.stdout, contentType: "application/x-ndjson")
                #expect(posted.status == 201)
                // Within an interval or two, a checkpoint of all 1,300.
                var note = ""
                for _ in 0..<100 {
                    let r = try await get("/v1/checkpoint")
                    if r.status == 200, r.body.contains("\n1300\n") {
                        note = r.body
                        break
                    }
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(note.hasPrefix("serve.test/log\n1300\n"), "\(note)")
                #expect(try await get("/v1/checkpoint", token: nil).status == 401)
                #expect(try await get("/tlog/checkpoint", token: nil).body == note)  // --public-tree

                let inclusion = try await get("/v1/proof/inclusion?seq=700")
                #expect(inclusion.status == 200)
                let signer = try NoteVerifier(text: verifier)
                #expect(try ProofCheck.check(inclusion.body, verifier: signer).treeSize == 1300)
                #expect(try await get("/v1/proof/inclusion?seq=700&size=5").status == 400)
                #expect(try await get("/v1/proof/inclusion?id=evt_none").status == 404)
                #expect(try await get("/v1/proof/inclusion").status == 400)
                let consistency = try await get("/v1/proof/consistency?old=1000")
                #expect(consistency.status == 200 && consistency.body.contains("\"old_size\":1000"))
                #expect(try await get("/v1/proof/consistency?old=2000").status == 400)

                // Tiles: hash tiles public, entry bundles need a token; non-canonical paths 404.
                #expect(try await get("/tlog/tile/0/000", token: nil).status == 200)
                #expect(try await get("/tlog/tile/entries/000", token: nil).status == 401)
                #expect(try await get("/tlog/tile/entries/000").status == 200)
                #expect(try await get("/tlog/tile/0/x000/000").status == 404)
                #expect(try await get("/tlog/tile/0/x018/x446/x744/x073/x709/x551/616", token: nil).status == 404)  // past UInt64
                #expect(try await get("/tlog/tile/0/x999/x999/x999/x999/x999/x999/x999/999", token: nil).status == 404)
                #expect(try await get("/tlog/tile/0/005.p/20").status == 200)  // 1300 = 5·256 + 20
                #expect(try await get("/tlog/tile/0/005").status == 404)
                #expect(try await get("/tlog/tile/0/000.p/3").status == 404)  // its full tile exists
                #expect(try await get("/tlog/tile/1/000.p/5").status == 200)  // 5 complete tiles below
                #expect(try await get("/tlog/tile/1/000.p/6").status == 404)

                let client = try CLIRunner.shell("python3 \(Self.script) \(base) '\(verifier)' \(read)")
                #expect(client.status == 0 && client.stdout.contains("ok 1300"), "\(client.stdout)\(client.stderr)")
            } catch {
                try await http.shutdown()
                _ = server.stop()
                throw error
            }
            try await http.shutdown()
            #expect(server.stop() == 0)
            // The log the server left verifies against the checkpoint it served.
            let latest = try String(contentsOfFile: work + "/log/checkpoints/latest", encoding: .utf8)
            try Data(latest.utf8).write(to: URL(fileURLWithPath: work + "/kept.txt"))
            let verify = try CLIRunner.run(["verify", "--dir", work + "/log", "--checkpoint", work + "/kept.txt", "--key", verifier])
            #expect(verify.status == 0, "\(verify.stdout)")
        }
    }
}
