import AuditLog
import Foundation
import Testing

/// `auditlog sweep` and `auditlog hold` on a log generated over 30 days.
@Suite(.serialized) struct CLIRetentionTests {
    func segments(_ dir: String) throws -> [[String: Any]] {
        let r = try CLIRunner.run(["segments", "--dir", dir, "--json"])
        return try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]] ?? []
    }

    @Test func sweepRemovesExactlyTheExpiredUnheldSegmentsAndVerifyStillPasses() async throws {
        try await withTemporaryDirectory { dir in
            let gen = try CLIRunner.run(["gen", "--count", "6000", "--seed", "9", "--days", "30"])
            #expect(try CLIRunner.run(["ingest", "--dir", dir, "-"], stdin: Data(gen.stdout.utf8)).status == 0)
            let hold = try CLIRunner.run(["hold", "place", "--dir", dir, "--from", "20d", "--to", "19d", "--reason", "case 42", "--json"])
            #expect(hold.status == 0, "\(hold.stderr)")
            let holdID = (try JSONSerialization.jsonObject(with: Data(hold.stdout.utf8)) as? [String: Any])?["id"] as? String ?? ""
            #expect(try CLIRunner.run(["hold", "list", "--dir", dir]).stdout.contains(holdID))

            let before = try segments(dir)
            let cutoff = Timestamp(nanosSinceEpoch: Timestamp.now.nanosSinceEpoch - 7 * 86_400_000_000_000)
            let heldFrom = Timestamp(nanosSinceEpoch: Timestamp.now.nanosSinceEpoch - 20 * 86_400_000_000_000)
            let heldTo = Timestamp(nanosSinceEpoch: Timestamp.now.nanosSinceEpoch - 19 * 86_400_000_000_000)
            func time(_ s: [String: Any], _ key: String) -> Timestamp { Timestamp(rfc3339: s[key] as? String ?? "") ?? Timestamp(nanosSinceEpoch: 0) }
            let expected = before.dropLast().filter { s in
                time(s, "max_time") < cutoff && !(time(s, "max_time") >= heldFrom && time(s, "min_time") < heldTo)
            }.compactMap { $0["file"] as? String }

            let dry = try CLIRunner.run(["sweep", "--dir", dir, "--max-age", "7d", "--dry-run", "--json"])
            #expect(dry.status == 0, "\(dry.stderr)")
            #expect(try segments(dir).count == before.count)
            let sweep = try CLIRunner.run(["sweep", "--dir", dir, "--max-age", "7d", "--json"])
            #expect(sweep.status == 0, "\(sweep.stderr)")
            let report = try JSONSerialization.jsonObject(with: Data(sweep.stdout.utf8)) as? [String: Any] ?? [:]
            #expect(report["segments"] as? [String] == expected)
            let held = report["held_segments"] as? [String] ?? []
            #expect(!held.isEmpty)
            let kept = report["kept"] as? [[String: Any]] ?? []
            #expect(kept.compactMap { $0["segment"] as? String } == held)
            #expect(kept.allSatisfy { $0["holds"] as? [String] == [holdID] && ($0["releases"] as? [String])?.isEmpty == true }, "\(kept)")
            let text = try CLIRunner.run(["sweep", "--dir", dir, "--max-age", "7d", "--dry-run"])
            #expect(text.stdout.contains("kept \(held[0]): under legal hold \(holdID)\n"), "\(text.stdout)")
            #expect((report["bytes_freed"] as? Int ?? 0) > 0)
            let after = try segments(dir).compactMap { $0["file"] as? String }
            #expect(Set(after).isDisjoint(with: expected))
            #expect(try CLIRunner.run(["verify", "--dir", dir]).status == 0)

            #expect(try CLIRunner.run(["hold", "release", holdID, "--dir", dir]).status == 0)
            #expect(try CLIRunner.run(["hold", "release", "evt_nope", "--dir", dir]).status == 64)

            // A remaining sealed segment deleted by hand: verify fails and names the gap, and a
            // writer refuses the log (integrity failure).
            let victim = after[after.count - 3]
            try FileManager.default.removeItem(atPath: dir + "/" + victim)
            let verify = try CLIRunner.run(["verify", "--dir", dir])
            #expect(verify.status == 1)
            #expect(verify.stdout.contains("missing"))
            let refused = try CLIRunner.run(["sweep", "--dir", dir, "--max-age", "7d"])
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("no retention sweep record explains it"))
        }
    }

    @Test func sweepNeedsALimitAndTheWriteLock() async throws {
        try await withTemporaryDirectory { dir in
            #expect(try CLIRunner.run(["sweep", "--dir", dir]).status == 64)
            #expect(try CLIRunner.run(["sweep", "--dir", dir, "--max-age", "soon"]).status == 64)
            #expect(try CLIRunner.run(["sweep", "--dir", dir, "--max-size", "lots"]).status == 64)
            #expect(try CLIRunner.run(["sweep", "--dir", dir, "--max-age", "7d"]).status == 66)
            let log = try await AuditLog.open(directory: dir)
            _ = try await log.append([AuditEvent(eventType: "x", timestamp: .now)])
            #expect(try CLIRunner.run(["sweep", "--dir", dir, "--max-age", "7d"]).status == 75)
            try await log.close()
        }
    }
}
