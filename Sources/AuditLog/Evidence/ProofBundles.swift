/// Proofs as JSON bundles an auditor checks without the log (docs/VERIFYING.md): an event's
/// inclusion in a signed checkpoint, and a signed checkpoint's consistency with an older size.
extension AuditLog {
    /// The entry of `seq` as the tree hashes it: `seq:u64 ‖ record`, read from its segment.
    func entry(seq: SequenceNumber) throws(AuditLogError) -> [UInt8] {
        let s = snapshot
        guard let segment = s.segments.last(where: { $0.firstSeq <= seq }), let last = segment.lastSeq, seq <= last else {
            throw AuditLogError(.noLog, "no record of seq \(seq) in the log", location: .init(seq: seq))
        }
        try segment.checkReadable()
        var entry: [UInt8] = []
        try TreeLeaves.forEachRecord(files, segments: [segment], seqs: seq.rawValue...seq.rawValue) { _, record in
            entry = withUnsafeBytes(of: seq.rawValue.littleEndian) { Array($0) } + Array(record)
        }
        guard !entry.isEmpty else {
            throw AuditLogError(.noLog, "no record of seq \(seq) in the log", location: .init(file: LogDirectory.displayName(segment.fileName), seq: seq))
        }
        return entry
    }

    /// `{origin, checkpoint, tree_size, leaf_index, entry, event, inclusion_proof}` for the
    /// record of `seq` against the stored checkpoint of `size` (the latest when nil). The proof
    /// is checked before it is returned.
    package func inclusionBundle(seq: SequenceNumber, size: UInt64?) async throws(AuditLogError) -> JSONValue {
        try await BlockingIO.run { () throws(AuditLogError) in
            let stored = try self.storedCheckpoint(within: size)
            let checkpoint = stored.checkpoint
            guard seq.rawValue <= checkpoint.size else {
                throw AuditLogError(.invalidArgument, "seq \(seq) was appended after the checkpoint of size \(checkpoint.size): sign a newer one, or name a later --size")
            }
            let proven = try self.proveInclusion(seq: seq, checkpoint: checkpoint)
            return .object([
                JSONMember("origin", .string(checkpoint.origin)),
                JSONMember("checkpoint", .string(stored.note.encoded)),
                JSONMember("tree_size", .integer(checkpoint.size)),
                JSONMember("leaf_index", .integer(seq.rawValue - 1)),
                JSONMember("entry", .string(Base64.encode(proven.entry))),
                JSONMember("event", proven.event),
                JSONMember("inclusion_proof", .array(proven.proof.map { .string($0.base64) })),
            ])
        }
    }

    /// The entry, event JSON and inclusion proof of `seq` in the tree of `checkpoint`, checked
    /// against its root (a mismatch means the log no longer holds what was signed).
    func proveInclusion(seq: SequenceNumber, checkpoint: Checkpoint, reader given: TreeReader? = nil) throws(AuditLogError) -> (entry: [UInt8], event: JSONValue, proof: [TreeHash]) {
        let entry = try entry(seq: seq)
        let event = try Self.decodeEntry(entry, seq: seq)
        let reader: TreeReader
        if let given { reader = given } else { reader = try self.treeReader() }
        let proof = try reader.prover.inclusionProof(index: seq.rawValue - 1, size: checkpoint.size)
        let leaf = entry.withUnsafeBytes { MerkleTree.leafHash(entry: $0) }
        guard MerkleVerifier.verifyInclusion(leafHash: leaf, index: seq.rawValue - 1, size: checkpoint.size, proof: proof, root: checkpoint.root) else {
            throw AuditLogError(
                .corruption, "the record of seq \(seq) is not the one the checkpoint of size \(checkpoint.size) signed (its inclusion proof does not reach the signed root)", location: .init(seq: seq))
        }
        return (entry, try JSONValue.parse(event.jsonText()), proof)
    }

    /// The stored checkpoint of `size` (the latest when nil), refusing a size beyond the tree.
    func storedCheckpoint(within size: UInt64?) throws(AuditLogError) -> StoredCheckpoint {
        if let size, size > treeSize {
            throw AuditLogError(.invalidArgument, "size \(size) is beyond the tree, which has \(treeSize) entries")
        }
        return try storedCheckpoint(size: size)
    }

    /// The event an entry (`seq:u64 ‖ record`) holds.
    static func decodeEntry(_ entry: [UInt8], seq: SequenceNumber) throws(AuditLogError) -> AuditEvent {
        let decoded = entry.withUnsafeBytes { raw in
            Result { () throws(FormatError) in try AuditEvent.decodeRecord(UnsafeRawBufferPointer(rebasing: raw[8...])) }
        }
        switch decoded {
        case .success(let event): return event
        case .failure(let error):
            throw AuditLogError(.corruption, "record of seq \(seq) does not decode: \(error)", location: .init(seq: seq))
        }
    }

    /// `{origin, old_size, new_size, checkpoint, consistency_proof}` from `oldSize` to the
    /// stored checkpoint of `newSize` (the latest when nil).
    package func consistencyBundle(oldSize: UInt64, newSize: UInt64?) async throws(AuditLogError) -> JSONValue {
        try await BlockingIO.run { () throws(AuditLogError) in
            let stored = try self.storedCheckpoint(within: newSize)
            let checkpoint = stored.checkpoint
            guard oldSize >= 1, oldSize <= checkpoint.size else {
                throw AuditLogError(.invalidArgument, "old size \(oldSize) must be between 1 and the checkpoint's size \(checkpoint.size)")
            }
            let reader = try self.treeReader()
            let proof = try reader.prover.consistencyProof(oldSize: oldSize, newSize: checkpoint.size)
            let oldRoot = try reader.prover.root(size: oldSize)
            guard MerkleVerifier.verifyConsistency(oldSize: oldSize, newSize: checkpoint.size, oldRoot: oldRoot, newRoot: checkpoint.root, proof: proof) else {
                throw AuditLogError(.corruption, "the tree no longer matches the checkpoint of size \(checkpoint.size) (its consistency proof does not reach the signed root)")
            }
            return .object([
                JSONMember("origin", .string(checkpoint.origin)),
                JSONMember("old_size", .integer(oldSize)),
                JSONMember("new_size", .integer(checkpoint.size)),
                JSONMember("checkpoint", .string(stored.note.encoded)),
                JSONMember("consistency_proof", .array(proof.map { .string($0.base64) })),
            ])
        }
    }
}
