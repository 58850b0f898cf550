import Testing

@testable import AuditLog

/// The filter grammar at the library level (issue 17): parsing, normalization, the errors and
/// their suggestions, and what each condition selects on hand-made events (the expectations
/// are written out, not computed by the filter).
@Suite struct FilterExpressionTests {
    func parse(_ text: String) throws -> FilterExpression { try FilterExpression(parsing: text) }

    func error(_ text: String) -> String {
        do {
            _ = try FilterExpression(parsing: text)
            return "parsed"
        } catch {
            #expect(error.code == .invalidArgument, "\(text)")
            return error.message
        }
    }

    @Test func parsesOperatorsAndNormalizesValues() throws {
        let cases: [(String, String, FilterExpression.Operator, String, Bool)] = [
            ("team=payments", "team", .equal, "payments", false),
            ("event_type!=decision", "event_type", .notEqual, "decision", false),
            ("user=alice*", "user", .equal, "alice", true),
            ("verdict=BLOCK", "verdict", .equal, "block", false),
            ("cache_hit=True", "cache_hit", .equal, "true", false),
            ("cost>=0.50", "cost", .greaterOrEqual, "0.5", false),
            ("tokens_in<1000", "tokens_in", .less, "1000", false),
            ("latency_ms>1.5", "latency_ms", .greater, "1.5", false),
            ("extra.region=eu", "extra.region", .equal, "eu", false),
            ("policy_verdict=Redact", "policy_verdict", .equal, "redact", false),
            ("resource=a=b", "resource", .equal, "a=b", false),
            ("details=", "details", .equal, "", false),
        ]
        for (text, field, op, value, prefix) in cases {
            let e = try parse(text)
            #expect(e.field == field && e.op == op && e.value == value && e.isPrefix == prefix, "\(text) → \(e)")
        }
    }

    @Test func mistakesSayWhatToWrite() {
        #expect(error("decision=block").contains("Did you mean 'verdict'?"))
        #expect(error("usr=alice").contains("Did you mean 'user'?"))
        #expect(error("tokens_inn>5").contains("Did you mean 'tokens_in'?"))
        #expect(error("region=eu").contains("extra.region"))
        #expect(error("verdict=blocked").contains("allow, block, redact, escalate"))
        #expect(error("verdict=bl*").contains("allow, block, redact, escalate"))
        #expect(error("cache_hit=1").contains("true or false"))
        #expect(error("team>3").contains("compares numbers"))
        #expect(error("cost>-1").contains("cost takes a number"))
        #expect(error("tokens_in=lots").contains("tokens_in takes a number"))
        #expect(error("timestamp>2026").contains("--since and --until"))
        #expect(error("seq=5").contains("the log's own"))
        #expect(error("team").contains("field=value"))
        #expect(error("=x").contains("no field name"))
        #expect(error("team=~x").contains("parsed"))
        #expect(error("team=>x").contains("parsed"))
        #expect(error("extra.=x").contains("extra.<name>"))
        #expect(error("decision=block").contains("Fields: id, event_type, verdict"))
    }

    /// Six events; each case lists the ids it must select.
    @Test func eachConditionSelectsExactlyTheEventsItDescribes() throws {
        let t = Timestamp(nanosSinceEpoch: 1_700_000_000_000_000_000)
        func event(_ id: String, _ type: String = "decision", _ body: (inout AuditEvent) -> Void) -> AuditEvent {
            var e = AuditEvent(eventType: type, timestamp: t, id: id)
            body(&e)
            return e
        }
        let events = [
            event("a") {
                $0.verdict = .block; $0.user = "alice@acme.com"; $0.tokensIn = 1500; $0.cost = Cost(decimal: "0.02");
                $0.policies = [PolicyDecision(name: "block-secrets", verdict: "block", reason: "secret_detected")]
            },
            event("b") {
                $0.verdict = .allow; $0.user = "bob@acme.com"; $0.tokensIn = 300; $0.cost = Cost(decimal: "0.001"); $0.cacheHit = true
            },
            event("c") {
                $0.verdict = .redact; $0.user = "Alice@acme.com"; $0.policies = [PolicyDecision(name: "redact-pii", verdict: "REDACT", reason: "pii_email")]
            },
            event("d", "model.enabled") {
                $0.user = "ops@acme.com"; $0.resource = "model/gpt-4.1"; $0.details = .object([JSONMember("note", .string("Cost Review"))])
            },
            event("e", "api_key.revoked") {
                $0.user = "alice@acme.com"; $0.extra = [JSONMember("region", .string("eu")), JSONMember("ticket", .number("42"))]
            },
            event("f") { $0.verdict = .allow },
        ]
        let cases: [([String], String?, [String])] = [
            (["verdict=BLOCK"], nil, ["a"]),
            (["verdict!=allow"], nil, ["a", "c", "d", "e"]),
            (["event_type!=decision"], nil, ["d", "e"]),
            (["event_type=model.*"], nil, ["d"]),
            (["user=alice*"], nil, ["a", "e"]),
            (["user!=alice*"], nil, ["b", "c", "d", "f"]),
            (["user=alice*", "user=bob@acme.com"], nil, ["a", "b", "e"]),
            // More than four exact values: looked up in their set, not compared one by one.
            (["user=bob@acme.com", "user=ops@acme.com", "user=carol@acme.com", "user=dave@acme.com", "user=Alice@acme.com"], nil, ["b", "c", "d"]),
            (["tokens_in>300"], nil, ["a"]),
            (["tokens_in>=300"], nil, ["a", "b"]),
            (["tokens_in!=300"], nil, ["a", "c", "d", "e", "f"]),
            (["cost<0.01"], nil, ["b"]),
            (["cost=0.0200"], nil, ["a"]),
            (["cache_hit=TRUE"], nil, ["b"]),
            (["cache_hit!=true"], nil, ["a", "c", "d", "e", "f"]),
            (["policy=redact-pii"], nil, ["c"]),
            (["policy!=redact-pii"], nil, ["a", "b", "d", "e", "f"]),
            (["policy_verdict=redact"], nil, ["c"]),
            (["policy_verdict=block", "verdict=block"], nil, ["a"]),
            (["extra.region=eu"], nil, ["e"]),
            (["extra.ticket=42"], nil, ["e"]),
            (["extra.region!=eu"], nil, ["a", "b", "c", "d", "f"]),
            (["resource=model/*"], nil, ["d"]),
            ([], "ALICE", ["a", "c", "e"]),
            ([], "cost review", ["d"]),
            ([], "PII_EMAIL", ["c"]),
            (["event_type=decision"], "secret", ["a"]),
        ]
        for (texts, search, ids) in cases {
            let filter = EventFilter(expressions: try texts.map(parse), search: search)
            #expect(events.filter { filter.matches($0) }.compactMap(\.id) == ids, "\(texts) \(search ?? "")")
        }
    }

    @Test func detailsReadAsChanges() {
        func lines(_ json: String) -> [String] { (try? JSONValue.parse(json)).map(DetailsSummary.lines) ?? ["unparsable"] }
        #expect(lines(#"{"enabled":{"old":false,"new":true}}"#) == ["enabled: false → true"])
        #expect(lines(#"{"changes":{"rpm":{"from":100,"to":200},"note":{"to":"x"}}}"#) == ["rpm: 100 → 200", "note: ∅ → x"])
        #expect(lines(#"{"before":{"a":1,"b":2},"after":{"a":1,"b":3,"c":"new"}}"#) == ["b: 2 → 3", "c: ∅ → new"])
        #expect(lines(#"{"reason":"Cost Review","by":["x"]}"#) == ["reason=Cost Review", "by=[\"x\"]"])
        #expect(lines(#""plain""#) == ["plain"])
        #expect(DetailsSummary.line(try? JSONValue.parse(#"{"note":"\#(String(repeating: "x", count: 200))"}"#), width: 20)?.count == 20)
        #expect(DetailsSummary.line(nil) == nil)
    }
}
