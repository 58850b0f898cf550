/// What an index keeps of one record: enough to filter, group and sum without decoding it.
struct RecordFacts {
    var timestampNanos: Int64 = 0
    /// 0 none, else ``Verdict/code``.
    var verdict: UInt8 = 0
    /// 0 none, 1 false, 2 true.
    var cacheHit: UInt8 = 0
    /// Per ``Dimension/columns`` (eight): where the value's bytes lie in the record these facts
    /// were read from, length -1 when it has none. Not yet checked as UTF-8: an index checks a
    /// value the first time it meets it (``IndexBuilder/add(record:)``).
    var valueOffsets = SIMD8<Int32>(repeating: 0)
    var valueLengths = SIMD8<Int32>(repeating: -1)
    /// -1 when absent.
    var tokensIn: Int64 = -1
    var tokensOut: Int64 = -1
    var costNanos: Int64 = -1
    var latencyMicros: Int64 = -1
    var idHash: UInt32 = 0

    /// The 32-bit id hash kept in index id tables (the low half of XXH3-64 of the id text).
    static func idHash(_ id: String) -> UInt32 { IDIndex.hash(id) }

    /// The last field an index keeps; reading a record stops after it.
    private static let lastKept = EventField.cacheHit

    /// The presence bits of the fields these facts come from (up to ``lastKept``): an index
    /// build reads only their columns of a column frame (``SegmentWalker/Payload/fields(_:)``).
    static let fieldsRead: UInt32 = (1 << UInt32(lastKept.rawValue + 1)) - 1

    init() {}

    init(_ event: AuditEvent) {
        timestampNanos = event.timestamp.nanosSinceEpoch
        verdict = event.verdict?.code ?? 0
        cacheHit = event.cacheHit.map { $0 ? 2 : 1 } ?? 0
        for field in EventField.all where field.rawValue <= Self.lastKept.rawValue {
            if let value = event[integer: field] { set(field, value) }
        }
        idHash = Self.idHash(event.id ?? "")
    }

    /// Reads the facts straight from record bytes, stopping after the last field an index keeps:
    /// the same layout ``AuditEvent/decodeRecord(_:)`` reads (a property test holds them together).
    /// The id is hashed from its bytes (a compact one from its text written on the stack), no
    /// `String` made.
    init(record: UnsafeRawBufferPointer) throws(FormatError) {
        var r = ByteReader(record)
        let (ts, presence) = try AuditEvent.readHeader(&r)
        timestampNanos = ts
        if presence & EventField.compactIDMask != 0 {
            let high = try r.readUInt64("id")
            let low = try r.readUInt64("id")
            idHash = withUnsafeTemporaryAllocation(byteCount: EventID.textBytes, alignment: 8) { text in
                EventID.write(high: high, low: low, to: text)
                return IDIndex.hash(utf8: UnsafeRawBufferPointer(text))
            }
        } else {
            let (id, start) = try r.readStringBytes("id")
            guard isValidUTF8(id) else { throw FormatError(.malformed, "id is not valid UTF-8", offset: start) }
            idHash = IDIndex.hash(utf8: id)
        }
        try readValue(Dimension.eventType.column, &r, "event_type")
        // The fields in bit order up to the last kept, each behind a test of its bit: straight-line
        // code (as the decoder's), where a loop over the present fields dispatched on each kind.
        func has(_ field: EventField) -> Bool { presence & field.mask != 0 }
        if has(.verdict) {
            let start = r.offset
            verdict = try r.readUInt8("verdict")
            guard Verdict(code: verdict) != nil else { throw FormatError(.malformed, "unknown verdict code", offset: start) }
        }
        if has(.reasonCode) { try readValue(Dimension.reasonCode.column, &r, "reason_code") }
        if has(.user) { try readValue(Dimension.user.column, &r, "user") }
        if has(.team) { try readValue(Dimension.team.column, &r, "team") }
        if has(.model) { try readValue(Dimension.model.column, &r, "model") }
        if has(.provider) { try readValue(Dimension.provider.column, &r, "provider") }
        if has(.configVersion) { try readValue(nil, &r, "config_version") }
        if has(.apiKey) { try readValue(Dimension.apiKey.column, &r, "api_key") }
        if has(.source) { try readValue(Dimension.source.column, &r, "source") }
        if has(.tokensIn) { tokensIn = try AuditEvent.readInteger(&r) }
        if has(.tokensOut) { tokensOut = try AuditEvent.readInteger(&r) }
        if has(.tokensCached) { _ = try AuditEvent.readInteger(&r) }
        if has(.tokensReasoning) { _ = try AuditEvent.readInteger(&r) }
        if has(.cost) { costNanos = try AuditEvent.readInteger(&r) }
        if has(.latency) { latencyMicros = try AuditEvent.readInteger(&r) }
        if has(.cacheHit) {
            let start = r.offset
            let b = try r.readUInt8("cache_hit")
            guard b <= 1 else { throw FormatError(.malformed, "cache_hit byte is not 0 or 1", offset: start) }
            cacheHit = b + 1
        }
    }

    /// A string field: where its bytes lie, kept as `column`'s value (stepped over when nil).
    private mutating func readValue(_ column: Int?, _ r: inout ByteReader, _ what: StaticString) throws(FormatError) {
        let (value, _) = try r.readStringBytes(what)
        guard let column else { return }
        valueOffsets[column] = Int32(truncatingIfNeeded: r.offset - value.count)
        valueLengths[column] = Int32(truncatingIfNeeded: value.count)
    }

    /// The bytes of column `column`'s value in `record` (the one these facts were read from),
    /// nil when it has none.
    func value(_ column: Int, in record: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        let length = Int(valueLengths[column])
        guard length >= 0 else { return nil }
        let offset = Int(valueOffsets[column])
        return UnsafeRawBufferPointer(rebasing: record[offset..<(offset + length)])
    }

    private mutating func set(_ field: EventField, _ value: Int64) {
        switch field {
        case .tokensIn: tokensIn = value
        case .tokensOut: tokensOut = value
        case .cost: costNanos = value
        case .latency: latencyMicros = value
        default: break
        }
    }
}
