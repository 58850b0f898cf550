/// JSON decoding and encoding of events (DESIGN.md, "The event").
extension AuditEvent {
    /// Decodes one event from JSON text.
    ///
    /// - Throws: ``AuditLogError`` with code ``AuditLogError/Code/invalidEvent`` naming the
    ///   field and what was wrong, and the byte offset in `json`.
    ///
    /// A `seq` member is refused (the log assigns seqs) unless `droppingSeq`, which ignores it:
    /// an export of one log carries the seqs it had there.
    public init(json: String, droppingSeq: Bool = false) throws(AuditLogError) {
        let result: Result<AuditEvent, AuditLogError> = json.withUTF8Bytes { utf8 in
            do throws(AuditLogError) {
                return .success(try AuditEvent(jsonBytes: utf8, droppingSeq: droppingSeq))
            } catch {
                return .failure(error)
            }
        }
        self = try result.get()
    }

    /// Decodes one event from UTF-8 JSON bytes (the whole buffer must be one object, with
    /// optional surrounding white space).
    package init(jsonBytes: UnsafeRawBufferPointer, droppingSeq: Bool = false) throws(AuditLogError) {
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
                    if let maximum = EventField(jsonName: key)?.limit, v > maximum { throw invalid("\(n) \(Self.tooLarge(key))") }
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
                if let maximum = EventField(jsonName: key)?.limit, v > maximum { throw invalid("\(literal) \(Self.tooLarge(key))") }
                return v
            case .failure(.negative): throw invalid("must not be negative, got \(literal)")
            case .failure(.tooManyDecimals): throw invalid("\(literal) has more than \(scale) decimals")
            case .failure(.outOfRange): throw invalid("\(literal) is out of range")
            case .failure(.notANumber): throw invalid("expected a number of \(unit), got \"\(literal)\"")
            }
        }
        /// An array of objects with typed string members (`typed`, in order) and extras.
        func objects<T>(_ typed: [StaticString], _ make: ([String?], [JSONMember]) -> T) throws(AuditLogError) -> [T]? {
            switch value {
            case .null: return nil
            case .array(let items):
                var out: [T] = []
                for (i, item) in items.enumerated() {
                    guard case .object(let members) = item else {
                        throw AuditLogError(.invalidEvent, "expected an object, got \(describe(item))", location: .init(offset: Int64(offset), field: "\(key)[\(i)]"))
                    }
                    var values = [String?](repeating: nil, count: typed.count)
                    var extra: [JSONMember] = []
                    for m in members {
                        guard let k = typed.firstIndex(where: { $0.description == m.key }) else {
                            extra.append(m)
                            continue
                        }
                        switch m.value {
                        case .string(let s): values[k] = s
                        case .null: values[k] = nil
                        default:
                            throw AuditLogError(.invalidEvent, "expected a string, got \(describe(m.value))", location: .init(offset: Int64(offset), field: "\(key)[\(i)].\(m.key)"))
                        }
                    }
                    out.append(make(values, extra))
                }
                return out
            default: throw invalid("expected an array of objects, got \(describe(value))")
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
        case "seq":
            throw invalid(Self.seqRefusal)
        default:
            guard let field = EventField(jsonName: key) else {
                extra.append(JSONMember(key, value))
                return
            }
            switch field.kind {
            case .verdict:
                guard let s = try string() else { verdict = nil; return }
                guard let v = Verdict(rawValue: s) else {
                    throw invalid("unknown verdict \"\(s)\" (expected allow, block, redact or escalate)")
                }
                verdict = v
            case .string: self[string: field] = try string()
            case .count: self[integer: field] = try count()
            case .fixed(let scale): self[integer: field] = try fixed(scale: scale, unit: field.unit)
            case .bool:
                switch value {
                case .null: cacheHit = nil
                case .bool(let b): cacheHit = b
                default: throw invalid("expected true or false, got \(describe(value))")
                }
            case .policies:
                policies = try objects(PolicyDecision.typedMembers) { PolicyDecision(typedValues: $0, extra: $1) }
            case .redactions:
                redactions = try objects(Redaction.typedMembers) { Redaction(typedValues: $0, extra: $1) }
            case .json, .members:
                details = value
            }
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
        for field in EventField.all where field.kind != .members {
            switch field.kind {
            case .verdict: str(field.name, verdict?.rawValue)
            case .string: str(field.name, self[string: field])
            case .count: int(field.name, self[integer: field])
            case .fixed(let scale):
                guard let value = self[integer: field] else { continue }
                key(field.name)
                w.raw(FixedPoint.format(value, scale: scale))
            case .bool:
                guard let cacheHit else { continue }
                key(field.name)
                w.raw(cacheHit ? "true" : "false")
            case .policies:
                guard let policies else { continue }
                key(field.name)
                w.value(.array(policies.map(\.jsonValue)))
            case .redactions:
                guard let redactions else { continue }
                key(field.name)
                w.value(.array(redactions.map(\.jsonValue)))
            case .json:
                guard let details else { continue }
                key(field.name)
                w.value(details)
            case .members: continue
            }
        }
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

/// An object with typed string members and extras, as policies and redactions are.
protocol TypedObject {
    static var typedMembers: [StaticString] { get }
    var typedValues: [String?] { get }
    var extra: [JSONMember] { get }
}

extension TypedObject {
    var jsonValue: JSONValue {
        var members: [JSONMember] = []
        for (name, value) in zip(Self.typedMembers, typedValues) {
            if let value { members.append(JSONMember(name.description, .string(value))) }
        }
        return .object(members + extra)
    }
}

extension PolicyDecision: TypedObject {}
extension Redaction: TypedObject {}
