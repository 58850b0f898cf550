/// Entry points for fuzzing the decoders that read untrusted bytes (docs/RELIABILITY.md): the
/// event JSON parser, the binary record decoder, and a segment walked from memory by the
/// ``SegmentWalker`` that walks every file (header, frames with their checksums, lengths and
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
