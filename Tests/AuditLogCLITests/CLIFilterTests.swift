import AuditLog
import Foundation
import Testing

/// The filter grammar through the tool (issue 17): each operator and field against an oracle
/// over the full export, written here on the JSON (not through the library's filter), and the
/// first mistakes users make, each a usage error with the suggestion.
@Suite(.serialized) struct CLIFilterTests {
    /// 3,000 generated events over 3 days ending now, then admin events with custom fields,
    /// details and exotic user names.
    static let log: String = {
        let dir = SuiteDirectory.make("auditlog-cli-filter")
        let gen = try? CLIRunner.run(["gen", "--count", "3000", "--seed", "9", "--days", "3", "--end", Timestamp.now.rfc3339])
        _ = try? CLIRunner.run(["ingest", "--dir", dir, "-"], stdin: Data((gen?.stdout ?? "").utf8))
        let t = Timestamp(nanosSinceEpoch: Timestamp.now.nanosSinceEpoch - 3_600_000_000_000).rfc3339
        let admin = """
            {"event_type":"model.enabled","timestamp":"\(t)","user":"Zoë, Ops <ops@acme.com>","resource":"model/gpt-4.1","details":{"enabled":{"old":false,"new":true}},"region":"eu"}
            {"event_type":"api_key.revoked","timestamp":"\(t)","user":"alice.0@acme.com","resource":"key/k1","region":"us","ticket":42}
            {"event_type":"model.disabled","timestamp":"\(t)","user":"数据@acme.com","resource":"model/o3-mini","details":{"reason":"Cost Review"}}

            """
        _ = try? CLIRunner.run(["ingest", "--dir", dir, "-"], stdin: Data(admin.utf8))
        return dir
    }()

    static func all() throws -> [[String: Any]] {
        let r = try CLIRunner.run(["export", "--dir", log, "--format", "json"])
        return try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]] ?? []
    }

    func exported(_ args: [String]) throws -> [Int] {
        let r = try CLIRunner.run(["export", "--dir", Self.log, "--format", "json"] + args)
        #expect(r.status == 0, "\(args): \(r.stderr)")
        let events = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]] ?? []
        return events.compactMap { $0["seq"] as? Int }
    }

    static func number(_ e: [String: Any], _ key: String) -> Double? { (e[key] as? NSNumber)?.doubleValue }

    static func policyValues(_ e: [String: Any], _ key: String) -> [String] {
        (e["policies"] as? [[String: Any]] ?? []).compactMap { $0[key] as? String }
    }

    /// Every string an event holds, for the search oracle: top-level strings, `details` as JSON,
    /// policy names and reasons.
    static func texts(_ e: [String: Any]) -> [String] {
        var out = e.values.compactMap { $0 as? String }
        if let d = e["details"], let data = try? JSONSerialization.data(withJSONObject: d, options: [.fragmentsAllowed]) { out.append(String(decoding: data, as: UTF8.self)) }
        out += policyValues(e, "name") + policyValues(e, "reason")
        return out
    }

    @Test func everyOperatorAndFieldSelectsWhatAFullScanDoes() throws {
        let all = try Self.all()
        #expect(all.count == 3003)
        let cases: [([String], ([String: Any]) -> Bool)] = [
            (["--filter", "event_type!=decision"], { $0["event_type"] as? String != "decision" }),
            (["--filter", "event_type=model.*"], { ($0["event_type"] as? String ?? "").hasPrefix("model.") }),
            (["--filter", "user=alice*"], { ($0["user"] as? String ?? "").hasPrefix("alice") }),
            (["--filter", "user!=alice*", "--filter", "verdict=BLOCK"], { !($0["user"] as? String ?? "").hasPrefix("alice") && $0["verdict"] as? String == "block" }),
            (["--filter", "team=payments", "--filter", "team=search*"], { ["payments"].contains($0["team"] as? String ?? "") || ($0["team"] as? String ?? "").hasPrefix("search") }),
            (["--filter", "model!=gpt-4o"], { $0["model"] as? String != "gpt-4o" }),
            (["--filter", "tokens_in>1000"], { (Self.number($0, "tokens_in") ?? -1) > 1000 }),
            (["--filter", "cost<=0.001"], { Self.number($0, "cost").map { $0 <= 0.001 } ?? false }),
            (["--filter", "latency_ms>=2000", "--filter", "latency_ms<2500"], { Self.number($0, "latency_ms").map { $0 >= 2000 && $0 < 2500 } ?? false }),
            (["--filter", "cache_hit=TRUE"], { $0["cache_hit"] as? Bool == true }),
            (["--filter", "policy_verdict=Redact"], { Self.policyValues($0, "verdict").contains("redact") }),
            (["--filter", "policy=redact-pii"], { Self.policyValues($0, "name").contains("redact-pii") }),
            (["--filter", "policy!=redact-pii", "--filter", "verdict!=allow"], { !Self.policyValues($0, "name").contains("redact-pii") && $0["verdict"] as? String != "allow" }),
            (["--filter", "extra.region=eu"], { $0["region"] as? String == "eu" }),
            (["--filter", "extra.ticket=42"], { ($0["ticket"] as? NSNumber)?.intValue == 42 }),
            (["--filter", "resource=model/*"], { ($0["resource"] as? String ?? "").hasPrefix("model/") }),
            (["--filter", "user=Zoë, Ops <ops@acme.com>"], { $0["user"] as? String == "Zoë, Ops <ops@acme.com>" }),
            (["--filter", "ip=203.0.113.7"], { $0["ip"] as? String == "203.0.113.7" }),
            (["--search", "cost review"], { Self.texts($0).contains { $0.lowercased().contains("cost review") } }),
            (["--search", "ALICE.0@"], { Self.texts($0).contains { $0.lowercased().contains("alice.0@") } }),
            (["--search", "数据"], { Self.texts($0).contains { $0.contains("数据") } }),
        ]
        for (args, predicate) in cases {
            let expected = all.filter(predicate).compactMap { $0["seq"] as? Int }
            #expect(!expected.isEmpty || args.contains("--search"), "\(args) selects nothing: a weak case")
            #expect(try exported(args) == expected, "\(args)")
        }
        // The same grammar in usage (scanned columns and decoded events agree with the export).
        let usage = try CLIRunner.run(["usage", "--dir", Self.log, "--filter", "event_type!=decision", "--format", "json"])
        #expect(usage.status == 0, "\(usage.stderr)")
        let admin = all.filter { $0["event_type"] as? String != "decision" }.count
        #expect(admin >= 3)
        #expect(usage.stdout.contains("\"requests\":\(admin),"), "\(usage.stdout)")
    }

    @Test func theCommonMistakesAreUsageErrorsThatSayWhatToWrite() throws {
        for (args, needles) in [
            (["--filter", "decision=block"], ["unknown filter field 'decision'", "Did you mean 'verdict'?"]),
            (["--filter", "verdict=blocked"], ["allow, block, redact, escalate"]),
            (["--filter", "usr=alice"], ["Did you mean 'user'?"]),
            (["--filter", "region=eu"], ["extra.region"]),
            (["--filter", "team>3"], ["compares numbers", "team is not a number"]),
            (["--filter", "cost>cheap"], ["cost takes a number"]),
            (["--filter", "cache_hit=yes"], ["true or false"]),
            (["--filter", "timestamp=2026-01-01"], ["--since and --until"]),
            (["--filter", "team"], ["field=value"]),
            (["--filter", "=x"], ["no field name"]),
        ] {
            for command in ["tail", "export", "usage"] {
                let r = try CLIRunner.run([command, "--dir", Self.log] + args)
                #expect(r.status == 64, "\(command) \(args)")
                for needle in needles { #expect(r.stderr.contains(needle), "\(command) \(args): \(r.stderr)") }
            }
        }
    }

    @Test func theAdminTrailShowsWhoChangedWhat() throws {
        let all = try Self.all()
        let expected = all.filter { $0["event_type"] as? String != "decision" }.compactMap { $0["seq"] as? Int }
        #expect(try exported(["--admin"]) == expected)
        let table = try CLIRunner.run(["tail", "--dir", Self.log, "--admin"])
        #expect(table.status == 0, "\(table.stderr)")
        let lines = table.stdout.split(separator: "\n")
        #expect(lines.first?.split(separator: " ", omittingEmptySubsequences: true) == ["TIME", "ID", "ACTOR", "ACTION", "RESOURCE", "DETAILS"])
        #expect(lines.count == expected.count + 1)
        #expect(table.stdout.contains("Zoë, Ops <ops@acme.com>") && table.stdout.contains("model.enabled") && table.stdout.contains("model/gpt-4.1"))
        #expect(table.stdout.contains("enabled: false → true"), "\(table.stdout)")
        #expect(table.stdout.contains("reason=Cost Review"), "\(table.stdout)")
        // show renders the change one line a field.
        let id = try #require(all.first { $0["event_type"] as? String == "model.enabled" && $0["region"] as? String == "eu" }?["id"] as? String)
        let show = try CLIRunner.run(["show", "--dir", Self.log, id])
        #expect(show.stdout.contains("details       enabled: false → true"), "\(show.stdout)")
    }

    @Test func usageDrawsTheSeriesAsBarsAndBreaksDownByTheNewKeys() throws {
        let all = try Self.all()
        let days = Set(all.compactMap { ($0["timestamp"] as? String)?.prefix(10) })
        let unicode = try CLIRunner.run(["usage", "--dir", Self.log, "--chart", "--sort", "requests"], environment: ["LANG": "C.UTF-8", "COLUMNS": "100"])
        #expect(unicode.status == 0, "\(unicode.stderr)")
        let lines = unicode.stdout.split(separator: "\n")
        #expect(lines.first == "requests by day")
        #expect(lines.count == days.count + 1, "\(unicode.stdout)")
        #expect(lines.dropFirst().map { String($0.prefix(10)) } == days.sorted().map(String.init))
        #expect(unicode.stdout.contains("█") && lines.allSatisfy { $0.count <= 100 })
        let ascii = try CLIRunner.run(["usage", "--dir", Self.log, "--chart", "--group-by", "week"], environment: ["LANG": "C", "LC_ALL": "", "LC_CTYPE": ""])
        #expect(ascii.status == 0, "\(ascii.stderr)")
        #expect(ascii.stdout.contains("#") && ascii.stdout.unicodeScalars.allSatisfy(\.isASCII), "\(ascii.stdout)")
        #expect(ascii.stdout.contains("-W"))
        let refused = try CLIRunner.run(["usage", "--dir", Self.log, "--chart", "--format", "csv"])
        #expect(refused.status == 64)

        // By reason code and by gateway, against the events.
        for key in ["reason_code", "gateway", "event_type", "source"] {
            let r = try CLIRunner.run(["usage", "--dir", Self.log, "--group-by", key, "--format", "json"])
            #expect(r.status == 0, "\(key): \(r.stderr)")
            let report = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] ?? [:]
            var got: [String: Int] = [:]
            for row in report["rows"] as? [[String: Any]] ?? [] { got[row[key] as? String ?? "-"] = row["requests"] as? Int }
            var expected: [String: Int] = [:]
            for e in all { expected[e[key] as? String ?? "-", default: 0] += 1 }
            #expect(got == expected, "\(key)")
        }
        // Distinct users and reasons per team.
        let r = try CLIRunner.run(["usage", "--dir", Self.log, "--group-by", "team", "--unique-users", "--reasons", "--format", "json"])
        let report = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] ?? [:]
        for row in report["rows"] as? [[String: Any]] ?? [] {
            let team = row["team"] as? String
            let events = all.filter { $0["team"] as? String == team }
            #expect(row["unique_users"] as? Int == Set(events.compactMap { $0["user"] as? String }).count, "\(team ?? "-")")
            var reasons: [String: Int] = [:]
            for e in events { if let reason = e["reason_code"] as? String { reasons[reason, default: 0] += 1 } }
            #expect(row["reasons"] as? [String: Int] == reasons, "\(team ?? "-")")
        }
        let csv = try CLIRunner.run(["usage", "--dir", Self.log, "--unique-users", "--format", "csv"])
        #expect(csv.stdout.hasPrefix("requests,") && csv.stdout.components(separatedBy: "\r\n")[0].hasSuffix(",avg_tokens,unique_users"))
    }

    @Test func timesTakeADateAndRFC3339WithoutAnOffset() throws {
        let all = try Self.all()
        let times = all.compactMap { ($0["timestamp"] as? String).flatMap(Timestamp.init(rfc3339:)) }
        guard let first = times.min() else {
            Issue.record("no events")
            return
        }
        let day = String(first.rfc3339.prefix(10))
        let midnight = try #require(Timestamp(rfc3339: day + "T00:00:00Z"))
        let nextDay = Timestamp(nanosSinceEpoch: midnight.nanosSinceEpoch + 86_400_000_000_000)
        let expected = zip(all, times).filter { $0.1 >= midnight && $0.1 < nextDay }.compactMap { $0.0["seq"] as? Int }
        #expect(!expected.isEmpty)
        #expect(try exported(["--since", day, "--until", String(nextDay.rfc3339.prefix(10))]) == expected)
        // Without an offset: UTC, the same as with Z.
        let noon = day + "T12:00:00"
        #expect(try exported(["--since", noon]) == exported(["--since", noon + "Z"]))
        let help = try CLIRunner.run(["tail", "--help"])
        #expect(help.stdout.contains("without an offset it is UTC") && help.stdout.contains("midnight UTC"))
    }
}
