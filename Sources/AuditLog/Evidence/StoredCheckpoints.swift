/// A checkpoint the log signed and stored (docs/FORMAT.md, "Checkpoints"): `checkpoints/history`
/// holds every signed note in signing order, concatenated; `checkpoints/latest` the newest one.
package struct StoredCheckpoint: Sendable, Hashable {
    package var note: SignedNote
    package var checkpoint: Checkpoint

    init(note: SignedNote) throws(AuditLogError) {
        self.note = note
        checkpoint = try Checkpoint(text: note.text)
    }
}

enum CheckpointHistory {
    /// Splits the history file's text into its notes: each is text lines, a blank line, and
    /// the signature lines (`— …`) that follow it.
    static func parse(_ text: String, file: String) throws(AuditLogError) -> [StoredCheckpoint] {
        var out: [StoredCheckpoint] = []
        var current = ""
        var inSignatures = false
        var lineNumber = 0
        var noteStart = 1
        func finish() throws(AuditLogError) {
            guard !current.isEmpty else { return }
            do {
                out.append(try StoredCheckpoint(note: try SignedNote(parsing: current)))
            } catch {
                throw AuditLogError(.corruption, "checkpoint history: the note starting on line \(noteStart) does not parse: \(error.message)", location: .init(file: file, line: noteStart))
            }
            current = ""
            inSignatures = false
        }
        // What follows the last signature line is an append a crash cut short: not a note.
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        while let last = lines.last, !last.hasPrefix(SignedNote.dash) { lines = lines.dropLast() }
        for line in lines {
            lineNumber += 1
            if inSignatures && !line.hasPrefix(SignedNote.dash) {
                try finish()
                noteStart = lineNumber
            }
            if current.isEmpty { noteStart = lineNumber }
            current += line + "\n"
            if line.isEmpty { inSignatures = true }
        }
        try finish()
        return out
    }
}

extension AuditLog {
    /// Every checkpoint the log signed, oldest first (docs/FORMAT.md, "Checkpoints").
    package func storedCheckpoints() throws(AuditLogError) -> [StoredCheckpoint] {
        guard let bytes = try files.readCheckpointFile(LogDirectory.checkpointHistoryName) else { return [] }
        return try CheckpointHistory.parse(String(decoding: bytes, as: UTF8.self), file: LogDirectory.checkpointDisplayName(LogDirectory.checkpointHistoryName))
    }

    /// The newest signed checkpoint, nil before the first.
    package func latestStoredCheckpoint() throws(AuditLogError) -> StoredCheckpoint? {
        guard let bytes = try files.readCheckpointFile(LogDirectory.latestCheckpointName) else { return nil }
        do {
            return try StoredCheckpoint(note: try SignedNote(parsing: String(decoding: bytes, as: UTF8.self)))
        } catch {
            throw AuditLogError(.corruption, "checkpoints/latest: \(error.message)", location: .init(file: LogDirectory.checkpointDisplayName(LogDirectory.latestCheckpointName)))
        }
    }

    /// The stored checkpoint of tree size `size`, or the latest when nil.
    ///
    /// - Throws: ``AuditLogError/Code/invalidArgument`` naming the nearest stored sizes when
    ///   none was signed at `size`, or that none was signed yet.
    package func storedCheckpoint(size: UInt64?) throws(AuditLogError) -> StoredCheckpoint {
        if size == nil, let latest = try latestStoredCheckpoint() { return latest }
        let all = try storedCheckpoints()
        guard !all.isEmpty else {
            throw AuditLogError(.invalidArgument, "no checkpoint has been signed for this log yet (auditlog checkpoint --key …)")
        }
        guard let size else { return all[all.count - 1] }
        if let match = all.last(where: { $0.checkpoint.size == size }) { return match }
        let below = all.last { $0.checkpoint.size < size }?.checkpoint.size
        let above = all.first { $0.checkpoint.size > size }?.checkpoint.size
        let nearest = [below, above].compactMap { $0 }.map(String.init).joined(separator: " and ")
        throw AuditLogError(.invalidArgument, "no checkpoint was signed at size \(size); the nearest signed sizes are \(nearest)")
    }

    /// Signs a checkpoint of the tree as it is now, stores it (history and latest, durably)
    /// and returns it; when the tree has not grown since the latest checkpoint this key signed,
    /// returns that one. The origin is `origin`, else the latest checkpoint's, else the key name.
    ///
    /// - Throws: ``AuditLogError`` when the handle is read-only, when the log keeps no tree
    ///   (``treeProblem``), and — refusing to sign — when the tree does not extend the latest
    ///   checkpoint signed before (its root at that size differs: the log was rewritten, or
    ///   another history was signed) or the origin differs from it.
    package func signCheckpoint(with signer: NoteSigner, origin: String? = nil) async throws(AuditLogError) -> StoredCheckpoint {
        guard options.access == .readWrite else {
            throw AuditLogError(.invalidArgument, "signing a checkpoint needs the log open for writing", location: .init(file: directory))
        }
        if let problem = treeProblem {
            throw AuditLogError(.corruption, "the log keeps no Merkle tree, so no checkpoint can be signed: \(problem.message)", location: problem.location, cause: problem)
        }
        return try await BlockingIO.run { () throws(AuditLogError) in
            try self.signing.withLock { (signedHere: inout StoredCheckpoint?) throws(AuditLogError) -> StoredCheckpoint in
                // The tree as the writer holds it (its nodes in memory), else as stored.
                let head: (size: UInt64, root: TreeHash)
                if let writer = self.writerTreeHead {
                    head = writer
                } else {
                    let reader = try self.treeReader()
                    head = (reader.size, try reader.prover.root(size: reader.size))
                }
                let latest = try self.latestStoredCheckpoint()
                let origin = origin ?? latest?.checkpoint.origin ?? signer.name
                guard !origin.isEmpty, !origin.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
                    throw AuditLogError(.invalidArgument, "a checkpoint origin is one non-empty line without control characters")
                }
                if let latest {
                    let old = latest.checkpoint
                    guard old.origin == origin else {
                        throw AuditLogError(.invalidArgument, "this log's checkpoints have origin '\(old.origin)', not '\(origin)'")
                    }
                    guard old.size <= head.size else {
                        throw AuditLogError(.corruption, "refusing to sign: the tree has \(head.size) entries, fewer than the \(old.size) of the checkpoint signed before (the log was truncated)")
                    }
                    // A checkpoint this handle signed itself was of the tree it has extended
                    // since; any other is checked against the tree, from the records.
                    if latest != signedHere {
                        let root = try self.treeReader().prover.root(size: old.size)
                        guard root == old.root else {
                            throw AuditLogError(
                                .corruption,
                                "refusing to sign: the tree's root at size \(old.size) is \(root.base64), not the \(old.rootBase64) of the checkpoint signed before (the log was rewritten at or before entry \(old.size))"
                            )
                        }
                    }
                    // The log did not grow: the checkpoint signed before stands (signing it
                    // again would store the same note twice).
                    if old.size == head.size, latest.note.isSigned(by: signer.verifier) { return latest }
                }
                let checkpoint = Checkpoint(origin: origin, size: head.size, root: head.root)
                let stored = try StoredCheckpoint(note: try SignedNote(signing: checkpoint.text, with: signer))
                let text = Array(stored.note.encoded.utf8)
                try self.files.appendCheckpointFile(text, to: LogDirectory.checkpointHistoryName)
                try self.files.writeCheckpointFile(text, to: LogDirectory.latestCheckpointName)
                signedHere = stored
                return stored
            }
        }
    }
}
