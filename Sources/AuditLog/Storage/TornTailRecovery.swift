import Crypto

/// Cutting a torn tail off the active segment, the one truncation a writer ever makes — and
/// never a silent one: the cut bytes are kept in a file beside the segment
/// (`segments/<first seq>.seg.cut-<offset>`), and the writer records the cut in the chain with
/// a `log.recovered` record (``AuditLog/recordRecoveries()``). Where durable evidence shows the
/// bytes were committed, it refuses to cut at all (docs/FORMAT.md, "Reading and recovery").
enum TornTailRecovery {
    static let keptInfix = ".cut-"
    static let eventType = "log.recovered"

    /// Refuses to cut at `offset` when the active index checkpoint the last writer left at
    /// close covers bytes beyond it: those records were synced and acknowledged, so what no
    /// longer decodes there is damage, not a torn write.
    static func refuseIfCommitted(segment name: String, torn offset: Int64, paths: LogPaths, display: String, nextSeq: SequenceNumber) throws(AuditLogError) {
        guard let covered = ActiveIndexCheckpoint.coveredEnd(ofSegment: name, paths: paths), covered > offset else { return }
        throw AuditLogError(
            .corruption,
            "the bytes from offset \(offset) do not decode, but the index checkpoint the last writer left shows records up to byte offset \(covered) were committed: refusing to cut them",
            location: .init(file: display, offset: offset, seq: nextSeq))
    }

    /// Keeps the bytes from `offset` to the end of the segment in a file of their own (synced,
    /// then the directory), then truncates the segment there and syncs it.
    static func cut(segment name: String, reader: SegmentReader, at offset: Int64, reason: String, firstSeq: SequenceNumber, paths: LogPaths) throws(AuditLogError) -> RecoveryReport {
        let display = reader.displayName
        let size = try reader.file.size()
        var bytes: [UInt8] = []
        let n = try reader.file.read(into: &bytes, count: Int(size - offset), at: offset)
        bytes.removeSubrange(n...)
        let keptName = try freeName(name + keptInfix + String(offset), paths: paths)
        try SystemFile.writeAtomically(bytes, to: paths.segmentPath(keptName), directory: paths.segmentsDirectory, displayName: LogPaths.displayName(keptName))
        let file = try SystemFile.openForWriting(paths.segmentPath(name), displayName: display, create: false)
        defer { file.close() }
        try file.truncate(to: offset)
        try file.sync()
        let facts = describe(bytes)
        return RecoveryReport(
            file: display, offset: offset, bytesRemoved: Int64(n), reason: reason,
            firstSeq: firstSeq, lastSeq: facts.firstSeq == firstSeq ? facts.lastSeq : nil,
            keptFile: LogPaths.displayName(keptName), sha256: facts.sha256)
    }

    /// A name not yet taken: a second cut at the same offset (the recovery record itself torn
    /// by a second crash) never overwrites the first one's evidence.
    private static func freeName(_ base: String, paths: LogPaths) throws(AuditLogError) -> String {
        var name = base
        var n = 1
        while SystemFile.fileExists(paths.segmentPath(name)) {
            n += 1
            name = base + "-\(n)"
        }
        return name
    }

    /// What kept bytes tell: their SHA-256 and, when they begin with a complete frame header,
    /// the seqs that frame was to hold.
    static func describe(_ bytes: [UInt8]) -> (sha256: String, firstSeq: SequenceNumber?, lastSeq: SequenceNumber?) {
        let digest = SHA256.hash(data: bytes)
        let hex = digest.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
        let header: FrameHeader? = bytes.withUnsafeBytes { raw in
            guard raw.count >= FrameHeader.byteCount, let h = try? FrameHeader.decode(raw), (try? h.validateShape()) != nil else { return nil }
            return h
        }
        return (hex, header?.firstSeq, header?.lastSeq)
    }

    /// The kept files in `segments/`, with the segment each was cut from.
    static func keptFiles(_ paths: LogPaths) throws(AuditLogError) -> [String] {
        try SystemFile.listDirectory(paths.segmentsDirectory).filter { name in
            let segment = String(name.prefix(24))
            return LogPaths.firstSeq(ofSegmentFileName: segment) != nil && name.dropFirst(24).hasPrefix(keptInfix) && !name.contains(".tmp-")
        }.sorted()
    }
}
