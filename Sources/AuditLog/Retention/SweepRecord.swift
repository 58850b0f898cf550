/// A run of seqs a retention sweep removed, as its `retention.sweep` record names it: what
/// lets `verify` tell a sanctioned deletion from a missing file.
public struct SweptRange: Hashable, Sendable {
    /// First seq removed.
    public var firstSeq: SequenceNumber
    /// Last seq removed.
    public var lastSeq: SequenceNumber
    /// The chain value before the first removed record (`h(firstSeq - 1)`).
    public var chainBefore: ChainHash
    /// The chain value after the last removed record (`h(lastSeq)`): the anchor of the
    /// segment that follows.
    public var chainAfter: ChainHash
    /// The removed segment files, relative to the log directory.
    public var segments: [String]
    /// Records removed.
    public var records: UInt64
    /// Segment file bytes removed.
    public var bytes: Int64
    /// The earliest event time removed (nil in records written before it was kept).
    public var minTime: Timestamp?
    /// The latest event time removed (nil in records written before it was kept).
    public var maxTime: Timestamp?

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

    /// Whether recorded sweeps account for the missing seqs `first...last`: every seq lies in
    /// a recorded range, and the chain values where the gap meets the records that remain
    /// agree with the ranges. `chainBefore` is nil for the log's leading gap. A gap may also be
    /// part of a range whose deletion a crash interrupted: then the range's end must meet a
    /// remaining segment (`chainAfterSegmentEnding`) with the recorded chain value.
    static func explain(
        first: SequenceNumber, last: SequenceNumber, chainBefore: ChainHash?, chainAfter: ChainHash,
        ranges: [SweptRange], chainAfterSegmentEnding: [SequenceNumber: ChainHash]
    ) -> Bool {
        var cursor = first
        while cursor <= last {
            guard let r = ranges.filter({ $0.firstSeq <= cursor && $0.lastSeq >= cursor }).max(by: { $0.lastSeq < $1.lastSeq }) else { return false }
            cursor = r.lastSeq.next
        }
        if let chainBefore, let r = ranges.first(where: { $0.firstSeq == first }), r.chainBefore != chainBefore { return false }
        if let r = ranges.first(where: { $0.lastSeq == last }) {
            return r.chainAfter == chainAfter
        }
        // The gap ends inside a range: the rest of that range is still on disk.
        guard let r = ranges.filter({ $0.firstSeq <= last && $0.lastSeq > last }).max(by: { $0.lastSeq < $1.lastSeq }) else { return false }
        return chainAfterSegmentEnding[r.lastSeq] == r.chainAfter
    }
}

/// The `retention.sweep` event a sweep appends before it deletes anything.
enum SweepRecord {
    static let eventType = "retention.sweep"
}
