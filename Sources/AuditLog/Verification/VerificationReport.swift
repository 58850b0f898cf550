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

/// Progress of a long verification, reported as segments are checked.
public struct VerificationProgress: Sendable, Hashable {
    /// File bytes checked so far.
    public var bytesDone: Int64
    /// File bytes to check in all.
    public var bytesTotal: Int64
    /// Records checked so far.
    public var recordsDone: UInt64
    /// Segments finished so far.
    public var segmentsDone: Int
    /// Segments to check in all.
    public var segmentsTotal: Int
}

/// The result of ``AuditLog/verify(_:progress:)``: every issue found, not just the first.
public struct VerificationReport: Sendable, Hashable {
    /// Problems, in file order.
    public var issues: [VerificationIssue]
    /// Segments checked.
    public var segmentsChecked: Int
    /// Records checked.
    public var recordsChecked: UInt64
    /// Bytes of record data (uncompressed leaves) hashed.
    public var recordBytes: UInt64
    /// Bytes of segment files read.
    public var fileBytes: Int64
    /// First seq checked (nil when no record was).
    public var firstSeq: SequenceNumber?
    /// Last seq checked (nil when no record was).
    public var lastSeq: SequenceNumber?
    /// The chain value after the last record checked.
    public var chainHead: ChainHash?
    /// Records absent because retention sweeps, recorded in the chain, removed them.
    public var sweptRecords: UInt64 = 0
    /// An incomplete frame at the end of the active segment: a write in progress (or one a
    /// writer will cut at its next open). Not an issue; not verified.
    public var unverifiedTail: (file: String, offset: Int64, bytes: Int64)? {
        get { tail.map { ($0.file, $0.offset, $0.bytes) } }
        set { tail = newValue.map { Tail(file: $0.file, offset: $0.offset, bytes: $0.bytes) } }
    }

    struct Tail: Hashable, Sendable {
        var file: String
        var offset: Int64
        var bytes: Int64
    }

    var tail: Tail?

    /// True when no issue was found.
    public var isIntact: Bool { issues.isEmpty }

    /// The issue with the lowest seq (or the first one found when none names a seq).
    public var firstIssue: VerificationIssue? {
        issues.min { a, b in
            switch (a.seq, b.seq) {
            case let (x?, y?): x < y
            case (.some, nil): true
            default: false
            }
        }
    }
}
