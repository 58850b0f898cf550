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
        func keptOrMissing(_ entry: UInt64) throws(AuditLogError) -> TreeHash {
            guard let hash = kept[0, entry] else {
                throw AuditLogError(
                    .noLog, "the record of seq \(entry + 1) is not in the log (swept, or past its end) and its leaf hash was not kept",
                    location: .init(seq: SequenceNumber(entry + 1)))
            }
            return hash
        }
        return try leaves(directory, segments: segments, entries: range, leaf: { $0 }, gap: keptOrMissing)
    }

    /// The leaf hashes of entries `range` (0-based) that `segments` or `kept` still give, nil
    /// for the others (records an older sweep removed without keeping their leaves).
    static func availableHashes(_ directory: LogDirectory, segments: [SegmentInfo], entries range: Range<UInt64>, kept: KeptNodes) throws(AuditLogError) -> [TreeHash?] {
        try leaves(directory, segments: segments, entries: range, leaf: { $0 }, gap: { entry in kept[0, entry] })
    }

    /// Entries `range` in order: `leaf` of the hash of each record `segments` hold, `gap` of the
    /// entry for each they do not.
    private static func leaves<T>(
        _ directory: LogDirectory, segments: [SegmentInfo], entries range: Range<UInt64>, leaf: (TreeHash) -> T, gap: (UInt64) throws(AuditLogError) -> T
    ) throws(AuditLogError) -> [T] {
        guard !range.isEmpty else { return [] }
        var next = range.lowerBound
        var out: [T] = []
        out.reserveCapacity(range.count)
        try forEachRecord(directory, segments: segments, seqs: (range.lowerBound + 1)...range.upperBound) { (seq, record) throws(AuditLogError) in
            while next < seq.rawValue - 1 {
                out.append(try gap(next))
                next += 1
            }
            out.append(leaf(MerkleTree.leafHash(seq: seq, record: record)))
            next += 1
        }
        while next < range.upperBound {
            out.append(try gap(next))
            next += 1
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
                    _ = try walker.frame(at: offset, firstSeq: h.firstSeq, count: h.recordCount, length: Int64(h.frameLengthBytes))
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
