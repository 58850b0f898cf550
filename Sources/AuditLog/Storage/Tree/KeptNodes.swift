/// Hashes of swept entries that proofs still need (docs/FORMAT.md, "Merkle tree", "After a
/// sweep"): `tree/kept.nodes`, a header like a node file's (level 0) and then records of 48
/// bytes — `level:u8`, 7 zero bytes, `index:u64`, `hash` — for nodes below tile level 1 (tree
/// heights 0 to 7) that records can no longer give: the leaf hashes of swept entries that share
/// a tile with entries still in the log, and around every signed checkpoint's size whose tile
/// was swept, the nodes that make up the tile on either side of that size. Appended, synced,
/// before a sweep deletes a segment.
struct KeptNodes: Sendable {
    struct Key: Hashable, Sendable {
        var level: Int
        var index: UInt64
    }

    static let recordBytes = 48

    private(set) var nodes: [Key: TreeHash] = [:]

    subscript(level: Int, index: UInt64) -> TreeHash? { nodes[Key(level: level, index: index)] }

    /// Reads the kept nodes of a log (none when there is no file).
    static func load(_ directory: LogDirectory, logID: LogID) throws(AuditLogError) -> KeptNodes {
        var kept = KeptNodes()
        guard let file = try directory.openTree(LogDirectory.keptNodesName) else { return kept }
        defer { file.close() }
        let bytes = try file.readAll()
        let display = LogDirectory.treeDisplayName(LogDirectory.keptNodesName)
        guard bytes.count >= TreeNodeFile.headerBytes else { return kept }
        try TreeNodeFile.check(header: Array(bytes[0..<TreeNodeFile.headerBytes]), level: 0, logID: logID, file: display)
        var offset = TreeNodeFile.headerBytes
        while offset + recordBytes <= bytes.count {
            let record = bytes[offset..<(offset + recordBytes)]
            let level = Int(record[record.startIndex])
            guard level < 8, record[(record.startIndex + 1)..<(record.startIndex + 8)].allSatisfy({ $0 == 0 }) else {
                throw AuditLogError(.corruption, "kept node of level \(level) or with reserved bytes set", location: .init(file: display, offset: Int64(offset)))
            }
            let index = record[(record.startIndex + 8)..<(record.startIndex + 16)].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let hash = Array(record[(record.startIndex + 16)...]).withUnsafeBytes { TreeHash(bytes: $0) }
            if let hash { kept.nodes[Key(level: level, index: index)] = hash }
            offset += recordBytes
        }
        return kept
    }

    /// Appends `new` nodes (those not kept yet) durably.
    mutating func keep(_ new: [Key: TreeHash], in directory: LogDirectory, logID: LogID) throws(AuditLogError) {
        let fresh = new.filter { nodes[$0.key] == nil }.sorted { ($0.key.level, $0.key.index) < ($1.key.level, $1.key.index) }
        guard !fresh.isEmpty else { return }
        let file = try directory.openTreeForWriting(LogDirectory.keptNodesName)
        defer { file.close() }
        var size = try file.size()
        if size < Int64(TreeNodeFile.headerBytes) {
            try file.truncate(to: 0)
            try file.write(TreeNodeFile.header(level: 0, logID: logID), at: 0)
            size = Int64(TreeNodeFile.headerBytes)
        }
        // A torn record at the end (a crash mid-append) is overwritten.
        size -= (size - Int64(TreeNodeFile.headerBytes)) % Int64(Self.recordBytes)
        var w = ByteWriter()
        for (key, hash) in fresh {
            w.write(UInt8(key.level))
            w.write(bytes: [UInt8](repeating: 0, count: 7))
            w.write(key.index)
            w.write(bytes: hash.bytes)
        }
        try file.write(w.bytes, at: size)
        try file.sync()
        for (key, hash) in fresh { nodes[key] = hash }
    }
}
