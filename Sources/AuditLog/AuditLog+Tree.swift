/// The Merkle tree of a log as of now (docs/FORMAT.md, "Merkle tree").
extension AuditLog {
    /// Entries in the tree now: every record ever appended (sweeps delete records, not tree
    /// positions).
    var treeSize: UInt64 { snapshot.nextSeq.rawValue - 1 }

    /// A reader of the tree as of now, for proofs (read on the calling thread).
    func treeReader() throws(AuditLogError) -> TreeReader {
        let s = snapshot
        return try TreeReader(files, logID: logID, segments: s.segments, size: s.nextSeq.rawValue - 1, kept: try keptNodes())
    }

    /// The kept nodes, read again only when `tree/kept.nodes` changed size (a sweep appended
    /// to it): every proof needs them, and the file grows with the checkpoints ever signed.
    func keptNodes() throws(AuditLogError) -> KeptNodes {
        let size = files.treeFileSize(LogDirectory.keptNodesName)
        if let cached = keptCache.withLock({ $0 }), cached.size == size { return cached.nodes }
        let nodes = try KeptNodes.load(files, logID: logID)
        keptCache.withLock { $0 = (size, nodes) }
        return nodes
    }

    /// Why the writer keeps no tree now (nil when it does, or for a read-only handle).
    var treeProblem: AuditLogError? { writerTreeProblem }
}
