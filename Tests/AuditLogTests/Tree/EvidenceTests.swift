import Foundation
import Testing

@_spi(Testing) @testable import AuditLog

/// Signed checkpoints and the proofs an auditor checks without the log: bundles verify with
/// the right key and fail with any other key or any changed byte; the log never signs a
/// history inconsistent with one it signed; sweeps keep every proof of what remains and every
/// consistency proof between signed checkpoints.
@Suite struct EvidenceTests {
    /// A fixed key keeps failures reproducible.
    static let signer: NoteSigner = {
        do { return try NoteSigner(name: "test.example/log", seed: Array(repeating: 7, count: 32)) } catch { preconditionFailure("\(error)") }
    }()

    func text(_ value: JSONValue) -> String { value.jsonText }

    @Test func bundlesVerifyAndEveryAlterationIsCaught() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await AuditLog.open(directory: dir, options: testOptions(segmentBytes: 32 << 10))
            _ = try await log.append(events(700, prefix: "a"))
            let first = try await log.signCheckpoint(with: Self.signer)
            #expect(first.checkpoint.size == 700 && first.checkpoint.origin == "test.example/log")
            // Unchanged log: the same checkpoint, not a second one.
            #expect(try await log.signCheckpoint(with: Self.signer) == first)
            _ = try await log.append(events(1_300, prefix: "b"))
            let second = try await log.signCheckpoint(with: Self.signer)
            #expect(try log.storedCheckpoints().map(\.checkpoint.size) == [700, 2_000])
            let verifier = Self.signer.verifier
            let other = try NoteSigner(generatingFor: "test.example/log").verifier

            for seq in [1, 2, 255, 256, 257, 699, 700, 1_024, 2_000] as [UInt64] {
                for size in [700, 2_000] as [UInt64] where seq <= size {
                    let bundle = try await log.inclusionBundle(seq: SequenceNumber(seq), size: size)
                    let summary = try ProofCheck.check(text(bundle), verifier: verifier)
                    #expect(summary.kind == .inclusion && summary.treeSize == size)
                    #expect(throws: AuditLogError.self) { try ProofCheck.check(text(bundle), verifier: other) }
                }
            }
            // Every byte of one entry, and each proof hash, changed: refused.
            let bundle = try await log.inclusionBundle(seq: SequenceNumber(300), size: nil)
            guard case .object(let members) = bundle, let entry = bundle["entry"]?.stringValue.flatMap(Base64.decode) else {
                Issue.record("no entry")
                return
            }
            func replacing(_ key: String, _ value: JSONValue) -> String {
                text(.object(members.map { $0.key == key ? JSONMember(key, value) : $0 }))
            }
            for i in stride(from: 0, to: entry.count, by: 7) {
                var changed = entry
                changed[i] ^= 0x10
                #expect(throws: AuditLogError.self) { try ProofCheck.check(replacing("entry", .string(Base64.encode(changed))), verifier: verifier) }
            }
            guard case .array(let proof)? = bundle["inclusion_proof"] else { return }
            for i in proof.indices {
                var hashes = proof
                var bytes = Base64.decode(hashes[i].stringValue ?? "") ?? []
                bytes[0] ^= 1
                hashes[i] = .string(Base64.encode(bytes))
                #expect(throws: AuditLogError.self) { try ProofCheck.check(replacing("inclusion_proof", .array(hashes)), verifier: verifier) }
            }
            // The event must be what the entry decodes to.
            var event = bundle["event"]
            if case .object(var fields)? = event {
                fields = fields.map { $0.key == "user" ? JSONMember("user", .string("mallory@acme.com")) : $0 }
                event = .object(fields)
            }
            #expect(throws: AuditLogError.self) { try ProofCheck.check(replacing("event", event ?? .null), verifier: verifier) }

            // An export with proofs checks as a whole, also when nothing matched.
            for users: Set<String> in [["user3@acme.com"], ["nobody@acme.com"]] {
                let export = try ProofExport(log, query: Query(filter: EventFilter(users: users), order: .oldestFirst), size: nil)
                var bytes: [UInt8] = []
                while try export.encodeNext(into: &bytes) {}
                let summary = try ProofCheck.check(String(decoding: bytes, as: UTF8.self), verifier: verifier)
                #expect(summary.kind == .export && summary.entries == export.count && summary.treeSize == 2_000)
            }
            // Consistency between the two checkpoints, and from every smaller size to the latest.
            let consistency = try await log.consistencyBundle(oldSize: 700, newSize: nil)
            #expect(try ProofCheck.check(text(consistency), verifier: verifier, old: first.note).kind == .consistency)
            #expect(throws: AuditLogError.self) { try ProofCheck.check(text(consistency), verifier: verifier, old: second.note) }
            for old in [1, 2, 3, 255, 256, 511, 1_999, 2_000] as [UInt64] {
                let bundle = try await log.consistencyBundle(oldSize: old, newSize: 2_000)
                #expect(bundle["old_size"] == .number(String(old)))
            }
            // Sizes without a checkpoint, and beyond the tree, name what there is.
            await #expect(throws: AuditLogError.self) { _ = try await log.inclusionBundle(seq: SequenceNumber(5), size: 800) }
            do {
                _ = try await log.inclusionBundle(seq: SequenceNumber(5), size: 800)
            } catch let error as AuditLogError {
                #expect(error.code == .invalidArgument && error.message.contains("700 and 2000"))
            }
            do {
                _ = try await log.inclusionBundle(seq: SequenceNumber(5), size: 9_000)
            } catch let error as AuditLogError {
                #expect(error.code == .invalidArgument && error.message.contains("beyond the tree"))
            }
            try await log.close()
        }
    }

    @Test func theLogRefusesToSignAHistoryInconsistentWithItsLastCheckpoint() async throws {
        try await withTemporaryDirectory { dir in
            try await withTemporaryDirectory { forkDir in
                var log = try await AuditLog.open(directory: dir, options: testOptions())
                _ = try await log.append(events(300, prefix: "x"))
                try await log.close()
                try FileManager.default.removeItem(atPath: forkDir)
                try FileManager.default.copyItem(atPath: dir, toPath: forkDir)
                // The original grows and signs; the copy grows differently (a rewritten tail).
                log = try await AuditLog.open(directory: dir, options: testOptions())
                _ = try await log.append(events(100, prefix: "honest"))
                _ = try await log.signCheckpoint(with: Self.signer)
                try await log.close()
                let fork = try await AuditLog.open(directory: forkDir, options: testOptions())
                _ = try await fork.append(events(150, prefix: "forged"))
                // The original's checkpoints appear in the fork: signing must refuse.
                try FileManager.default.copyItem(atPath: dir + "/checkpoints", toPath: forkDir + "/checkpoints")
                do {
                    _ = try await fork.signCheckpoint(with: Self.signer)
                    Issue.record("signed a forked history")
                } catch let error as AuditLogError {
                    #expect(error.code == .corruption && error.message.contains("refusing to sign"))
                }
                // And the tree audit of the fork against the original's checkpoint fails.
                try await fork.close()
                let note = try #require(try await AuditLog.open(directory: dir, options: .readOnly).latestStoredCheckpoint()).note
                let audit = try await AuditLog.auditTree(directory: forkDir, checkpoint: note, verifier: Self.signer.verifier)
                #expect(!audit.isConsistent)
                #expect(audit.findings.first?.contains("does not extend") == true)
            }
        }
    }

    /// An embedding service's checkpoints: signed on the interval when the log grew, once more
    /// at close, and the signer key never shows in descriptions or dumps.
    @Test func embeddersSignOnAnIntervalAndAtClose() async throws {
        try await withTemporaryDirectory { dir in
            var options = testOptions()
            let signing = try CheckpointSigning(signerKey: Self.signer.text, interval: .milliseconds(50))
            options.checkpointSigning = signing
            var dumped = ""
            dump(options, to: &dumped)
            for text in [signing.description, "\(signing)", String(reflecting: signing), "\(options)", dumped] {
                #expect(!text.contains("PRIVATE+KEY") && !text.contains(Self.signer.text.split(separator: "+").last.map(String.init) ?? "-"), "\(text)")
            }
            #expect(signing.verifierKey == Self.signer.verifier.text)
            #expect(throws: AuditLogError.self) { try CheckpointSigning(signerKey: "PRIVATE+KEY+x+00000000+AAAA") }
            #expect(throws: AuditLogError.self) { try CheckpointSigning(signerKey: Self.signer.text, interval: .zero) }

            let log = try await AuditLog.open(directory: dir, options: options)
            #expect(try await log.latestCheckpoint() == nil)
            _ = try await log.append(events(100, prefix: "a"))
            var note: String?
            for _ in 0..<100 where note == nil {
                try await Task.sleep(for: .milliseconds(20))
                note = try await log.latestCheckpoint()
            }
            #expect(note?.hasPrefix("test.example/log\n100\n") == true, "\(note ?? "none")")
            _ = try await log.append(events(5, prefix: "b"))
            try await log.close()
            let reader = try await AuditLog.open(directory: dir, options: .readOnly)
            #expect(try await reader.latestCheckpoint()?.hasPrefix("test.example/log\n105\n") == true)  // signed at close
            try await reader.close()
        }
    }

    /// Hostile evidence and tile paths are refused with an error, never a trap: extreme
    /// integers, short entries, long proofs, malformed notes.
    @Test func hostileEvidenceIsRefusedNotTrapped() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await AuditLog.open(directory: dir, options: testOptions())
            _ = try await log.append(events(300, prefix: "a"))
            let signed = try await log.signCheckpoint(with: Self.signer)
            let bundle = try await log.inclusionBundle(seq: SequenceNumber(3), size: nil)
            guard case .object(let members) = bundle else { return }
            func with(_ key: String, _ value: JSONValue) -> String {
                JSONValue.object(members.map { $0.key == key ? JSONMember(key, value) : $0 }).jsonText
            }
            let max = JSONValue.number(String(UInt64.max))
            let hostile = [
                with("leaf_index", max), with("leaf_index", .number("-1")), with("leaf_index", .number("1e400")),
                with("tree_size", max), with("entry", .string(Base64.encode([1, 0, 0, 0, 0, 0, 0, 0]))),
                with("entry", .string(Base64.encode(Array(repeating: 0xFF, count: 8) + [1, 2, 3]))),
                with("inclusion_proof", .array(Array(repeating: .string(MerkleTree.emptyRoot.base64), count: 10_000))),
                with("checkpoint", .string("x\n\n\u{2014} a b\n")), with("checkpoint", .string(String(repeating: "\n", count: 100))),
                with("event", .null), "{}", "[]", "null", "", "{\"checkpoint\": 1}\n{\"seq\": 0}",
                "{\"checkpoint\": \(JSONValue.string(signed.note.encoded).jsonText)}\n{\"seq\":0,\"leaf_index\":18446744073709551615}",
                "{\"consistency_proof\": [], \"old_size\": 18446744073709551615, \"new_size\": 1, \"checkpoint\": \(JSONValue.string(signed.note.encoded).jsonText)}",
            ]
            for text in hostile {
                #expect(throws: AuditLogError.self, "\(text.prefix(120))") { try ProofCheck.check(text, verifier: Self.signer.verifier, old: signed.note) }
            }
            // Tile paths: the largest index that parses is far past the tree.
            let huge = try #require(TlogTiles.parse("tile/0/x018/x446/x744/x073/x709/x551/615"))
            #expect(huge.index == UInt64.max)
            #expect(try await log.tlogTile(huge) == nil)
            #expect(TlogTiles.parse("tile/0/x018/x446/x744/x073/x709/x551/616") == nil)  // overflows
            #expect(try await log.tlogTile(TlogTiles.Tile(level: 7, index: 0, width: 1)) == nil)
            #expect(try await log.tlogTile(TlogTiles.Tile(level: nil, index: UInt64.max >> 8, width: 255)) == nil)
            // Random paths from the tile alphabet: parsed or refused, never a trap, and what
            // parses prints back as itself.
            var rng = SplitMix64(seed: 15)
            let alphabet = Array("x0123456789/.p")
            for _ in 0..<20_000 {
                let path = "tile/" + String((0..<(1 + rng.below(40))).map { _ in alphabet[rng.below(alphabet.count)] })
                if let tile = TlogTiles.parse(path) { #expect(TlogTiles.path(tile) == path) }
            }
            for bad in ["tile/8/000", "tile/0/00", "tile/0/0000", "tile/0/x000/001", "tile/0/001.p/0", "tile/0/001.p/256", "tile/0/001.p/07", "tile/-1/000", "tile/0/", "tile//000"] {
                #expect(TlogTiles.parse(bad) == nil, "\(bad)")
            }
            try await log.close()
        }
    }

    /// A crash while the history was appended to leaves part of a note at its end: readers
    /// ignore it and the next checkpoint replaces it.
    @Test func aTornHistoryAppendIsIgnoredAndOverwritten() async throws {
        for torn in ["test.example/log\n900\n", "test.example/log\n900\nAAAA\n\n\u{2014} test.exa", "tes"] {
            try await withTemporaryDirectory { dir in
                let log = try await AuditLog.open(directory: dir, options: testOptions())
                _ = try await log.append(events(300, prefix: "a"))
                let first = try await log.signCheckpoint(with: Self.signer)
                let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/checkpoints/history"))
                try handle.seekToEnd()
                try handle.write(contentsOf: Data(torn.utf8))
                try handle.close()
                #expect(try log.storedCheckpoints() == [first])
                _ = try await log.append(events(10, prefix: "b"))
                let second = try await log.signCheckpoint(with: Self.signer)
                #expect(try log.storedCheckpoints() == [first, second])
                let text = try String(contentsOfFile: dir + "/checkpoints/history", encoding: .utf8)
                #expect(text == first.note.encoded + second.note.encoded)
                try await log.close()
            }
        }
    }

    @Test func sweepsKeepTheProofsOfWhatRemainsAndBetweenCheckpoints() async throws {
        try await withTemporaryDirectory { dir in
            var options = testOptions(segmentBytes: 16 << 10)
            options.partition = .hour
            let log = try await AuditLog.open(directory: dir, options: options)
            let start = Timestamp(rfc3339: "2026-03-01T00:00:00Z")!
            var sizes: [UInt64] = []
            // Checkpoints at sizes that fall inside tiles sweeps will delete.
            for hour in 0..<12 {
                _ = try await log.append(events(211, from: start + .seconds(Int64(hour) * 3600), stepSeconds: 10, prefix: "h\(hour)-"))
                sizes.append(try await log.signCheckpoint(with: Self.signer).checkpoint.size)
            }
            let notes = try log.storedCheckpoints()
            let report = try await log.sweep(RetentionPolicy(maxAgeNanos: 5 * 3_600_000_000_000), actor: "ops", now: Self.twelveHoursIn)
            #expect(report.recordsRemoved > 700)
            let latest = try await log.signCheckpoint(with: Self.signer)
            let verifier = Self.signer.verifier
            let firstLive = try #require(log.segments.first?.firstSeq.rawValue)
            // Every remaining record proves its inclusion in the latest checkpoint and in every
            // older one that covers it.
            for seq in stride(from: firstLive, through: latest.checkpoint.size, by: 37) {
                let bundle = try await log.inclusionBundle(seq: SequenceNumber(seq), size: nil)
                #expect(try ProofCheck.check(bundle.jsonText, verifier: verifier).kind == .inclusion)
                for size in sizes where size >= seq {
                    let old = try await log.inclusionBundle(seq: SequenceNumber(seq), size: size)
                    #expect(try ProofCheck.check(old.jsonText, verifier: verifier).treeSize == size)
                }
            }
            // Every checkpoint before the sweep is consistent with every later one.
            for (i, older) in notes.enumerated() {
                for newer in notes[i...] {
                    let bundle = try await log.consistencyBundle(oldSize: older.checkpoint.size, newSize: newer.checkpoint.size)
                    #expect(try ProofCheck.check(bundle.jsonText, verifier: verifier, old: older.note).kind == .consistency)
                }
                let toLatest = try await log.consistencyBundle(oldSize: older.checkpoint.size, newSize: nil)
                #expect(try ProofCheck.check(toLatest.jsonText, verifier: verifier, old: older.note).treeSize == latest.checkpoint.size)
            }
            // A swept record has no inclusion proof: its record is gone.
            do {
                _ = try await log.inclusionBundle(seq: SequenceNumber(1), size: nil)
                Issue.record("proved a swept record")
            } catch let error as AuditLogError {
                #expect(error.code == .noLog)
            }
            try await log.close()
            // The tree audit still matches after the sweep.
            let audit = try await AuditLog.auditTree(directory: dir, checkpoint: notes[0].note, verifier: verifier)
            #expect(audit.isConsistent, "\(audit.findings)")
        }
    }

    /// Twelve hours of 211 events each in 16 KiB segments, a checkpoint signed after every
    /// hour, then a sweep of all but the last five hours cut short (its deletions fail) after
    /// `deletions` segments. The log, open for writing, and the checkpoints signed.
    func logAfterASweepCutShort(_ dir: String, deletions: Int) async throws -> (AuditLog, [StoredCheckpoint]) {
        var options = testOptions(segmentBytes: 16 << 10)
        options.partition = .hour
        let faults = FaultInjectingFileSystem()
        let log = try await AuditLog.open(directory: dir, options: options, fileSystem: faults)
        for hour in 0..<12 {
            _ = try await log.append(events(211, from: Self.start + .seconds(Int64(hour) * 3600), stepSeconds: 10, prefix: "h\(hour)-"))
            _ = try await log.signCheckpoint(with: Self.signer)
        }
        faults.inject(.init(operation: .remove, matching: ".seg", after: deletions, times: nil, fault: .fail(EIO)))
        await #expect(throws: AuditLogError.self) {
            _ = try await log.sweep(RetentionPolicy(maxAgeNanos: 5 * 3_600_000_000_000), actor: "ops", now: Self.twelveHoursIn)
        }
        faults.clear()
        return (log, try log.storedCheckpoints())
    }

    static let start = Timestamp(rfc3339: "2026-03-01T00:00:00Z") ?? Timestamp(nanosSinceEpoch: 0)
    static let twelveHoursIn = start + .seconds(12 * 3600)

    /// A sweep cut short between two deletions leaves part of a tile it meant to delete whole:
    /// what it kept of the tree must still serve the next sweep, and the proofs of what remains.
    /// (Found by a long power-cut run: a sweep that kept nothing of a tile lying within the
    /// segments it meant to delete, then stopped between them, left every later sweep failing
    /// — "the record of seq … is not in the log and its leaf hash was not kept" — and the log
    /// never shrank again.)
    @Test(arguments: [1, 2, 3, 4, 5])
    func aSweepCutShortLeavesWhatTheNextSweepAndTheProofsNeed(deletions: Int) async throws {
        try await withTemporaryDirectory { dir in
            let (log, notes) = try await logAfterASweepCutShort(dir, deletions: deletions)
            let verifier = Self.signer.verifier
            // What the cut left of the segments it meant to delete still proves its inclusion.
            let cutShort = try await log.signCheckpoint(with: Self.signer)
            for seq in try #require(log.segments.first?.firstSeq.rawValue)...cutShort.checkpoint.size {
                let bundle = try await log.inclusionBundle(seq: SequenceNumber(seq), size: nil)
                #expect(try ProofCheck.check(bundle.jsonText, verifier: verifier).kind == .inclusion, "seq \(seq), after the cut")
            }
            let second = try await log.sweep(RetentionPolicy(maxAgeNanos: 4 * 3_600_000_000_000), actor: "ops", now: Self.twelveHoursIn)
            #expect(second.recordsRemoved > 0)
            let latest = try await log.signCheckpoint(with: Self.signer)
            let firstLive = try #require(log.segments.first?.firstSeq.rawValue)
            for seq in stride(from: firstLive, through: latest.checkpoint.size, by: 7) {
                let bundle = try await log.inclusionBundle(seq: SequenceNumber(seq), size: nil)
                #expect(try ProofCheck.check(bundle.jsonText, verifier: verifier).kind == .inclusion, "seq \(seq)")
            }
            for older in notes {
                let toLatest = try await log.consistencyBundle(oldSize: older.checkpoint.size, newSize: nil)
                #expect(try ProofCheck.check(toLatest.jsonText, verifier: verifier, old: older.note).treeSize == latest.checkpoint.size)
            }
            try await log.close()
            let audit = try await AuditLog.auditTree(directory: dir, checkpoint: notes[0].note, verifier: verifier)
            #expect(audit.isConsistent, "\(audit.findings)")
        }
    }

    /// A log an older version left with leaves it did not keep (here: none kept at all after a
    /// sweep cut short) still sweeps: nodes over a lost leaf cannot be kept, and that must not
    /// stop every later sweep.
    @Test func leavesAnOlderSweepDidNotKeepDoNotStopTheNextSweep() async throws {
        try await withTemporaryDirectory { dir in
            let (log, _) = try await logAfterASweepCutShort(dir, deletions: 2)
            try FileManager.default.removeItem(atPath: dir + "/tree/kept.nodes")
            let second = try await log.sweep(RetentionPolicy(maxAgeNanos: 4 * 3_600_000_000_000), actor: "ops", now: Self.twelveHoursIn)
            #expect(second.recordsRemoved > 0)
            try await log.close()
            #expect(try await AuditLog.verify(directory: dir).isIntact)
        }
    }
}
