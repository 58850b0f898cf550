/// Transcodes stored records straight to the CSV rows ``CSVExport/append(_:to:)`` writes for
/// them, without building events: the CSV export's hot path. Output is byte for byte the same
/// (a property test holds the two together).
///
/// A record stores its fields in presence-bit order and a row lists them in
/// ``CSVExport/fieldOrder``, so each field's cell text is written to a scratch buffer as the
/// record is read, then the cells are copied out in column order. One transcoder is reused for
/// a whole export: its buffers keep their capacity.
struct RecordCSV {
    private var scratch: [UInt8] = []
    /// Per ``EventField`` (raw value): the cell's byte range in `scratch`; empty when absent.
    private var cells = [Range<Int>](repeating: 0..<0, count: EventField.allCases.count)
    private var json: [UInt8] = []

    /// Appends the row of `record` (stored at `seq`) to `out`.
    mutating func append(_ record: UnsafeRawBufferPointer, seq: SequenceNumber, to out: inout [UInt8]) throws(FormatError) {
        // The row and its cells written through pointers into reserved room; a record whose
        // text outgrows the room is written again through the arrays.
        let bound = RecordJSON.roomBound(record.count)
        var fitted = false
        scratch.removeAll(keepingCapacity: true)
        _ = try scratch.append(within: bound) { (cellRoom: inout ReservedRoom) throws(FormatError) in
            fitted = try out.append(within: bound) { (rowRoom: inout ReservedRoom) throws(FormatError) in
                try Self.write(record, seq: seq, to: &rowRoom, cellsIn: &cellRoom, cells: &cells, json: &json)
                if cellRoom.overflowed { rowRoom.abandon() }
            }
        }
        guard !fitted else { return }
        scratch.removeAll(keepingCapacity: true)
        try Self.write(record, seq: seq, to: &out, cellsIn: &scratch, cells: &cells, json: &json)
    }

    /// Writes the row of `record` to `out`: the identifying cells straight away, the others to
    /// `scratch` (empty when called) as the record is read, their ranges in `cells`, then
    /// copied out in column order.
    private static func write<Row: ByteSink, Cells: ByteSink>(
        _ record: UnsafeRawBufferPointer, seq: SequenceNumber, to out: inout Row, cellsIn scratch: inout Cells,
        cells: inout [Range<Int>], json: inout [UInt8]
    ) throws(FormatError) {
        var r = ByteReader(record)
        let (ts, presence) = try AuditEvent.readHeader(&r)
        for i in cells.indices { cells[i] = 0..<0 }

        if presence & EventField.compactIDMask != 0 {
            let high = try r.readUInt64("id")
            let low = try r.readUInt64("id")
            EventID.append(high: high, low: low, to: &out)
        } else {
            try Self.copyString(&r, to: &out)
        }
        out.append(UInt8(ascii: ","))
        try Self.copyString(&r, to: &out)
        out.append(UInt8(ascii: ","))
        Timestamp(nanosSinceEpoch: ts).appendRFC3339(to: &out)
        out.append(UInt8(ascii: ","))

        for field in EventField.present(in: presence) {
            let start = r.offset
            let cellStart = scratch.count
            switch field.kind {
            case .verdict:
                guard let v = Verdict(code: try r.readUInt8("verdict")) else { throw FormatError(.malformed, "unknown verdict code", offset: start) }
                scratch.append(v.text)
            case .string:
                try Self.copyString(&r, to: &scratch)
            case .count:
                RecordJSON.appendDecimal(UInt64(try AuditEvent.readInteger(&r)), to: &scratch)
            case .fixed(let scale):
                RecordJSON.appendFixed(UInt64(try AuditEvent.readInteger(&r)), scale: scale, to: &scratch)
            case .bool:
                let b = try r.readUInt8("cache_hit")
                guard b <= 1 else { throw FormatError(.malformed, "cache_hit byte is not 0 or 1", offset: start) }
                scratch.append(b == 1 ? "true" : "false")
            case .policies, .redactions, .json, .members:
                // Nested fields are JSON text in a cell, quoted as any cell is.
                json.removeAll(keepingCapacity: true)
                switch field.kind {
                case .policies: try RecordJSON.copyObjects(&r, members: PolicyDecision.typedMembers, noun: "policy", to: &json)
                case .redactions: try RecordJSON.copyObjects(&r, members: Redaction.typedMembers, noun: "redaction", to: &json)
                case .json: try RecordJSON.copyValue(&r, to: &json, depth: 1)
                default:
                    var first = true
                    try RecordJSON.copyMembers(&r, to: &json, first: &first, depth: 1, openBrace: true)
                    json.append(UInt8(ascii: "}"))
                }
                json.withUnsafeBytes { Self.appendCell($0, to: &scratch) }
            }
            cells[Int(field.rawValue)] = cellStart..<scratch.count
        }
        guard r.isAtEnd else { throw FormatError(.malformed, "\(r.remaining) unexpected bytes after the record", offset: r.offset) }

        scratch.withWritten { cellText in
            for field in CSVExport.fieldOrder {
                let cell = cells[Int(field.rawValue)]
                if !cell.isEmpty { out.append(raw: UnsafeRawBufferPointer(rebasing: cellText[cell])) }
                out.append(UInt8(ascii: ","))
            }
        }
        RecordJSON.appendDecimal(seq.rawValue, to: &out)
        out.append(0x0D)
        out.append(0x0A)
    }

    /// Reads a str and writes it as a cell.
    private static func copyString<Sink: ByteSink>(_ r: inout ByteReader, to out: inout Sink) throws(FormatError) {
        let (bytes, start) = try r.readStringBytes()
        // ASCII without a comma, quote, CR or LF (most strings): valid UTF-8, copied as it is.
        if isPlainCSVCell(bytes) { return out.append(raw: bytes) }
        guard isValidUTF8(bytes) else { throw FormatError(.malformed, "string is not valid UTF-8", offset: start) }
        appendCell(bytes, to: &out)
    }

    /// Appends `bytes` as one cell, quoted (quotes doubled) when it holds a comma, quote, CR or LF.
    static func appendCell<Sink: ByteSink>(_ raw: UnsafeRawBufferPointer, to out: inout Sink) {
        let bytes = raw.assumingMemoryBound(to: UInt8.self)
        var plain = true
        for b in bytes where CSVExport.needsQuotes(b) {
            plain = false
            break
        }
        guard !plain else { return out.append(raw: raw) }
        out.append(0x22)
        for b in bytes {
            if b == 0x22 { out.append(0x22) }
            out.append(b)
        }
        out.append(0x22)
    }
}
