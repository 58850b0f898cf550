/// The files of the Merkle tree and of signed checkpoints (docs/FORMAT.md, "Directory layout"):
/// `tree/level-<L>.hashes` (complete subtrees of 256^L entries, L ≥ 1), `tree/kept.nodes`
/// (hashes of swept entries that proofs still need), `checkpoints/` (signed notes).
extension LogDirectory {
    var treePath: String { path + "/tree" }
    var checkpointsPath: String { path + "/checkpoints" }

    static func treeNodesName(level: Int) -> String { "level-\(level).hashes" }
    static let keptNodesName = "kept.nodes"
    static let latestCheckpointName = "latest"
    static let checkpointHistoryName = "history"

    /// The path as errors show it: relative to the log directory.
    static func treeDisplayName(_ name: String) -> String { "tree/" + name }
    static func checkpointDisplayName(_ name: String) -> String { "checkpoints/" + name }

    /// Opens a file of `tree/` for reading, or nil when there is none.
    func openTree(_ name: String) throws(AuditLogError) -> (any SegmentFile)? {
        let path = treePath + "/" + name
        guard fileSystem.fileExists(path) else { return nil }
        return try fileSystem.openForReading(path, displayName: Self.treeDisplayName(name))
    }

    /// Opens a file of `tree/` for appending, creating `tree/` and the file when missing.
    func openTreeForWriting(_ name: String) throws(AuditLogError) -> any SegmentFile {
        try openCreating(name, in: treePath, displayName: Self.treeDisplayName(name))
    }

    /// Replaces a file of `tree/` atomically (temporary file, sync, rename, sync of `tree/`),
    /// creating `tree/` when missing.
    func writeTreeFileAtomically(_ bytes: [UInt8], name: String) throws(AuditLogError) {
        try ensureFolder(treePath)
        try fileSystem.writeAtomically(bytes, to: treePath + "/" + name, directory: treePath, displayName: Self.treeDisplayName(name))
    }

    /// Opens `name` in the subdirectory `folder` for writing, creating (durably) the folder and
    /// the file when missing.
    private func openCreating(_ name: String, in folder: String, displayName: String) throws(AuditLogError) -> any SegmentFile {
        try ensureFolder(folder)
        let path = folder + "/" + name
        let created = !fileSystem.fileExists(path)
        let file = try fileSystem.openForWriting(path, displayName: displayName, create: created, exclusive: false)
        if created { try fileSystem.syncDirectory(folder) }
        return file
    }

    /// Creates the subdirectory `folder` of the log directory when missing, durably.
    private func ensureFolder(_ folder: String) throws(AuditLogError) {
        try fileSystem.makeDirectoryDurably(folder)
    }

    /// The size of a file of `tree/`, 0 when there is none.
    func treeFileSize(_ name: String) -> Int64 {
        guard let file = try? openTree(name) else { return 0 }
        defer { file.close() }
        return (try? file.size()) ?? 0
    }

    /// The node files present, by level.
    func treeLevels() throws(AuditLogError) -> [Int] {
        guard fileSystem.isDirectory(treePath) else { return [] }
        return try fileSystem.listDirectory(treePath).compactMap { name -> Int? in
            guard name.hasPrefix("level-"), name.hasSuffix(".hashes") else { return nil }
            return Int(name.dropFirst(6).dropLast(7)).flatMap { $0 >= 1 ? $0 : nil }
        }.sorted()
    }

    /// Reads a whole file of `checkpoints/`, or nil when there is none.
    func readCheckpointFile(_ name: String) throws(AuditLogError) -> [UInt8]? {
        let path = checkpointsPath + "/" + name
        guard fileSystem.fileExists(path) else { return nil }
        let file = try fileSystem.openForReading(path, displayName: Self.checkpointDisplayName(name))
        defer { file.close() }
        return try file.readAll()
    }

    /// Appends to a file of `checkpoints/` durably, creating it when missing.
    func appendCheckpointFile(_ bytes: [UInt8], to name: String) throws(AuditLogError) {
        let file = try openCreating(name, in: checkpointsPath, displayName: Self.checkpointDisplayName(name))
        defer { file.close() }
        let end = try Self.endOfLastNote(file)
        if end < (try file.size()) { try file.truncate(to: end) }
        try file.write(bytes, at: end)
        try file.sync()
    }

    /// The end of the last complete signed note in a file of notes: just after the last line
    /// that is a signature line (`— …\n`). What follows is an append a crash cut short.
    static func endOfLastNote(_ file: any SegmentFile) throws(AuditLogError) -> Int64 {
        let size = try file.size()
        var window: Int64 = 4096
        while true {
            let start = max(0, size - window)
            var tail: [UInt8] = []
            _ = try file.read(into: &tail, count: Int(size - start), at: start)
            // Complete lines in this window, last first: the first signature line wins. (A
            // line whose start lies before the window is looked at with a larger one.)
            let signature = Array("\u{2014} ".utf8)
            var lineEnd = tail.count
            while let newline = tail[..<lineEnd].lastIndex(of: 0x0A) {
                let previous = tail[..<newline].lastIndex(of: 0x0A)
                guard previous != nil || start == 0 else { break }
                let lineStart = previous.map { $0 + 1 } ?? 0
                if tail[lineStart..<newline].starts(with: signature) { return start + Int64(newline + 1) }
                lineEnd = newline
            }
            if start == 0 { return 0 }
            window *= 4
        }
    }

    /// Replaces a file of `checkpoints/` atomically.
    func writeCheckpointFile(_ bytes: [UInt8], to name: String) throws(AuditLogError) {
        try ensureFolder(checkpointsPath)
        try fileSystem.writeAtomically(bytes, to: checkpointsPath + "/" + name, directory: checkpointsPath, displayName: Self.checkpointDisplayName(name))
    }
}
