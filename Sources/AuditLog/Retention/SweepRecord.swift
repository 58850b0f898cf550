/// A run of seqs a retention sweep removed, as its `retention.sweep` record names it: what
/// lets `verify` tell a sanctioned deletion from a missing file.
package struct SweptRange: Hashable, Sendable {
    /// First seq removed.
    package var firstSeq: SequenceNumber
    /// Last seq removed.
    package var lastSeq: SequenceNumber
    /// The chain value before the first removed record (`h(firstSeq - 1)`).
    package var chainBefore: ChainHash
    /// The chain value after the last removed record (`h(lastSeq)`): the anchor of the
    /// segment that follows.
    package var chainAfter: ChainHash
    /// The removed segment files, relative to the log directory.
    package var segments: [String]
    /// Records removed.
    package var records: UInt64
    /// Segment file bytes removed.
    package var bytes: Int64
    /// The earliest event time removed (nil in records written before it was kept).
    package var minTime: Timestamp?
    /// The latest event time removed (nil in records written before it was kept).
    package var maxTime: Timestamp?

    var jsonValue: JSONValue {
        var members = [
            JSONMember("first_seq", .integer(firstSeq.rawValue)),
            JSONMember("last_seq", .integer(lastSeq.rawValue)),
            JSONMember("chain_before", .string(chainBefore.hex)),
            JSONMember("chain_after", .string(chainAfter.hex)),
            JSONMember("segments", .array(segments.map { .string($0) })),
            JSONMember("records", .integer(records)),
            JSONMember("bytes", .integer(bytes)),
        ]
        if let minTime, let maxTime {
            members.append(JSONMember("min_time", .string(minTime.rfc3339)))
            members.append(JSONMember("max_time", .string(maxTime.rfc3339)))
        }
        return .object(members)
    }

    init(
        firstSeq: SequenceNumber, lastSeq: SequenceNumber, chainBefore: ChainHash, chainAfter: ChainHash, segments: [String],
        records: UInt64, bytes: Int64, minTime: Timestamp? = nil, maxTime: Timestamp? = nil
    ) {
        self.firstSeq = firstSeq
        self.lastSeq = lastSeq
        self.chainBefore = chainBefore
        self.chainAfter = chainAfter
        self.segments = segments
        self.records = records
        self.bytes = bytes
        self.minTime = minTime
        self.maxTime = maxTime
    }

    init?(_ value: JSONValue) {
        guard case .number(let a)? = value["first_seq"], let first = UInt64(a),
            case .number(let b)? = value["last_seq"], let last = UInt64(b),
            let before = value["chain_before"]?.stringValue.flatMap(ChainHash.init(hex:)),
            let after = value["chain_after"]?.stringValue.flatMap(ChainHash.init(hex:)),
            first >= 1, first <= last
        else { return nil }
        var files: [String] = []
        if case .array(let items)? = value["segments"] { files = items.compactMap(\.stringValue) }
        var records: UInt64 = 0
        if case .number(let n)? = value["records"] { records = UInt64(n) ?? 0 }
        var bytes: Int64 = 0
        if case .number(let n)? = value["bytes"] { bytes = Int64(n) ?? 0 }
        let minTime = value["min_time"]?.stringValue.flatMap { Timestamp(rfc3339: $0) }
        let maxTime = value["max_time"]?.stringValue.flatMap { Timestamp(rfc3339: $0) }
        self.init(
            firstSeq: SequenceNumber(first), lastSeq: SequenceNumber(last), chainBefore: before, chainAfter: after, segments: files,
            records: records, bytes: bytes, minTime: minTime, maxTime: maxTime)
    }

    /// The ranges a `retention.sweep` event names.
    static func ranges(in event: AuditEvent) -> [SweptRange] {
        guard event.eventType == SweepRecord.eventType, case .array(let items)? = event.details?["ranges"] else { return [] }
        return items.compactMap(SweptRange.init)
    }

    /// The first seq of each of `segments`, from its name (nil for a name that is not a
    /// segment's).
    var segmentFirstSeqs: [SequenceNumber?] {
        segments.map { LogDirectory.firstSeq(ofSegment: String($0.split(separator: "/").last ?? "")) }
    }

    /// The runs of this range that `present` (segments in seq order) does not hold: the range
    /// itself when none of them overlaps it, none when they hold all of it. A run inside the
    /// range has the chain values of the segments around it, the range's segments within it, as
    /// many records as seqs, and no bytes or times (what was deleted of the range is no longer
    /// on disk).
    func absentRuns(besides present: [SegmentInfo]) -> [SweptRange] {
        var runs: [SweptRange] = []
        var next = firstSeq
        var before = chainBefore
        func run(to last: SequenceNumber, chainAfter after: ChainHash) {
            if next == firstSeq && last == lastSeq { return runs.append(self) }
            let files = zip(segments, segmentFirstSeqs).filter { _, first in first.map { $0 >= next && $0 <= last } ?? false }.map(\.0)
            runs.append(
                SweptRange(
                    firstSeq: next, lastSeq: last, chainBefore: before, chainAfter: after, segments: files, records: last.rawValue - next.rawValue + 1, bytes: 0))
        }
        for s in present where s.recordCount > 0 && s.firstSeq <= lastSeq {
            guard let last = s.lastSeq, last >= next else { continue }
            if s.firstSeq > next { run(to: SequenceNumber(s.firstSeq.rawValue - 1), chainAfter: s.anchor) }
            if last >= lastSeq { return runs }
            next = last.next
            before = s.chainAfter
        }
        run(to: lastSeq, chainAfter: chainAfter)
        return runs
    }

    /// The ranges a sweep removing `segments` (in seq order) records: runs of adjacent
    /// segments, merged while no hold in `holds` covers the run's events (the sweep decided
    /// per segment that none covers any one of them, and a verifier checks the range's times:
    /// a run spanning the window of a hold in force, though no segment of it falls inside,
    /// is split there).
    static func runs(of segments: [SegmentInfo], apartAround holds: [LegalHold]) -> [SweptRange] {
        var runs: [SweptRange] = []
        for s in segments {
            let display = LogDirectory.displayName(s.fileName)
            if let i = runs.indices.last, runs[i].lastSeq.next == s.firstSeq {
                let minTime = [runs[i].minTime, s.minTimestamp].compactMap { $0 }.min()
                let maxTime = [runs[i].maxTime, s.maxTimestamp].compactMap { $0 }.max()
                var spansAHold = false
                if let min = minTime?.nanosSinceEpoch, let max = maxTime?.nanosSinceEpoch {
                    spansAHold = holds.contains { $0.covers(minNanos: min, maxNanos: max) }
                }
                if !spansAHold {
                    runs[i].lastSeq = s.lastSeq ?? runs[i].lastSeq
                    runs[i].chainAfter = s.chainAfter
                    runs[i].segments.append(display)
                    runs[i].records += s.recordCount
                    runs[i].bytes += s.bytes
                    runs[i].minTime = minTime
                    runs[i].maxTime = maxTime
                    continue
                }
            }
            runs.append(
                SweptRange(
                    firstSeq: s.firstSeq, lastSeq: s.lastSeq ?? s.firstSeq, chainBefore: s.anchor, chainAfter: s.chainAfter, segments: [display],
                    records: s.recordCount, bytes: s.bytes, minTime: s.minTimestamp, maxTime: s.maxTimestamp))
        }
        return runs
    }

    /// Whether `ranges` (in seq order, disjoint) hold every seq of `range` between them.
    static func union(_ ranges: [SweptRange], covers range: SweptRange) -> Bool {
        var next = range.firstSeq
        for r in ranges where r.firstSeq <= next && r.lastSeq >= next {
            if r.lastSeq >= range.lastSeq { return true }
            next = r.lastSeq.next
        }
        return false
    }

    /// The range as storage checks gaps against it.
    var removed: RemovedRange {
        RemovedRange(first: firstSeq, last: lastSeq, chainBefore: chainBefore, chainAfter: chainAfter)
    }
}

/// Whether one of a set of ranges holds every seq of another, in O(log n): a log keeps every
/// range it ever swept, and a sweep asks this of each.
struct SweptRangeCover {
    /// First seqs in ascending order.
    private let firsts: [SequenceNumber]
    /// The largest last seq of the ranges up to each.
    private let reach: [SequenceNumber]

    init(_ ranges: [SweptRange]) {
        let sorted = ranges.sorted { $0.firstSeq < $1.firstSeq }
        firsts = sorted.map(\.firstSeq)
        var furthest = SequenceNumber(0)
        reach = sorted.map { r in
            furthest = max(furthest, r.lastSeq)
            return furthest
        }
    }

    func contains(_ range: SweptRange) -> Bool {
        // The ranges starting at or before `range` are the first `low`.
        var low = 0
        var high = firsts.count
        while low < high {
            let middle = (low + high) / 2
            if firsts[middle] <= range.firstSeq { low = middle + 1 } else { high = middle }
        }
        return low > 0 && reach[low - 1] >= range.lastSeq
    }
}

/// The `retention.sweep` event a sweep appends before it deletes anything.
enum SweepRecord {
    static let eventType = "retention.sweep"
}
