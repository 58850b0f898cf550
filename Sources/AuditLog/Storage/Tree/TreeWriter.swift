/// The writer's half of the Merkle tree: hashes each entry as it is appended, keeps the
/// incomplete tiles in memory, and appends every node that completes a tile of 256 to its
/// level's file (`tree/level-<L>.hashes`). No second pass over records: the only reads are at
/// open, to recompute what a crash left unwritten (at most the nodes of unsynced appends and
/// the leaf hashes of the last incomplete tile).
///
/// Files are written with the segment's frames and synced when a segment is sealed, before a
/// sweep deletes anything, and at close; a crash in between loses only nodes the records still
/// determine, and the next open recomputes them. Runs on the writer's queue.
final class TreeWriter {
    static let tileWidth = 256

    let directory: LogDirectory
    let logID: LogID
    /// Entries hashed.
    private(set) var size: UInt64
    /// Per tile level L: the level-L hashes of the incomplete tile above them (leaf hashes for
    /// L = 0); never 256 of them.
    private var partial: [[TreeHash]]
    /// Per level ≥ 1: nodes in the file (written, perhaps not synced), and those completed since.
    private var written: [UInt64]
    private var pending: [[TreeHash]]
    private var files: [Int: any SegmentFile] = [:]
    private var unsynced = false
    /// The size `tree/synced` says (``TreeSyncMark``).
    private var marked: UInt64 = 0

    /// Opens the tree of a log holding entries `0..<size` in `segments`: checks each level file
    /// against the log, cuts nodes past its size (records a recovery cut), and recomputes nodes
    /// a crash left unwritten and the incomplete tiles. Nodes over entries from `trusted` (or
    /// from the size `tree/synced` names, if larger) on may not have been synced — after a
    /// power cut they can hold anything a torn or reordered write left — so they are
    /// recomputed from the records, never read.
    ///
    /// - Throws: ``AuditLogError`` when a file belongs to another log or another version, and
    ///   ``AuditLogError/Code/noLog`` when a node must be recomputed from records no longer in
    ///   the log (a log swept before it kept a tree): the caller then runs without a tree.
    init(_ directory: LogDirectory, logID: LogID, segments: [SegmentInfo], size: UInt64, trusted: UInt64) throws(AuditLogError) {
        self.directory = directory
        self.logID = logID
        self.size = size
        let kept = try KeptNodes.load(directory, logID: logID)
        // A mark past the records (a torn tail was cut since) is brought down first: nodes
        // written from here over re-appended entries must not pass for synced ones.
        marked = TreeSyncMark.read(directory, logID: logID)
        if marked > size {
            try TreeSyncMark.write(directory, size: size, logID: logID)
            marked = size
        }
        let trusted = max(trusted, marked)
        partial = [[]]
        written = [0]
        pending = [[]]
        let existing = try directory.treeLevels()
        var below: [TreeHash] = []  // every node of the level under the one being opened
        var level = 1
        while Self.width(level) <= size || level <= (existing.last ?? 0) {
            let expected = size / Self.width(level)
            var nodes = try Self.read(directory, level: level, logID: logID)
            // Records were cut (a torn tail): so are the nodes over them; and nodes past the
            // synced ones are recomputed.
            let keep = min(expected, trusted / Self.width(level))
            if UInt64(nodes.count) > keep {
                nodes.removeSubrange(Int(keep)...)
                let file = try self.file(level)
                try file.truncate(to: TreeNodeFile.offset(ofNode: keep))
                unsynced = true
            }
            let onDisk = UInt64(nodes.count)
            var missing: [TreeHash] = []
            if onDisk < expected {
                // Nodes of appends a crash left unwritten: recomputed from the level below.
                if level == 1 {
                    let width = UInt64(Self.tileWidth)
                    below = try TreeLeaves.hashes(directory, segments: segments, entries: (onDisk * width)..<(expected * width), kept: kept)
                    for i in 0..<Int(expected - onDisk) {
                        missing.append(MerkleTree.perfectRoot(below[(i * Self.tileWidth)..<((i + 1) * Self.tileWidth)]))
                    }
                } else {
                    for i in Int(onDisk)..<Int(expected) {
                        missing.append(MerkleTree.perfectRoot(below[(i * Self.tileWidth)..<((i + 1) * Self.tileWidth)]))
                    }
                }
                nodes += missing
            }
            written.append(onDisk)
            pending.append(missing)
            let tileStart: Int = Int(expected) / Self.tileWidth * Self.tileWidth
            partial.append(Array(nodes[tileStart...]))
            below = nodes
            level += 1
        }
        // Level 0: the leaf hashes of the incomplete bottom tile.
        let bottom = size / UInt64(Self.tileWidth) * UInt64(Self.tileWidth)
        partial[0] = try TreeLeaves.hashes(directory, segments: segments, entries: bottom..<size, kept: kept)
        try flush()
    }

    /// Entries under one node of tile level `level`: 256^level.
    static func width(_ level: Int) -> UInt64 { UInt64(1) << UInt64(8 * level) }

    static func read(_ directory: LogDirectory, level: Int, logID: LogID) throws(AuditLogError) -> [TreeHash] {
        let name = LogDirectory.treeNodesName(level: level)
        guard let file = try directory.openTree(name) else { return [] }
        defer { file.close() }
        let bytes = try file.readAll()
        // Shorter than a header, or a header never written (zeros where a power cut kept the
        // file's size but not its bytes): no nodes; ``file(_:)`` writes the header again.
        guard bytes.count >= TreeNodeFile.headerBytes, !bytes[0..<TreeNodeFile.headerBytes].allSatisfy({ $0 == 0 }) else { return [] }
        try TreeNodeFile.check(header: Array(bytes[0..<TreeNodeFile.headerBytes]), level: level, logID: logID, file: LogDirectory.treeDisplayName(name))
        return TreeNodeFile.hashes(in: bytes)
    }

    /// Hashes the entry of `seq` (the next one) into the tree.
    func append(seq: SequenceNumber, record: UnsafeRawBufferPointer) {
        partial[0].append(MerkleTree.leafHash(seq: seq, record: record))
        size += 1
        var level = 0
        while partial[level].count == Self.tileWidth {
            let node = MerkleTree.perfectRoot(partial[level])
            partial[level].removeAll(keepingCapacity: true)
            level += 1
            if level == partial.count {
                partial.append([])
                written.append(0)
                pending.append([])
            }
            partial[level].append(node)
            pending[level].append(node)
        }
    }

    /// The root of the tree as of the last append (RFC 9162), from the nodes in memory: the
    /// incomplete tile of each level holds exactly the complete subtrees the root combines.
    func root() -> TreeHash {
        var subtrees: [TreeHash] = []  // largest first
        for level in partial.indices.reversed() {
            var rest = partial[level][...]
            for j in (0..<8).reversed() where rest.count & (1 << j) != 0 {
                subtrees.append(MerkleTree.perfectRoot(rest.prefix(1 << j)))
                rest = rest.dropFirst(1 << j)
            }
        }
        guard var root = subtrees.last else { return MerkleTree.emptyRoot }
        for subtree in subtrees.dropLast().reversed() { root = MerkleTree.nodeHash(subtree, root) }
        return root
    }

    /// Writes the nodes completed since the last flush to their files.
    func flush() throws(AuditLogError) {
        for level in pending.indices where level >= 1 && !pending[level].isEmpty {
            let file = try file(level)
            var bytes: [UInt8] = []
            bytes.reserveCapacity(pending[level].count * TreeHash.byteCount)
            for node in pending[level] { bytes += node.bytes }
            try file.write(bytes, at: TreeNodeFile.offset(ofNode: written[level]))
            written[level] += UInt64(pending[level].count)
            pending[level].removeAll(keepingCapacity: true)
            unsynced = true
        }
    }

    /// Makes the written nodes durable, without saying so in `tree/synced`: what a seal needs,
    /// whose footer (written after it) makes the same nodes trusted — the mark's temporary
    /// file, rename and two syncs would only hold up the appending path.
    func syncNodes() throws(AuditLogError) {
        try flush()
        if unsynced {
            for file in files.values { try file.sync() }
            unsynced = false
        }
    }

    /// Makes the written nodes durable, then says so in `tree/synced`.
    func sync() throws(AuditLogError) {
        try syncNodes()
        if size > marked {
            try TreeSyncMark.write(directory, size: size, logID: logID)
            marked = size
        }
    }

    func close() {
        for file in files.values { file.close() }
        files.removeAll()
    }

    /// The open file of a level, created with its header when missing.
    private func file(_ level: Int) throws(AuditLogError) -> any SegmentFile {
        if let file = files[level] { return file }
        let file = try directory.openTreeForWriting(LogDirectory.treeNodesName(level: level))
        var header = [UInt8](repeating: 0, count: TreeNodeFile.headerBytes)
        let size = try file.size()
        let read = size >= Int64(TreeNodeFile.headerBytes) ? try file.read(into: &header, count: header.count, at: 0) : 0
        if read < TreeNodeFile.headerBytes || header.allSatisfy({ $0 == 0 }) {
            try file.truncate(to: 0)
            try file.write(TreeNodeFile.header(level: level, logID: logID), at: 0)
        }
        files[level] = file
        return file
    }
}
