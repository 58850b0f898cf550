/// `verify --checkpoint OLD --key KEY` (docs/VERIFYING.md): whether the log extends a
/// checkpoint an auditor kept, judged from the records themselves, and whether the stored tree
/// (its node files and checkpoints) matches the records.
///
/// The tree is recomputed from every record in one pass: leaf hashes, then the nodes of every
/// complete tile. Where records were swept, the stored nodes and the kept ones stand in (they
/// cannot be checked against records that are gone; a consistency proof to the auditor's
/// checkpoint still binds them).
package struct TreeAuditReport: Sendable {
    /// The checkpoint the auditor kept.
    package var checkpointSize: UInt64
    package var origin: String
    /// Entries in the log's tree now.
    package var treeSize: UInt64
    /// The root the records give at ``treeSize``, base64.
    package var root: String?
    /// What does not match, worst first; empty when the log extends the checkpoint and the
    /// stored tree matches the records.
    package var findings: [String]
    /// Stored tree nodes checked against the records.
    package var nodesChecked: Int

    package var isConsistent: Bool { findings.isEmpty }
}

extension AuditLog {
    /// Checks the log at `directory` against `checkpoint` (a signed note) and `verifier`.
    package static func auditTree(directory: String, checkpoint note: SignedNote, verifier: NoteVerifier) async throws(AuditLogError) -> TreeAuditReport {
        let log = try await AuditLog.open(directory: directory, options: .readOnly)
        do {
            let report = try await BlockingIO.run { () throws(AuditLogError) in try log.auditTree(checkpoint: note, verifier: verifier) }
            try await log.close()
            return report
        } catch {
            try? await log.close()
            throw error
        }
    }

    func auditTree(checkpoint note: SignedNote, verifier: NoteVerifier) throws(AuditLogError) -> TreeAuditReport {
        let s = snapshot
        let size = s.nextSeq.rawValue - 1
        var report = TreeAuditReport(checkpointSize: 0, origin: "", treeSize: size, findings: [], nodesChecked: 0)
        let old: Checkpoint
        do {
            old = try ProofCheck.signedCheckpoint(.string(note.encoded), verifier: verifier, what: "the checkpoint you gave")
        } catch {
            report.findings.append(error.message)
            return report
        }
        report.checkpointSize = old.size
        report.origin = old.origin

        // The tree as the records give it.
        let levels = try recomputedLevels(segments: s.segments, size: size, report: &report)
        let records = try TreeReader(files, logID: logID, segments: s.segments, size: size, levels: levels)
        let rootNow = try records.prover.root(size: size)
        report.root = rootNow.base64

        if old.size > size {
            report.findings.insert("the log has \(size) entries, fewer than the \(old.size) of the checkpoint you kept: it was truncated", at: 0)
        } else {
            let root = try records.prover.root(size: old.size)
            if root != old.root {
                report.findings.insert(
                    "the log does not extend the checkpoint you kept: at size \(old.size) its records give root \(root.base64), the checkpoint says \(old.root.base64) (entries at or before \(old.size) were rewritten, replaced or forked)",
                    at: 0)
            } else {
                // The proof the stored tree gives must join the two roots.
                let stored = try treeReader()
                let proof = try stored.prover.consistencyProof(oldSize: old.size, newSize: size)
                if !MerkleVerifier.verifyConsistency(oldSize: old.size, newSize: size, oldRoot: old.root, newRoot: rootNow, proof: proof) {
                    report.findings.append("the stored tree's consistency proof from size \(old.size) to \(size) does not join the checkpoint's root to the records' root")
                }
            }
        }
        // The log's own checkpoints must commit to what its records give.
        for stored in try storedCheckpoints() where stored.checkpoint.size <= size {
            let cp = stored.checkpoint
            let root = try records.prover.root(size: cp.size)
            guard root != cp.root else { continue }
            let signed = stored.note.isSigned(by: verifier) ? " (signed by the key you trust: it signed another history)" : ""
            report.findings.append("the log's stored checkpoint of size \(cp.size) has root \(cp.root.base64); its records give \(root.base64)\(signed)")
            break
        }
        return report
    }

    /// Every complete node of tile level ≥ 1, recomputed from the records (stored or kept
    /// nodes where records were swept), each compared with the node files.
    private func recomputedLevels(segments: [SegmentInfo], size: UInt64, report: inout TreeAuditReport) throws(AuditLogError) -> [Int: [TreeHash]] {
        let width = UInt64(TreeWriter.tileWidth)
        let kept = try KeptNodes.load(files, logID: logID)
        let storedLevel1 = try TreeWriter.read(files, level: 1, logID: logID)
        var level1: [TreeHash?] = []
        level1.reserveCapacity(Int(size / width))
        var tile: [TreeHash] = []
        var next: UInt64 = 1  // the next seq the tile needs
        func fill(upTo seq: UInt64) {
            // Seqs not in any segment: swept. Their leaf hashes come from the kept nodes, or
            // the tile cannot be recomputed.
            while next < seq {
                let index = next - 1
                if let hash = kept[0, index], tile.count == Int(index % width) {
                    tile.append(hash)
                } else {
                    tile.removeAll()
                }
                next += 1
                if next - 1 == (index / width + 1) * width {
                    level1.append(tile.count == Int(width) ? MerkleTree.perfectRoot(tile) : nil)
                    tile.removeAll()
                }
            }
        }
        try TreeLeaves.forEach(files, segments: segments) { seq, hash in
            fill(upTo: seq.rawValue)
            let index = seq.rawValue - 1
            if tile.count == Int(index % width) { tile.append(hash) } else { tile.removeAll() }
            next = seq.rawValue + 1
            if seq.rawValue % width == 0 {
                level1.append(tile.count == Int(width) ? MerkleTree.perfectRoot(tile) : nil)
                tile.removeAll()
            }
        }
        fill(upTo: size + 1)
        var levels: [Int: [TreeHash]] = [:]
        var below = try compare(level: 1, recomputed: level1, stored: storedLevel1, report: &report)
        levels[1] = below
        var level = 2
        while UInt64(below.count) >= width {
            let nodes = (0..<(below.count / Int(width))).map { i -> TreeHash? in MerkleTree.perfectRoot(below[(i * Int(width))..<((i + 1) * Int(width))]) }
            below = try compare(level: level, recomputed: nodes, stored: try TreeWriter.read(files, level: level, logID: logID), report: &report)
            levels[level] = below
            level += 1
        }
        return levels
    }

    /// The recomputed nodes, stored ones standing in where they could not be recomputed; the
    /// first mismatch (and how many) becomes a finding.
    private func compare(level: Int, recomputed: [TreeHash?], stored: [TreeHash], report: inout TreeAuditReport) throws(AuditLogError) -> [TreeHash] {
        var out: [TreeHash] = []
        out.reserveCapacity(recomputed.count)
        var mismatches: [Int] = []
        for (i, node) in recomputed.enumerated() {
            let onDisk = i < stored.count ? stored[i] : nil
            if let node {
                if let onDisk {
                    report.nodesChecked += 1
                    if onDisk != node { mismatches.append(i) }
                }
                out.append(node)
            } else if let onDisk {
                out.append(onDisk)
            } else {
                let span = TreeWriter.width(level)
                throw AuditLogError(
                    .corruption, "the tree node of level \(level) over entries \(UInt64(i) * span)–\(UInt64(i + 1) * span - 1) is neither stored nor computable from records",
                    location: .init(file: LogDirectory.treeDisplayName(LogDirectory.treeNodesName(level: level))))
            }
        }
        if let first = mismatches.first {
            let span = TreeWriter.width(level)
            report.findings.append(
                "\(LogDirectory.treeDisplayName(LogDirectory.treeNodesName(level: level))): \(mismatches.count) node(s) do not match the records, the first over entries \(UInt64(first) * span)–\(UInt64(first + 1) * span - 1) (byte offset \(TreeNodeFile.offset(ofNode: UInt64(first))))"
            )
        }
        return out
    }
}
