import Testing

@testable import AuditLog

@Suite struct AuditEventJSONTests {
    static let designExample = """
        {"id":"evt_abc123","event_type":"decision","timestamp":"2026-03-20T10:30:00.123Z",
         "verdict":"block","reason_code":"prompt_injection_detected",
         "user":"alice@acme.com","team":"payments","model":"gpt-4o","provider":"openai",
         "config_version":"0.2.0","api_key":"key_ci_bot","source":"ide",
         "tokens_in":1245,"tokens_out":832,"tokens_cached":512,"tokens_reasoning":0,
         "cost":0.0142,"latency_ms":812,"cache_hit":false,
         "request_id":"req_9f2","session_id":"ses_77","gateway":"gw-eu-1",
         "ip":"203.0.113.42","user_agent":"Workjet Desktop/1.2.0",
         "policies":[{"name":"block-injection","kind":"prompt_injection","phase":"input",
                      "verdict":"block","reason":"prompt_injection_detected"}],
         "redactions":[{"kind":"api_key","replacement":"[REDACTED:api_key]"}],
         "resource":"chat:conv_abc123","details":{"old":{},"new":{}}}
        """

    /// The parser's key table finds exactly the known names: each of them, and none of the
    /// near misses (a byte changed, dropped or added anywhere, the case changed).
    @Test func keyLookupFindsExactlyTheKnownNames() {
        var names: [[UInt8]: AuditEvent.Key] = [:]
        for key in AuditEvent.Key.all { names[Array(key.name.utf8)] = key }
        var candidates: [[UInt8]] = Array(names.keys) + [[], Array("tokens_reasoningx".utf8), Array("a".utf8)]
        for name in names.keys {
            for i in name.indices {
                var changed = name
                changed[i] ^= 0x01
                candidates.append(changed)
                changed[i] = name[i] ^ 0x20
                candidates.append(changed)
                candidates.append(Array(name[..<i] + name[(i + 1)...]))
                candidates.append(Array(name[..<i] + [UInt8(ascii: "_")] + name[i...]))
                candidates.append(name + [0])
            }
        }
        var mismatches: [String] = []
        for bytes in candidates {
            let found = bytes.withUnsafeBytes { AuditEvent.Key.lookup($0) }
            if found != names[bytes] { mismatches.append(String(decoding: bytes, as: UTF8.self)) }
        }
        let allAgree = mismatches.isEmpty  // not the array itself: #expect would print all of it
        #expect(allAgree, "\(mismatches.count) of \(candidates.count) names looked up wrong, first: \(mismatches.prefix(5))")
        #expect(names.count == AuditEvent.Key.all.count)
    }

    @Test func decodesTheDesignExample() throws {
        let e = try AuditEvent(json: Self.designExample)
        #expect(e.id == "evt_abc123")
        #expect(e.eventType == "decision")
        #expect(e.timestamp.rfc3339 == "2026-03-20T10:30:00.123Z")
        #expect(e.verdict == .block)
        #expect(e.user == "alice@acme.com")
        #expect(e.tokensCached == 512)
        #expect(e.cost == Cost(nanodollars: 14_200_000))
        #expect(e.latencyMicros == 812_000)
        #expect(e.cacheHit == false)
        #expect(e.policies?.first?.name == "block-injection")
        #expect(e.redactions?.first?.replacement == "[REDACTED:api_key]")
        #expect(e.details?["old"] == .object([]))
        #expect(e.extra.isEmpty)
    }

    @Test func roundTripsThroughJSONText() throws {
        let e = fullEvent()
        let text = e.jsonText()
        #expect(try AuditEvent(json: text) == e)
        let withSeq = e.jsonText(seq: SequenceNumber(42))
        #expect(withSeq.hasPrefix("{\"seq\":42,\"id\":\"evt_full_1\""))
        // seq is the log's own: input may not set it, unless asked to drop it.
        #expect(try AuditEvent(json: withSeq, droppingSeq: true) == e)
        do throws(AuditLogError) {
            _ = try AuditEvent(json: withSeq)
            Issue.record("a seq member was accepted")
        } catch {
            #expect(error.code == .invalidEvent && error.location.field == "seq" && error.message.contains("assigned by the log"))
        }
    }

    @Test func keepsUnknownFieldsUnchangedAndInOrder() throws {
        let json = #"{"event_type":"x","timestamp":"2026-03-20T10:30:00Z","zeta":1.50,"alpha":{"b":[1,2e3,-0.0]},"policies":[{"name":"p","score":0.9}]}"#
        let e = try AuditEvent(json: json)
        #expect(e.extra == [JSONMember("zeta", .number("1.50")), JSONMember("alpha", .object([JSONMember("b", .array([.number("1"), .number("2e3"), .number("-0.0")]))]))])
        #expect(e.policies?.first?.extra == [JSONMember("score", .number("0.9"))])
        #expect(e.jsonText().contains(#""zeta":1.50,"alpha":{"b":[1,2e3,-0.0]}"#))
    }

    /// Each invalid input is rejected naming the field and what was wrong.
    @Test(arguments: [
        (#"{"event_type":"x","timestamp":"yesterday"}"#, "timestamp", "RFC 3339"),
        (#"{"event_type":"x","timestamp":"2026-03-20T10:30:00Z","verdict":"maybe"}"#, "verdict", "unknown verdict \"maybe\""),
        (#"{"event_type":"x","timestamp":"2026-03-20T10:30:00Z","tokens_in":-5}"#, "tokens_in", "negative"),
        (#"{"event_type":"x","timestamp":"2026-03-20T10:30:00Z","tokens_out":1.5}"#, "tokens_out", "integer"),
        (#"{"event_type":"x","timestamp":"2026-03-20T10:30:00Z","cost":0.0000000001}"#, "cost", "more than 9 decimals"),
        (#"{"event_type":"x","timestamp":"2026-03-20T10:30:00Z","cost":-1}"#, "cost", "negative"),
        (#"{"event_type":"x","timestamp":"2026-03-20T10:30:00Z","cost":"abc"}"#, "cost", "number"),
        (#"{"event_type":"x","timestamp":"2026-03-20T10:30:00Z","cache_hit":"yes"}"#, "cache_hit", "true or false"),
        (#"{"event_type":"x","timestamp":"2026-03-20T10:30:00Z","user":42}"#, "user", "expected a string"),
        (#"{"event_type":"x","timestamp":"2026-03-20T10:30:00Z","policies":[{"name":1}]}"#, "policies[0].name", "expected a string"),
        (#"{"event_type":"x","timestamp":"2026-03-20T10:30:00Z","policies":{}}"#, "policies", "array"),
        (#"{"timestamp":"2026-03-20T10:30:00Z"}"#, "event_type", "missing"),
        (#"{"event_type":"x"}"#, "timestamp", "missing"),
        (#"{"event_type":"","timestamp":"2026-03-20T10:30:00Z"}"#, "event_type", "non-empty"),
        (#"{"event_type":"x","timestamp":"2026-03-20T10:30:00Z","id":""}"#, "id", "1 to"),
        (#"{"event_type":"x","timestamp":"2026-03-20T10:30:00Z","user":"a","user":"b"}"#, "user", "duplicate key"),
    ])
    func rejectsInvalidFieldsNamingThem(json: String, field: String, message: String) {
        do {
            _ = try AuditEvent(json: json)
            Issue.record("accepted: \(json)")
        } catch {
            #expect(error.code == .invalidEvent)
            #expect(error.location.field == field, "\(error)")
            #expect(error.message.contains(message), "\(error.message)")
        }
    }

    @Test(arguments: [
        ("[1,2]", "got an array"), ("\"x\"", "got a string"), ("42", "got a number"), ("null", "got null"),
        ("", "empty input"), ("{\"event_type\":\"x\",", "invalid JSON"), ("{\"a\":NaN}", "NaN"),
        ("{\"a\":Infinity}", "NaN and Infinity"), ("{\"a\":01}", "leading zeros"), ("{\"a\":\"\\x\"}", "invalid escape"),
        ("{\"event_type\":\"x\",\"timestamp\":\"2026-03-20T10:30:00Z\"} trailing", "after the event"),
    ])
    func rejectsNonObjectsAndBadSyntax(json: String, message: String) {
        do {
            _ = try AuditEvent(json: json)
            Issue.record("accepted: \(json)")
        } catch {
            #expect(error.code == .invalidEvent)
            #expect(error.message.contains(message), "\(error.message)")
        }
    }

    @Test func rejectsInvalidUTF8AndDeepNesting() {
        let bad: [UInt8] = Array(#"{"event_type":"x","timestamp":"2026-03-20T10:30:00Z","user":""#.utf8) + [0xC3, 0x28] + Array("\"}".utf8)
        #expect(throws: AuditLogError.self) { try bad.withUnsafeBytes { try AuditEvent(jsonBytes: $0) } }
        let deep = #"{"event_type":"x","timestamp":"2026-03-20T10:30:00Z","details":"# + String(repeating: "[", count: 200) + String(repeating: "]", count: 200) + "}"
        do {
            _ = try AuditEvent(json: deep)
            Issue.record("deep nesting accepted")
        } catch {
            #expect(error.message.contains("nesting deeper"))
        }
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        let e = try AuditEvent(json: #"{"event_type":"x","timestamp":"2026-03-20T10:30:00Z","user":"a\"b\\c\u00e9\ud83d\ude00\n"}"#)
        #expect(e.user == "a\"b\\cé😀\n")
        #expect(try AuditEvent(json: e.jsonText()) == e)
    }

    @Test func nullOptionalFieldsAreAbsent() throws {
        let e = try AuditEvent(json: #"{"event_type":"x","timestamp":"2026-03-20T10:30:00Z","team":null,"cost":null,"verdict":null}"#)
        #expect(e.team == nil && e.cost == nil && e.verdict == nil)
    }
}
