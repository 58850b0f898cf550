/// A frame: an 88-byte header followed by its payload of records, LZ4-compressed or raw,
/// protected by one XXH3-64 checksum (docs/FORMAT.md, "Frame").
struct FrameHeader: Equatable, Sendable {
    static let magic: UInt32 = 0x4D52_4641  // "AFRM" little-endian
    static let byteCount = 88
    /// Largest raw payload a reader accepts (a single record may exceed the 32 KiB target).
    static let maxRawPayloadBytes = 16 << 20
    /// Largest stored payload a reader accepts (LZ4's worst case on the largest raw one fits).
    static let maxStoredPayloadBytes = maxRawPayloadBytes + 65_536

    enum Codec: UInt8, Sendable {
        case raw = 0
        case lz4 = 1
        /// Columns, LZ4-compressed (``FrameColumns``).
        case columns = 2
    }

    var codec: Codec
    var storedLengthBytes: UInt32
    var rawLengthBytes: UInt32
    var recordCount: UInt32
    var firstSeq: SequenceNumber
    var minTimestampNanos: Int64
    var maxTimestampNanos: Int64
    /// `h(lastSeq)`: the chain value after this frame's last record.
    var chainAfter: ChainHash
    var checksum: UInt64

    var lastSeq: SequenceNumber { SequenceNumber(firstSeq.rawValue + UInt64(recordCount) - 1) }
    var frameLengthBytes: Int { Self.byteCount + Int(storedLengthBytes) }

    /// The first 80 bytes (everything the checksum covers besides the payload).
    func encodedPrefix() -> [UInt8] {
        var w = ByteWriter(capacity: Self.byteCount)
        w.write(Self.magic)
        w.write(UInt8(1))  // kind: records
        w.write(codec.rawValue)
        w.write(UInt16(0))
        w.write(storedLengthBytes)
        w.write(rawLengthBytes)
        w.write(recordCount)
        w.write(UInt32(0))
        w.write(firstSeq.rawValue)
        w.write(minTimestampNanos)
        w.write(maxTimestampNanos)
        chainAfter.write(to: &w)
        return w.bytes
    }

    /// Decodes the header fields. Does not check the checksum (that needs the payload); see
    /// ``verifyChecksum(header:payload:)``.
    static func decode(_ buffer: UnsafeRawBufferPointer) throws(FormatError) -> FrameHeader {
        var r = ByteReader(buffer)
        guard buffer.count >= byteCount else {
            throw FormatError(.truncated, "frame header needs \(byteCount) bytes, \(buffer.count) left", offset: 0)
        }
        let magic = try r.readUInt32()
        guard magic == Self.magic else {
            throw FormatError(.malformed, "frame magic is not \"AFRM\"", offset: 0)
        }
        let kind = try r.readUInt8()
        let codecByte = try r.readUInt8()
        guard kind == 1, let codec = Codec(rawValue: codecByte) else {
            throw FormatError(.malformed, "frame kind \(kind) codec \(codecByte) unknown", offset: 4)
        }
        guard try r.readUInt16() == 0 else { throw FormatError(.malformed, "frame reserved bytes are not zero", offset: 6) }
        let stored = try r.readUInt32()
        let raw = try r.readUInt32()
        let count = try r.readUInt32()
        guard try r.readUInt32() == 0 else { throw FormatError(.malformed, "frame reserved bytes are not zero", offset: 20) }
        let firstSeq = SequenceNumber(try r.readUInt64())
        let minTs = try r.readInt64()
        let maxTs = try r.readInt64()
        guard let chain = ChainHash(bytes: try r.readBytes(32)) else {
            throw FormatError(.malformed, "chain value", offset: 48)
        }
        let checksum = try r.readUInt64()
        return FrameHeader(
            codec: codec, storedLengthBytes: stored, rawLengthBytes: raw, recordCount: count,
            firstSeq: firstSeq, minTimestampNanos: minTs, maxTimestampNanos: maxTs,
            chainAfter: chain, checksum: checksum)
    }

    /// Structural checks that need no payload: lengths within limits, at least one record.
    func validateShape() throws(FormatError) {
        guard recordCount >= 1, firstSeq.rawValue >= 1 else {
            throw FormatError(.malformed, "frame holds \(recordCount) records starting at seq \(firstSeq)", offset: 16)
        }
        guard rawLengthBytes <= UInt32(Self.maxRawPayloadBytes), storedLengthBytes <= UInt32(Self.maxStoredPayloadBytes) else {
            throw FormatError(.limitExceeded, "frame payload of \(rawLengthBytes) bytes exceeds the \(Self.maxRawPayloadBytes)-byte limit", offset: 8)
        }
        if codec == .raw, storedLengthBytes != rawLengthBytes {
            throw FormatError(.malformed, "raw frame with stored length \(storedLengthBytes) != raw length \(rawLengthBytes)", offset: 8)
        }
        guard minTimestampNanos <= maxTimestampNanos else {
            throw FormatError(.malformed, "frame min time after max time", offset: 32)
        }
    }

    /// Checks a whole frame (`frame`: its header bytes then its stored payload) against this
    /// header's checksum and, when `decompress`, puts the raw payload in `raw` (resized as
    /// needed; the first ``rawLengthBytes`` bytes are the payload). Offsets in errors are
    /// relative to the frame start. Shared by the file reader and the fuzzed decoder.
    func unpack(_ frame: UnsafeRawBufferPointer, decompress: Bool = true, into raw: inout [UInt8]) throws(FormatError) {
        let payload = try checkedPayload(frame)
        guard decompress else { return }
        switch codec {
        case .raw:
            if raw.count < payload.count {
                raw = Array(payload)
            } else {
                raw.withUnsafeMutableBytes { dst in dst.copyMemory(from: payload) }
            }
        case .lz4:
            do throws(FormatError) {
                try Compression.decompress(payload, rawLength: Int(rawLengthBytes), into: &raw)
            } catch {
                throw FormatError(error.kind, error.message, offset: Self.byteCount)
            }
        case .columns:
            do throws(FormatError) {
                try FrameColumns.decode(payload, rawLength: Int(rawLengthBytes), recordCount: Int(recordCount), into: &raw)
            } catch {
                throw FormatError(error.kind, error.message, offset: Self.byteCount)
            }
        }
    }

    /// Checks an LZ4 row frame (codec 1) as ``unpack(_:decompress:into:)`` does and decompresses
    /// only its first `bytes` of payload into `raw` (sized for the whole); returns the bytes
    /// written.
    func unpackPrefix(_ frame: UnsafeRawBufferPointer, bytes: Int, into raw: inout [UInt8]) throws(FormatError) -> Int {
        let payload = try checkedPayload(frame)
        guard codec == .lz4 else { throw FormatError(.malformed, "not an LZ4 row frame", offset: 5) }
        do throws(FormatError) {
            return try Compression.decompressPrefix(payload, prefix: bytes, rawLength: Int(rawLengthBytes), into: &raw)
        } catch {
            throw FormatError(error.kind, error.message, offset: Self.byteCount)
        }
    }

    /// Checks a column frame (codec 2) as ``unpack(_:decompress:into:)`` does and decodes only
    /// the records at `ordinals` (ascending, below ``recordCount``) into the start of `raw`, one
    /// entry each; returns the bytes written.
    func unpackColumns(_ frame: UnsafeRawBufferPointer, only ordinals: [Int], into raw: inout [UInt8]) throws(FormatError) -> Int {
        try unpackColumns(frame) { (payload) throws(FormatError) in
            try FrameColumns.decode(payload, rawLength: Int(rawLengthBytes), recordCount: Int(recordCount), only: ordinals, into: &raw)
        }
    }

    /// Checks a column frame (codec 2) as ``unpack(_:decompress:into:)`` does and decodes each
    /// of its records with only the fields of `fields` into the start of `raw`
    /// (``FrameColumns/decode(_:rawLength:recordCount:fields:into:)``); returns the bytes written.
    func unpackColumns(_ frame: UnsafeRawBufferPointer, fields: UInt32, into raw: inout [UInt8]) throws(FormatError) -> Int {
        try unpackColumns(frame) { (payload) throws(FormatError) in
            try FrameColumns.decode(payload, rawLength: Int(rawLengthBytes), recordCount: Int(recordCount), fields: fields, into: &raw)
        }
    }

    /// The checked payload of a column frame given to `decode`, its errors placed at the payload.
    private func unpackColumns(_ frame: UnsafeRawBufferPointer, _ decode: (UnsafeRawBufferPointer) throws(FormatError) -> Int) throws(FormatError) -> Int {
        let payload = try checkedPayload(frame)
        guard codec == .columns else { throw FormatError(.malformed, "not a column frame", offset: 5) }
        do throws(FormatError) {
            return try decode(payload)
        } catch {
            throw FormatError(error.kind, error.message, offset: Self.byteCount)
        }
    }

    /// The stored payload of `frame` (its header bytes, then the payload) once it matches this
    /// header's checksum.
    private func checkedPayload(_ frame: UnsafeRawBufferPointer) throws(FormatError) -> UnsafeRawBufferPointer {
        let stored = Int(storedLengthBytes)
        guard frame.count >= Self.byteCount + stored else {
            throw FormatError(.truncated, "frame of \(Self.byteCount + stored) bytes, \(frame.count) present", offset: 0)
        }
        let prefix = UnsafeRawBufferPointer(rebasing: frame[0..<Self.byteCount])
        let payload = UnsafeRawBufferPointer(rebasing: frame[Self.byteCount..<(Self.byteCount + stored)])
        guard Self.checksum(headerPrefix: prefix, payload: payload) == checksum else {
            throw FormatError(.checksumMismatch, "frame checksum mismatch", offset: 80)
        }
        return payload
    }

    /// XXH3-64 over header bytes [0, 80) and the stored payload.
    static func checksum(headerPrefix: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer) -> UInt64 {
        Checksum.xxh3(UnsafeRawBufferPointer(rebasing: headerPrefix[0..<80]), payload)
    }
}

/// Builds frames from records: the writer appends leaves, then `finish` compresses and returns
/// the frame bytes ready for one write.
struct FrameBuilder {
    /// Target raw payload size; a frame is closed once it reaches this. A frame is the unit a
    /// read decompresses whole, even for one record of it: 32 KiB (about 160 generated events)
    /// stores 0.7 bytes/event more than 128 KiB (LZ4 restarts per frame; 100.5 against 99.8
    /// bytes/event measured on a day's segment of generated traffic, 16 KiB: 105.9) and makes a
    /// sparse read — a user's day, the newest 50 of a kind — decompress a quarter as much.
    static let targetRawBytes = 32 << 10

    private(set) var payload = ByteWriter(capacity: targetRawBytes + 4096)
    private(set) var recordCount: UInt32 = 0
    private(set) var firstSeq = SequenceNumber(0)
    private(set) var minTimestampNanos = Int64.max
    private(set) var maxTimestampNanos = Int64.min
    private var compressed: [UInt8] = []
    private var columns = FrameColumnEncoder()
    /// Whether frames are stored as columns (codec 2) when that is smaller than the records
    /// raw; only in a segment of version 2.
    var writesColumns = false

    var isEmpty: Bool { recordCount == 0 }
    var rawBytes: Int { payload.count }

    /// Appends one record: its length as a varint, then its bytes.
    mutating func append(record: UnsafeRawBufferPointer, seq: SequenceNumber, timestampNanos: Int64) {
        if recordCount == 0 { firstSeq = seq }
        recordCount += 1
        minTimestampNanos = min(minTimestampNanos, timestampNanos)
        maxTimestampNanos = max(maxTimestampNanos, timestampNanos)
        payload.writeVarint(UInt64(record.count))
        payload.write(bytes: record)
    }

    /// Produces the frame bytes and resets the builder.
    mutating func finish(chainAfter: ChainHash, into out: inout [UInt8]) -> FrameHeader {
        var header = FrameHeader(
            codec: .raw, storedLengthBytes: UInt32(payload.count), rawLengthBytes: UInt32(payload.count),
            recordCount: recordCount, firstSeq: firstSeq, minTimestampNanos: minTimestampNanos,
            maxTimestampNanos: maxTimestampNanos, chainAfter: chainAfter, checksum: 0)
        var columnCount: Int?
        if writesColumns {
            // The column encoder appends; LZ4 below writes from the start of a buffer it keeps
            // at its bound (emptying it there would reallocate it for every frame).
            compressed.removeAll(keepingCapacity: true)
            columnCount = payload.bytes.withUnsafeBytes { columns.encode($0, recordCount: Int(recordCount), into: &compressed) }
        }
        if let columnCount, columnCount < payload.count {
            header.codec = .columns
            header.storedLengthBytes = UInt32(columnCount)
        } else {
            let compressedCount = payload.bytes.withUnsafeBytes { Compression.compress($0, into: &compressed) }
            if let compressedCount, compressedCount < payload.count {
                header.codec = .lz4
                header.storedLengthBytes = UInt32(compressedCount)
            }
        }
        let prefix = header.encodedPrefix()
        let sum: UInt64 = prefix.withUnsafeBytes { p in
            if header.codec != .raw {
                return compressed.withUnsafeBytes { FrameHeader.checksum(headerPrefix: p, payload: UnsafeRawBufferPointer(rebasing: $0[0..<Int(header.storedLengthBytes)])) }
            }
            return payload.bytes.withUnsafeBytes { FrameHeader.checksum(headerPrefix: p, payload: $0) }
        }
        header.checksum = sum
        out.append(contentsOf: prefix)
        withUnsafeBytes(of: sum.littleEndian) { out.append(contentsOf: $0) }
        if header.codec != .raw {
            out.append(contentsOf: compressed[0..<Int(header.storedLengthBytes)])
        } else {
            out.append(contentsOf: payload.bytes)
        }
        payload.removeAll()
        recordCount = 0
        minTimestampNanos = .max
        maxTimestampNanos = .min
        return header
    }
}

/// Walks the records of a decoded (raw) frame payload.
struct FramePayloadIterator {
    private let payload: UnsafeRawBufferPointer
    private var offset = 0

    init(_ payload: UnsafeRawBufferPointer) { self.payload = payload }

    /// The next record's bytes, or nil at the end.
    mutating func next() throws(FormatError) -> UnsafeRawBufferPointer? {
        guard let range = try nextRange() else { return nil }
        return UnsafeRawBufferPointer(rebasing: payload[range])
    }

    /// Where the next record's bytes are in the payload, or nil at the end.
    mutating func nextRange() throws(FormatError) -> Range<Int>? {
        guard offset < payload.count else { return nil }
        var r = ByteReader(payload, offset: offset)
        let length = try r.readVarint("record length")
        guard length <= UInt64(r.remaining) else {
            throw FormatError(.truncated, "record of \(length) bytes runs past the end of the frame", offset: offset)
        }
        let range = r.offset..<(r.offset + Int(length))
        offset = range.upperBound
        return range
    }
}
