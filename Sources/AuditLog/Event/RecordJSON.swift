/// Transcodes a stored record straight to the JSON text ``AuditEvent/appendJSON(to:seq:)``
/// would write for it, without building the event: the export hot path. Output is byte for
/// byte the same (a property test holds the two together).
enum RecordJSON {
    /// `"name":` of each field, by raw value, made once and never freed: a key is appended from
    /// a raw buffer (a trivial value) rather than an array of arrays, whose element would be
    /// retained and released for every key of every exported event (a fifth of an export's
    /// time in the profile). `nonisolated(unsafe)`: the bytes are written once, before the
    /// table is published, and only read after.
    nonisolated(unsafe) private static let quotedKeys: [UnsafeRawBufferPointer] = EventField.allCases.map { field in
        let bytes = Array("\"\(field.jsonName)\":".utf8)
        let stored = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
        stored.copyBytes(from: bytes)
        return UnsafeRawBufferPointer(stored)
    }

    static func append(_ record: UnsafeRawBufferPointer, seq: SequenceNumber?, to out: inout [UInt8]) throws(FormatError) {
        let fitted = try out.append(within: roomBound(record.count)) { (room: inout ReservedRoom) throws(FormatError) in
            try write(record, seq: seq, to: &room)
        }
        // A record whose text outgrows the bound (many escapes, short nested values): written
        // again through the array.
        if !fitted { try write(record, seq: seq, to: &out) }
    }

    /// Room for the JSON text of a record of `count` bytes, enough for every record `auditlog
    /// gen` writes with room to spare (its text is ~3.5 times its bytes). Text that needs more
    /// is written through the array instead; a bound too small costs time, never bytes.
    static func roomBound(_ count: Int) -> Int { 4 * count + 1024 }

    /// Writes the JSON text of `record` to `out`.
    static func write<Sink: ByteSink>(_ record: UnsafeRawBufferPointer, seq: SequenceNumber?, to out: inout Sink) throws(FormatError) {
        var r = ByteReader(record)
        let (ts, presence) = try AuditEvent.readHeader(&r)
        var first = true
        // `"name":` of each key, made once: one copy a key (this runs for every exported event).
        func key(_ quoted: UnsafeRawBufferPointer) {
            out.append(first ? UInt8(ascii: "{") : UInt8(ascii: ","))
            first = false
            out.append(raw: quoted)
        }
        func key(_ quoted: StaticString) { key(UnsafeRawBufferPointer(start: quoted.utf8Start, count: quoted.utf8CodeUnitCount)) }
        func key(_ field: EventField) { key(Self.quotedKeys[Int(field.rawValue)]) }
        if let seq {
            key("\"seq\":")
            appendDecimal(seq.rawValue, to: &out)
        }
        key("\"id\":")
        if presence & EventField.compactIDMask != 0 {
            let high = try r.readUInt64("id")
            let low = try r.readUInt64("id")
            out.append(UInt8(ascii: "\""))
            EventID.append(high: high, low: low, to: &out)
            out.append(UInt8(ascii: "\""))
        } else {
            try copyString(&r, to: &out)
        }
        key("\"event_type\":")
        try copyString(&r, to: &out)
        key("\"timestamp\":")
        out.append(UInt8(ascii: "\""))
        Timestamp(nanosSinceEpoch: ts).appendRFC3339(to: &out)
        out.append(UInt8(ascii: "\""))
        for field in EventField.present(in: presence) {
            let start = r.offset
            switch field.kind {
            case .verdict:
                guard let v = Verdict(code: try r.readUInt8("verdict")) else { throw FormatError(.malformed, "unknown verdict code", offset: start) }
                key(field)
                out.append(UInt8(ascii: "\""))
                out.append(v.text)
                out.append(UInt8(ascii: "\""))
            case .string:
                key(field)
                try copyString(&r, to: &out)
            case .count:
                let v = try AuditEvent.readInteger(&r)
                key(field)
                appendDecimal(UInt64(v), to: &out)
            case .fixed(let scale):
                let v = try AuditEvent.readInteger(&r)
                key(field)
                appendFixed(UInt64(v), scale: scale, to: &out)
            case .bool:
                let b = try r.readUInt8("cache_hit")
                guard b <= 1 else { throw FormatError(.malformed, "cache_hit byte is not 0 or 1", offset: start) }
                key(field)
                out.append(b == 1 ? "true" : "false")
            case .policies:
                key(field)
                try copyObjects(&r, members: PolicyDecision.typedMembers, noun: "policy", to: &out)
            case .redactions:
                key(field)
                try copyObjects(&r, members: Redaction.typedMembers, noun: "redaction", to: &out)
            case .json:
                key(field)
                try copyValue(&r, to: &out, depth: 1)
            case .members:
                // After the id, never first: the members continue the top-level object.
                var firstMember = false
                try copyMembers(&r, to: &out, first: &firstMember, depth: 1)
            }
        }
        guard r.isAtEnd else { throw FormatError(.malformed, "\(r.remaining) unexpected bytes after the record", offset: r.offset) }
        out.append(UInt8(ascii: "}"))
    }

    /// Reads an array of objects stored as policies and redactions are: a count, then per object
    /// a presence byte (one bit per typed string member, in `members` order, then one bit for
    /// the other members), the present strings, the other members.
    static func copyObjects<Sink: ByteSink>(_ r: inout ByteReader, members: [StaticString], noun: String, to out: inout Sink) throws(FormatError) {
        let count = try r.readVarint("object count")
        guard count <= UInt64(r.remaining) else { throw FormatError(.truncated, "\(noun) count past the end", offset: r.offset) }
        let otherMembers = UInt8(1) << UInt8(members.count)
        out.append(UInt8(ascii: "["))
        for i in 0..<count {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            let start = r.offset
            let bits = try r.readUInt8("presence")
            guard bits & ~((otherMembers << 1) &- 1) == 0 else { throw FormatError(.malformed, "unknown \(noun) presence bits", offset: start) }
            var firstMember = true
            out.append(UInt8(ascii: "{"))
            for (k, name) in members.enumerated() where bits & (1 << UInt8(k)) != 0 {
                memberKey(name, &firstMember, &out)
                try copyString(&r, to: &out)
            }
            if bits & otherMembers != 0 { try copyMembers(&r, to: &out, first: &firstMember, depth: 1) }
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "]"))
    }

    private static func memberKey<Sink: ByteSink>(_ name: StaticString, _ first: inout Bool, _ out: inout Sink) {
        if !first { out.append(UInt8(ascii: ",")) }
        first = false
        out.append(UInt8(ascii: "\""))
        out.append(name)
        out.append(UInt8(ascii: "\""))
        out.append(UInt8(ascii: ":"))
    }

    /// `value / 10^scale` with the fewest decimals, as ``FixedPoint/format(_:scale:)`` writes it.
    static func appendFixed<Sink: ByteSink>(_ value: UInt64, scale: Int, to out: inout Sink) {
        guard scale > 0 else { return appendDecimal(value, to: &out) }
        var divisor: UInt64 = 1
        for _ in 0..<scale { divisor *= 10 }
        appendDecimal(value / divisor, to: &out)
        var fraction = value % divisor
        guard fraction != 0 else { return }
        var width = scale
        while fraction % 10 == 0 { fraction /= 10; width -= 1 }
        out.append(UInt8(ascii: "."))
        var digits = 1
        var t = fraction
        while t >= 10 { t /= 10; digits += 1 }
        for _ in 0..<(width - digits) { out.append(UInt8(ascii: "0")) }
        appendDecimal(fraction, to: &out)
    }

    static func appendDecimal<Sink: ByteSink>(_ value: UInt64, to out: inout Sink) {
        if value < 10 {
            out.append(UInt8(48 + value))
            return
        }
        var digits:
            (
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8
            ) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var v = value
        var n = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            while v > 0 {
                buffer[19 - n] = UInt8(48 + v % 10)
                v /= 10
                n += 1
            }
            out.append(raw: UnsafeRawBufferPointer(rebasing: buffer[(20 - n)..<20]))
        }
    }

    /// Reads a str and writes it as a JSON string, escaped exactly as ``JSONWriter`` does.
    static func copyString<Sink: ByteSink>(_ r: inout ByteReader, to out: inout Sink) throws(FormatError) {
        let (bytes, start) = try r.readStringBytes()
        // Most strings are printable ASCII without quotes or backslashes: valid UTF-8 that
        // needs no escaping, copied in one piece after one look at each word.
        if isPlainJSONString(bytes) {
            out.append(UInt8(ascii: "\""))
            out.append(raw: bytes)
            out.append(UInt8(ascii: "\""))
            return
        }
        guard isValidUTF8(bytes) else { throw FormatError(.malformed, "string is not valid UTF-8", offset: start) }
        appendEscaped(bytes, to: &out)
    }

    static func appendEscaped<Sink: ByteSink>(_ bytes: UnsafeRawBufferPointer, to out: inout Sink) {
        out.append(UInt8(ascii: "\""))
        var runStart = 0
        for i in 0..<bytes.count {
            let c = bytes[i]
            guard c < 0x20 || c == 0x22 || c == 0x5C else { continue }
            out.append(raw: UnsafeRawBufferPointer(rebasing: bytes[runStart..<i]))
            out.append(UInt8(ascii: "\\"))
            switch c {
            case 0x22: out.append(0x22)
            case 0x5C: out.append(0x5C)
            case 0x0A: out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(UInt8(ascii: "r"))
            case 0x09: out.append(UInt8(ascii: "t"))
            case 0x08: out.append(UInt8(ascii: "b"))
            case 0x0C: out.append(UInt8(ascii: "f"))
            default:
                let hex: StaticString = "0123456789abcdef"
                out.append("u00")
                out.append(hex.utf8Start[Int(c >> 4)])
                out.append(hex.utf8Start[Int(c & 0xF)])
            }
            runStart = i + 1
        }
        out.append(raw: UnsafeRawBufferPointer(rebasing: bytes[runStart..<bytes.count]))
        out.append(UInt8(ascii: "\""))
    }

    static func copyValue<Sink: ByteSink>(_ r: inout ByteReader, to out: inout Sink, depth: Int) throws(FormatError) {
        guard depth < JSONValue.maxDepth else { throw FormatError(.limitExceeded, "JSON value nested too deep", offset: r.offset) }
        let start = r.offset
        switch try r.readUInt8("JSON tag") {
        case 0: out.append("null")
        case 1: out.append("false")
        case 2: out.append("true")
        case 3:
            let text = try r.readString("number")
            guard JSONParser.isValidNumberLiteral(text) else { throw FormatError(.malformed, "stored number is not a JSON number", offset: start) }
            text.withUTF8Bytes { out.append(raw: $0) }
        case 4: try copyString(&r, to: &out)
        case 5:
            let count = try r.readVarint("array count")
            guard count <= UInt64(r.remaining) else { throw FormatError(.truncated, "array past the end", offset: start) }
            out.append(UInt8(ascii: "["))
            for i in 0..<count {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                try copyValue(&r, to: &out, depth: depth + 1)
            }
            out.append(UInt8(ascii: "]"))
        case 6:
            var first = true
            try copyMembers(&r, to: &out, first: &first, depth: depth + 1, openBrace: true)
            out.append(UInt8(ascii: "}"))
        case let tag:
            throw FormatError(.malformed, "unknown JSON tag \(tag)", offset: start)
        }
    }

    /// Writes members (`"k":v,…`), after `,` unless `first`; with `openBrace` an opening `{`
    /// comes first (the caller closes it).
    static func copyMembers<Sink: ByteSink>(_ r: inout ByteReader, to out: inout Sink, first: inout Bool, depth: Int, openBrace: Bool = false) throws(FormatError) {
        let start = r.offset
        let count = try r.readVarint("object count")
        guard count <= UInt64(r.remaining) else { throw FormatError(.truncated, "object past the end", offset: start) }
        if openBrace { out.append(UInt8(ascii: "{")) }
        for _ in 0..<count {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            try copyString(&r, to: &out)
            out.append(UInt8(ascii: ":"))
            try copyValue(&r, to: &out, depth: depth)
        }
    }
}
