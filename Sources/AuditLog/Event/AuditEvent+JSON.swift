/// JSON decoding and encoding of events (DESIGN.md, "The event").
extension AuditEvent {
    /// Top-level names with a typed field; every other name goes to ``extra``. `seq` is the
    /// log's own: input that sets it is refused, unless the caller asks to drop it (an export
    /// ingested into another log).
    static let knownFields: Set<String> = [
        "id", "event_type", "timestamp", "verdict", "reason_code", "user", "team", "model",
        "provider", "config_version", "api_key", "source", "tokens_in", "tokens_out",
        "tokens_cached", "tokens_reasoning", "cost", "latency_ms", "cache_hit", "request_id",
        "session_id", "gateway", "ip", "user_agent", "policies", "redactions", "resource",
        "details", "seq",
    ]

    /// Decodes one event from JSON text.
    ///
    /// - Throws: ``AuditLogError`` with code ``AuditLogError/Code/invalidEvent`` naming the
    ///   field and what was wrong, and the byte offset in `json`.
    ///
    /// A `seq` member is refused (the log assigns seqs) unless `droppingSeq`, which ignores it:
    /// an export of one log carries the seqs it had there.
    public init(json: String, droppingSeq: Bool = false) throws(AuditLogError) {
        var text = json
        let result: Result<AuditEvent, AuditLogError> = text.withUTF8 { utf8 in
            do throws(AuditLogError) {
                return .success(try AuditEvent(jsonBytes: UnsafeRawBufferPointer(utf8), droppingSeq: droppingSeq))
            } catch {
                return .failure(error)
            }
        }
        self = try result.get()
    }

    /// Decodes one event from UTF-8 JSON bytes (the whole buffer must be one object, with
    /// optional surrounding white space).
    public init(jsonBytes: UnsafeRawBufferPointer, droppingSeq: Bool = false) throws(AuditLogError) {
        guard jsonBytes.count <= EventLimits.maxJSONBytes else {
            throw AuditLogError(.limitExceeded, "event is \(jsonBytes.count) bytes of JSON; the limit is \(EventLimits.maxJSONBytes)")
        }
        var parser = JSONParser(jsonBytes)
        self = try Self.parseObject(&parser, droppingSeq: droppingSeq)
        parser.skipWhitespace()
        guard parser.isAtEnd else {
            throw AuditLogError(.invalidEvent, "unexpected data after the event object", location: .init(offset: Int64(parser.position)))
        }
    }

    /// Sets the field `key` from a parsed value, or fails naming the field. The general (slow)
    /// path: ``parseObject(_:)`` handles the common shapes without building a `JSONValue`.
    mutating func assign(key: String, value: JSONValue, offset: Int, sawType: inout Bool, sawTimestamp: inout Bool) throws(AuditLogError) {
        func invalid(_ message: String) -> AuditLogError {
            AuditLogError(.invalidEvent, message, location: .init(offset: Int64(offset), field: key))
        }
        func describe(_ v: JSONValue) -> String {
            switch v {
            case .null: "null"
            case .bool(let b): String(b)
            case .number(let n): n
            case .string(let s): "\"\(s.count > 40 ? String(s.prefix(40)) + "…" : s)\""
            case .array: "an array"
            case .object: "an object"
            }
        }
        func string() throws(AuditLogError) -> String? {
            switch value {
            case .null: return nil
            case .string(let s): return s
            default: throw invalid("expected a string, got \(describe(value))")
            }
        }
        func count() throws(AuditLogError) -> Int64? {
            switch value {
            case .null: return nil
            case .number(let n):
                guard !n.contains("."), !n.contains("e"), !n.contains("E") else {
                    throw invalid("expected a non-negative integer, got \(n)")
                }
                switch FixedPoint.parse(n, scale: 0) {
                case .success(let v):
                    if let maximum = EventLimits.maximum(of: key), v > maximum { throw invalid("\(n) \(Self.tooLarge(key))") }
                    return v
                case .failure(.negative): throw invalid("must not be negative, got \(n)")
                case .failure: throw invalid("\(n) is out of range (0 to \(Int64.max))")
                }
            default: throw invalid("expected a non-negative integer, got \(describe(value))")
            }
        }
        func fixed(scale: Int, unit: String) throws(AuditLogError) -> Int64? {
            let literal: String
            switch value {
            case .null: return nil
            case .number(let n): literal = n
            case .string(let s): literal = s
            default: throw invalid("expected a number of \(unit), got \(describe(value))")
            }
            switch FixedPoint.parse(literal, scale: scale) {
            case .success(let v):
                if let maximum = EventLimits.maximum(of: key), v > maximum { throw invalid("\(literal) \(Self.tooLarge(key))") }
                return v
            case .failure(.negative): throw invalid("must not be negative, got \(literal)")
            case .failure(.tooManyDecimals): throw invalid("\(literal) has more than \(scale) decimals")
            case .failure(.outOfRange): throw invalid("\(literal) is out of range")
            case .failure(.notANumber): throw invalid("expected a number of \(unit), got \"\(literal)\"")
            }
        }
        switch key {
        case "id":
            guard let s = try string() else { id = nil; return }
            guard !s.isEmpty, s.utf8.count <= EventLimits.maxIDBytes, !s.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
                throw invalid("must be 1 to \(EventLimits.maxIDBytes) bytes with no control characters")
            }
            id = s
        case "event_type":
            guard let s = try string(), !s.isEmpty else { throw invalid("must be a non-empty string") }
            guard s.utf8.count <= EventLimits.maxEventTypeBytes else {
                throw invalid("longer than \(EventLimits.maxEventTypeBytes) bytes")
            }
            eventType = s
            sawType = true
        case "timestamp":
            guard case .string(let s) = value else {
                throw invalid("expected an RFC 3339 time string, got \(describe(value))")
            }
            guard let t = Timestamp(rfc3339: s) else {
                throw invalid("\"\(s)\" is not an RFC 3339 time between 1970 and 2262 (e.g. 2026-03-20T10:30:00.123Z)")
            }
            timestamp = t
            sawTimestamp = true
        case "verdict":
            guard let s = try string() else { verdict = nil; return }
            guard let v = Verdict(rawValue: s) else {
                throw invalid("unknown verdict \"\(s)\" (expected allow, block, redact or escalate)")
            }
            verdict = v
        case "reason_code": reasonCode = try string()
        case "user": user = try string()
        case "team": team = try string()
        case "model": model = try string()
        case "provider": provider = try string()
        case "config_version": configVersion = try string()
        case "api_key": apiKey = try string()
        case "source": source = try string()
        case "request_id": requestID = try string()
        case "session_id": sessionID = try string()
        case "gateway": gateway = try string()
        case "ip": ip = try string()
        case "user_agent": userAgent = try string()
        case "resource": resource = try string()
        case "tokens_in": tokensIn = try count()
        case "tokens_out": tokensOut = try count()
        case "tokens_cached": tokensCached = try count()
        case "tokens_reasoning": tokensReasoning = try count()
        case "cost": cost = try fixed(scale: 9, unit: "US dollars").map { Cost(nanodollars: $0) }
        case "latency_ms": latencyMicros = try fixed(scale: 3, unit: "milliseconds")
        case "cache_hit":
            switch value {
            case .null: cacheHit = nil
            case .bool(let b): cacheHit = b
            default: throw invalid("expected true or false, got \(describe(value))")
            }
        case "policies":
            switch value {
            case .null: policies = nil
            case .array(let items):
                var out: [PolicyDecision] = []
                for (i, item) in items.enumerated() {
                    guard case .object(let members) = item else {
                        throw AuditLogError(.invalidEvent, "expected an object, got \(describe(item))", location: .init(offset: Int64(offset), field: "policies[\(i)]"))
                    }
                    var policy = PolicyDecision()
                    for m in members {
                        let text: String?
                        switch m.value {
                        case .string(let s): text = s
                        case .null: text = nil
                        default:
                            guard !PolicyDecision.typedKeys.contains(m.key) else {
                                throw AuditLogError(.invalidEvent, "expected a string, got \(describe(m.value))", location: .init(offset: Int64(offset), field: "policies[\(i)].\(m.key)"))
                            }
                            policy.extra.append(m)
                            continue
                        }
                        switch m.key {
                        case "name": policy.name = text
                        case "kind": policy.kind = text
                        case "phase": policy.phase = text
                        case "verdict": policy.verdict = text
                        case "reason": policy.reason = text
                        default: policy.extra.append(m)
                        }
                    }
                    out.append(policy)
                }
                policies = out
            default: throw invalid("expected an array of objects, got \(describe(value))")
            }
        case "redactions":
            switch value {
            case .null: redactions = nil
            case .array(let items):
                var out: [Redaction] = []
                for (i, item) in items.enumerated() {
                    guard case .object(let members) = item else {
                        throw AuditLogError(.invalidEvent, "expected an object, got \(describe(item))", location: .init(offset: Int64(offset), field: "redactions[\(i)]"))
                    }
                    var redaction = Redaction()
                    for m in members {
                        switch (m.key, m.value) {
                        case ("kind", .string(let s)): redaction.kind = s
                        case ("replacement", .string(let s)): redaction.replacement = s
                        case ("kind", .null), ("replacement", .null): break
                        case ("kind", _), ("replacement", _):
                            throw AuditLogError(.invalidEvent, "expected a string, got \(describe(m.value))", location: .init(offset: Int64(offset), field: "redactions[\(i)].\(m.key)"))
                        default: redaction.extra.append(m)
                        }
                    }
                    out.append(redaction)
                }
                redactions = out
            default: throw invalid("expected an array of objects, got \(describe(value))")
            }
        case "details":
            details = value
        case "seq":
            throw invalid(Self.seqRefusal)
        default:
            extra.append(JSONMember(key, value))
        }
    }

    /// Why input may not set `seq`.
    static let seqRefusal = "seq is assigned by the log and cannot be set by input (an export's seq is its position in the log it came from: drop it to ingest the events again)"

    /// The compact JSON object, snake_case, with `seq` first when given.
    public func jsonText(seq: SequenceNumber? = nil) -> String {
        var w = JSONWriter()
        writeJSON(to: &w, seq: seq)
        return String(decoding: w.bytes, as: UTF8.self)
    }

    /// Appends the JSON object to `w`.
    func writeJSON(to w: inout JSONWriter, seq: SequenceNumber?) {
        w.raw("{")
        var first = true
        func key(_ name: StaticString) {
            if !first { w.raw(",") }
            first = false
            w.raw("\"")
            w.raw(name)
            w.raw("\":")
        }
        func str(_ name: StaticString, _ value: String?) {
            guard let value else { return }
            key(name)
            w.string(value)
        }
        func int(_ name: StaticString, _ value: Int64?) {
            guard let value else { return }
            key(name)
            w.raw(String(value))
        }
        if let seq { key("seq"); w.raw(String(seq.rawValue)) }
        str("id", id)
        str("event_type", eventType)
        key("timestamp")
        w.raw("\"")
        timestamp.appendRFC3339(to: &w.bytes)
        w.raw("\"")
        str("verdict", verdict?.rawValue)
        str("reason_code", reasonCode)
        str("user", user)
        str("team", team)
        str("model", model)
        str("provider", provider)
        str("config_version", configVersion)
        str("api_key", apiKey)
        str("source", source)
        int("tokens_in", tokensIn)
        int("tokens_out", tokensOut)
        int("tokens_cached", tokensCached)
        int("tokens_reasoning", tokensReasoning)
        if let cost { key("cost"); w.raw(cost.description) }
        if let latencyMicros { key("latency_ms"); w.raw(FixedPoint.format(latencyMicros, scale: 3)) }
        if let cacheHit { key("cache_hit"); w.raw(cacheHit ? "true" : "false") }
        str("request_id", requestID)
        str("session_id", sessionID)
        str("gateway", gateway)
        str("ip", ip)
        str("user_agent", userAgent)
        if let policies {
            key("policies")
            w.value(.array(policies.map(\.jsonValue)))
        }
        if let redactions {
            key("redactions")
            w.value(.array(redactions.map(\.jsonValue)))
        }
        str("resource", resource)
        if let details { key("details"); w.value(details) }
        for m in extra {
            if !first { w.raw(",") }
            first = false
            w.string(m.key)
            w.raw(":")
            w.value(m.value)
        }
        w.raw("}")
    }
}

extension PolicyDecision {
    static let typedKeys: Set<String> = ["name", "kind", "phase", "verdict", "reason"]

    var jsonValue: JSONValue {
        var members: [JSONMember] = []
        if let name { members.append(JSONMember("name", .string(name))) }
        if let kind { members.append(JSONMember("kind", .string(kind))) }
        if let phase { members.append(JSONMember("phase", .string(phase))) }
        if let verdict { members.append(JSONMember("verdict", .string(verdict))) }
        if let reason { members.append(JSONMember("reason", .string(reason))) }
        return .object(members + extra)
    }
}

extension Redaction {
    var jsonValue: JSONValue {
        var members: [JSONMember] = []
        if let kind { members.append(JSONMember("kind", .string(kind))) }
        if let replacement { members.append(JSONMember("replacement", .string(replacement))) }
        return .object(members + extra)
    }
}
