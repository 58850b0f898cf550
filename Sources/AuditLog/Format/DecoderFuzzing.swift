/// Entry points for fuzzing the decoders that read untrusted bytes (docs/RELIABILITY.md): the
/// event JSON parser, the binary record decoder, and a segment walked from memory the way
/// ``SegmentReader`` walks a file (header, frames with their checksums, lengths and
/// decompression, records, footer). Each returns normally or throws a typed error; a crash, a
/// hang or an unbounded allocation is a bug. Not API: SPI for the fuzz targets and tests.
@_spi(Testing)
public enum DecoderFuzzing {
    /// Parses `bytes` as an event JSON object (and, when it parses, re-encodes it and parses
    /// that again: the round trip must give the same event).
    public static func eventJSON(_ bytes: UnsafeRawBufferPointer) throws(AuditLogError) -> AuditEvent {
        let event = try AuditEvent(jsonBytes: bytes)
        let again = Array(event.jsonText().utf8)
        let reparsed: Result<AuditEvent, AuditLogError> = again.withUnsafeBytes { raw in
            do throws(AuditLogError) { return .success(try AuditEvent(jsonBytes: raw)) } catch { return .failure(error) }
        }
        guard try reparsed.get() == event else {
            throw AuditLogError(.corruption, "event does not survive a JSON round trip")
        }
        return event
    }

    /// Decodes `bytes` as one binary record (docs/FORMAT.md, "Record").
    public static func record(_ bytes: UnsafeRawBufferPointer) throws(AuditLogError) -> AuditEvent {
        do throws(FormatError) {
            return try AuditEvent.decodeRecord(bytes)
        } catch {
            throw AuditLogError(error, file: "<record>", baseOffset: 0)
        }
    }

    /// Walks `bytes` as a segment file: the header, then frames until the end or a footer.
    /// Returns the records decoded. Every length is checked against what is left before
    /// anything is read or allocated.
    public static func segment(_ bytes: UnsafeRawBufferPointer) throws(AuditLogError) -> Int {
        do throws(FormatError) {
            return try walkSegment(bytes)
        } catch {
            throw AuditLogError(error, file: "<segment>", baseOffset: 0)
        }
    }

    private static func walkSegment(_ bytes: UnsafeRawBufferPointer) throws(FormatError) -> Int {
        let header = try SegmentHeader.decode(bytes)
        var offset = SegmentHeader.byteCount
        var decoded = 0
        var raw: [UInt8] = []
        var seq = header.firstSeq
        while offset < bytes.count {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
            if SegmentFooter.hasMagic(rest) {
                _ = try SegmentFooter.decode(rest)
                return decoded
            }
            let h = try FrameHeader.decode(rest)
            try h.validateShape()
            guard h.frameLengthBytes <= rest.count else {
                throw FormatError(.truncated, "frame of \(h.frameLengthBytes) bytes runs past the end (\(rest.count) left)", offset: offset)
            }
            guard h.firstSeq == seq else { throw FormatError(.malformed, "frame starts at seq \(h.firstSeq), expected \(seq)", offset: offset) }
            do throws(FormatError) {
                try h.unpack(UnsafeRawBufferPointer(rebasing: rest[0..<h.frameLengthBytes]), into: &raw)
            } catch {
                throw FormatError(error.kind, error.message, offset: offset + error.offset)
            }
            try raw.withRawBytes { (all) throws(FormatError) in
                try decodeFrame(UnsafeRawBufferPointer(rebasing: all[0..<Int(h.rawLengthBytes)]), count: h.recordCount, offset: offset)
            }
            decoded += Int(h.recordCount)
            seq = SequenceNumber(seq.rawValue + UInt64(h.recordCount))
            offset += h.frameLengthBytes
        }
        return decoded
    }

    private static func decodeFrame(_ payload: UnsafeRawBufferPointer, count: UInt32, offset: Int) throws(FormatError) {
        var it = FramePayloadIterator(payload)
        var n: UInt32 = 0
        while let record = try it.next() {
            _ = try AuditEvent.decodeRecord(record)
            n += 1
        }
        guard n == count else { throw FormatError(.malformed, "frame holds \(n) records, header says \(count)", offset: offset) }
    }
}
