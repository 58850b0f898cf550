/// An NDJSON export that is evidence on its own (docs/VERIFYING.md, "Exports with proofs"): a
/// first line `{"checkpoint": "<signed note>"}`, then each matching event covered by that
/// checkpoint as `export` writes it (with its `seq`) plus `leaf_index`, `entry` (base64 of
/// `seq:u64 ‖ record`) and `inclusion_proof` against the checkpoint. Every proof is checked
/// against the signed root before it is written.
///
/// Synchronous and single-consumer, like the ``QueryIterator`` it reads.
package final class ProofExport {
    /// The checkpoint every proof is against.
    package let checkpoint: StoredCheckpoint
    private let iterator: QueryIterator
    private let reader: TreeReader
    private let log: AuditLog
    private var started = false
    private var finished = false
    /// Events written.
    package private(set) var count = 0

    /// An export of `query` (its order must be oldest first) against the stored checkpoint of
    /// `size` (the latest when nil); events appended after that checkpoint are not exported.
    package init(_ log: AuditLog, query: Query, size: UInt64?) throws(AuditLogError) {
        guard query.order == .oldestFirst else {
            throw AuditLogError(.invalidArgument, "an export with proofs runs oldest first")
        }
        self.log = log
        checkpoint = try log.storedCheckpoint(size: size)
        reader = try log.treeReader()
        guard reader.size >= checkpoint.checkpoint.size else {
            throw AuditLogError(.corruption, "the log holds \(reader.size) entries, fewer than the \(checkpoint.checkpoint.size) of its checkpoint (it was truncated)")
        }
        iterator = try log.queryIterator(query)
    }

    /// Appends the checkpoint line (the first time) and then the next event's line to `bytes`;
    /// false at the end.
    package func encodeNext(into bytes: inout [UInt8]) throws(AuditLogError) -> Bool {
        guard !finished else { return false }
        if !started {
            started = true
            bytes += Array(JSONValue.object([JSONMember("checkpoint", .string(checkpoint.note.encoded))]).jsonText.utf8)
            bytes.append(0x0A)
        }
        let mark = bytes.count
        guard try iterator.nextJSON(into: &bytes) else {
            finished = true
            return false
        }
        guard let seq = iterator.lastSeq else { throw AuditLogError(.corruption, "an exported line has no seq") }
        let size = checkpoint.checkpoint.size
        guard seq.rawValue <= size else {
            bytes.removeSubrange(mark...)
            finished = true
            return false
        }
        let record: [UInt8]
        if let bytes = try iterator.recordBytes(of: seq) {
            record = bytes
        } else {
            record = Array(try log.entry(seq: seq).dropFirst(8))
        }
        var entry = withUnsafeBytes(of: seq.rawValue.littleEndian) { Array($0) }
        entry += record
        let index = seq.rawValue - 1
        let proof = try reader.prover.inclusionProof(index: index, size: size)
        let leaf = entry.withUnsafeBytes { MerkleTree.leafHash(entry: $0) }
        guard MerkleVerifier.verifyInclusion(leafHash: leaf, index: index, size: size, proof: proof, root: checkpoint.checkpoint.root) else {
            throw AuditLogError(
                .corruption, "the record of seq \(seq) is not the one the checkpoint of size \(size) signed (its inclusion proof does not reach the signed root)",
                location: .init(seq: seq))
        }
        guard bytes.last == UInt8(ascii: "}") else { throw AuditLogError(.corruption, "an exported line is not a JSON object", location: .init(seq: seq)) }
        bytes.removeLast()
        bytes += Array(",\"leaf_index\":\(index),\"entry\":\"\(Base64.encode(entry))\",\"inclusion_proof\":[".utf8)
        bytes += Array(proof.map { "\"\($0.base64)\"" }.joined(separator: ",").utf8)
        bytes += Array("]}\n".utf8)
        count += 1
        return true
    }
}
