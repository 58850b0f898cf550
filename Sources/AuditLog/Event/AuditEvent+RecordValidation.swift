/// Checks a stored record against every rule of docs/FORMAT.md ("Record", "JSON values")
/// without building the event: what `verify` runs on every record. Walks the same layout as
/// ``AuditEvent/decodeRecord(_:)`` and adds the canonical-form rules a lenient reader does
/// not need (an id spelled as the ULID it is, unique member names in nested objects).
extension AuditEvent {
    /// Validates `record`; returns its event time.
    static func validateRecord(_ record: UnsafeRawBufferPointer) throws(FormatError) -> Int64 {
        var v = RecordValidator(ByteReader(record))
        return try v.run()
    }
}

private struct RecordValidator {
    var r: ByteReader

    init(_ r: ByteReader) { self.r = r }

    mutating func run() throws(FormatError) -> Int64 {
        let ts = try r.readInt64("timestamp")
        guard ts >= 0 else { throw FormatError(.malformed, "negative timestamp", offset: 0) }
        let presence = try r.readUInt32("presence")
        guard presence & ~EventField.allMask == 0 else {
            throw FormatError(.malformed, "unknown presence bits 0x\(String(presence & ~EventField.allMask, radix: 16))", offset: 8)
        }
        if presence & EventField.compactIDMask != 0 {
            _ = try r.readBytes(16, "id")
        } else {
            let start = r.offset
            let id = try string("id")
            guard id.count >= 1, id.count <= EventLimits.maxIDBytes, !id.contains(where: { $0 < 0x20 || $0 == 0x7F }) else {
                throw FormatError(.malformed, "id of \(id.count) bytes is empty, too long or holds control characters", offset: start)
            }
            guard EventID.ulidBytes(utf8: id) == nil else {
                throw FormatError(.malformed, "id is a canonical evt_ ULID stored as a string (presence bit 26 must be set)", offset: start)
            }
        }
        let typeStart = r.offset
        let type = try string("event_type")
        guard type.count >= 1, type.count <= EventLimits.maxEventTypeBytes else {
            throw FormatError(.malformed, "event_type of \(type.count) bytes", offset: typeStart)
        }
        // Run by run in bit order (``EventField/leadingStrings``): the strings' values are
        // checked alike whichever field they are, so no dispatch on each field's kind.
        if presence & EventField.verdict.mask != 0 {
            let start = r.offset
            guard Verdict(code: try r.readUInt8("verdict")) != nil else { throw FormatError(.malformed, "unknown verdict code", offset: start) }
        }
        try strings((presence & EventField.leadingStrings).nonzeroBitCount)
        let integers = (presence & EventField.integers).nonzeroBitCount
        if !r.skipShortVarints(integers) {
            for _ in 0..<integers {
                let start = r.offset
                guard try r.readVarint("integer") <= UInt64(Int64.max) else { throw FormatError(.malformed, "integer out of range", offset: start) }
            }
        }
        if presence & EventField.cacheHit.mask != 0 {
            let start = r.offset
            guard try r.readUInt8("cache_hit") <= 1 else { throw FormatError(.malformed, "cache_hit byte is not 0 or 1", offset: start) }
        }
        try strings((presence & EventField.trailingStrings).nonzeroBitCount)
        if presence & EventField.policies.mask != 0 {
            try objects(typed: PolicyDecision.typedMembers.count, reserved: Self.policyKeys, noun: "policy")
        }
        if presence & EventField.redactions.mask != 0 {
            try objects(typed: Redaction.typedMembers.count, reserved: Self.redactionKeys, noun: "redaction")
        }
        if presence & EventField.resource.mask != 0 { _ = try string("string") }
        if presence & EventField.details.mask != 0 { try value(depth: 1) }
        if presence & EventField.extra.mask != 0 { try members(depth: 1, reserved: Self.eventKeys, nonEmpty: true) }
        guard r.isAtEnd else { throw FormatError(.malformed, "\(r.remaining) unexpected bytes after the record", offset: r.offset) }
        return ts
    }

    static let eventKeys = EventField.typedNames.map { Array($0.utf8) }
    /// The typed member names of policies and redactions, which their extras may not take:
    /// made once, not for every record that has policies.
    static let policyKeys = PolicyDecision.typedMembers.map { Array($0.description.utf8) }
    static let redactionKeys = Redaction.typedMembers.map { Array($0.description.utf8) }

    /// Policies or redactions: a count, then per object a presence byte (a bit per typed
    /// member, then one for the extras), the typed strings, the extras.
    mutating func objects(typed: Int, reserved: [[UInt8]], noun: String) throws(FormatError) {
        let count = try r.readVarint("object count")
        guard count <= UInt64(r.remaining) else { throw FormatError(.truncated, "\(noun) count past the end", offset: r.offset) }
        let extraBit = UInt8(1) << UInt8(typed)
        for _ in 0..<count {
            let start = r.offset
            let bits = try r.readUInt8("presence")
            guard bits & ~((extraBit << 1) &- 1) == 0 else { throw FormatError(.malformed, "unknown \(noun) presence bits", offset: start) }
            for i in 0..<typed where bits & (1 << UInt8(i)) != 0 { _ = try string("string") }
            if bits & extraBit != 0 { try members(depth: 1, reserved: reserved, nonEmpty: true) }
        }
    }

    /// `count` strs in a row, each checked UTF-8: as one run when they are ASCII (the common
    /// case), else one at a time.
    @inline(__always)
    mutating func strings(_ count: Int) throws(FormatError) {
        guard !r.skipASCIIStrings(count) else { return }
        for _ in 0..<count { _ = try string("string") }
    }

    /// A str: checked UTF-8, returned as bytes.
    @inline(__always)
    mutating func string(_ what: StaticString) throws(FormatError) -> UnsafeRawBufferPointer {
        let start = r.offset
        let length = try r.readVarint(what)
        guard length <= UInt64(r.remaining) else { throw FormatError(.truncated, "\(what) length \(length) runs past the end", offset: start) }
        let bytes = try r.readBytes(Int(length), what)
        guard isValidUTF8(bytes) else { throw FormatError(.malformed, "\(what) is not valid UTF-8", offset: start) }
        return bytes
    }

    /// *json* at `depth` (1 for a top-level field's value).
    mutating func value(depth: Int) throws(FormatError) {
        guard depth < JSONValue.maxDepth else { throw FormatError(.limitExceeded, "JSON value nested deeper than \(JSONValue.maxDepth)", offset: r.offset) }
        let start = r.offset
        switch try r.readUInt8("JSON tag") {
        case 0, 1, 2: break
        case 3:
            let text = try string("number")
            guard JSONParser.isValidNumberLiteral(text) else { throw FormatError(.malformed, "stored number is not a JSON number", offset: start) }
        case 4: _ = try string("string")
        case 5:
            let count = try r.readVarint("array count")
            guard count <= UInt64(r.remaining) else { throw FormatError(.truncated, "array of \(count) items runs past the end", offset: start) }
            for _ in 0..<count { try value(depth: depth + 1) }
        case 6: try members(depth: depth + 1, reserved: [], nonEmpty: false)
        case let tag: throw FormatError(.malformed, "unknown JSON tag \(tag)", offset: start)
        }
    }

    /// *members*: names unique and not among `reserved`; values at `depth`.
    mutating func members(depth: Int, reserved: [[UInt8]], nonEmpty: Bool) throws(FormatError) {
        let start = r.offset
        let count = try r.readVarint("member count")
        guard count <= UInt64(r.remaining) else { throw FormatError(.truncated, "object of \(count) members runs past the end", offset: start) }
        guard count > 0 || !nonEmpty else { throw FormatError(.malformed, "members present but empty", offset: start) }
        var names: [UnsafeRawBufferPointer] = []
        var seen = Set<[UInt8]>()
        for _ in 0..<count {
            let nameStart = r.offset
            let name = try string("member name")
            let repeated: Bool
            if count <= 16 {
                repeated = names.contains { $0.elementsEqual(name) }
                names.append(name)
            } else {
                repeated = !seen.insert(Array(name)).inserted
            }
            guard !repeated, !reserved.contains(where: { $0.elementsEqual(name) }) else {
                throw FormatError(.malformed, "member name repeats another or a typed field's name", offset: nameStart)
            }
            try value(depth: depth)
        }
    }
}
