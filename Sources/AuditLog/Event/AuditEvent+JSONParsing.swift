/// The ingest hot path: parses an event object straight into typed fields. Known keys are
/// matched on their bytes; strings, integers, decimals, booleans, timestamps and verdicts are
/// read in place without an intermediate `JSONValue`. Anything unusual (a wrong type, null,
/// nested values) goes through ``AuditEvent/assign(key:value:offset:sawType:sawTimestamp:)``,
/// which owns every error message.
extension AuditEvent {
    /// A top-level name the parser knows: the header's, a typed field's (``EventField``) or
    /// `seq`.
    enum Key: Equatable {
        case id, eventType, timestamp, seq
        case field(EventField)

        static let all: [Key] = [.id, .eventType, .timestamp, .seq] + EventField.allCases.filter { $0 != .extra }.map { .field($0) }

        var name: String {
            switch self {
            case .id: "id"
            case .eventType: "event_type"
            case .timestamp: "timestamp"
            case .seq: "seq"
            case .field(let field): field.jsonName
            }
        }

        /// A bit of its own, to find a repeated key: the field's presence bit, or one above
        /// them.
        var bit: UInt32 {
            switch self {
            case .field(let field): field.mask
            case .id: 1 << 27
            case .eventType: 1 << 28
            case .timestamp: 1 << 29
            case .seq: 1 << 30
            }
        }

        /// A known name's bytes as its length and its first and last eight bytes, zero-padded
        /// (overlapping when it is shorter than 16 bytes): for names of at most 16 bytes, which
        /// every known one is, equal triples mean equal bytes.
        struct Spelling: Equatable {
            var first: UInt64
            var last: UInt64
            var count: Int

            /// Nil when `bytes` is empty or longer than 16 bytes (no known name is).
            @inline(__always)
            init?(_ bytes: UnsafeRawBufferPointer) {
                count = bytes.count
                guard count >= 1, count <= 16, let base = bytes.baseAddress else { return nil }
                if count >= 8 {
                    first = base.loadUnaligned(as: UInt64.self)
                    last = base.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
                } else {
                    var word: UInt64 = 0
                    for i in 0..<count { word |= UInt64(base.load(fromByteOffset: i, as: UInt8.self)) << UInt64(8 * i) }
                    first = word
                    last = word
                }
            }

            /// A slot of ``Key/table``.
            var slot: Int {
                Int(truncatingIfNeeded: (first &* 0x9E37_79B9_7F4A_7C15 ^ last &* 0xC2B2_AE3D_27D4_EB4F ^ UInt64(count)) >> UInt64(64 - Key.slotBits))
            }
        }

        static let slotBits = 6

        /// The known names in an open-addressed table (linear probing) of 2^``slotBits`` slots.
        static let table: [(spelling: Spelling, key: Key)?] = {
            var table = [(spelling: Spelling, key: Key)?](repeating: nil, count: 1 << slotBits)
            for key in all {
                let bytes = Array(key.name.utf8)
                // A name longer than 16 bytes (none is) would be left to ``init(name:)``.
                guard let spelling = bytes.withUnsafeBytes({ Spelling($0) }) else { continue }
                var slot = spelling.slot
                while table[slot] != nil { slot = (slot + 1) & (table.count - 1) }
                table[slot] = (spelling, key)
            }
            return table
        }()

        /// The known name spelled by `bytes`, without making a String.
        static func lookup(_ bytes: UnsafeRawBufferPointer) -> Key? {
            guard let spelling = Spelling(bytes) else { return nil }
            let table = Self.table
            var slot = spelling.slot
            while let entry = table[slot] {
                if entry.spelling == spelling { return entry.key }
                slot = (slot + 1) & (table.count - 1)
            }
            return nil
        }

        init?(name: String) {
            guard let key = Key.all.first(where: { $0.name == name }) else { return nil }
            self = key
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
                var field: Key?
                var unknownKey: String?
                if let range = p.scanPlainString() {
                    field = Key.lookup(UnsafeRawBufferPointer(rebasing: p.bytes[range]))
                    if field == nil { p.position = keyOffset }
                }
                if field == nil {
                    let key: String
                    do { key = try p.parseString() } catch { throw syntax(error) }
                    field = Key(name: key)
                    if field == nil { unknownKey = key }
                }
                if let field {
                    guard seenFields & field.bit == 0 else {
                        throw AuditLogError(.invalidEvent, "duplicate key \"\(field.name)\"", location: .init(offset: Int64(keyOffset), field: field.name))
                    }
                    seenFields |= field.bit
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
    private mutating func parseFast(_ key: Key, _ p: inout JSONParser, sawType: inout Bool, sawTimestamp: inout Bool) throws(AuditLogError) -> Bool {
        let start = p.position
        guard let c = p.peek else { return false }
        switch key {
        case .field(let field):
            switch field.kind {
            case .string:
                guard c == UInt8(ascii: "\"") else { return false }
                do { self[string: field] = try p.parseString() } catch {
                    throw AuditLogError(.invalidEvent, "invalid JSON: \(error.message)", location: .init(offset: Int64(error.offset), field: field.jsonName))
                }
                return true
            case .count, .fixed:
                let scale = if case .fixed(let scale) = field.kind { scale } else { 0 }
                guard c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9"), let range = try? p.parseNumberRange() else { return reset(&p, start) }
                let literal = UnsafeRawBufferPointer(rebasing: p.bytes[range])
                // A count is an integer: "1.0" and "1e3" take the general path, which refuses them.
                guard scale > 0 || !literal.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }),
                    case .success(let value) = FixedPoint.parse(literal, scale: scale), value <= field.limit ?? Int64.max
                else { return reset(&p, start) }
                self[integer: field] = value
                return true
            case .bool:
                if p.consumeLiteral("true") { cacheHit = true; return true }
                if p.consumeLiteral("false") { cacheHit = false; return true }
                return false
            case .verdict:
                guard let range = p.scanPlainString(), let v = Verdict(bytes: UnsafeRawBufferPointer(rebasing: p.bytes[range])) else { return reset(&p, start) }
                verdict = v
                return true
            case .policies, .redactions, .json, .members:
                return false
            }
        case .timestamp:
            guard let range = p.scanPlainString(), let t = Timestamp.parse(UnsafeRawBufferPointer(rebasing: p.bytes[range])) else { return reset(&p, start) }
            timestamp = t
            sawTimestamp = true
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
        case .seq:
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
        for v in Verdict.all where v.rawValue.utf8.elementsEqual(bytes) {
            self = v
            return
        }
        return nil
    }
}
