/// Checks evidence without the log (docs/VERIFYING.md): an inclusion bundle, a consistency
/// bundle, or an export made with proofs — each against a verifier key the auditor trusts.
///
/// Malformed evidence, a bad signature, a proof that does not reach the signed root and an
/// event that is not what its entry decodes to are all ``AuditLogError/Code/corruption``, with
/// the line (of an export) or the field named.
package enum ProofCheck {
    /// What a valid piece of evidence showed.
    package struct Summary: Sendable, Hashable {
        package enum Kind: String, Sendable {
            case inclusion
            case consistency
            case export
        }
        package var kind: Kind
        package var origin: String
        /// The tree size of the checkpoint the evidence is checked against.
        package var treeSize: UInt64
        /// Entries proven included (1 for a bundle, one per event for an export).
        package var entries: Int
        /// The older size a consistency proof starts at.
        package var oldSize: UInt64?
    }

    /// Checks `text`: a JSON object (an inclusion or consistency bundle) or NDJSON whose first
    /// line is `{"checkpoint": …}` (an export with proofs). `old` is the older signed checkpoint
    /// a consistency bundle is checked against.
    package static func check(_ text: String, verifier: NoteVerifier, old: SignedNote? = nil) throws(AuditLogError) -> Summary {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let nonEmpty = lines.filter { !$0.allSatisfy(\.isWhitespace) }
        // An export's first line is exactly {"checkpoint": …} (then one line per event, maybe
        // none); a bundle is one JSON object (pretty-printed or not) with more members.
        if let first = nonEmpty.first, case .object(let members)? = try? JSONValue.parse(String(first)), members.map(\.key) == ["checkpoint"] {
            return try checkExport(lines, verifier: verifier)
        }
        let value: JSONValue
        do { value = try JSONValue.parse(text) } catch { throw invalid("not a proof bundle: \(error.message)") }
        if value["consistency_proof"] != nil {
            return try checkConsistency(value, verifier: verifier, old: old)
        }
        if value["inclusion_proof"] != nil {
            let checkpoint = try signedCheckpoint(value["checkpoint"], verifier: verifier, what: "the bundle's checkpoint")
            if let origin = value["origin"]?.stringValue, origin != checkpoint.origin {
                throw invalid("the bundle's origin '\(origin)' is not its checkpoint's '\(checkpoint.origin)'", field: "origin")
            }
            if let size = integer(value["tree_size"]), size != checkpoint.size {
                throw invalid("the bundle's tree_size \(size) is not its checkpoint's size \(checkpoint.size)", field: "tree_size")
            }
            try checkEntry(value, checkpoint: checkpoint, eventMembers: value["event"], line: nil)
            return Summary(kind: .inclusion, origin: checkpoint.origin, treeSize: checkpoint.size, entries: 1)
        }
        throw invalid("neither an inclusion bundle, a consistency bundle nor an export with proofs")
    }

    private static func invalid(_ message: String, line: Int? = nil, field: String? = nil) -> AuditLogError {
        AuditLogError(.corruption, message, location: .init(line: line, field: field))
    }

    private static func integer(_ value: JSONValue?) -> UInt64? {
        if case .number(let text)? = value { return UInt64(text) }
        return nil
    }

    /// The checkpoint of a signed note, after checking the verifier's signature on it.
    static func signedCheckpoint(_ value: JSONValue?, verifier: NoteVerifier, what: String, line: Int? = nil) throws(AuditLogError) -> Checkpoint {
        guard let text = value?.stringValue else { throw invalid("\(what) is missing", line: line, field: "checkpoint") }
        let note: SignedNote
        let checkpoint: Checkpoint
        do {
            note = try SignedNote(parsing: text)
            checkpoint = try Checkpoint(text: note.text)
        } catch {
            throw invalid("\(what): \(error.message)", line: line, field: "checkpoint")
        }
        guard note.isSigned(by: verifier) else {
            throw invalid("\(what) carries no valid signature by key '\(verifier.name)' (\(NoteKeys.hex8(verifier.keyID)))", line: line, field: "checkpoint")
        }
        return checkpoint
    }

    /// Checks one entry's inclusion in `checkpoint` and that `eventMembers` is exactly the event
    /// the entry decodes to.
    private static func checkEntry(_ value: JSONValue, checkpoint: Checkpoint, eventMembers: JSONValue?, line: Int?) throws(AuditLogError) {
        guard let index = integer(value["leaf_index"]) else { throw invalid("leaf_index is missing or not an integer", line: line, field: "leaf_index") }
        guard let entry = value["entry"]?.stringValue.flatMap(Base64.decode), entry.count > 8 else {
            throw invalid("entry is missing or not base64 of a seq and a record", line: line, field: "entry")
        }
        let seq = entry.prefix(8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard index < checkpoint.size else {
            throw invalid("leaf_index \(index) is outside the checkpoint's tree of \(checkpoint.size) entries", line: line, field: "leaf_index")
        }
        guard seq == index + 1 else {
            throw invalid("the entry holds seq \(seq), not leaf_index + 1 = \(index + 1)", line: line, field: "entry")
        }
        guard case .array(let items)? = value["inclusion_proof"] else {
            throw invalid("inclusion_proof is missing", line: line, field: "inclusion_proof")
        }
        var proof: [TreeHash] = []
        for item in items {
            guard let hash = item.stringValue.flatMap(TreeHash.init(base64:)) else {
                throw invalid("inclusion_proof holds something other than base64 hashes of 32 bytes", line: line, field: "inclusion_proof")
            }
            proof.append(hash)
        }
        let leaf = entry.withUnsafeBytes { MerkleTree.leafHash(entry: $0) }
        guard MerkleVerifier.verifyInclusion(leafHash: leaf, index: index, size: checkpoint.size, proof: proof, root: checkpoint.root) else {
            throw invalid("the inclusion proof of seq \(seq) does not reach the checkpoint's root: the entry is not in the signed log", line: line, field: "inclusion_proof")
        }
        let event: AuditEvent
        do { event = try AuditLog.decodeEntry(entry, seq: SequenceNumber(seq)) } catch {
            throw invalid("the entry of seq \(seq) is not a valid record: \(error.message)", line: line, field: "entry")
        }
        let decoded: JSONValue
        do { decoded = try JSONValue.parse(event.jsonText()) } catch { throw invalid(error.message, line: line) }
        guard eventMembers == decoded else {
            throw invalid("the event of seq \(seq) is not what its entry decodes to (the entry is what the log signed)", line: line, field: "event")
        }
    }

    private static func checkConsistency(_ value: JSONValue, verifier: NoteVerifier, old: SignedNote?) throws(AuditLogError) -> Summary {
        let new = try signedCheckpoint(value["checkpoint"], verifier: verifier, what: "the bundle's checkpoint")
        guard let oldSize = integer(value["old_size"]), let newSize = integer(value["new_size"]) else {
            throw invalid("old_size and new_size must be integers", field: "old_size")
        }
        guard newSize == new.size else { throw invalid("new_size \(newSize) is not the checkpoint's size \(new.size)", field: "new_size") }
        guard let old else {
            throw AuditLogError(.invalidArgument, "a consistency proof is checked against the older checkpoint you kept: pass it with --checkpoint")
        }
        let older = try signedCheckpoint(.string(old.encoded), verifier: verifier, what: "the older checkpoint")
        guard older.size == oldSize else { throw invalid("old_size \(oldSize) is not the older checkpoint's size \(older.size)", field: "old_size") }
        guard older.origin == new.origin else { throw invalid("the checkpoints are of different logs: '\(older.origin)' and '\(new.origin)'", field: "origin") }
        guard case .array(let items)? = value["consistency_proof"] else { throw invalid("consistency_proof is missing", field: "consistency_proof") }
        let proof = items.compactMap { $0.stringValue.flatMap(TreeHash.init(base64:)) }
        guard proof.count == items.count else { throw invalid("consistency_proof holds something other than base64 hashes of 32 bytes", field: "consistency_proof") }
        guard MerkleVerifier.verifyConsistency(oldSize: oldSize, newSize: newSize, oldRoot: older.root, newRoot: new.root, proof: proof) else {
            throw invalid("the consistency proof does not join the checkpoint of size \(oldSize) to the one of size \(newSize): the newer log does not extend the older", field: "consistency_proof")
        }
        return Summary(kind: .consistency, origin: new.origin, treeSize: newSize, entries: 0, oldSize: oldSize)
    }

    /// The fields an export line adds to the event (and `seq`, which the event JSON lacks).
    static let proofFields: Set<String> = ["seq", "leaf_index", "entry", "inclusion_proof"]

    private static func checkExport(_ lines: [Substring], verifier: NoteVerifier) throws(AuditLogError) -> Summary {
        var checkpoint: Checkpoint?
        var entries = 0
        for (i, line) in lines.enumerated() where !line.allSatisfy(\.isWhitespace) {
            let number = i + 1
            let value: JSONValue
            do { value = try JSONValue.parse(String(line)) } catch { throw invalid("not JSON: \(error.message)", line: number) }
            guard let checkpoint else {
                checkpoint = try signedCheckpoint(value["checkpoint"], verifier: verifier, what: "the export's checkpoint", line: number)
                continue
            }
            guard case .object(let members) = value else { throw invalid("not a JSON object", line: number) }
            if let seq = integer(value["seq"]), seq == 0 || seq - 1 != integer(value["leaf_index"]) {
                throw invalid("seq \(seq) is not leaf_index + 1", line: number, field: "seq")
            }
            try checkEntry(value, checkpoint: checkpoint, eventMembers: .object(members.filter { !proofFields.contains($0.key) }), line: number)
            entries += 1
        }
        guard let checkpoint else { throw invalid("the export holds no checkpoint line") }
        return Summary(kind: .export, origin: checkpoint.origin, treeSize: checkpoint.size, entries: entries)
    }
}
