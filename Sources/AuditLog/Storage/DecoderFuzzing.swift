/// Entry points for fuzzing the decoders that read untrusted bytes (docs/RELIABILITY.md): the
/// event JSON parser, the binary record decoder, a column frame's body (past the checksum and
/// LZ4 that guard it in a file), and a segment walked from memory by the ``SegmentWalker``
/// that walks every file (header, frames with their checksums, lengths and decompression,
/// records, footer). Each returns normally or throws a typed error; a crash, a
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

    /// Decodes `bytes` as a column frame (docs/FORMAT.md, "Column frames") each way a reader
    /// does — whole, a few records, some fields — and every record of a whole decode as
    /// `verify` checks it. `bytes`: the record count (`u32`), the raw length (`u32`), a mask of
    /// fields to keep (`u32`), then the body uncompressed; it is compressed here, so that what
    /// a fuzzer makes reaches the codec, not LZ4's checks. The count and length are held to
    /// what a frame header may say. Returns the records of the whole decode.
    public static func columnFrame(_ bytes: UnsafeRawBufferPointer) throws(AuditLogError) -> Int {
        do throws(FormatError) {
            var r = ByteReader(bytes)
            let count = Int(try r.readUInt32("record count"))
            let rawLength = Int(try r.readUInt32("raw length"))
            let fields = try r.readUInt32("fields")
            guard count >= 1, rawLength <= FrameHeader.maxRawPayloadBytes else {
                throw FormatError(.limitExceeded, "frame of \(count) records in \(rawLength) bytes", offset: 0)
            }
            let body = UnsafeRawBufferPointer(rebasing: bytes[r.offset...])
            var compressed: [UInt8] = []
            guard let size = Compression.compress(body, into: &compressed) else { throw FormatError(.malformed, "body does not compress", offset: 12) }
            var stored: [UInt8] = []
            stored.appendLittleEndian(UInt32(body.count))
            stored += compressed[0..<size]
            var raw: [UInt8] = []
            return try stored.withRawBytes { (payload) throws(FormatError) in
                let ordinals = Array(Set([0, count / 2, count - 1])).sorted()
                _ = try? FrameColumns.decode(payload, rawLength: rawLength, recordCount: count, only: ordinals, into: &raw)
                _ = try? FrameColumns.decode(payload, rawLength: rawLength, recordCount: count, fields: fields & FrameColumns.allFields, into: &raw)
                try FrameColumns.decode(payload, rawLength: rawLength, recordCount: count, into: &raw)
                return try raw.withRawBytes { (all) throws(FormatError) in
                    var entries = ByteReader(UnsafeRawBufferPointer(rebasing: all[0..<rawLength]))
                    var records = 0
                    while !entries.isAtEnd {
                        let (record, _) = try entries.readStringBytes("record")
                        _ = try AuditEvent.validateRecord(record)
                        _ = try AuditEvent.decodeRecord(record)
                        records += 1
                    }
                    return records
                }
            }
        } catch {
            throw AuditLogError(error, file: "<column frame>", baseOffset: 0)
        }
    }

    /// Walks `bytes` as a segment file, with the ``SegmentWalker`` every reader uses (over a
    /// file in memory): the header, then frames until the end or a footer, decoding every
    /// record. Returns the records decoded. Every length is checked against what is left before
    /// anything is read or allocated.
    public static func segment(_ bytes: UnsafeRawBufferPointer) throws(AuditLogError) -> Int {
        let fileSystem = MemoryFileSystem()
        let name = LogDirectory.segmentName(firstSeq: SequenceNumber(1))
        fileSystem.setContents(of: name, to: Array(bytes))
        let walker = try SegmentWalker(file: try fileSystem.openForReading(name, displayName: "<segment>"), name: name)
        var decoded = 0
        while true {
            switch try walker.next(.decompress) {
            case .frame:
                do throws(FormatError) {
                    try walker.forEachRecord { (_, record) throws(FormatError) in
                        _ = try AuditEvent.decodeRecord(record)
                        decoded += 1
                    }
                } catch {
                    throw AuditLogError(error, file: "<segment>", baseOffset: walker.offset)
                }
            case .end, .footer:
                return decoded
            case .tornTail(let offset, let reason):
                throw AuditLogError(.corruption, reason, location: .init(file: "<segment>", offset: offset))
            case .damage(let damage):
                throw damage.error(in: "<segment>")
            }
        }
    }
}
