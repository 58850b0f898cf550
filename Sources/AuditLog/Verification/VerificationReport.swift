/// One problem found by verification.
public struct VerificationIssue: Hashable, Sendable, CustomStringConvertible {
    /// What kind of problem.
    public enum Kind: String, Sendable, Hashable {
        /// Stored bytes do not match their XXH3 checksum (corruption or tampering).
        case checksum
        /// A chain value does not match the records (tampering: records rewritten with a
        /// recomputed checksum), or a segment's anchor does not match its predecessor.
        case chain
        /// Seqs are not dense: records or whole segments are missing.
        case missing
        /// Bytes that are not a valid header, frame, record or footer.
        case structure
        /// A footer or frame header summary disagrees with the records.
        case summary
        /// A retention sweep record that does not hold up: it deleted data under a legal hold
        /// in force when it ran, data its own policy kept, or names seqs and segments that do
        /// not agree.
        case retention
        /// The bytes a writer kept when it cut a torn tail no longer match its `log.recovered`
        /// record.
        case recovery
    }

    /// The kind of problem.
    public var kind: Kind
    /// What is wrong.
    public var message: String
    /// The file, relative to the log directory.
    public var file: String
    /// Byte offset in ``file``.
    public var offset: Int64
    /// The first seq affected, when known.
    public var seq: SequenceNumber?

    public var description: String {
        let at = seq.map { ", seq \($0)" } ?? ""
        return "\(kind.rawValue): \(message) (file '\(file)', byte offset \(offset)\(at))"
    }
}

/// The remains of an interrupted write at the end of the active segment, as a reader finds it.
package struct TornTail: Hashable, Sendable {
    /// The segment, relative to the log directory.
    package var file: String
    /// Where the incomplete frame starts.
    package var offset: Int64
    /// Its bytes, to the end of the file.
    package var bytes: Int64
    /// Why it is a torn write and not damage.
    package var reason: String
}

/// A `log.recovered` record: a torn tail a writer cut, what it held and where its bytes are
/// kept.
package struct RecoveryRecord: Hashable, Sendable {
    /// The record's own seq.
    package var seq: SequenceNumber
    /// When the cut was made.
    package var time: Timestamp
    /// The first seq the cut bytes would have held.
    package var firstSeq: SequenceNumber?
    /// The last seq the cut bytes would have held, when their frame header was complete.
    package var lastSeq: SequenceNumber?
    /// Bytes cut.
    package var bytes: Int64
    /// SHA-256 of the cut bytes, lowercase hex.
    package var sha256: String
    /// The file that keeps them, relative to the log directory.
    package var file: String
    /// What is found of that file now.
    package var kept: KeptState

    /// The state of a kept cut file.
    package enum KeptState: String, Hashable, Sendable {
        /// There, with the bytes the record describes.
        case intact
        /// There, with other bytes: the evidence was altered.
        case altered
        /// Not there (moved away by an operator, or deleted).
        case missing
    }
}

/// The check of a pinned head (`verify --expect-head SEQ:HEX`).
package struct PinnedHeadCheck: Hashable, Sendable {
    /// The pinned seq.
    package var seq: SequenceNumber
    /// The pinned chain value.
    package var expected: ChainHash
    /// The chain value the log has for that seq now (from a sweep record when swept), if any.
    package var found: ChainHash?
    /// The outcome.
    package var status: Status

    /// The outcome of the check.
    package enum Status: String, Hashable, Sendable {
        /// The log holds the seq with the pinned chain value.
        case matches
        /// The chain value differs: the log was rewritten at or before that seq.
        case differs
        /// The seq is gone and no retention sweep record explains it (or the log is shorter).
        case missing
        /// A retention sweep record accounts for the seq's removal (and, when the sweep's
        /// range ended there, recorded the same chain value).
        case swept
        /// Damage before the seq in its segment keeps its chain value from being computed.
        case unreadable
    }
}

/// Progress of a long verification, reported as segments are checked.
package struct VerificationProgress: Sendable, Hashable {
    /// File bytes checked so far.
    package var bytesDone: Int64
    /// File bytes to check in all.
    package var bytesTotal: Int64
    /// Records checked so far.
    package var recordsDone: UInt64
    /// Segments finished so far.
    package var segmentsDone: Int
    /// Segments to check in all.
    package var segmentsTotal: Int
}

/// The result of ``AuditLog/verify(_:)``: every issue found, not just the first.
public struct VerificationReport: Sendable, Hashable {
    /// Problems, in file order.
    public var issues: [VerificationIssue]
    /// Segments checked.
    public var segmentsChecked: Int
    /// Records checked.
    public var recordsChecked: UInt64
    /// Bytes of record data (uncompressed leaves) hashed.
    package var recordBytes: UInt64
    /// Bytes of segment files read.
    package var fileBytes: Int64
    /// First seq checked (nil when no record was).
    public var firstSeq: SequenceNumber?
    /// Last seq checked (nil when no record was).
    public var lastSeq: SequenceNumber?
    /// The chain value after the last record checked.
    public var chainHead: ChainHash?
    /// Records absent because retention sweeps, recorded in the chain, removed them.
    package var sweptRecords: UInt64 = 0
    /// An incomplete frame at the end of the active segment: a write in progress (or one a
    /// writer will cut, keep and record at its next open). Not an issue; not verified.
    package var tail: TornTail?
    /// The `log.recovered` records in the log: every torn tail a writer cut, kept and recorded.
    package var recoveries: [RecoveryRecord] = []
    /// What became of the pinned head of ``VerificationOptions/expectedHead``, when one was given.
    package var pinnedHead: PinnedHeadCheck?

    /// ``tail`` as a tuple.
    package var unverifiedTail: (file: String, offset: Int64, bytes: Int64)? {
        tail.map { ($0.file, $0.offset, $0.bytes) }
    }

    /// True when no issue was found.
    public var isIntact: Bool { issues.isEmpty }

    /// True when no issue was found, nothing is torn at the end and no recovery was ever
    /// recorded: what `auditlog verify --strict` requires.
    public var isPristine: Bool { isIntact && tail == nil && recoveries.isEmpty }

    /// The issue with the lowest seq (or the first one found when none names a seq).
    package var firstIssue: VerificationIssue? {
        issues.min { a, b in
            switch (a.seq, b.seq) {
            case (let x?, let y?): x < y
            case (.some, nil): true
            default: false
            }
        }
    }
}
