import Crypto

/// Cutting a torn tail off the active segment, the one truncation a writer ever makes — and
/// never a silent one: the cut bytes are kept in a file beside the segment
/// (`segments/<segment>.cut-<offset>`), and the writer records the cut in the chain with a
/// `log.recovered` record (``AuditLog/recordRecoveries()``). Where durable evidence shows the
/// bytes were committed, the catalog refuses to cut at all (docs/FORMAT.md, "Reading and
/// recovery").
enum TornTailRecovery {
    static let eventType = "log.recovered"

    /// Keeps the bytes from `offset` to the end of the walked segment in a file of their own
    /// (synced, then the directory), then truncates the segment there and syncs it.
    static func cut(_ walker: SegmentWalker, at offset: Int64, reason: String, directory: LogDirectory) throws(AuditLogError) -> RecoveryReport {
        let size = walker.fileSize
        var bytes: [UInt8] = []
        let n = try walker.file.read(into: &bytes, count: Int(size - offset), at: offset)
        bytes.removeSubrange(n...)
        let kept = try directory.keep(bytes, cutFrom: walker.name, at: offset)
        let file = try directory.openForWriting(walker.name)
        defer { file.close() }
        try file.truncate(to: offset)
        try file.sync()
        let facts = describe(bytes)
        return RecoveryReport(
            file: walker.displayName, offset: offset, bytesRemoved: Int64(n), reason: reason,
            firstSeq: walker.nextSeq, lastSeq: facts.firstSeq == walker.nextSeq ? facts.lastSeq : nil,
            keptFile: LogDirectory.displayName(kept), sha256: facts.sha256)
    }

    /// What kept bytes tell: their SHA-256 and, when they begin with a complete frame header,
    /// the seqs that frame was to hold.
    static func describe(_ bytes: [UInt8]) -> (sha256: String, firstSeq: SequenceNumber?, lastSeq: SequenceNumber?) {
        let hex = SHA256.hash(data: bytes).map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined()
        let header: FrameHeader? = bytes.withUnsafeBytes { raw in
            guard raw.count >= FrameHeader.byteCount, let h = try? FrameHeader.decode(raw), (try? h.validateShape()) != nil else { return nil }
            return h
        }
        return (hex, header?.firstSeq, header?.lastSeq)
    }
}
