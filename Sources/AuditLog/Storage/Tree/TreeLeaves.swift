/// Leaf hashes recomputed from records: entry `i` is the record of seq `i + 1`
/// (docs/FORMAT.md, "Merkle tree"). What the tree files do not store (level 0) comes from here,
/// or, for swept entries, from the kept nodes.
enum TreeLeaves {
    /// The leaf hashes of entries `range` (0-based), read from `segments` frame by frame, and
    /// from `kept` where no segment holds the record any more.
    ///
    /// - Throws: ``AuditLogError`` with code ``AuditLogError/Code/noLog`` naming the first seq
    ///   whose record is neither in the log nor kept, and the walker's errors for damage.
    static func hashes(_ directory: LogDirectory, segments: [SegmentInfo], entries range: Range<UInt64>, kept: KeptNodes = KeptNodes()) throws(AuditLogError) -> [TreeHash] {
        guard !range.isEmpty else { return [] }
        let lastSeq = range.upperBound
        var next = range.lowerBound + 1
        var out: [TreeHash] = []
        out.reserveCapacity(range.count)
        func fromKept(upTo end: UInt64) throws(AuditLogError) {
            while next <= end {
                guard let hash = kept[0, next - 1] else {
                    throw AuditLogError(
                        .noLog, "the record of seq \(next) is not in the log (swept, or past its end) and its leaf hash was not kept", location: .init(seq: SequenceNumber(next)))
                }
                out.append(hash)
                next += 1
            }
        }
        try forEachRecord(directory, segments: segments, seqs: (range.lowerBound + 1)...lastSeq) { (seq, record) throws(AuditLogError) in
            try fromKept(upTo: seq.rawValue - 1)
            out.append(MerkleTree.leafHash(seq: seq, record: record))
            next += 1
        }
        try fromKept(upTo: lastSeq)
        return out
    }

    /// The leaf hashes of entries `range` (0-based) that `segments` or `kept` still give, nil
    /// for the others (records an older sweep removed without keeping their leaves).
    static func availableHashes(_ directory: LogDirectory, segments: [SegmentInfo], entries range: Range<UInt64>, kept: KeptNodes) throws(AuditLogError) -> [TreeHash?] {
        guard !range.isEmpty else { return [] }
        var out = range.map { kept[0, $0] }
        try forEachRecord(directory, segments: segments, seqs: (range.lowerBound + 1)...range.upperBound) { (seq, record) throws(AuditLogError) in
            out[Int(seq.rawValue - 1 - range.lowerBound)] = MerkleTree.leafHash(seq: seq, record: record)
        }
        return out
    }

    /// Calls `body` with the seq and leaf hash of every record in `segments`, in seq order
    /// (one pass, for checking the stored tree against the records).
    static func forEach(_ directory: LogDirectory, segments: [SegmentInfo], _ body: (SequenceNumber, TreeHash) -> Void) throws(AuditLogError) {
        try forEachRecord(directory, segments: segments, seqs: 1...UInt64.max) { seq, record in body(seq, MerkleTree.leafHash(seq: seq, record: record)) }
    }

    /// Calls `body` with every record of `seqs` that the segments hold, in seq order, reading
    /// only the segments and frames that overlap them.
    static func forEachRecord(
        _ directory: LogDirectory, segments: [SegmentInfo], seqs: ClosedRange<UInt64>, _ body: (SequenceNumber, UnsafeRawBufferPointer) throws(AuditLogError) -> Void
    ) throws(AuditLogError) {
        for segment in segments where segment.recordCount > 0 {
            guard let segmentLast = segment.lastSeq?.rawValue, segmentLast >= seqs.lowerBound else { continue }
            guard segment.firstSeq.rawValue <= seqs.upperBound else { break }
            let walker = try SegmentWalker(directory, segment.fileName, limit: segment.dataEnd)
            walk: while true {
                switch try walker.next(.skip) {
                case .frame(let h, let offset):
                    guard h.lastSeq.rawValue >= seqs.lowerBound else { continue }
                    guard h.firstSeq.rawValue <= seqs.upperBound else { break walk }
                    _ = try walker.frame(at: offset, firstSeq: h.firstSeq, count: h.recordCount)
                    var failure: AuditLogError?
                    walker.forEachRecord { seq, record in
                        guard failure == nil, seqs.contains(seq.rawValue) else { return }
                        do throws(AuditLogError) { try body(seq, record) } catch { failure = error }
                    }
                    if let failure { throw failure }
                case .damage(let damage):
                    throw damage.error(in: walker.displayName)
                case .footer, .end, .tornTail:
                    break walk
                }
            }
        }
    }
}
