/// How consecutive segments join (docs/FORMAT.md, "Hash chain", "Retention sweeps and gaps"):
/// the one rule the catalog, the verifier and the writer apply.
enum SegmentChain {
    /// Where a segment ends: the seq after its last record and the chain value there.
    struct End: Hashable, Sendable {
        var nextSeq: SequenceNumber
        var chainAfter: ChainHash
    }

    /// Seqs missing between two segments, or before the first one.
    struct Gap: Hashable, Sendable {
        var first: SequenceNumber
        var last: SequenceNumber
        /// The chain value before the gap; nil for the log's leading gap.
        var chainBefore: ChainHash?
        /// The anchor of the segment after the gap.
        var chainAfter: ChainHash
        /// That segment's file name.
        var segment: String

        var count: UInt64 { last.rawValue - first.rawValue + 1 }
    }

    /// How a segment follows what precedes it.
    enum Join: Hashable, Sendable {
        /// It starts at the next seq, its anchor the chain value before it.
        case continues
        /// Seqs are missing before it: a retention sweep must explain them (``explains(_:removed:chainAfterSegmentEnding:)``).
        case gap(Gap)
        /// It starts inside its predecessor, which ends at `previousLast`.
        case overlaps(previousLast: SequenceNumber)
        /// It starts where it should, but its anchor is not the chain value there (for the
        /// first segment: not the log's genesis value).
        case anchorMismatch
    }

    /// How segment `name`, whose header says `firstSeq` and `anchor`, follows `previous` (nil:
    /// it is the first segment).
    static func join(_ previous: End?, name: String, firstSeq: SequenceNumber, anchor: ChainHash, genesis: ChainHash) -> Join {
        guard let previous else {
            if firstSeq == SequenceNumber(1) { return anchor == genesis ? .continues : .anchorMismatch }
            return .gap(Gap(first: SequenceNumber(1), last: SequenceNumber(firstSeq.rawValue - 1), chainBefore: nil, chainAfter: anchor, segment: name))
        }
        if firstSeq < previous.nextSeq { return .overlaps(previousLast: SequenceNumber(previous.nextSeq.rawValue - 1)) }
        if firstSeq > previous.nextSeq {
            return .gap(Gap(first: previous.nextSeq, last: SequenceNumber(firstSeq.rawValue - 1), chainBefore: previous.chainAfter, chainAfter: anchor, segment: name))
        }
        return anchor == previous.chainAfter ? .continues : .anchorMismatch
    }

    /// Whether recorded removals account for `gap`: every missing seq lies in a removed range,
    /// and where the gap meets the records that remain the chain values agree. A gap may also
    /// end inside a range whose deletion a crash interrupted: that range's end must then meet a
    /// remaining segment (`chainAfterSegmentEnding`) with the recorded chain value.
    static func explains(_ gap: Gap, removed ranges: [RemovedRange], chainAfterSegmentEnding ends: [SequenceNumber: ChainHash]) -> Bool {
        var cursor = gap.first
        while cursor <= gap.last {
            guard let r = ranges.filter({ $0.first <= cursor && $0.last >= cursor }).max(by: { $0.last < $1.last }) else { return false }
            cursor = r.last.next
        }
        if let before = gap.chainBefore, let r = ranges.first(where: { $0.first == gap.first }), r.chainBefore != before { return false }
        if let r = ranges.first(where: { $0.last == gap.last }) { return r.chainAfter == gap.chainAfter }
        // The gap ends inside a range: the rest of that range is still on disk.
        guard let r = ranges.filter({ $0.first <= gap.last && $0.last > gap.last }).max(by: { $0.last < $1.last }) else { return false }
        return ends[r.last] == r.chainAfter
    }
}

/// A run of seqs a recorded removal (a retention sweep) took out of the log, with the chain
/// values around it: what makes a gap legitimate.
struct RemovedRange: Hashable, Sendable {
    var first: SequenceNumber
    var last: SequenceNumber
    /// `h(first − 1)`.
    var chainBefore: ChainHash
    /// `h(last)`.
    var chainAfter: ChainHash
}
