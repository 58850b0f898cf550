/// `segments/catalog`: what an open needs of every sealed segment — the facts its header and
/// footer hold — in one checksummed file (docs/FORMAT.md, "Segment catalog"), so that opening
/// a log of many segments reads one file instead of two blocks of each segment.
///
/// Derived data, like an index: a reader uses an entry only for a segment whose file is there
/// with exactly the entry's size and is not the newest in the directory; anything that does
/// not check out (a missing, older or damaged catalog, a stale entry) is read from the segment
/// itself. Verification never reads it.
struct SegmentCatalogFile: Equatable, Sendable {
    static let magic: [UInt8] = Array("AUDITCAT".utf8)
    static let formatVersion: UInt16 = 1
    static let headerByteCount = 64
    static let entryByteCount = 128

    /// One sealed segment.
    struct Entry: Equatable, Sendable {
        var firstSeq: SequenceNumber
        var recordCount: UInt64
        var frameCount: UInt64
        /// The footer's minimum and maximum event times (0 when it holds no records).
        var minTimestampNanos: Int64
        var maxTimestampNanos: Int64
        /// The header's partition start.
        var partitionStartNanos: Int64
        /// The file's size, footer included.
        var fileSize: Int64
        var rawPayloadBytes: UInt64
        /// The header's anchor and the footer's chain value.
        var anchor: ChainHash
        var chainAfter: ChainHash
    }

    var logID: LogID
    var partitionLengthNanos: Int64
    /// In seq order.
    var entries: [Entry]

    func encoded() -> [UInt8] {
        var w = ByteWriter(capacity: Self.headerByteCount + entries.count * Self.entryByteCount + 8)
        w.write(bytes: Self.magic)
        w.write(Self.formatVersion)
        w.write(UInt16(Self.entryByteCount))
        w.write(UInt32(entries.count))
        w.write(bytes: logID.bytes)
        w.write(partitionLengthNanos)
        w.write(bytes: [UInt8](repeating: 0, count: 24))
        for e in entries {
            w.write(e.firstSeq.rawValue)
            w.write(e.recordCount)
            w.write(e.frameCount)
            w.write(e.minTimestampNanos)
            w.write(e.maxTimestampNanos)
            w.write(e.partitionStartNanos)
            w.write(UInt64(e.fileSize))
            w.write(e.rawPayloadBytes)
            e.anchor.write(to: &w)
            e.chainAfter.write(to: &w)
        }
        w.write(Checksum.xxh3(w.bytes))
        return w.bytes
    }

    /// Decodes and checks a whole catalog file: magic, version, lengths, checksum, and entries
    /// that could describe sealed segments (seqs rising without overlap, sizes that hold a
    /// header, the frames' data and a footer).
    static func decode(_ buffer: UnsafeRawBufferPointer) throws(FormatError) -> SegmentCatalogFile {
        guard buffer.count >= headerByteCount + 8 else {
            throw FormatError(.truncated, "segment catalog needs at least \(headerByteCount + 8) bytes, file has \(buffer.count)", offset: 0)
        }
        guard buffer.prefix(8).elementsEqual(magic) else {
            throw FormatError(.malformed, "segment catalog magic is not \"AUDITCAT\"", offset: 0)
        }
        var r = ByteReader(buffer, offset: 8)
        let version = try r.readUInt16()
        guard version == formatVersion else {
            throw FormatError(.unsupportedVersion, "segment catalog version \(version); this build reads version \(formatVersion)", offset: 8)
        }
        guard try r.readUInt16() == UInt16(entryByteCount) else {
            throw FormatError(.malformed, "segment catalog entry length is not \(entryByteCount)", offset: 10)
        }
        let count = Int(try r.readUInt32())
        guard buffer.count == headerByteCount + count * entryByteCount + 8 else {
            throw FormatError(.malformed, "segment catalog of \(count) entries must be \(headerByteCount + count * entryByteCount + 8) bytes, file has \(buffer.count)", offset: 12)
        }
        let stored = UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: buffer.count - 8, as: UInt64.self))
        guard Checksum.xxh3(UnsafeRawBufferPointer(rebasing: buffer[0..<(buffer.count - 8)])) == stored else {
            throw FormatError(.checksumMismatch, "segment catalog checksum mismatch", offset: buffer.count - 8)
        }
        guard let logID = LogID(bytes: Array(try r.readBytes(16))) else { throw FormatError(.malformed, "log id", offset: 16) }
        let partitionLength = try r.readInt64()
        guard try r.readBytes(24).allSatisfy({ $0 == 0 }) else {
            throw FormatError(.malformed, "segment catalog reserved bytes are not zero", offset: 40)
        }
        var entries: [Entry] = []
        entries.reserveCapacity(count)
        var nextSeq: UInt64 = 1
        for i in 0..<count {
            let at = headerByteCount + i * entryByteCount
            let firstSeq = try r.readUInt64()
            let recordCount = try r.readUInt64()
            let frameCount = try r.readUInt64()
            let minTs = try r.readInt64()
            let maxTs = try r.readInt64()
            let partitionStart = try r.readInt64()
            let size = try r.readUInt64()
            let raw = try r.readUInt64()
            guard let anchor = ChainHash(bytes: try r.readBytes(32)), let chainAfter = ChainHash(bytes: try r.readBytes(32)) else {
                throw FormatError(.malformed, "chain value", offset: at + 64)
            }
            let (end, overflow) = firstSeq.addingReportingOverflow(recordCount)
            guard firstSeq >= nextSeq, !overflow, end < UInt64.max, frameCount <= recordCount, minTs <= maxTs,
                size >= UInt64(SegmentHeader.byteCount + SegmentFooter.byteCount), size <= UInt64(Int64.max)
            else {
                throw FormatError(.malformed, "segment catalog entry \(i) does not describe a sealed segment", offset: at)
            }
            nextSeq = max(end, firstSeq + 1)
            entries.append(
                Entry(
                    firstSeq: SequenceNumber(firstSeq), recordCount: recordCount, frameCount: frameCount, minTimestampNanos: minTs, maxTimestampNanos: maxTs,
                    partitionStartNanos: partitionStart, fileSize: Int64(size), rawPayloadBytes: raw, anchor: anchor, chainAfter: chainAfter))
        }
        return SegmentCatalogFile(logID: logID, partitionLengthNanos: partitionLength, entries: entries)
    }
}

extension SegmentCatalogFile.Entry {
    /// The entry of a sealed segment of `fileSize` bytes with this header and footer.
    init(header: SegmentHeader, footer: SegmentFooter, fileSize: Int64) {
        self.init(
            firstSeq: header.firstSeq, recordCount: footer.recordCount, frameCount: footer.frameCount, minTimestampNanos: footer.minTimestampNanos,
            maxTimestampNanos: footer.maxTimestampNanos, partitionStartNanos: header.partitionStartNanos, fileSize: fileSize,
            rawPayloadBytes: footer.rawPayloadBytes, anchor: header.anchor, chainAfter: footer.chainAfter)
    }
}
