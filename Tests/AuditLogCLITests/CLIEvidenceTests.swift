import Foundation
import Testing

/// The evidence commands as an auditor runs them: keygen, checkpoint, prove, check-proof,
/// export --proofs and verify --checkpoint — and every tampering the issue names (a tail
/// rewritten with a recomputed chain and tree, a truncation, one record replaced, a forked
/// history signed with the same key) caught by `verify --checkpoint` against a checkpoint the
/// auditor kept. Signatures are cross-checked with Python's `cryptography`.
@Suite(.serialized) struct CLIEvidenceTests {
    static func ingest(_ dir: String, count: Int, seed: Int) throws {
        let gen = try CLIRunner.run(["gen", "--count", String(count), "--seed", String(seed), "--days", "2", "--end", "2026-03-21T00:00:00Z"])
        let r = try CLIRunner.run(["ingest", "--dir", dir, "-"], stdin: Data(gen.stdout.utf8))
        #expect(r.status == 0, "\(r.stderr)")
    }

    static func write(_ text: String, _ path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    static func copy(_ from: String, _ to: String) throws {
        try? FileManager.default.removeItem(atPath: to)
        try FileManager.default.copyItem(atPath: from, toPath: to)
        try? FileManager.default.removeItem(atPath: to + "/LOCK")
    }

    @Test func keygenCheckpointProveAndCheckEndToEnd() async throws {
        try await withTemporaryDirectory { work in
            let dir = work + "/log"
            try Self.ingest(dir, count: 3_000, seed: 3)
            let key = work + "/signer.key"
            let keygen = try CLIRunner.run(["keygen", "--name", "gw.example.com/audit", "--private", key])
            #expect(keygen.status == 0, "\(keygen.stderr)")
            let verifier = keygen.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(verifier.hasPrefix("gw.example.com/audit+") && verifier.split(separator: "+", maxSplits: 2).count == 3)
            let attributes = try FileManager.default.attributesOfItem(atPath: key)
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
            #expect(try String(contentsOfFile: key, encoding: .utf8).hasPrefix("PRIVATE+KEY+gw.example.com/audit+"))
            // Never overwritten.
            let again = try CLIRunner.run(["keygen", "--name", "other", "--private", key])
            #expect(again.status == 73 && again.stderr.contains("exists"))
            #expect(try CLIRunner.run(["keygen", "--name", "bad name", "--private", work + "/k2"]).status == 64)

            // Before any checkpoint: prove says so (exit 64).
            #expect(try CLIRunner.run(["prove", "--dir", dir, "--seq", "1"]).status == 64)
            let cp1 = try CLIRunner.run(["checkpoint", "--dir", dir, "--key", key])
            #expect(cp1.status == 0, "\(cp1.stderr)")
            #expect(cp1.stdout.hasPrefix("gw.example.com/audit\n3000\n"))
            #expect(cp1.stdout.contains("\n\n\u{2014} gw.example.com/audit "))
            try Self.write(cp1.stdout, work + "/cp1.txt")
            try Self.write(verifier + "\n", work + "/verifier.key")
            try Self.crossCheck(note: cp1.stdout, verifier: verifier, signerFile: key)

            try Self.ingest(dir, count: 1_000, seed: 4)
            let cp2 = try CLIRunner.run(["checkpoint", "--dir", dir, "--key", key])
            #expect(cp2.stdout.hasPrefix("gw.example.com/audit\n4000\n"))

            // Inclusion by id and by seq, at the latest and at a named size.
            let export = try CLIRunner.run(["export", "--dir", dir, "--format", "ndjson"])
            let firstLine = try #require(export.stdout.split(separator: "\n").first)
            let id = try #require((try JSONSerialization.jsonObject(with: Data(firstLine.utf8)) as? [String: Any])?["id"] as? String)
            let byID = try CLIRunner.run(["prove", "--dir", dir, "--id", id])
            #expect(byID.status == 0, "\(byID.stderr)")
            let bundle = try #require(try JSONSerialization.jsonObject(with: Data(byID.stdout.utf8)) as? [String: Any])
            #expect(bundle["tree_size"] as? Int == 4000 && bundle["leaf_index"] as? Int == 0 && bundle["origin"] as? String == "gw.example.com/audit")
            #expect((bundle["event"] as? [String: Any])?["id"] as? String == id)
            try Self.write(byID.stdout, work + "/p.json")
            #expect(try CLIRunner.run(["check-proof", work + "/p.json", "--key", work + "/verifier.key"]).status == 0)
            #expect(try CLIRunner.run(["check-proof", work + "/p.json", "--key", verifier]).status == 0)
            let wrongKey = try CLIRunner.run(["keygen", "--name", "gw.example.com/audit", "--private", work + "/other.key"]).stdout
            let wrong = try CLIRunner.run(["check-proof", work + "/p.json", "--key", wrongKey.trimmingCharacters(in: .whitespacesAndNewlines)])
            #expect(wrong.status == 1 && wrong.stdout.contains("INVALID"))
            let atOld = try CLIRunner.run(["prove", "--dir", dir, "--seq", "2999", "--size", "3000"])
            #expect(atOld.status == 0 && atOld.stdout.contains("\"tree_size\":3000"))
            let noSuchSize = try CLIRunner.run(["prove", "--dir", dir, "--seq", "5", "--size", "3500"])
            #expect(noSuchSize.status == 64 && noSuchSize.stderr.contains("3000 and 4000"), "\(noSuchSize.stderr)")
            #expect(try CLIRunner.run(["prove", "--dir", dir, "--seq", "5", "--size", "9000"]).status == 64)
            #expect(try CLIRunner.run(["prove", "--dir", dir, "--id", "evt_nope"]).status == 66)
            #expect(try CLIRunner.run(["prove", "--dir", dir, "--seq", "3500", "--size", "3000"]).status == 64)

            // Consistency: checked against the checkpoint the auditor kept.
            let consistency = try CLIRunner.run(["prove", "--dir", dir, "--old-size", "3000"])
            #expect(consistency.status == 0 && consistency.stdout.contains("\"new_size\":4000"))
            try Self.write(consistency.stdout, work + "/c.json")
            #expect(try CLIRunner.run(["check-proof", work + "/c.json", "--key", verifier, "--checkpoint", work + "/cp1.txt"]).status == 0)
            #expect(try CLIRunner.run(["check-proof", work + "/c.json", "--key", verifier]).status == 64)
            #expect(try CLIRunner.run(["prove", "--dir", dir, "--old-size", "4000"]).stdout.contains("\"consistency_proof\":[]"))

            // A filtered export with proofs is evidence on its own; any edited line is caught.
            let proofs = try CLIRunner.run(["export", "--dir", dir, "--verdict", "block", "--proofs", "--output", work + "/blocked.ndjson"])
            #expect(proofs.status == 0, "\(proofs.stderr)")
            let lines = try String(contentsOfFile: work + "/blocked.ndjson", encoding: .utf8).split(separator: "\n")
            #expect(lines.count > 10 && lines[0].hasPrefix("{\"checkpoint\":"))
            let check = try CLIRunner.run(["check-proof", work + "/blocked.ndjson", "--key", verifier])
            #expect(check.status == 0 && check.stdout.contains("\(lines.count - 1) event(s)"), "\(check.stdout)\(check.stderr)")
            var edited = lines.map(String.init)
            edited[3] = edited[3].replacingOccurrences(of: "\"verdict\":\"block\"", with: "\"verdict\":\"allow\"")
            try Self.write(edited.joined(separator: "\n") + "\n", work + "/edited.ndjson")
            let bad = try CLIRunner.run(["check-proof", work + "/edited.ndjson", "--key", verifier])
            #expect(bad.status == 1 && bad.stdout.contains("line 4"), "\(bad.stdout)")
            #expect(try CLIRunner.run(["export", "--dir", dir, "--proofs", "--format", "csv"]).status == 64)

            // verify --checkpoint on the honest log.
            let verify = try CLIRunner.run(["verify", "--dir", dir, "--checkpoint", work + "/cp1.txt", "--key", verifier])
            #expect(verify.status == 0 && verify.stdout.contains("extends the checkpoint"), "\(verify.stdout)")
        }
    }

    /// Each tampering is a log that verifies on its own (chain and tree recomputed), caught only
    /// against the checkpoint the auditor kept.
    @Test func tamperingIsCaughtByVerifyCheckpoint() async throws {
        try await withTemporaryDirectory { work in
            let key = work + "/signer.key"
            let verifier = try CLIRunner.run(["keygen", "--name", "audit.test", "--private", key]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let base = work + "/base"
            try Self.ingest(base, count: 1_500, seed: 11)
            let honest = work + "/honest"
            try Self.copy(base, honest)
            try Self.ingest(honest, count: 700, seed: 12)
            let kept = try CLIRunner.run(["checkpoint", "--dir", honest, "--key", key])
            try Self.write(kept.stdout, work + "/kept.txt")
            func audit(_ dir: String) throws -> CLIRunner.Result {
                let plain = try CLIRunner.run(["verify", "--dir", dir])
                #expect(plain.status == 0, "the tampered log verifies on its own: \(plain.stdout)")
                return try CLIRunner.run(["verify", "--dir", dir, "--checkpoint", work + "/kept.txt", "--key", verifier, "--json"])
            }
            #expect(try audit(honest).status == 0)

            // The tail rewritten: same prefix, other events after it (chain and tree recomputed
            // by the writer itself).
            let rewritten = work + "/rewritten"
            try Self.copy(base, rewritten)
            try Self.ingest(rewritten, count: 700, seed: 13)
            let r1 = try audit(rewritten)
            #expect(r1.status == 1 && r1.stdout.contains("does not extend the checkpoint"), "\(r1.stdout)")

            // Truncated: the prefix alone, and the prefix plus part of the honest tail.
            let truncated = work + "/truncated"
            try Self.copy(base, truncated)
            let r2 = try audit(truncated)
            #expect(r2.status == 1 && r2.stdout.contains("fewer than the 2200"), "\(r2.stdout)")

            // One record replaced: the honest tail with one event changed.
            let replaced = work + "/replaced"
            try Self.copy(base, replaced)
            let gen = try CLIRunner.run(["gen", "--count", "700", "--seed", "12", "--days", "2", "--end", "2026-03-21T00:00:00Z"])
            var lines = gen.stdout.split(separator: "\n").map(String.init)
            lines[350] = lines[350].replacingOccurrences(of: "\"verdict\":\"allow\"", with: "\"verdict\":\"block\"")
            lines[350] = lines[350].replacingOccurrences(of: "\"verdict\":\"redact\"", with: "\"verdict\":\"block\"")
            let ingested = try CLIRunner.run(["ingest", "--dir", replaced, "-"], stdin: Data((lines.joined(separator: "\n") + "\n").utf8))
            #expect(ingested.status == 0)
            let r3 = try audit(replaced)
            #expect(r3.status == 1 && r3.stdout.contains("does not extend the checkpoint"), "\(r3.stdout)")

            // A forked history signed with the same key: the fork's own checkpoint verifies, the
            // consistency to the kept one cannot.
            let forkNote = try CLIRunner.run(["checkpoint", "--dir", rewritten, "--key", key])
            #expect(forkNote.status == 0)
            try Self.write(forkNote.stdout, work + "/fork.txt")
            let forkProof = try CLIRunner.run(["prove", "--dir", rewritten, "--old-size", "2200"])
            try Self.write(forkProof.stdout, work + "/fork-consistency.json")
            let forkCheck = try CLIRunner.run(["check-proof", work + "/fork-consistency.json", "--key", verifier, "--checkpoint", work + "/kept.txt"])
            #expect(forkCheck.status == 1, "\(forkCheck.stdout)")
            #expect(try audit(rewritten).status == 1)

            // A stored tree node changed by hand: the tree audit names the file.
            let nodes = honest + "/tree/level-1.hashes"
            var bytes = try Data(contentsOf: URL(fileURLWithPath: nodes))
            bytes[32 + 5] ^= 0x40
            try bytes.write(to: URL(fileURLWithPath: nodes))
            let r4 = try CLIRunner.run(["verify", "--dir", honest, "--checkpoint", work + "/kept.txt", "--key", verifier])
            #expect(r4.status == 1 && r4.stdout.contains("tree/level-1.hashes"), "\(r4.stdout)")
        }
    }

    /// The note, key id and signature checked by an independent Ed25519 implementation.
    static func crossCheck(note: String, verifier: String, signerFile: String) throws {
        let script = """
            import base64, hashlib, sys
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
            from cryptography.hazmat.primitives import serialization
            note, vkey, signer = open(sys.argv[1]).read(), open(sys.argv[2]).read().strip(), open(sys.argv[3]).read().strip()
            name, kid, key = vkey.split("+", 2)
            raw = base64.b64decode(key); assert raw[0] == 1 and len(raw) == 33
            h = hashlib.sha256(name.encode() + b"\\n" + b"\\x01" + raw[1:]).digest()[:4]
            assert h.hex() == kid, "key id"
            parts = signer.split("+", 4); assert parts[:4] == ["PRIVATE", "KEY", name, kid]
            seed = base64.b64decode(parts[4]); assert seed[0] == 1
            pub = Ed25519PrivateKey.from_private_bytes(seed[1:]).public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            assert pub == raw[1:], "public key"
            text, sigs = note.rsplit("\\n\\n", 1)
            line = sigs.rstrip("\\n").split("\\n")[0]
            assert line.startswith("\\u2014 " + name + " ")
            sig = base64.b64decode(line.split(" ")[2])
            assert sig[:4] == h
            Ed25519PublicKey.from_public_bytes(pub).verify(sig[4:], (text + "\\n").encode())
            assert Ed25519PrivateKey.from_private_bytes(seed[1:]).sign((text + "\\n").encode()) == sig[4:]
            print("ok")
            """
        try withTemporaryFiles(["check.py": script, "note": note, "verifier": verifier]) { dir in
            let r = try CLIRunner.shell("python3 \(dir)/check.py \(dir)/note \(dir)/verifier \(signerFile)")
            #expect(r.status == 0 && r.stdout.contains("ok"), "python cross-check: \(r.stdout)\(r.stderr)")
        }
    }

    static func withTemporaryFiles(_ files: [String: String], _ body: (String) throws -> Void) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("evidence-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (name, text) in files { try write(text, dir + "/" + name) }
        try body(dir)
    }
}
