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

    /// The range as storage checks gaps against it.
    var removed: RemovedRange {
        RemovedRange(first: firstSeq, last: lastSeq, chainBefore: chainBefore, chainAfter: chainAfter)
    }
}

/// The `retention.sweep` event a sweep appends before it deletes anything.
enum SweepRecord {
    static let eventType = "retention.sweep"
}
