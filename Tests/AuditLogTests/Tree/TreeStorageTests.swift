import Foundation
import Testing

@testable import AuditLog

/// The tree the writer keeps as it appends: its root at every size equals the root computed
/// from the records alone; after a crash, lost or extra nodes are recomputed or cut; proofs
/// from the stored tree verify.
@Suite struct TreeStorageTests {
    /// Leaf hashes computed from the records read back (re-encoded), without the tree code.
    static func leavesFromRecords(_ log: AuditLog) async throws -> [TreeHash] {
        var out: [TreeHash] = []
        for try await r in log.records() {
            let bytes = r.event.recordBytes()
            out.append(bytes.withUnsafeBytes { MerkleTree.leafHash(seq: r.seq, record: $0) })
        }
        return out
    }

    static func referenceRoot(_ leaves: ArraySlice<TreeHash>) -> TreeHash {
        if leaves.isEmpty { return MerkleTree.emptyRoot }
        if leaves.count == 1 { return leaves[leaves.startIndex] }
        let k = Int(MerkleTree.split(UInt64(leaves.count)))
        return MerkleTree.nodeHash(referenceRoot(leaves.prefix(k)), referenceRoot(leaves.dropFirst(k)))
    }

    @Test func theStoredTreeGivesTheRootOfTheRecordsAtEverySize() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await AuditLog.open(directory: dir, options: testOptions(segmentBytes: 64 << 10))
            var appended = 0
            for batch in [1, 254, 1, 1, 300, 1_000, 255, 66_000] {
                _ = try await log.append(events(batch, prefix: "b\(appended)-"))
                appended += batch
                let reader = try log.treeReader()
                let leaves = try await Self.leavesFromRecords(log)
                #expect(try reader.prover.root(size: UInt64(appended)) == Self.referenceRoot(leaves[...]), "after \(appended)")
                // The writer's root from the nodes it holds in memory.
                #expect(log.writerTreeHead?.size == UInt64(appended))
                #expect(log.writerTreeHead?.root == Self.referenceRoot(leaves[...]), "after \(appended)")
            }
            // Nodes of tile levels 1 and 2 are on disk.
            #expect(FileManager.default.fileExists(atPath: dir + "/tree/level-1.hashes"))
            #expect(FileManager.default.fileExists(atPath: dir + "/tree/level-2.hashes"))
            let leaves = try await Self.leavesFromRecords(log)
            let reader = try log.treeReader()
            var rng = SplitMix64(seed: 5)
            for _ in 0..<40 {
                let n = 1 + UInt64(rng.below(appended))
                let m = UInt64(rng.below(Int(n)))
                let root = Self.referenceRoot(leaves[0..<Int(n)])
                #expect(try reader.prover.root(size: n) == root)
                let proof = try reader.prover.inclusionProof(index: m, size: n)
                #expect(MerkleVerifier.verifyInclusion(leafHash: leaves[Int(m)], index: m, size: n, proof: proof, root: root))
                let old = 1 + UInt64(rng.below(Int(n)))
                let consistency = try reader.prover.consistencyProof(oldSize: old, newSize: n)
                #expect(MerkleVerifier.verifyConsistency(oldSize: old, newSize: n, oldRoot: Self.referenceRoot(leaves[0..<Int(old)]), newRoot: root, proof: consistency))
            }
            try await log.close()
        }
    }

    @Test func lostAndExtraNodesAreRecomputedAtOpen() async throws {
        try await withTemporaryDirectory { dir in
            var log = try await AuditLog.open(directory: dir, options: testOptions())
            _ = try await log.append(events(3_000))
            try await log.close()
            let path = dir + "/tree/level-1.hashes"
            let full = try Data(contentsOf: URL(fileURLWithPath: path))
            #expect(full.count == 32 + 11 * 32)  // 3,000 entries: 11 complete tiles of 256

            // A crash lost the last nodes and tore one: recomputed at open.
            try full.prefix(32 + 4 * 32 + 10).write(to: URL(fileURLWithPath: path))
            log = try await AuditLog.open(directory: dir, options: testOptions())
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == full)
            // Nodes beyond the records (as after a torn tail was cut): removed at open.
            _ = try await log.append(events(600, prefix: "more-"))
            try await log.close()
            let reopened = try Data(contentsOf: URL(fileURLWithPath: path))
            #expect(reopened.count == 32 + 14 * 32)  // 3,600 entries: 14 tiles
            var grown = reopened
            grown.append(Data(repeating: 7, count: 64))  // two nodes no records back
            try grown.write(to: URL(fileURLWithPath: path))
            log = try await AuditLog.open(directory: dir, options: testOptions())
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == reopened)
            let leaves = try await Self.leavesFromRecords(log)
            #expect(try log.treeReader().prover.root(size: 3_600) == Self.referenceRoot(leaves[...]))
            // No tree at all (a log from before trees): built from the records.
            try await log.close()
            try FileManager.default.removeItem(atPath: dir + "/tree")
            log = try await AuditLog.open(directory: dir, options: testOptions())
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == reopened)
            try await log.close()
        }
    }

    /// What a power cut leaves of unsynced node writes — bytes that are not the nodes (torn,
    /// reordered, or zeros where the size got to disk before the data) — is never trusted:
    /// nodes over the unsealed segment that no `tree/synced` mark covers are recomputed at
    /// open, and a zeroed header is written again. (The power-cut test found the writer
    /// signing a checkpoint over such nodes.) After a clean close the mark covers them all, so
    /// nothing is read again.
    @Test func nodesAPowerCutMayHaveLeftAreRecomputedNotTrusted() async throws {
        try await withTemporaryDirectory { dir in
            // One segment, never sealed: none of its nodes was synced before a seal.
            var log = try await AuditLog.open(directory: dir, options: testOptions())
            _ = try await log.append(events(3_000))
            try await log.close()
            let path = dir + "/tree/level-1.hashes"
            let good = try Data(contentsOf: URL(fileURLWithPath: path))
            var damaged = good
            damaged.replaceSubrange(32 + 5 * 32..<32 + 7 * 32, with: Data(repeating: 0, count: 64))  // zero-filled
            damaged[32 + 9 * 32 + 3] ^= 0x40  // a reordered write kept old bytes
            try damaged.write(to: URL(fileURLWithPath: path))
            // The cut came before the close: no mark says these nodes were synced.
            #expect(FileManager.default.fileExists(atPath: dir + "/tree/synced"))
            try FileManager.default.removeItem(atPath: dir + "/tree/synced")
            log = try await AuditLog.open(directory: dir, options: testOptions())
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == good)
            let leaves = try await Self.leavesFromRecords(log)
            #expect(log.writerTreeHead?.root == Self.referenceRoot(leaves[...]))
            try await log.close()

            // A file whose header never reached the disk (its size did): rewritten whole.
            try Data(repeating: 0, count: good.count).write(to: URL(fileURLWithPath: path))
            try FileManager.default.removeItem(atPath: dir + "/tree/synced")
            // And the temporary file of a mark the cut interrupted is cleared.
            try Data([1, 2, 3]).write(to: URL(fileURLWithPath: dir + "/tree/synced.tmp-1-2"))
            log = try await AuditLog.open(directory: dir, options: testOptions())
            #expect(!FileManager.default.fileExists(atPath: dir + "/tree/synced.tmp-1-2"))
            #expect(log.treeProblem == nil)
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == good)
            try await log.close()
        }
    }

    @Test func aNodeFileOfAnotherLogIsRefusedAndTheLogStillAppends() async throws {
        try await withTemporaryDirectory { dir in
            try await withTemporaryDirectory { other in
                let a = try await AuditLog.open(directory: dir, options: testOptions())
                _ = try await a.append(events(600))
                try await a.close()
                let b = try await AuditLog.open(directory: other, options: testOptions())
                _ = try await b.append(events(600))
                try await b.close()
                try FileManager.default.removeItem(atPath: dir + "/tree/level-1.hashes")
                try FileManager.default.copyItem(atPath: other + "/tree/level-1.hashes", toPath: dir + "/tree/level-1.hashes")
                let log = try await AuditLog.open(directory: dir, options: testOptions())
                #expect(log.treeProblem?.message.contains("another log") == true)
                _ = try await log.append(events(10, prefix: "x"))
                try await log.close()
            }
        }
    }
}
