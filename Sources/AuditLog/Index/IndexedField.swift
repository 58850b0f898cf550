/// The string fields an index keeps as dictionary-encoded columns, so that queries can filter
/// and group on them without decoding records.
enum IndexedField: Int, CaseIterable, Sendable {
    case eventType, reasonCode, user, team, model, provider, apiKey, source

    /// The JSON field name.
    var name: String {
        switch self {
        case .eventType: "event_type"
        case .reasonCode: "reason_code"
        case .user: "user"
        case .team: "team"
        case .model: "model"
        case .provider: "provider"
        case .apiKey: "api_key"
        case .source: "source"
        }
    }

    init?(name: String) {
        guard let field = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = field
    }

    func value(of event: AuditEvent) -> String? {
        switch self {
        case .eventType: event.eventType
        case .reasonCode: event.reasonCode
        case .user: event.user
        case .team: event.team
        case .model: event.model
        case .provider: event.provider
        case .apiKey: event.apiKey
        case .source: event.source
        }
    }
}

/// What an index keeps of one record: enough to filter, group and sum without decoding it.
struct RecordFacts {
    var timestampNanos: Int64 = 0
    /// 0 none, else ``Verdict/code``.
    var verdict: UInt8 = 0
    /// 0 none, 1 false, 2 true.
    var cacheHit: UInt8 = 0
    /// Per ``IndexedField``: the value, or nil.
    var strings: [String?] = Array(repeating: nil, count: IndexedField.allCases.count)
    /// -1 when absent.
    var tokensIn: Int64 = -1
    var tokensOut: Int64 = -1
    var costNanos: Int64 = -1
    var latencyMicros: Int64 = -1
    var idHash: UInt32 = 0

    /// The 32-bit id hash kept in index id tables (the low half of XXH3-64 of the id text).
    static func idHash(_ id: String) -> UInt32 { UInt32(truncatingIfNeeded: IDIndex.hash(id)) }

    init() {}

    init(_ event: AuditEvent) {
        timestampNanos = event.timestamp.nanosSinceEpoch
        verdict = event.verdict?.code ?? 0
        cacheHit = event.cacheHit.map { $0 ? 2 : 1 } ?? 0
        for field in IndexedField.allCases { strings[field.rawValue] = field.value(of: event) }
        tokensIn = event.tokensIn ?? -1
        tokensOut = event.tokensOut ?? -1
        costNanos = event.cost?.nanodollars ?? -1
        latencyMicros = event.latencyMicros ?? -1
        idHash = Self.idHash(event.id ?? "")
    }

    /// Reads the facts straight from record bytes, skipping the fields an index does not keep.
    init(record: UnsafeRawBufferPointer) throws(FormatError) {
        typealias Bit = AuditEvent.Bit
        var r = ByteReader(record)
        timestampNanos = try r.readInt64("timestamp")
        let presence = try r.readUInt32("presence")
        func has(_ bit: Bit) -> Bool { presence & bit.mask != 0 }
        let id: String
        if has(.compactID) {
            let high = try r.readUInt64("id")
            id = EventID.string(high: high, low: try r.readUInt64("id"))
        } else {
            id = try r.readString("id")
        }
        idHash = Self.idHash(id)
        strings[IndexedField.eventType.rawValue] = try r.readString("event_type")
        if has(.verdict) { verdict = try r.readUInt8("verdict") }
        func string(_ bit: Bit, _ field: IndexedField?) throws(FormatError) {
            guard has(bit) else { return }
            if let field {
                strings[field.rawValue] = try r.readString()
            } else {
                let n = try r.readVarint()
                guard n <= UInt64(r.remaining) else { throw FormatError(.truncated, "string past the end", offset: r.offset) }
                _ = try r.readBytes(Int(n))
            }
        }
        func number(_ bit: Bit) throws(FormatError) -> Int64 {
            guard has(bit) else { return -1 }
            let v = try r.readVarint()
            guard v <= UInt64(Int64.max) else { throw FormatError(.malformed, "integer out of range", offset: r.offset) }
            return Int64(v)
        }
        try string(.reasonCode, .reasonCode)
        try string(.user, .user)
        try string(.team, .team)
        try string(.model, .model)
        try string(.provider, .provider)
        try string(.configVersion, nil)
        try string(.apiKey, .apiKey)
        try string(.source, .source)
        tokensIn = try number(.tokensIn)
        tokensOut = try number(.tokensOut)
        _ = try number(.tokensCached)
        _ = try number(.tokensReasoning)
        costNanos = try number(.cost)
        latencyMicros = try number(.latency)
        if has(.cacheHit) { cacheHit = try r.readUInt8("cache_hit") == 1 ? 2 : 1 }
    }
}
