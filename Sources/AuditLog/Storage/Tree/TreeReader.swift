/// Hashes of complete subtrees of a log's Merkle tree as of a snapshot, for proofs: from the
/// level files where they are stored (tile levels ≥ 1, combined up to the height asked), from
/// records (leaf hashes) below that, and from the kept nodes where records were swept. Whatever
/// a file lacks (a writer's node not yet written) is recomputed from the level below.
///
/// One reader per request: not thread-safe.
final class TreeReader {
    let directory: LogDirectory
    let logID: LogID
    let segments: [SegmentInfo]
    /// Entries in the snapshot.
    let size: UInt64
    private let kept: KeptNodes
    private var files: [Int: any SegmentFile] = [:]
    private var fileCounts: [Int: UInt64] = [:]
    private var leafTiles: [UInt64: [TreeHash]] = [:]
    /// Subtrees of height ≥ 8 computed before (proofs of neighbouring entries share most).
    private var upper: [KeptNodes.Key: TreeHash] = [:]

    /// Nodes given instead of the level files (a tree recomputed from the records).
    private let given: [Int: [TreeHash]]?

    /// A reader of the stored tree, or — with `levels` — of a tree whose nodes of tile level
    /// ≥ 1 are those given (the leaves always come from the records and the kept nodes).
    /// `kept`: the kept nodes when the caller has them loaded already (else read here).
    init(_ directory: LogDirectory, logID: LogID, segments: [SegmentInfo], size: UInt64, levels: [Int: [TreeHash]]? = nil, kept: KeptNodes? = nil) throws(AuditLogError) {
        self.directory = directory
        self.logID = logID
        self.segments = segments
        self.size = size
        given = levels
        if let kept {
            self.kept = kept
        } else {
            self.kept = try KeptNodes.load(directory, logID: logID)
        }
    }

    deinit {
        for file in files.values { file.close() }
    }

    /// A prover over this snapshot.
    var prover: MerkleProver<AuditLogError> {
        MerkleProver { (level, index) throws(AuditLogError) in try self.subtree(level: level, index: index) }
    }

    /// The hash of entries `[index · 2^level, (index + 1) · 2^level)`, which must all be below
    /// ``size``.
    func subtree(level: Int, index: UInt64) throws(AuditLogError) -> TreeHash {
        guard level < 64, (index + 1) << UInt64(level) <= size else {
            throw AuditLogError(.invalidArgument, "no complete subtree of height \(level) at index \(index) in a tree of \(size) entries")
        }
        if let hash = kept[level, index] { return hash }
        if level >= 8 {
            let key = KeptNodes.Key(level: level, index: index)
            if let hash = upper[key] { return hash }
            let tileLevel = level / 8
            let count = UInt64(1) << UInt64(level % 8)
            let hash = MerkleTree.perfectRoot(try stored(tileLevel, from: index * count, count: count))
            if upper.count >= 4096 { upper.removeAll(keepingCapacity: true) }
            upper[key] = hash
            return hash
        }
        let first = index << UInt64(level)
        let tile = first / UInt64(TreeWriter.tileWidth)
        let leaves = try leafTile(tile)
        let lo = Int(first - tile * UInt64(TreeWriter.tileWidth))
        return MerkleTree.perfectRoot(leaves[lo..<(lo + (1 << level))])
    }

    /// Nodes `from..<from+count` of tile level `level` (each covering 256^level entries).
    private func stored(_ level: Int, from: UInt64, count: UInt64) throws(AuditLogError) -> [TreeHash] {
        var out: [TreeHash] = []
        out.reserveCapacity(Int(count))
        if let given {
            let nodes = given[level] ?? []
            let end = min(UInt64(nodes.count), from + count)
            if from < end { out += nodes[Int(from)..<Int(end)] }
        } else if from < (try nodeCount(level)), let file = files[level] {
            let available = try nodeCount(level)
            let n = min(count, available - from)
            var buffer: [UInt8] = []
            let got = try file.read(into: &buffer, count: Int(n) * TreeHash.byteCount, at: TreeNodeFile.offset(ofNode: from))
            guard got == Int(n) * TreeHash.byteCount else {
                throw AuditLogError(.corruption, "tree node file ends early", location: .init(file: file.displayName, offset: TreeNodeFile.offset(ofNode: from)))
            }
            buffer.withUnsafeBytes { raw in
                for i in 0..<Int(n) {
                    let start = i * TreeHash.byteCount
                    if let hash = TreeHash(bytes: UnsafeRawBufferPointer(rebasing: raw[start..<(start + TreeHash.byteCount)])) { out.append(hash) }
                }
            }
        }
        // Nodes the file does not hold yet: from the level below.
        var next = from + UInt64(out.count)
        while next < from + count {
            out.append(try subtree(level: 8 * level, index: next))
            next += 1
        }
        return out
    }

    /// How many nodes the file of a level holds (0 without one), checking its header once.
    private func nodeCount(_ level: Int) throws(AuditLogError) -> UInt64 {
        if let count = fileCounts[level] { return count }
        var count: UInt64 = 0
        if let file = try directory.openTree(LogDirectory.treeNodesName(level: level)) {
            var header: [UInt8] = []
            let got = try file.read(into: &header, count: TreeNodeFile.headerBytes, at: 0)
            if got == TreeNodeFile.headerBytes {
                try TreeNodeFile.check(header: header, level: level, logID: logID, file: file.displayName)
                count = UInt64(try file.size() - Int64(TreeNodeFile.headerBytes)) / UInt64(TreeHash.byteCount)
                count = min(count, size / TreeWriter.width(level))
                files[level] = file
            } else {
                file.close()
            }
        }
        fileCounts[level] = count
        return count
    }

    /// The leaf hashes of bottom tile `tile` (as far as the snapshot goes), cached.
    private func leafTile(_ tile: UInt64) throws(AuditLogError) -> [TreeHash] {
        if let cached = leafTiles[tile] { return cached }
        let lo = tile * UInt64(TreeWriter.tileWidth)
        let hi = min(lo + UInt64(TreeWriter.tileWidth), size)
        let leaves = try TreeLeaves.hashes(directory, segments: segments, entries: lo..<hi, kept: kept)
        if leafTiles.count >= 16 { leafTiles.removeAll() }
        leafTiles[tile] = leaves
        return leaves
    }
}
