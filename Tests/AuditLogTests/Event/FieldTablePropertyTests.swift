import Testing

@testable import AuditLog

/// Every reader of an event against every writer (issue 14, "one field table"). Writers: the
/// JSON writer, the binary record encoder, the record-to-JSON transcoder, the CSV row. Readers:
/// the JSON parser's fast path and its general path, the record decoder, the record validator,
/// the index's record facts, filter text. Random events set each field of ``EventField`` with
/// probability one half; the oracles read the JSON as a plain `JSONValue`, not through the table.
@Suite struct FieldTablePropertyTests {
    /// `EventField(rawValue:)` is written out (a range check and the case index): every field
    /// comes back from its raw value, in declaration order, and nothing past the last does.
    @Test func everyFieldComesBackFromItsRawValue() {
        #expect(MemoryLayout<EventField>.size == 1)
        for (index, field) in EventField.allCases.enumerated() {
            #expect(field.rawValue == index)
            #expect(EventField(rawValue: index) == field)
        }
        for outside in [-1, EventField.allCases.count, 27, 255, 256, Int.max, Int.min] {
            #expect(EventField(rawValue: outside) == nil, "\(outside)")
        }
    }

    /// The runs the record validator walks (``EventField/leadingStrings``): each mask holds
    /// exactly the fields of its kind in its stretch of bits, and the runs come in bit order
    /// with the single fields between them where the table puts them.
    @Test func theValidatorsRunsAreTheFieldTable() {
        let strings = EventField.leadingStrings | EventField.trailingStrings
        #expect(EventField.leadingStrings & EventField.integers == 0 && EventField.integers & EventField.trailingStrings == 0)
        for field in EventField.allCases {
            let bit = field.mask
            // Each field in the one run of its kind, or (resource and the single fields) in none.
            switch field.kind {
            case .string: #expect(EventField.integers & bit == 0 && (strings & bit != 0 || field == .resource), "\(field)")
            case .count, .fixed: #expect(EventField.integers & bit != 0 && strings & bit == 0, "\(field)")
            default: #expect((strings | EventField.integers) & bit == 0, "\(field)")
            }
        }
        // In bit order: verdict, leading strings, integers, cache_hit, trailing strings, then the rest.
        #expect(EventField.verdict.mask < EventField.leadingStrings.lowestBit && EventField.leadingStrings < EventField.integers.lowestBit)
        #expect(EventField.integers < EventField.cacheHit.mask && EventField.cacheHit.mask < EventField.trailingStrings.lowestBit)
        #expect(EventField.trailingStrings < EventField.policies.mask)
        #expect(EventField.policies.rawValue + 1 == EventField.redactions.rawValue && EventField.redactions.rawValue + 1 == EventField.resource.rawValue)
        #expect(EventField.resource.rawValue + 1 == EventField.details.rawValue && EventField.details.rawValue + 1 == EventField.extra.rawValue)
        #expect(EventField.extra.rawValue == EventField.allCases.count - 1)
    }

    /// Whether `e` has `field`, by the field table: its kind and its accessors.
    static func has(_ e: AuditEvent, _ field: EventField) -> Bool {
        switch field.kind {
        case .verdict: e.verdict != nil
        case .string: e.withString(field) { $0 != nil }
        case .count, .fixed: e[integer: field] != nil
        case .bool: e.cacheHit != nil
        case .policies: e.policies != nil
        case .redactions: e.redactions != nil
        case .json: e.details != nil
        case .members: !e.extra.isEmpty
        }
    }

    /// The validator (what `verify` runs on every record) rejects each value the decoder does,
    /// in every run of fields: each case sets one field, whose value ends the record, and
    /// replaces that value's bytes with a damaged one.
    @Test func theValidatorRejectsADamagedValueInEveryRun() {
        let cases: [(field: String, set: (inout AuditEvent) -> Void, keep: Int, damaged: [UInt8])] = [
            ("verdict", { $0.verdict = .allow }, 1, [5]),
            ("model", { $0.model = "m" }, 1, [0xFF]),  // a leading string: not UTF-8
            ("tokens_in", { $0.tokensIn = 1 }, 1, [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]),  // 2⁶³
            ("latency", { $0.latencyMicros = 1 }, 1, [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]),
            ("cache_hit", { $0.cacheHit = true }, 1, [2]),
            ("user_agent", { $0.userAgent = "u" }, 1, [0xC3]),  // a trailing string: a cut sequence
            ("resource", { $0.resource = "r" }, 1, [0xFF]),
            ("details", { $0.details = .bool(true) }, 1, [9]),  // an unknown JSON tag
        ]
        for c in cases {
            var e = AuditEvent(eventType: "t", timestamp: Timestamp(nanosSinceEpoch: 1), id: "x")
            c.set(&e)
            var record = e.recordBytes()
            #expect((try? record.withUnsafeBytes { try AuditEvent.validateRecord($0) }) != nil, "\(c.field) intact")
            record.removeLast(c.keep)
            record += c.damaged
            #expect(throws: FormatError.self, "\(c.field)") { try record.withUnsafeBytes { try AuditEvent.validateRecord($0) } }
            #expect(throws: FormatError.self, "\(c.field)") { try record.withUnsafeBytes { try AuditEvent.decodeRecord($0) } }
        }
    }

    @Test(arguments: [UInt64(101), 102, 103])
    func everyReaderAgreesWithEveryWriter(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        var csv = RecordCSV()
        for i in 0..<400 {
            let e = Self.randomEvent(&rng, index: i)
            let context = "seed \(seed), event \(i): \(e.jsonText())"
            let json = e.jsonText()
            let record = e.recordBytes()

            // Binary and JSON round trips, and the general (slow) JSON path.
            #expect(try record.withUnsafeBytes { try AuditEvent.decodeRecord($0) } == e, "\(context)")
            #expect(try AuditEvent(json: json) == e, "\(context)")
            #expect(try Self.parsedByGeneralPath(json) == e, "\(context)")

            // The transcoder writes what the JSON writer writes.
            var transcoded: [UInt8] = []
            try record.withUnsafeBytes { try RecordJSON.append($0, seq: SequenceNumber(UInt64(i + 1)), to: &transcoded) }
            #expect(String(decoding: transcoded, as: UTF8.self) == e.jsonText(seq: SequenceNumber(UInt64(i + 1))), "\(context)")

            // The CSV transcoder writes the row the decoded event gives, and keeps no state
            // from one record to the next (one transcoder for the whole run).
            var decodedRow: [UInt8] = []
            CSVExport.append(Record(seq: SequenceNumber(UInt64(i + 1)), event: e), to: &decodedRow)
            var transcodedRow: [UInt8] = []
            try record.withUnsafeBytes { try csv.append($0, seq: SequenceNumber(UInt64(i + 1)), to: &transcodedRow) }
            #expect(String(decoding: transcodedRow, as: UTF8.self) == String(decoding: decodedRow, as: UTF8.self), "\(context)")

            // The validator accepts every record the encoder writes.
            #expect(try record.withUnsafeBytes { try AuditEvent.validateRecord($0) } == e.timestamp.nanosSinceEpoch, "\(context)")

            // Record facts read from bytes equal those taken from the event.
            let (facts, strings) = try record.withUnsafeBytes { raw in
                let facts = try RecordFacts(record: raw)
                return (facts, Dimension.columns.indices.map { facts.value($0, in: raw).map { String(decoding: $0, as: UTF8.self) } })
            }
            let expected = RecordFacts(e)
            #expect(facts.timestampNanos == expected.timestampNanos && facts.verdict == expected.verdict && facts.cacheHit == expected.cacheHit, "\(context)")
            #expect(strings == Dimension.columns.map { $0.value(of: e) } && facts.idHash == expected.idHash, "\(context)")
            #expect(facts.idHash == IDIndex.hash(e.id ?? ""), "\(context)")
            #expect([facts.tokensIn, facts.tokensOut, facts.costNanos, facts.latencyMicros] == [expected.tokensIn, expected.tokensOut, expected.costNanos, expected.latencyMicros], "\(context)")
            #expect(strings[0] == e.eventType && strings[2] == e.user && facts.tokensIn == (e.tokensIn ?? -1), "\(context)")

            // Presence bits: one per top-level name in the JSON, read without the table.
            guard case .object(let members) = try Self.plainJSON(json) else {
                Issue.record("not an object: \(context)")
                continue
            }
            let names = members.map(\.key)
            let presence = record.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 8, as: UInt32.self) }
            let bitOrder = [
                "verdict", "reason_code", "user", "team", "model", "provider", "config_version", "api_key", "source",
                "tokens_in", "tokens_out", "tokens_cached", "tokens_reasoning", "cost", "latency_ms", "cache_hit",
                "request_id", "session_id", "gateway", "ip", "user_agent", "policies", "redactions", "resource", "details",
            ]
            for (bit, name) in bitOrder.enumerated() {
                #expect((presence >> UInt32(bit)) & 1 == (names.contains(name) ? 1 : 0), "bit \(bit) \(name): \(context)")
            }
            #expect((presence >> 25) & 1 == (e.extra.isEmpty ? 0 : 1), "\(context)")
            // The straight-line presence is the table's answer field by field.
            #expect(e.presence == EventField.all.reduce(0) { Self.has(e, $1) ? $0 | $1.mask : $0 }, "\(context)")

            // Filter text: strings as they are, numbers and booleans as written, nested as JSON.
            for m in members {
                let text: String? =
                    switch m.value {
                    case .null: nil
                    case .string(let s): s
                    case .number(let n): n
                    case .bool(let b): b ? "true" : "false"
                    case .array, .object: m.value.jsonText
                    }
                #expect(e.fieldText(m.key) == text, "\(m.key): \(context)")
            }

            // The CSV row holds each column's filter text, and extra as one object.
            var row: [UInt8] = []
            CSVExport.append(Record(seq: SequenceNumber(7), event: e), to: &row)
            var expectedRow: [UInt8] = []
            for column in CSVExport.columns {
                let text = column == "extra" ? (e.extra.isEmpty ? nil : JSONValue.object(e.extra).jsonText) : column == "seq" ? "7" : e.fieldText(column)
                if let text { CSVExport.appendField(text, to: &expectedRow) }
                expectedRow.append(column == "seq" ? 0x0D : UInt8(ascii: ","))
            }
            expectedRow.append(0x0A)
            #expect(row == expectedRow, "\(context)")
        }
    }

    /// The dimension table's switches agree with its lists, and with the on-disk codes of
    /// docs/FORMAT.md (dictionary columns in section order; rollup codes 1–6).
    @Test func dimensionCodesAgreeWithTheirLists() {
        #expect(Dimension.columns.map(\.name) == ["event_type", "reason_code", "user", "team", "model", "provider", "api_key", "source"])
        for (i, d) in Dimension.columns.enumerated() { #expect(d.column == i) }
        #expect(Dimension.verdict.column == nil)
        #expect(Dimension.rolledUp.map(\.name) == ["user", "team", "model", "provider", "api_key", "verdict", "reason_code", "source", "event_type"])
        #expect(Dimension.rolledUpInVersion1.map(\.name) == ["user", "team", "model", "provider", "api_key", "verdict"])
        for d in Dimension.allCases {
            #expect(d.rollupCode == Dimension.rolledUp.firstIndex(of: d).map { UInt8($0 + 1) })
            if let code = d.rollupCode { #expect(Dimension(rollupCode: code) == d) }
        }
        for group in UsageGroup.allCases {
            // The gateway is grouped by from decoded records: no dimension.
            #expect(group.dimension?.name == (group.isTime || group == .gateway ? nil : group.rawValue))
        }
    }

    /// The CSV header stays what the first wave published.
    @Test func csvColumnsAreUnchanged() {
        #expect(
            CSVExport.columns.joined(separator: ",")
                == "id,event_type,timestamp,verdict,reason_code,model,provider,config_version,user,team,api_key,source,tokens_in,tokens_out,tokens_cached,tokens_reasoning,cost,latency_ms,cache_hit,request_id,session_id,gateway,ip,user_agent,resource,policies,redactions,details,extra,seq"
        )
    }

    static func plainJSON(_ text: String) throws -> JSONValue {
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBytes { raw in
            var parser = JSONParser(raw)
            return try parser.parseValue()
        }
    }

    /// Builds the event member by member through ``AuditEvent/assign(key:value:offset:sawType:sawTimestamp:)``,
    /// the path every value takes when it is not in the fast path's shape.
    static func parsedByGeneralPath(_ json: String) throws -> AuditEvent {
        guard case .object(let members) = try plainJSON(json) else { throw AuditLogError(.invalidEvent, "not an object") }
        var event = AuditEvent(eventType: "", timestamp: Timestamp(nanosSinceEpoch: 0))
        var sawType = false
        var sawTimestamp = false
        for m in members { try event.assign(key: m.key, value: m.value, offset: 0, sawType: &sawType, sawTimestamp: &sawTimestamp) }
        return event
    }

    static func randomString(_ rng: inout SplitMix64) -> String {
        let pieces = ["a", "Z", "é", "ü", "💡", " ", ",", "\"", "\\", "\n", "\r", "\u{1}", "\u{7F}", "key", "0"]
        return (0..<rng.below(12)).map { _ in pieces[rng.below(pieces.count)] }.joined()
    }

    static func randomValue(_ rng: inout SplitMix64, depth: Int) -> JSONValue {
        switch rng.below(depth > 3 ? 5 : 7) {
        case 0: return .null
        case 1: return .bool(rng.below(2) == 0)
        case 2: return .number(["0", "-1", "1.5", "2e10", "-0.25E-3", "123456789012345678901234567890"][rng.below(6)])
        case 3, 4: return .string(randomString(&rng))
        case 5: return .array((0..<rng.below(4)).map { _ in randomValue(&rng, depth: depth + 1) })
        default: return .object((0..<rng.below(4)).map { k in JSONMember("k\(k)", randomValue(&rng, depth: depth + 1)) })
        }
    }

    static func randomExtras(_ rng: inout SplitMix64, avoiding: Set<String>) -> [JSONMember] {
        (0..<rng.below(3)).compactMap { k in
            let name = ["tenant", "x\(k)", "é\(k)", "score"][rng.below(4)] + "\(k)"
            return avoiding.contains(name) ? nil : JSONMember(name, randomValue(&rng, depth: 1))
        }
    }

    static func randomEvent(_ rng: inout SplitMix64, index: Int) -> AuditEvent {
        let ids = ["evt_01KHSK4H68S45Q3ETMV38G3DDS", "id\(index)", "é-\(index)", "evt_not_a_ulid_\(index)"]
        var e = AuditEvent(eventType: "type.\(randomString(&rng))x", timestamp: Timestamp(nanosSinceEpoch: Int64(rng.next() >> 2)), id: ids[rng.below(ids.count)])
        for field in EventField.allCases where rng.below(2) == 0 {
            switch field.kind {
            case .verdict: e.verdict = Verdict.allCases[rng.below(4)]
            case .string: e[string: field] = randomString(&rng)
            case .count, .fixed:
                let limit = field.limit ?? Int64.max
                let choices: [Int64] = [0, 1, 7, 999_999, limit, Int64(rng.next() % UInt64(limit))]
                e[integer: field] = choices[rng.below(choices.count)]
            case .bool: e.cacheHit = rng.below(2) == 0
            case .policies:
                e.policies = (0..<rng.below(3)).map { _ in
                    PolicyDecision(
                        name: rng.below(2) == 0 ? randomString(&rng) : nil, kind: rng.below(2) == 0 ? "k" : nil, phase: rng.below(2) == 0 ? "input" : nil,
                        verdict: rng.below(2) == 0 ? "block" : nil, reason: rng.below(2) == 0 ? randomString(&rng) : nil,
                        extra: randomExtras(&rng, avoiding: ["name", "kind", "phase", "verdict", "reason"]))
                }
            case .redactions:
                e.redactions = (0..<rng.below(3)).map { _ in
                    Redaction(
                        kind: rng.below(2) == 0 ? "api_key" : nil, replacement: rng.below(2) == 0 ? randomString(&rng) : nil,
                        extra: randomExtras(&rng, avoiding: ["kind", "replacement"]))
                }
            case .json: e.details = .array([randomValue(&rng, depth: 2)])
            case .members: e.extra = randomExtras(&rng, avoiding: [])
            }
        }
        return e
    }
}

extension UInt32 {
    /// The lowest set bit alone (0 for 0).
    fileprivate var lowestBit: UInt32 { self & (0 &- self) }
}
