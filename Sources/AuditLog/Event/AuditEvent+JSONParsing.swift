/// The ingest hot path: parses an event object straight into typed fields. Known keys are
/// matched on their bytes; strings, integers, decimals, booleans, timestamps and verdicts are
/// read in place without an intermediate `JSONValue`. Anything unusual (a wrong type, null,
/// nested values) goes through ``AuditEvent/assign(key:value:offset:sawType:sawTimestamp:)``,
/// which owns every error message.
extension AuditEvent {
    enum Field: Int, CaseIterable {
        case id, eventType, timestamp, verdict, reasonCode, user, team, model, provider, configVersion
        case apiKey, source, tokensIn, tokensOut, tokensCached, tokensReasoning, cost, latencyMs, cacheHit
        case requestID, sessionID, gateway, ip, userAgent, policies, redactions, resource, details, seq

        var name: String {
            switch self {
            case .id: "id"
            case .eventType: "event_type"
            case .timestamp: "timestamp"
            case .verdict: "verdict"
            case .reasonCode: "reason_code"
            case .user: "user"
            case .team: "team"
            case .model: "model"
            case .provider: "provider"
            case .configVersion: "config_version"
            case .apiKey: "api_key"
            case .source: "source"
            case .tokensIn: "tokens_in"
            case .tokensOut: "tokens_out"
            case .tokensCached: "tokens_cached"
            case .tokensReasoning: "tokens_reasoning"
            case .cost: "cost"
            case .latencyMs: "latency_ms"
            case .cacheHit: "cache_hit"
            case .requestID: "request_id"
            case .sessionID: "session_id"
            case .gateway: "gateway"
            case .ip: "ip"
            case .userAgent: "user_agent"
            case .policies: "policies"
            case .redactions: "redactions"
            case .resource: "resource"
            case .details: "details"
            case .seq: "seq"
            }
        }

        /// Known names grouped by byte length, for matching a key without making a String.
        static let byLength: [[(bytes: [UInt8], field: Field)]] = {
            var table = [[(bytes: [UInt8], field: Field)]](repeating: [], count: 17)
            for f in Field.allCases {
                let bytes = Array(f.name.utf8)
                table[bytes.count].append((bytes, f))
            }
            return table
        }()

        static func lookup(_ key: UnsafeRawBufferPointer) -> Field? {
            guard key.count < byLength.count else { return nil }
            for candidate in byLength[key.count] where candidate.bytes.withUnsafeBytes({ $0.elementsEqual(key) }) {
                return candidate.field
            }
            return nil
        }

        var stringPath: WritableKeyPath<AuditEvent, String?>? {
            switch self {
            case .reasonCode: \.reasonCode
            case .user: \.user
            case .team: \.team
            case .model: \.model
            case .provider: \.provider
            case .configVersion: \.configVersion
            case .apiKey: \.apiKey
            case .source: \.source
            case .requestID: \.requestID
            case .sessionID: \.sessionID
            case .gateway: \.gateway
            case .ip: \.ip
            case .userAgent: \.userAgent
            case .resource: \.resource
            default: nil
            }
        }

        var countPath: WritableKeyPath<AuditEvent, Int64?>? {
            switch self {
            case .tokensIn: \.tokensIn
            case .tokensOut: \.tokensOut
            case .tokensCached: \.tokensCached
            case .tokensReasoning: \.tokensReasoning
            default: nil
            }
        }
    }

    /// Parses one event object at the parser's position and leaves the parser after it.
    static func parseObject(_ p: inout JSONParser, droppingSeq: Bool = false) throws(AuditLogError) -> AuditEvent {
        func syntax(_ e: JSONParser.SyntaxError) -> AuditLogError {
            AuditLogError(.invalidEvent, "invalid JSON: \(e.message)", location: .init(offset: Int64(e.offset)))
        }
        p.skipWhitespace()
        guard let first = p.peek else {
            throw AuditLogError(.invalidEvent, "empty input: expected a JSON object", location: .init(offset: Int64(p.position)))
        }
        guard first == UInt8(ascii: "{") else {
            let kind: String
            switch first {
            case UInt8(ascii: "["): kind = "an array"
            case UInt8(ascii: "\""): kind = "a string"
            case UInt8(ascii: "t"), UInt8(ascii: "f"): kind = "a boolean"
            case UInt8(ascii: "n"): kind = "null"
            case 0xEF where p.bytes.count - p.position >= 3 && p.bytes[p.position + 1] == 0xBB && p.bytes[p.position + 2] == 0xBF:
                kind = "a UTF-8 byte order mark (EF BB BF)"
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): kind = "a number"
            default: kind = "text that is not JSON"
            }
            throw AuditLogError(.invalidEvent, "expected a JSON object, got \(kind)", location: .init(offset: Int64(p.position)))
        }
        p.position += 1
        var event = AuditEvent(eventType: "", timestamp: Timestamp(nanosSinceEpoch: 0))
        var sawType = false
        var sawTimestamp = false
        var seenFields: UInt32 = 0
        var extraKeys = Set<String>()  // filled only once there are many unknown keys
        p.skipWhitespace()
        if p.peek == UInt8(ascii: "}") {
            p.position += 1
        } else {
            while true {
                p.skipWhitespace()
                let keyOffset = p.position
                guard p.peek == UInt8(ascii: "\"") else { throw syntax(p.unexpected(expecting: "a member name")) }
                var field: Field?
                var unknownKey: String?
                if let range = p.scanPlainString() {
                    field = Field.lookup(UnsafeRawBufferPointer(rebasing: p.bytes[range]))
                    if field == nil { p.position = keyOffset }
                }
                if field == nil {
                    let key: String
                    do { key = try p.parseString() } catch { throw syntax(error) }
                    field = Field.allCases.first { $0.name == key }
                    if field == nil { unknownKey = key }
                }
                if let field {
                    let bit: UInt32 = 1 << UInt32(field.rawValue)
                    guard seenFields & bit == 0 else {
                        throw AuditLogError(.invalidEvent, "duplicate key \"\(field.name)\"", location: .init(offset: Int64(keyOffset), field: field.name))
                    }
                    seenFields |= bit
                } else if let key = unknownKey {
                    let duplicate: Bool
                    if event.extra.count < 16 {
                        duplicate = event.extra.contains { $0.key == key }
                    } else {
                        if extraKeys.isEmpty { extraKeys = Set(event.extra.map(\.key)) }
                        duplicate = !extraKeys.insert(key).inserted
                    }
                    if duplicate {
                        throw AuditLogError(.invalidEvent, "duplicate key \"\(key)\"", location: .init(offset: Int64(keyOffset), field: key))
                    }
                }
                do { try p.expect(UInt8(ascii: ":"), "':'") } catch { throw syntax(error) }
                p.skipWhitespace()
                let valueOffset = p.position
                if field == .seq && droppingSeq {
                    do { _ = try p.parseValue(depth: 1) } catch { throw syntax(error) }
                } else if let field, try event.parseFast(field, &p, sawType: &sawType, sawTimestamp: &sawTimestamp) {
                    // Done in place.
                } else {
                    let value: JSONValue
                    do { value = try p.parseValue(depth: 1) } catch { throw syntax(error) }
                    try event.assign(key: field?.name ?? unknownKey ?? "", value: value, offset: valueOffset, sawType: &sawType, sawTimestamp: &sawTimestamp)
                }
                p.skipWhitespace()
                if p.peek == UInt8(ascii: ",") {
                    p.position += 1
                    continue
                }
                if p.peek == UInt8(ascii: "}") {
                    p.position += 1
                    break
                }
                throw syntax(p.unexpected(expecting: "',' or '}'"))
            }
        }
        guard sawType else {
            throw AuditLogError(.invalidEvent, "required field is missing", location: .init(offset: Int64(p.position), field: "event_type"))
        }
        guard sawTimestamp else {
            throw AuditLogError(.invalidEvent, "required field is missing", location: .init(offset: Int64(p.position), field: "timestamp"))
        }
        return event
    }

    /// Reads the value of a known field in place when it has the expected JSON type and is
    /// valid; returns false (parser unmoved) to leave it to the general path.
    private mutating func parseFast(_ field: Field, _ p: inout JSONParser, sawType: inout Bool, sawTimestamp: inout Bool) throws(AuditLogError) -> Bool {
        let start = p.position
        guard let c = p.peek else { return false }
        if let path = field.stringPath {
            guard c == UInt8(ascii: "\"") else { return false }
            do { self[keyPath: path] = try p.parseString() } catch {
                throw AuditLogError(.invalidEvent, "invalid JSON: \(error.message)", location: .init(offset: Int64(error.offset), field: field.name))
            }
            return true
        }
        switch field {
        case .tokensIn, .tokensOut, .tokensCached, .tokensReasoning:
            guard c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9"), let range = try? p.parseNumberRange() else { return reset(&p, start) }
            let literal = UnsafeRawBufferPointer(rebasing: p.bytes[range])
            guard !literal.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }),
                  case .success(let value) = FixedPoint.parse(literal, scale: 0), value <= EventLimits.maxTokens, let path = field.countPath
            else { return reset(&p, start) }
            self[keyPath: path] = value
            return true
        case .cost, .latencyMs:
            guard c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9"), let range = try? p.parseNumberRange(),
                  case .success(let value) = FixedPoint.parse(UnsafeRawBufferPointer(rebasing: p.bytes[range]), scale: field == .cost ? 9 : 3),
                  value <= (field == .cost ? EventLimits.maxCostNanodollars : EventLimits.maxLatencyMicros)
            else { return reset(&p, start) }
            if field == .cost { cost = Cost(nanodollars: value) } else { latencyMicros = value }
            return true
        case .cacheHit:
            if p.consumeLiteral("true") { cacheHit = true; return true }
            if p.consumeLiteral("false") { cacheHit = false; return true }
            return false
        case .timestamp:
            guard let range = p.scanPlainString(), let t = Timestamp.parse(UnsafeRawBufferPointer(rebasing: p.bytes[range])) else { return reset(&p, start) }
            timestamp = t
            sawTimestamp = true
            return true
        case .verdict:
            guard let range = p.scanPlainString(), let v = Verdict(bytes: UnsafeRawBufferPointer(rebasing: p.bytes[range])) else { return reset(&p, start) }
            verdict = v
            return true
        case .eventType:
            guard c == UInt8(ascii: "\""), let range = p.scanPlainString(), range.count > 0, range.count <= EventLimits.maxEventTypeBytes,
                  let s = makeString(UnsafeRawBufferPointer(rebasing: p.bytes[range]))
            else { return reset(&p, start) }
            eventType = s
            sawType = true
            return true
        case .id:
            guard c == UInt8(ascii: "\""), let range = p.scanPlainString(), range.count > 0, range.count <= EventLimits.maxIDBytes,
                  !p.bytes[range].contains(where: { $0 == 0x7F }),
                  let s = makeString(UnsafeRawBufferPointer(rebasing: p.bytes[range]))
            else { return reset(&p, start) }
            id = s
            return true
        default:
            return false
        }
    }

    private func reset(_ p: inout JSONParser, _ position: Int) -> Bool {
        p.position = position
        return false
    }
}

extension Verdict {
    init?(bytes: UnsafeRawBufferPointer) {
        for v in Verdict.allCases where v.rawValue.utf8.elementsEqual(bytes) {
            self = v
            return
        }
        return nil
    }
}
