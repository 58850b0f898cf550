extension AuditEvent {
    /// The prefixes of the event types only the log itself writes: retention sweeps, legal
    /// holds, recoveries and (later) audits of the log's own readers.
    package static let reservedEventTypePrefixes = ["retention.", "hold.", "log.", "audit."]

    /// Whether `eventType` is one the log reserves for its own records (compared without
    /// regard to case, so that `Hold.Released` cannot pass for a client's type either).
    package static func isReserved(eventType: String) -> Bool {
        // ASCII, the common case: letters folded byte by byte, no lowered copy (for ASCII text
        // the same answer as the general path below: no ASCII character joins a "." into one
        // grapheme).
        let utf8 = eventType.utf8
        // An ASCII first byte no prefix starts with (folded) settles it: the lowered text
        // starts with that byte too.
        if let first = utf8.first, first < 0x80, !reservedFirstBytes.contains(asciiLowercased(first)) {
            return false
        }
        if utf8.allSatisfy({ $0 < 0x80 }) {
            return reservedPrefixBytes.contains { prefix in
                utf8.count >= prefix.count && zip(utf8, prefix).allSatisfy { b, p in asciiLowercased(b) == p }
            }
        }
        let lowered = eventType.lowercased()
        return reservedEventTypePrefixes.contains { lowered.hasPrefix($0) }
    }

    private static let reservedPrefixBytes = reservedEventTypePrefixes.map { Array($0.utf8) }
    private static let reservedFirstBytes = reservedPrefixBytes.compactMap(\.first)

    /// `byte` with ASCII `A`–`Z` folded to `a`–`z`; every other byte as it is.
    private static func asciiLowercased(_ byte: UInt8) -> UInt8 {
        byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
    }

    /// Throws when the event's type is reserved: what every input path (``AuditLog/append(_:)``,
    /// ingest, `POST /v1/events`) checks.
    package func refuseReservedType() throws(AuditLogError) {
        guard Self.isReserved(eventType: eventType) else { return }
        throw AuditLogError(
            .invalidEvent,
            "event type \"\(eventType.prefix(80))\" is reserved: types under \(Self.reservedEventTypePrefixes.map { "'\($0)'" }.joined(separator: ", ")) are written by the log itself",
            location: .init(field: "event_type"))
    }

    /// Checks the invariants the JSON decoder enforces, for events built in Swift.
    ///
    /// - Throws: ``AuditLogError`` with code ``AuditLogError/Code/invalidEvent`` naming the field.
    public func validate() throws(AuditLogError) {
        func invalid(_ field: String, _ message: String) -> AuditLogError {
            AuditLogError(.invalidEvent, message, location: .init(field: field))
        }
        if let id {
            guard !id.isEmpty, id.utf8.count <= EventLimits.maxIDBytes,
                !Self.hasControlCharacter(id)
            else { throw invalid("id", "must be 1 to \(EventLimits.maxIDBytes) bytes with no control characters") }
        }
        guard !eventType.isEmpty, eventType.utf8.count <= EventLimits.maxEventTypeBytes else {
            throw invalid("event_type", "must be 1 to \(EventLimits.maxEventTypeBytes) bytes")
        }
        guard timestamp.nanosSinceEpoch >= 0 else { throw invalid("timestamp", "must not be before 1970") }
        for field in EventField.all {
            guard let value = self[integer: field] else { continue }
            guard value >= 0 else { throw invalid(field.jsonName, "must not be negative") }
            if let maximum = field.limit, value > maximum {
                throw invalid(field.jsonName, Self.tooLarge(field.jsonName))
            }
        }
        var seen = Set<String>()
        for m in extra {
            guard !EventField.typedNames.contains(m.key), seen.insert(m.key).inserted else {
                throw invalid(m.key, "extra field repeats a field name")
            }
            try Self.validate(m.value, field: m.key, depth: 1)
        }
        if let details { try Self.validate(details, field: "details", depth: 1) }
        try Self.validate(objects: policies, field: "policies")
        try Self.validate(objects: redactions, field: "redactions")
    }

    /// Whether `text` holds a C0 control character or DEL, read as UTF-8 bytes (those are ASCII,
    /// never part of a multi-byte scalar) in place.
    private static func hasControlCharacter(_ text: String) -> Bool {
        func isControl(_ byte: UInt8) -> Bool { byte < 0x20 || byte == 0x7F }
        return text.withUTF8Bytes { $0.contains(where: isControl) }
    }

    /// The extras of policies or redactions: no typed name, no name twice, valid values.
    private static func validate(objects: [some TypedObject]?, field: String) throws(AuditLogError) {
        for (i, object) in (objects ?? []).enumerated() {
            var names = Set<String>()
            for m in object.extra {
                let name = "\(field)[\(i)].\(m.key)"
                guard !type(of: object).typedMembers.contains(where: { $0.description == m.key }), names.insert(m.key).inserted else {
                    throw AuditLogError(.invalidEvent, "repeats a field name", location: .init(field: name))
                }
                try validate(m.value, field: name, depth: 1)
            }
        }
    }

    /// "exceeds the limit of …", in the field's own unit.
    static func tooLarge(_ name: String) -> String {
        switch name {
        case "cost": "exceeds the limit of \(Cost(nanodollars: EventLimits.maxCostNanodollars)) US dollars per event"
        case "latency_ms": "exceeds the limit of \(FixedPoint.format(EventLimits.maxLatencyMicros, scale: 3)) ms per event"
        default: "exceeds the limit of \(EventLimits.maxTokens) tokens per event"
        }
    }

    private static func validate(_ value: JSONValue, field: String, depth: Int) throws(AuditLogError) {
        guard depth < JSONValue.maxDepth else {
            throw AuditLogError(.limitExceeded, "holds more than \(JSONValue.maxDepth - 2) nested arrays and objects", location: .init(field: field))
        }
        switch value {
        case .number(let n):
            guard JSONParser.isValidNumberLiteral(n) else {
                throw AuditLogError(.invalidEvent, "\"\(n)\" is not a JSON number", location: .init(field: field))
            }
        case .array(let items):
            for item in items { try validate(item, field: field, depth: depth + 1) }
        case .object(let members):
            var keys = Set<String>()
            for m in members {
                guard keys.insert(m.key).inserted else {
                    throw AuditLogError(.invalidEvent, "duplicate key \"\(m.key)\"", location: .init(field: field))
                }
                try validate(m.value, field: field, depth: depth + 1)
            }
        case .null, .bool, .string:
            break
        }
    }
}
