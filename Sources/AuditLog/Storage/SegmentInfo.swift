/// What one segment file holds, from its header and footer (or, for the active segment, from a
/// scan of its frames). A snapshot: the log hands out copies, and changes only its own.
package struct SegmentInfo: Hashable, Sendable {
    /// File name inside `segments/`, e.g. `00000000000000000001.seg`.
    package internal(set) var fileName: String
    /// The seq of its first record.
    package internal(set) var firstSeq: SequenceNumber
    /// Number of records.
    package internal(set) var recordCount: UInt64
    /// Earliest event time (nil when empty).
    package internal(set) var minTimestamp: Timestamp?
    /// Latest event time (nil when empty).
    package internal(set) var maxTimestamp: Timestamp?
    /// Start of the time partition the segment was opened for.
    package internal(set) var partitionStart: Timestamp
    /// Bytes of the file (header, frames and footer).
    package internal(set) var bytes: Int64
    /// Bytes of record data before compression.
    package internal(set) var rawPayloadBytes: UInt64
    /// Number of frames.
    package internal(set) var frameCount: UInt64
    /// True once the footer is written; the segment never changes again.
    package internal(set) var isSealed: Bool
    /// The chain value before its first record.
    package internal(set) var anchor: ChainHash
    /// The chain value after its last record (the anchor when empty).
    package internal(set) var chainAfter: ChainHash
    /// Why the segment cannot be read, when a reader found it damaged at open (its counts and
    /// time range are then only bounds from its neighbours); nil when intact.
    package internal(set) var damage: SegmentDamage?

    /// The seq of its last record (nil when empty).
    package var lastSeq: SequenceNumber? {
        recordCount == 0 ? nil : SequenceNumber(firstSeq.rawValue + recordCount - 1)
    }

    /// Whether the segment holds the record `seq`.
    func holds(_ seq: SequenceNumber) -> Bool {
        guard let last = lastSeq else { return false }
        return seq >= firstSeq && seq <= last
    }

    /// The seq the next segment starts at.
    var nextSeq: SequenceNumber { SequenceNumber(firstSeq.rawValue + recordCount) }

    /// Where the segment ends, for ``SegmentChain``.
    var end: SegmentChain.End { SegmentChain.End(nextSeq: nextSeq, chainAfter: chainAfter) }

    /// The byte offset where frames end (the footer, or the end of the active file).
    var dataEnd: Int64 { isSealed ? bytes - Int64(SegmentFooter.byteCount) : bytes }

    init(fileName: String, header: SegmentHeader, footer: SegmentFooter, fileSize: Int64) {
        self.init(catalogued: SegmentCatalogFile.Entry(header: header, footer: footer, fileSize: fileSize), fileName: fileName)
    }

    init(fileName: String, header: SegmentHeader, scan: ActiveSegmentScan) {
        self.fileName = fileName
        firstSeq = header.firstSeq
        recordCount = scan.recordCount
        minTimestamp = scan.recordCount > 0 ? Timestamp(nanosSinceEpoch: scan.minTimestampNanos) : nil
        maxTimestamp = scan.recordCount > 0 ? Timestamp(nanosSinceEpoch: scan.maxTimestampNanos) : nil
        partitionStart = Timestamp(nanosSinceEpoch: header.partitionStartNanos)
        bytes = scan.dataEnd
        rawPayloadBytes = scan.rawPayloadBytes
        frameCount = scan.frameCount
        isSealed = false
        anchor = header.anchor
        chainAfter = scan.chainAfter
    }

    /// A segment a reader cannot read: a placeholder that makes every read of it fail.
    init(damaged fileName: String, _ damage: SegmentDamage, after previous: SegmentInfo?) {
        self.fileName = fileName
        firstSeq = LogDirectory.firstSeq(ofSegment: fileName) ?? previous?.nextSeq ?? SequenceNumber(1)
        recordCount = 0
        partitionStart = previous?.partitionStart ?? Timestamp(nanosSinceEpoch: 0)
        bytes = Int64(SegmentHeader.byteCount + SegmentFooter.byteCount)
        rawPayloadBytes = 0
        frameCount = 0
        isSealed = true
        anchor = previous?.chainAfter ?? ChainHash.zero
        chainAfter = anchor
        self.damage = damage
    }

    /// Throws the damage found at open, if any.
    func checkReadable() throws(AuditLogError) {
        if let damage {
            throw AuditLogError(.corruption, "segment is damaged: \(damage.reason)", location: .init(file: LogDirectory.displayName(fileName), offset: damage.offset, seq: damage.seq ?? firstSeq))
        }
    }

    /// Adds a frame the writer closed.
    mutating func add(_ h: FrameHeader) {
        recordCount += UInt64(h.recordCount)
        frameCount += 1
        rawPayloadBytes += UInt64(h.rawLengthBytes)
        let minTs = Timestamp(nanosSinceEpoch: h.minTimestampNanos)
        let maxTs = Timestamp(nanosSinceEpoch: h.maxTimestampNanos)
        minTimestamp = min(minTimestamp ?? minTs, minTs)
        maxTimestamp = max(maxTimestamp ?? maxTs, maxTs)
        chainAfter = h.chainAfter
    }
}

/// Why a segment cannot be read.
package enum SegmentDamage: Hashable, Sendable, CustomStringConvertible {
    /// Its header does not decode or does not belong here (another log, another name).
    case header(reason: String)
    /// Its frames or footer are damaged at `offset`, first at `seq` when known (or the file
    /// was cut).
    case body(offset: Int64, seq: SequenceNumber?, reason: String)

    /// What is wrong.
    package var reason: String {
        switch self {
        case .header(let reason), .body(_, _, let reason): reason
        }
    }

    /// Where, when known.
    package var offset: Int64? {
        if case .body(let offset, _, _) = self { return offset }
        return nil
    }

    /// The first seq affected, when known.
    package var seq: SequenceNumber? {
        if case .body(_, let seq, _) = self { return seq }
        return nil
    }

    package var description: String { reason }

    /// The damage an open found, from its error.
    init(_ error: AuditLogError) {
        if let offset = error.location.offset, offset >= Int64(SegmentHeader.byteCount) {
            self = .body(offset: offset, seq: error.location.seq, reason: error.message)
        } else {
            self = .header(reason: error.message)
        }
    }
}

/// The state of an active segment found by scanning its frames (or resumed from a checkpoint).
struct ActiveSegmentScan: Sendable {
    var dataEnd: Int64
    var frameCount: UInt64 = 0
    var recordCount: UInt64 = 0
    var minTimestampNanos = Int64.max
    var maxTimestampNanos = Int64.min
    var rawPayloadBytes: UInt64 = 0
    var chainAfter: ChainHash

    init(dataEnd: Int64, chainAfter: ChainHash) {
        self.dataEnd = dataEnd
        self.chainAfter = chainAfter
    }

    /// The state `segment` (an active one) records.
    init(_ segment: SegmentInfo) {
        dataEnd = segment.bytes
        frameCount = segment.frameCount
        recordCount = segment.recordCount
        minTimestampNanos = segment.minTimestamp?.nanosSinceEpoch ?? .max
        maxTimestampNanos = segment.maxTimestamp?.nanosSinceEpoch ?? .min
        rawPayloadBytes = segment.rawPayloadBytes
        chainAfter = segment.chainAfter
    }

    mutating func add(_ h: FrameHeader) {
        frameCount += 1
        recordCount += UInt64(h.recordCount)
        minTimestampNanos = min(minTimestampNanos, h.minTimestampNanos)
        maxTimestampNanos = max(maxTimestampNanos, h.maxTimestampNanos)
        rawPayloadBytes += UInt64(h.rawLengthBytes)
        chainAfter = h.chainAfter
        dataEnd += Int64(h.frameLengthBytes)
    }
}

extension SegmentInfo {
    /// A sealed segment as the segment catalog describes it (the caller checked that its file,
    /// `fileName`, is the entry's and has its size).
    init(catalogued entry: SegmentCatalogFile.Entry, fileName: String) {
        self.fileName = fileName
        firstSeq = entry.firstSeq
        recordCount = entry.recordCount
        minTimestamp = entry.recordCount > 0 ? Timestamp(nanosSinceEpoch: entry.minTimestampNanos) : nil
        maxTimestamp = entry.recordCount > 0 ? Timestamp(nanosSinceEpoch: entry.maxTimestampNanos) : nil
        partitionStart = Timestamp(nanosSinceEpoch: entry.partitionStartNanos)
        bytes = entry.fileSize
        rawPayloadBytes = entry.rawPayloadBytes
        frameCount = entry.frameCount
        isSealed = true
        anchor = entry.anchor
        chainAfter = entry.chainAfter
    }

    /// Its entry in the segment catalog: sealed and intact segments only.
    var catalogEntry: SegmentCatalogFile.Entry? {
        guard isSealed, damage == nil else { return nil }
        return SegmentCatalogFile.Entry(
            firstSeq: firstSeq, recordCount: recordCount, frameCount: frameCount, minTimestampNanos: minTimestamp?.nanosSinceEpoch ?? 0,
            maxTimestampNanos: maxTimestamp?.nanosSinceEpoch ?? 0, partitionStartNanos: partitionStart.nanosSinceEpoch, fileSize: bytes,
            rawPayloadBytes: rawPayloadBytes, anchor: anchor, chainAfter: chainAfter)
    }
}
