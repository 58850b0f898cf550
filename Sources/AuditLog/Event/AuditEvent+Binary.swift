/// The canonical binary record encoding (docs/FORMAT.md, "Record").
///
/// ```
/// record   = timestamp:i64 presence:u32 id event_type:str field*
/// id       = str, or 16 bytes when presence bit 26 says it is an `evt_` ULID
/// str      = len:varint utf8[len]
/// leaf(n)  = seq:u64 ‖ record        -- what the hash chain covers; the seq is not stored
/// ```
/// Optional fields follow in bit order, each only when its presence bit is set.
extension AuditEvent {
    enum Bit: Int, CaseIterable {
        case verdict = 0, reasonCode, user, team, model, provider, configVersion, apiKey, source
        case tokensIn, tokensOut, tokensCached, tokensReasoning, cost, latency, cacheHit
        case requestID, sessionID, gateway, ip, userAgent, policies, redactions, resource, details, extra
        /// Not a field: the id is an `evt_` ULID stored as 16 bytes.
        case compactID

        var mask: UInt32 { 1 << UInt32(rawValue) }
        static let allMask: UInt32 = (1 << UInt32(Bit.allCases.count)) - 1
    }

    /// The record bytes with the event's own id (tests and tools).
    func recordBytes() -> [UInt8] {
        var w = ByteWriter()
        encodeRecord(id: id ?? "", to: &w)
        return w.bytes
    }

    /// Appends the record with `id` (the writer passes the assigned id, so it never has to
    /// copy the event to set it).
    func encodeRecord(id: String, to w: inout ByteWriter) {
        w.write(timestamp.nanosSinceEpoch)
        var presence: UInt32 = 0
        func mark(_ bit: Bit, _ present: Bool) { if present { presence |= bit.mask } }
        mark(.verdict, verdict != nil)
        mark(.reasonCode, reasonCode != nil)
        mark(.user, user != nil)
        mark(.team, team != nil)
        mark(.model, model != nil)
        mark(.provider, provider != nil)
        mark(.configVersion, configVersion != nil)
        mark(.apiKey, apiKey != nil)
        mark(.source, source != nil)
        mark(.tokensIn, tokensIn != nil)
        mark(.tokensOut, tokensOut != nil)
        mark(.tokensCached, tokensCached != nil)
        mark(.tokensReasoning, tokensReasoning != nil)
        mark(.cost, cost != nil)
        mark(.latency, latencyMicros != nil)
        mark(.cacheHit, cacheHit != nil)
        mark(.requestID, requestID != nil)
        mark(.sessionID, sessionID != nil)
        mark(.gateway, gateway != nil)
        mark(.ip, ip != nil)
        mark(.userAgent, userAgent != nil)
        mark(.policies, policies != nil)
        mark(.redactions, redactions != nil)
        mark(.resource, resource != nil)
        mark(.details, details != nil)
        mark(.extra, !extra.isEmpty)
        let ulid = EventID.ulidBytes(id)
        mark(.compactID, ulid != nil)
        w.write(presence)
        if let ulid {
            w.write(ulid.high)
            w.write(ulid.low)
        } else {
            w.writeString(id)
        }
        w.writeString(eventType)
        if let verdict { w.write(verdict.code) }
        // Written field by field (not via array literals: this runs once per appended event).
        if let reasonCode { w.writeString(reasonCode) }
        if let user { w.writeString(user) }
        if let team { w.writeString(team) }
        if let model { w.writeString(model) }
        if let provider { w.writeString(provider) }
        if let configVersion { w.writeString(configVersion) }
        if let apiKey { w.writeString(apiKey) }
        if let source { w.writeString(source) }
        if let tokensIn { w.writeVarint(UInt64(tokensIn)) }
        if let tokensOut { w.writeVarint(UInt64(tokensOut)) }
        if let tokensCached { w.writeVarint(UInt64(tokensCached)) }
        if let tokensReasoning { w.writeVarint(UInt64(tokensReasoning)) }
        if let cost { w.writeVarint(UInt64(cost.nanodollars)) }
        if let latencyMicros { w.writeVarint(UInt64(latencyMicros)) }
        if let cacheHit { w.write(UInt8(cacheHit ? 1 : 0)) }
        if let requestID { w.writeString(requestID) }
        if let sessionID { w.writeString(sessionID) }
        if let gateway { w.writeString(gateway) }
        if let ip { w.writeString(ip) }
        if let userAgent { w.writeString(userAgent) }
        if let policies {
            w.writeVarint(UInt64(policies.count))
            for p in policies {
                var bits: UInt8 = 0
                for (i, f) in [p.name, p.kind, p.phase, p.verdict, p.reason].enumerated() where f != nil { bits |= 1 << UInt8(i) }
                if !p.extra.isEmpty { bits |= 1 << 5 }
                w.write(bits)
                for f in [p.name, p.kind, p.phase, p.verdict, p.reason] { if let f { w.writeString(f) } }
                if !p.extra.isEmpty { JSONValue.encodeMembers(p.extra, to: &w) }
            }
        }
        if let redactions {
            w.writeVarint(UInt64(redactions.count))
            for r in redactions {
                var bits: UInt8 = 0
                if r.kind != nil { bits |= 1 }
                if r.replacement != nil { bits |= 2 }
                if !r.extra.isEmpty { bits |= 4 }
                w.write(bits)
                if let kind = r.kind { w.writeString(kind) }
                if let replacement = r.replacement { w.writeString(replacement) }
                if !r.extra.isEmpty { JSONValue.encodeMembers(r.extra, to: &w) }
            }
        }
        if let resource { w.writeString(resource) }
        if let details { details.encode(to: &w) }
        if !extra.isEmpty { JSONValue.encodeMembers(extra, to: &w) }
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
        return try readID(&r, compact: presence & Bit.compactID.mask != 0)
    }

    private static func readID(_ r: inout ByteReader, compact: Bool) throws(FormatError) -> String {
        guard compact else { return try r.readString("id") }
        let high = try r.readUInt64("id")
        let low = try r.readUInt64("id")
        return EventID.string(high: high, low: low)
    }

    /// Decodes a whole record; every byte must be consumed.
    static func decodeRecord(_ record: UnsafeRawBufferPointer) throws(FormatError) -> AuditEvent {
        var r = ByteReader(record)
        let ts = try r.readInt64("timestamp")
        guard ts >= 0 else { throw FormatError(.malformed, "negative timestamp", offset: 0) }
        let presence = try r.readUInt32("presence")
        guard presence & ~Bit.allMask == 0 else {
            throw FormatError(.malformed, "unknown presence bits 0x\(String(presence & ~Bit.allMask, radix: 16))", offset: 8)
        }
        func has(_ bit: Bit) -> Bool { presence & bit.mask != 0 }
        func optString(_ bit: Bit) throws(FormatError) -> String? { has(bit) ? try r.readString() : nil }
        func optCount(_ bit: Bit) throws(FormatError) -> Int64? {
            guard has(bit) else { return nil }
            let start = r.offset
            let v = try r.readVarint()
            guard v <= UInt64(Int64.max) else { throw FormatError(.malformed, "integer out of range", offset: start) }
            return Int64(v)
        }
        let id = try readID(&r, compact: has(.compactID))
        var event = AuditEvent(eventType: try r.readString("event_type"), timestamp: Timestamp(nanosSinceEpoch: ts), id: id)
        if has(.verdict) {
            let start = r.offset
            guard let v = Verdict(code: try r.readUInt8("verdict")) else {
                throw FormatError(.malformed, "unknown verdict code", offset: start)
            }
            event.verdict = v
        }
        event.reasonCode = try optString(.reasonCode)
        event.user = try optString(.user)
        event.team = try optString(.team)
        event.model = try optString(.model)
        event.provider = try optString(.provider)
        event.configVersion = try optString(.configVersion)
        event.apiKey = try optString(.apiKey)
        event.source = try optString(.source)
        event.tokensIn = try optCount(.tokensIn)
        event.tokensOut = try optCount(.tokensOut)
        event.tokensCached = try optCount(.tokensCached)
        event.tokensReasoning = try optCount(.tokensReasoning)
        event.cost = try optCount(.cost).map { Cost(nanodollars: $0) }
        event.latencyMicros = try optCount(.latency)
        if has(.cacheHit) {
            let start = r.offset
            switch try r.readUInt8("cache_hit") {
            case 0: event.cacheHit = false
            case 1: event.cacheHit = true
            default: throw FormatError(.malformed, "cache_hit byte is not 0 or 1", offset: start)
            }
        }
        event.requestID = try optString(.requestID)
        event.sessionID = try optString(.sessionID)
        event.gateway = try optString(.gateway)
        event.ip = try optString(.ip)
        event.userAgent = try optString(.userAgent)
        if has(.policies) {
            let count = try r.readVarint("policy count")
            guard count <= UInt64(r.remaining) else { throw FormatError(.truncated, "policy count past the end", offset: r.offset) }
            var policies: [PolicyDecision] = []
            for _ in 0..<count {
                let start = r.offset
                let bits = try r.readUInt8("policy presence")
                guard bits & ~0x3F == 0 else { throw FormatError(.malformed, "unknown policy presence bits", offset: start) }
                var fields: [String?] = []
                for i in 0..<5 { fields.append(bits & (1 << UInt8(i)) != 0 ? try r.readString() : nil) }
                let extra = bits & 0x20 != 0 ? try JSONValue.decodeMembers(from: &r, depth: 1) : []
                try checkExtra(extra, reserved: PolicyDecision.typedKeys, offset: start)
                policies.append(PolicyDecision(name: fields[0], kind: fields[1], phase: fields[2], verdict: fields[3], reason: fields[4], extra: extra))
            }
            event.policies = policies
        }
        if has(.redactions) {
            let count = try r.readVarint("redaction count")
            guard count <= UInt64(r.remaining) else { throw FormatError(.truncated, "redaction count past the end", offset: r.offset) }
            var redactions: [Redaction] = []
            for _ in 0..<count {
                let start = r.offset
                let bits = try r.readUInt8("redaction presence")
                guard bits & ~0x07 == 0 else { throw FormatError(.malformed, "unknown redaction presence bits", offset: start) }
                let kind = bits & 1 != 0 ? try r.readString() : nil
                let replacement = bits & 2 != 0 ? try r.readString() : nil
                let extra = bits & 4 != 0 ? try JSONValue.decodeMembers(from: &r, depth: 1) : []
                try checkExtra(extra, reserved: ["kind", "replacement"], offset: start)
                redactions.append(Redaction(kind: kind, replacement: replacement, extra: extra))
            }
            event.redactions = redactions
        }
        event.resource = try optString(.resource)
        if has(.details) { event.details = try JSONValue.decode(from: &r, depth: 1) }
        if has(.extra) {
            let start = r.offset
            event.extra = try JSONValue.decodeMembers(from: &r, depth: 1)
            guard !event.extra.isEmpty else { throw FormatError(.malformed, "extra present but empty", offset: start) }
            try checkExtra(event.extra, reserved: knownFields, offset: start)
        }
        guard r.isAtEnd else {
            throw FormatError(.malformed, "\(r.remaining) unexpected bytes after the record", offset: r.offset)
        }
        return event
    }

    /// Extra members must not repeat a typed name or each other (the JSON would be ambiguous).
    private static func checkExtra(_ members: [JSONMember], reserved: Set<String>, offset: Int) throws(FormatError) {
        var seen = Set<String>()
        for m in members where reserved.contains(m.key) || !seen.insert(m.key).inserted {
            throw FormatError(.malformed, "extra member \"\(m.key)\" repeats a field name", offset: offset)
        }
    }
}
