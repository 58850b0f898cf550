/// The fixed 128-byte header at offset 0 of every segment file (docs/FORMAT.md, "Segment header").
struct SegmentHeader: Equatable, Sendable {
    static let magic: [UInt8] = Array("AUDITSEG".utf8)
    static let byteCount = 128
    /// The version a writer gives a segment whose frames are rows only (codecs 0 and 1).
    static let rowsVersion: UInt16 = 1
    /// The version of a segment whose frames may also be columns (codec 2).
    static let columnsVersion: UInt16 = 2

    /// 1: frames of codec 0 or 1 only; 2: codec 2 (columns) as well.
    var version: UInt16 = rowsVersion
    var logID: LogID
    /// The seq of the first record this segment holds.
    var firstSeq: SequenceNumber
    /// Start of the time partition this segment was opened for (ns since the Unix epoch, UTC).
    var partitionStartNanos: Int64
    /// Length of a partition in ns (one hour or one day).
    var partitionLengthNanos: Int64
    /// Wall-clock time the segment was created (ns since the Unix epoch), informational.
    var createdAtNanos: Int64
    /// The chain value before the first record: `h(firstSeq - 1)`.
    var anchor: ChainHash

    /// Whether this segment's frames may be stored as columns (codec 2).
    var allowsColumnFrames: Bool { version >= Self.columnsVersion }

    func encoded() -> [UInt8] {
        var w = ByteWriter(capacity: Self.byteCount)
        w.write(bytes: Self.magic)
        w.write(version)
        w.write(UInt16(Self.byteCount))
        w.write(UInt32(0))  // flags
        w.write(bytes: logID.bytes)
        w.write(firstSeq.rawValue)
        w.write(partitionStartNanos)
        w.write(partitionLengthNanos)
        w.write(createdAtNanos)
        anchor.write(to: &w)
        w.write(bytes: [UInt8](repeating: 0, count: 24))
        let sum = Checksum.xxh3(w.bytes)
        w.write(sum)
        assert(w.count == Self.byteCount)
        return w.bytes
    }

    static func decode(_ buffer: UnsafeRawBufferPointer) throws(FormatError) -> SegmentHeader {
        guard buffer.count >= byteCount else {
            throw FormatError(.truncated, "segment header needs \(byteCount) bytes, file has \(buffer.count)", offset: 0)
        }
        guard buffer.prefix(8).elementsEqual(magic) else {
            throw FormatError(.malformed, "segment header magic is not \"AUDITSEG\"", offset: 0)
        }
        var r = ByteReader(UnsafeRawBufferPointer(rebasing: buffer[0..<byteCount]), offset: 8)
        let version = try r.readUInt16()
        guard version == rowsVersion || version == columnsVersion else {
            throw FormatError(.unsupportedVersion, "segment format version \(version); this build reads versions \(rowsVersion) and \(columnsVersion)", offset: 8)
        }
        let length = try r.readUInt16()
        guard length == byteCount else {
            throw FormatError(.malformed, "segment header length \(length), expected \(byteCount)", offset: 10)
        }
        let expected = Checksum.xxh3(UnsafeRawBufferPointer(rebasing: buffer[0..<(byteCount - 8)]))
        let stored = UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: byteCount - 8, as: UInt64.self))
        guard expected == stored else {
            throw FormatError(.checksumMismatch, "segment header checksum mismatch", offset: byteCount - 8)
        }
        guard try r.readUInt32() == 0 else { throw FormatError(.malformed, "segment header flags are not zero", offset: 12) }
        guard let logID = LogID(bytes: Array(try r.readBytes(16))) else {
            throw FormatError(.malformed, "log id", offset: 16)
        }
        let firstSeq = SequenceNumber(try r.readUInt64())
        let partitionStart = try r.readInt64()
        let partitionLength = try r.readInt64()
        let createdAt = try r.readInt64()
        guard let anchor = ChainHash(bytes: try r.readBytes(32)) else {
            throw FormatError(.malformed, "anchor", offset: 64)
        }
        guard try r.readBytes(24).allSatisfy({ $0 == 0 }) else {
            throw FormatError(.malformed, "segment header reserved bytes are not zero", offset: 96)
        }
        guard firstSeq.rawValue >= 1 else {
            throw FormatError(.malformed, "segment header has first seq \(firstSeq)", offset: 32)
        }
        guard partitionLength == LogManifest.hourNanos || partitionLength == LogManifest.dayNanos else {
            throw FormatError(.malformed, "partition length \(partitionLength) ns is neither an hour nor a day", offset: 48)
        }
        guard partitionStart >= 0, partitionStart % partitionLength == 0 else {
            throw FormatError(.malformed, "partition start \(partitionStart) is not on the partition grid", offset: 40)
        }
        return SegmentHeader(
            version: version, logID: logID, firstSeq: firstSeq, partitionStartNanos: partitionStart,
            partitionLengthNanos: partitionLength, createdAtNanos: createdAt, anchor: anchor)
    }
}
