/// The canonical binary record encoding (docs/FORMAT.md, "Record"), derived from
/// ``EventField``.
///
/// ```
/// record   = timestamp:i64 presence:u32 id event_type:str field*
/// id       = str, or 16 bytes when presence bit 26 says it is an `evt_` ULID
/// str      = len:varint utf8[len]
/// leaf(n)  = seq:u64 ‖ record        -- what the hash chain covers; the seq is not stored
/// ```
/// Optional fields follow in bit order, each only when its presence bit is set.
extension AuditEvent {
    /// The record bytes with the event's own id (tests and tools).
    func recordBytes() -> [UInt8] {
        var w = ByteWriter()
        encodeRecord(id: id ?? "", to: &w)
        return w.bytes
    }

    /// Appends the record with `id` (the writer passes the assigned id, so it never has to
    /// copy the event to set it).
    ///
    /// The record is written into ``recordRoom`` bytes reserved at the end of `w`, through a
    /// pointer (``ReservedRoom``): a store or a copy a piece instead of an array append's
    /// uniqueness and capacity checks and calls, some twenty a record. A record larger than
    /// the room is written again through the array.
    func encodeRecord(id: String, to w: inout ByteWriter) {
        let ulid = EventID.ulidBytes(id)
        var presence = self.presence
        if ulid != nil { presence |= EventField.compactIDMask }
        let fitted = w.bytes.append(within: Self.recordRoom) { room in write(id: id, ulid: ulid, presence: presence, to: &room) }
        if !fitted { write(id: id, ulid: ulid, presence: presence, to: &w.bytes) }
    }

    /// Room reserved for a record: a generated gateway event encodes to about 210 bytes.
    static let recordRoom = 4096

    /// Writes the record; `presence` is ``presence`` with the compact-id bit when `ulid` is set.
    private func write<Sink: ByteSink>(id: String, ulid: (high: UInt64, low: UInt64)?, presence: UInt32, to w: inout Sink) {
        w.appendLittleEndian(UInt64(bitPattern: timestamp.nanosSinceEpoch))
        w.appendLittleEndian(presence)
        if let ulid {
            w.appendLittleEndian(ulid.high)
            w.appendLittleEndian(ulid.low)
        } else {
            w.appendString(id)
        }
        w.appendString(eventType)
        // The fields in bit order, each behind its own nil test (the tests ``presence`` makes):
        // straight-line code, where a loop over the present fields dispatched on each one's kind.
        if let verdict { w.append(verdict.code) }
        if let reasonCode { w.appendString(reasonCode) }
        if let user { w.appendString(user) }
        if let team { w.appendString(team) }
        if let model { w.appendString(model) }
        if let provider { w.appendString(provider) }
        if let configVersion { w.appendString(configVersion) }
        if let apiKey { w.appendString(apiKey) }
        if let source { w.appendString(source) }
        if let tokensIn { w.appendVarint(UInt64(tokensIn)) }
        if let tokensOut { w.appendVarint(UInt64(tokensOut)) }
        if let tokensCached { w.appendVarint(UInt64(tokensCached)) }
        if let tokensReasoning { w.appendVarint(UInt64(tokensReasoning)) }
        if let cost { w.appendVarint(UInt64(cost.nanodollars)) }
        if let latencyMicros { w.appendVarint(UInt64(latencyMicros)) }
        if let cacheHit { w.append(cacheHit ? 1 : 0) }
        if let requestID { w.appendString(requestID) }
        if let sessionID { w.appendString(sessionID) }
        if let gateway { w.appendString(gateway) }
        if let ip { w.appendString(ip) }
        if let userAgent { w.appendString(userAgent) }
        if let policies { Self.encodeObjects(policies, to: &w) }
        if let redactions { Self.encodeObjects(redactions, to: &w) }
        if let resource { w.appendString(resource) }
        if let details { details.encode(to: &w) }
        if !extra.isEmpty { JSONValue.encodeMembers(extra, to: &w) }
    }

    /// Policies and redactions: a count, then per object a presence byte (a bit per typed
    /// member in order, then one for the extra), the present members, the extra.
    private static func encodeObjects<Sink: ByteSink>(_ objects: [some TypedObject], to w: inout Sink) {
        w.appendVarint(UInt64(objects.count))
        for object in objects {
            let values = object.typedValues
            let members = object.extra
            var bits: UInt8 = 0
            for (i, value) in values.enumerated() where value != nil { bits |= 1 << UInt8(i) }
            if !members.isEmpty { bits |= 1 << UInt8(values.count) }
            w.append(bits)
            for value in values { if let value { w.appendString(value) } }
            if !members.isEmpty { JSONValue.encodeMembers(members, to: &w) }
        }
    }

    /// The event time at the start of a record.
    static func recordTimestamp(_ record: UnsafeRawBufferPointer) throws(FormatError) -> Int64 {
        var r = ByteReader(record)
        return try r.readInt64("timestamp")
    }

    /// Reads only the id of a record (the writer's id index).
    static func recordID(_ record: UnsafeRawBufferPointer) throws(FormatError) -> String {
        var r = ByteReader(record)
        _ = try r.readInt64("timestamp")
        let presence = try r.readUInt32("presence")
        return try readID(&r, compact: presence & EventField.compactIDMask != 0)
    }

    static func readID(_ r: inout ByteReader, compact: Bool) throws(FormatError) -> String {
        guard compact else { return try r.readString("id") }
        let high = try r.readUInt64("id")
        let low = try r.readUInt64("id")
        return EventID.string(high: high, low: low)
    }

    /// Reads a record's header: its time, presence bits and id, checking what every reader
    /// checks (a time before 1970 and unknown presence bits are malformed).
    static func readHeader(_ r: inout ByteReader) throws(FormatError) -> (timestamp: Int64, presence: UInt32) {
        let ts = try r.readInt64("timestamp")
        guard ts >= 0 else { throw FormatError(.malformed, "negative timestamp", offset: 0) }
        let presence = try r.readUInt32("presence")
        guard presence & ~EventField.allMask == 0 else {
            throw FormatError(.malformed, "unknown presence bits 0x\(String(presence & ~EventField.allMask, radix: 16))", offset: 8)
        }
        return (ts, presence)
    }

    /// A varint field's value: at most 2⁶³ − 1.
    static func readInteger(_ r: inout ByteReader) throws(FormatError) -> Int64 {
        let start = r.offset
        let v = try r.readVarint()
        guard v <= UInt64(Int64.max) else { throw FormatError(.malformed, "integer out of range", offset: start) }
        return Int64(v)
    }

    /// Decodes a whole record; every byte must be consumed.
    @inline(__always)
    static func decodeRecord(_ record: UnsafeRawBufferPointer) throws(FormatError) -> AuditEvent {
        try AuditEvent(record: record)
    }

    /// Decodes a whole record into the event being initialized. An initializer, not a function
    /// building a local: the optimizer left a ~400-byte event built in a local to be copied into
    /// the result (every string retained, then the local's released), twice a record.
    private init(record: UnsafeRawBufferPointer) throws(FormatError) {
        var r = ByteReader(record)
        let (ts, presence) = try Self.readHeader(&r)
        id = try Self.readID(&r, compact: presence & EventField.compactIDMask != 0)
        eventType = try r.readString("event_type")
        timestamp = Timestamp(nanosSinceEpoch: ts)
        extra = []
        // The fields in bit order, each behind a test of its bit: straight-line code whose
        // branches go the same way for events of one kind, where a loop over the present
        // fields dispatched on each one's kind (an indirect jump a field).
        func has(_ field: EventField) -> Bool { presence & 1 << field.rawValue != 0 }
        if has(.verdict) {
            let start = r.offset
            guard let v = Verdict(code: try r.readUInt8("verdict")) else { throw FormatError(.malformed, "unknown verdict code", offset: start) }
            verdict = v
        }
        if has(.reasonCode) { reasonCode = try r.readString() }
        if has(.user) { user = try r.readString() }
        if has(.team) { team = try r.readString() }
        if has(.model) { model = try r.readString() }
        if has(.provider) { provider = try r.readString() }
        if has(.configVersion) { configVersion = try r.readString() }
        if has(.apiKey) { apiKey = try r.readString() }
        if has(.source) { source = try r.readString() }
        if has(.tokensIn) { tokensIn = try Self.readInteger(&r) }
        if has(.tokensOut) { tokensOut = try Self.readInteger(&r) }
        if has(.tokensCached) { tokensCached = try Self.readInteger(&r) }
        if has(.tokensReasoning) { tokensReasoning = try Self.readInteger(&r) }
        if has(.cost) { cost = Cost(nanodollars: try Self.readInteger(&r)) }
        if has(.latency) { latencyMicros = try Self.readInteger(&r) }
        if has(.cacheHit) {
            let start = r.offset
            switch try r.readUInt8("cache_hit") {
            case 0: cacheHit = false
            case 1: cacheHit = true
            default: throw FormatError(.malformed, "cache_hit byte is not 0 or 1", offset: start)
            }
        }
        if has(.requestID) { requestID = try r.readString() }
        if has(.sessionID) { sessionID = try r.readString() }
        if has(.gateway) { gateway = try r.readString() }
        if has(.ip) { ip = try r.readString() }
        if has(.userAgent) { userAgent = try r.readString() }
        if has(.policies) {
            policies = try Self.decodeObjects(&r, typed: PolicyDecision.typedMembers.count, reserved: PolicyDecision.typedKeys, noun: "policy") { PolicyDecision(typedValues: $0, extra: $1) }
        }
        if has(.redactions) {
            redactions = try Self.decodeObjects(&r, typed: Redaction.typedMembers.count, reserved: Redaction.typedKeys, noun: "redaction") { Redaction(typedValues: $0, extra: $1) }
        }
        if has(.resource) { resource = try r.readString() }
        if has(.details) { details = try JSONValue.decode(from: &r, depth: 1) }
        if has(.extra) {
            let start = r.offset
            extra = try JSONValue.decodeMembers(from: &r, depth: 1)
            guard !extra.isEmpty else { throw FormatError(.malformed, "extra present but empty", offset: start) }
            try Self.checkExtra(extra, reserved: EventField.typedNames, offset: start)
        }
        guard r.isAtEnd else {
            throw FormatError(.malformed, "\(r.remaining) unexpected bytes after the record", offset: r.offset)
        }
    }

    private static func decodeObjects<T>(_ r: inout ByteReader, typed: Int, reserved: Set<String>, noun: String, make: ([String?], [JSONMember]) -> T) throws(FormatError) -> [T] {
        let count = try r.readVarint("object count")
        guard count <= UInt64(r.remaining) else { throw FormatError(.truncated, "\(noun) count past the end", offset: r.offset) }
        let extraBit = UInt8(1) << UInt8(typed)
        var out: [T] = []
        out.reserveCapacity(Int(count))
        for _ in 0..<count {
            let start = r.offset
            let bits = try r.readUInt8("object presence")
            guard bits & ~((extraBit << 1) &- 1) == 0 else { throw FormatError(.malformed, "unknown \(noun) presence bits", offset: start) }
            var values: [String?] = []
            values.reserveCapacity(typed)
            for i in 0..<typed { values.append(bits & (1 << UInt8(i)) != 0 ? try r.readString() : nil) }
            let extra = bits & extraBit != 0 ? try JSONValue.decodeMembers(from: &r, depth: 1) : []
            try checkExtra(extra, reserved: reserved, offset: start)
            out.append(make(values, extra))
        }
        return out
    }

    /// Extra members must not repeat a typed name or each other (the JSON would be ambiguous).
    private static func checkExtra(_ members: [JSONMember], reserved: Set<String>, offset: Int) throws(FormatError) {
        var seen = Set<String>()
        for m in members where reserved.contains(m.key) || !seen.insert(m.key).inserted {
            throw FormatError(.malformed, "extra member \"\(m.key)\" repeats a field name", offset: offset)
        }
    }
}
