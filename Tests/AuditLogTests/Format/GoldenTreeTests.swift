import Foundation
import Testing

@testable import AuditLog

/// `fixtures/golden-v1-tree/` pins the tree and checkpoint files of docs/FORMAT.md, and
/// `fixtures/golden-v1-tree-proofs/` the proof bundles (written by fixtures/make-golden-tree.sh).
/// The key in `fixtures/evidence/` was written by Python's `cryptography` from a fixed seed, in
/// the text forms of Go's `sumdb/note`: this build must read it and derive the same verifier key.
@Suite struct GoldenTreeTests {
    static let fixtures = GoldenFixtureTests.root
    static let proofs = fixtures.appendingPathComponent("golden-v1-tree-proofs")
    /// The roots signed when the fixture was made.
    static let root300 = "G9Zmku//vNEzXDwhDmmFxJh1BEBjRbi8AygQiX/UW74="
    static let root600 = "FXzuzQVc9D98mMf7sBoFAEMPbE3Oylp9wAwlw5InRF0="

    func read(_ url: URL) throws -> String { try String(contentsOf: url, encoding: .utf8) }

    func withFixture<T>(_ body: (String) async throws -> T) async throws -> T {
        try await withTemporaryDirectory { dir in
            let copy = dir + "/golden-v1-tree"
            try FileManager.default.copyItem(atPath: Self.fixtures.appendingPathComponent("golden-v1-tree").path, toPath: copy)
            return try await body(copy)
        }
    }

    var verifier: NoteVerifier {
        get throws { try NoteVerifier(text: try read(Self.fixtures.appendingPathComponent("evidence/verifier.key"))) }
    }

    @Test func theKeysAreReadAndDerivedAsGoDoes() throws {
        let signerText = try read(Self.fixtures.appendingPathComponent("evidence/signer.key"))
        let signer = try NoteSigner(text: signerText)
        #expect(signer.text == signerText)
        #expect(signer.verifier.text + "\n" == (try read(Self.fixtures.appendingPathComponent("evidence/verifier.key"))))
        #expect(signer.name == "example.com/auditlog" && NoteKeys.hex8(signer.keyID) == "5f0f84f2")
    }

    @Test func theCheckpointsCommitToTheRecordsAndVerify() async throws {
        try await withFixture { dir in
            let log = try await AuditLog.open(directory: dir, options: .readOnly)
            let history = try log.storedCheckpoints()
            #expect(history.map(\.checkpoint.size) == [300, 600])
            #expect(history.map(\.checkpoint.rootBase64) == [Self.root300, Self.root600])
            #expect(try log.latestStoredCheckpoint() == history.last)
            for stored in history {
                #expect(stored.note.isSigned(by: try verifier))
                #expect(stored.note.encoded == (try read(Self.proofs.appendingPathComponent("checkpoint-\(stored.checkpoint.size).txt"))))
            }
            // The roots of the records alone (RFC 9162, computed without the tree code).
            let leaves = try await TreeStorageTests.leavesFromRecords(log)
            #expect(TreeStorageTests.referenceRoot(leaves[0..<300]).base64 == Self.root300)
            #expect(TreeStorageTests.referenceRoot(leaves[...]).base64 == Self.root600)
            // level-1.hashes: the header, then the roots of the two complete tiles of 256.
            let nodes = try Data(contentsOf: URL(fileURLWithPath: dir + "/tree/level-1.hashes"))
            var expected = TreeNodeFile.header(level: 1, logID: log.logID)
            expected += MerkleTree.perfectRoot(leaves[0..<256]).bytes + MerkleTree.perfectRoot(leaves[256..<512]).bytes
            #expect(Array(nodes) == expected)
            #expect(Array(nodes.prefix(11)) == Array("ALTRNODE".utf8) + [1, 0, 1])
            try await log.close()
            let audit = try await AuditLog.auditTree(directory: dir, checkpoint: history[0].note, verifier: try verifier)
            #expect(audit.isConsistent && audit.nodesChecked == 2, "\(audit.findings)")
        }
    }

    /// Every bundle checks, and this build proves exactly the same bytes.
    @Test func theProofBundlesCheckAndAreReproduced() async throws {
        try await withFixture { dir in
            let log = try await AuditLog.open(directory: dir, options: .readOnly)
            let old = try SignedNote(parsing: try read(Self.proofs.appendingPathComponent("checkpoint-300.txt")))
            for (file, seq, size) in [("inclusion-1", 1, nil), ("inclusion-256", 256, nil), ("inclusion-300", 300, nil), ("inclusion-600", 600, nil), ("inclusion-7-at-300", 7, 300)]
                as [(String, UInt64, UInt64?)]
            {
                let text = try read(Self.proofs.appendingPathComponent(file + ".json"))
                #expect(try ProofCheck.check(text, verifier: try verifier).kind == .inclusion)
                #expect(try await log.inclusionBundle(seq: SequenceNumber(seq), size: size).jsonText + "\n" == text, "\(file)")
            }
            let consistency = try read(Self.proofs.appendingPathComponent("consistency-300-600.json"))
            #expect(try ProofCheck.check(consistency, verifier: try verifier, old: old).kind == .consistency)
            #expect(try await log.consistencyBundle(oldSize: 300, newSize: nil).jsonText + "\n" == consistency)
            let export = try read(Self.proofs.appendingPathComponent("export-blocked.ndjson"))
            #expect(try ProofCheck.check(export, verifier: try verifier).entries == 17)
            let proofExport = try ProofExport(log, query: Query(filter: EventFilter(verdicts: [.block]), order: .oldestFirst), size: nil)
            var bytes: [UInt8] = []
            while try proofExport.encodeNext(into: &bytes) {}
            #expect(String(decoding: bytes, as: UTF8.self) == export)
            try await log.close()
        }
    }
}
