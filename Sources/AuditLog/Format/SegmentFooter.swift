/// The 128-byte footer that seals a segment (docs/FORMAT.md, "Footer"). It is the last thing in
/// a sealed segment file; an active segment has none.
struct SegmentFooter: Equatable, Sendable {
    static let magic: UInt32 = 0x5254_4641  // "AFTR" little-endian
    static let byteCount = 128

    var firstSeq: SequenceNumber
    var lastSeq: SequenceNumber
    var recordCount: UInt64
    var frameCount: UInt64
    var minTimestampNanos: Int64
    var maxTimestampNanos: Int64
    /// File offset where the footer starts (the end of the last frame).
    var dataEndOffset: UInt64
    /// `h(lastSeq)`; the segment's anchor when it holds no records.
    var chainAfter: ChainHash
    /// Sum of the frames' raw (uncompressed) payload lengths.
    var rawPayloadBytes: UInt64

    func encoded() -> [UInt8] {
        var w = ByteWriter(capacity: Self.byteCount)
        w.write(Self.magic)
        w.write(UInt32(Self.byteCount))
        w.write(firstSeq.rawValue)
        w.write(lastSeq.rawValue)
        w.write(recordCount)
        w.write(frameCount)
        w.write(minTimestampNanos)
        w.write(maxTimestampNanos)
        w.write(dataEndOffset)
        chainAfter.write(to: &w)
        w.write(rawPayloadBytes)
        w.write(bytes: [UInt8](repeating: 0, count: 16))
        w.write(Checksum.xxh3(w.bytes))
        assert(w.count == Self.byteCount)
        return w.bytes
    }

    /// True when the first four bytes are the footer magic.
    static func hasMagic(_ buffer: UnsafeRawBufferPointer) -> Bool {
        buffer.count >= 4 && UInt32(littleEndian: buffer.loadUnaligned(as: UInt32.self)) == magic
    }

    static func decode(_ buffer: UnsafeRawBufferPointer) throws(FormatError) -> SegmentFooter {
        guard buffer.count >= byteCount else {
            throw FormatError(.truncated, "footer needs \(byteCount) bytes, \(buffer.count) left", offset: 0)
        }
        let body = UnsafeRawBufferPointer(rebasing: buffer[0..<byteCount])
        var r = ByteReader(body)
        guard try r.readUInt32() == magic else {
            throw FormatError(.malformed, "footer magic is not \"AFTR\"", offset: 0)
        }
        guard try r.readUInt32() == UInt32(byteCount) else {
            throw FormatError(.malformed, "footer length is not \(byteCount)", offset: 4)
        }
        let stored = UInt64(littleEndian: body.loadUnaligned(fromByteOffset: byteCount - 8, as: UInt64.self))
        guard Checksum.xxh3(UnsafeRawBufferPointer(rebasing: body[0..<(byteCount - 8)])) == stored else {
            throw FormatError(.checksumMismatch, "footer checksum mismatch", offset: byteCount - 8)
        }
        let footer = SegmentFooter(
            firstSeq: SequenceNumber(try r.readUInt64()),
            lastSeq: SequenceNumber(try r.readUInt64()),
            recordCount: try r.readUInt64(),
            frameCount: try r.readUInt64(),
            minTimestampNanos: try r.readInt64(),
            maxTimestampNanos: try r.readInt64(),
            dataEndOffset: try r.readUInt64(),
            chainAfter: ChainHash(bytes: try r.readBytes(32)) ?? .zero,
            rawPayloadBytes: try r.readUInt64())
        guard try r.readBytes(16).allSatisfy({ $0 == 0 }) else {
            throw FormatError(.malformed, "footer reserved bytes are not zero", offset: 104)
        }
        // An empty segment's footer: last seq = first seq - 1, times zero (FORMAT.md).
        let empty = footer.recordCount == 0
        guard footer.lastSeq.rawValue &+ 1 &- footer.firstSeq.rawValue == footer.recordCount,
            !empty || (footer.minTimestampNanos == 0 && footer.maxTimestampNanos == 0 && footer.frameCount == 0),
            empty || footer.minTimestampNanos <= footer.maxTimestampNanos
        else { throw FormatError(.malformed, "footer summary is inconsistent (seqs \(footer.firstSeq)–\(footer.lastSeq), \(footer.recordCount) records)", offset: 8) }
        return footer
    }
}
