import AuditLog
import Foundation
import Testing

/// tail, export, usage, show and segments run as a user would, against one generated log.
@Suite(.serialized) struct CLIQueryTests {
    /// 4,000 generated events over 3 days ending now, ingested once for the whole suite.
    static let log: String = {
        let dir = SuiteDirectory.make("auditlog-cli-query")
        let gen = try? CLIRunner.run(["gen", "--count", "4000", "--seed", "5", "--days", "3", "--end", Timestamp.now.rfc3339])
        _ = try? CLIRunner.run(["ingest", "--dir", dir, "-"], stdin: Data((gen?.stdout ?? "").utf8))
        return dir
    }()

    static func all() throws -> [[String: Any]] {
        let r = try CLIRunner.run(["export", "--dir", log, "--format", "json"])
        return try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]] ?? []
    }

    func json(_ args: [String]) throws -> Any {
        let r = try CLIRunner.run(args + ["--dir", Self.log])
        #expect(r.status == 0, "\(args): \(r.stderr)")
        return try JSONSerialization.jsonObject(with: Data(r.stdout.utf8))
    }

    func seqs(_ value: Any) -> [Int] { (value as? [[String: Any]] ?? []).compactMap { $0["seq"] as? Int } }

    @Test func tailShowsTheNewestMatchingEventsWithEachFilter() throws {
        let all = try Self.all()
        #expect(all.count == 4000)
        let cases: [([String], ([String: Any]) -> Bool)] = [
            ([], { _ in true }),
            (["--verdict", "block"], { $0["verdict"] as? String == "block" }),
            (["--verdict", "block", "--verdict", "escalate"], { ["block", "escalate"].contains($0["verdict"] as? String ?? "") }),
            (["--user", "alice.0@acme.com"], { $0["user"] as? String == "alice.0@acme.com" }),
            (["--model", "gpt-4o", "--verdict", "allow"], { $0["model"] as? String == "gpt-4o" && $0["verdict"] as? String == "allow" }),
            (["--filter", "team=payments"], { $0["team"] as? String == "payments" }),
            (["--filter", "cache_hit=true", "--filter", "provider=openai"], { $0["cache_hit"] as? Bool == true && $0["provider"] as? String == "openai" }),
            (["--filter", "gateway=gw-eu-1", "--filter", "gateway=gw-us-2"], { ["gw-eu-1", "gw-us-2"].contains($0["gateway"] as? String ?? "") }),
        ]
        for (args, predicate) in cases {
            let expected = all.filter(predicate).compactMap { $0["seq"] as? Int }.reversed().prefix(50)
            let got = seqs(try json(["tail", "--json"] + args))
            #expect(got == Array(expected), "\(args)")
        }
        let limited = seqs(try json(["tail", "--json", "--limit", "7"]))
        #expect(limited == Array((3994...4000).reversed()))
        let table = try CLIRunner.run(["tail", "--dir", Self.log, "--verdict", "block", "--limit", "3"])
        #expect(table.stdout.hasPrefix("TIME"))
        #expect(table.stdout.contains("ID") && table.stdout.contains("VERDICT") && table.stdout.contains("REASON") && table.stdout.contains("USER") && table.stdout.contains("MODEL"))
        #expect(table.stdout.split(separator: "\n").count == 4)
    }

    @Test func timeWindowsTakeDurationsAndRFC3339() throws {
        let all = try Self.all()
        let now = Date()
        let cutoff = now.addingTimeInterval(-6 * 3600)
        let expected = all.filter { e in
            guard let t = e["timestamp"] as? String, let ts = Timestamp(rfc3339: t) else { return false }
            return ts.date >= cutoff.addingTimeInterval(-5) && ts.date < now
        }.count
        let got = (try json(["export", "--format", "json", "--since", "6h"]) as? [Any])?.count ?? 0
        #expect(abs(got - expected) <= 3)  // the two "now"s differ by a moment
        let since = all[1000]["timestamp"] as? String ?? ""
        let until = all[2000]["timestamp"] as? String ?? ""
        let window = try json(["export", "--format", "json", "--since", since, "--until", until]) as? [[String: Any]] ?? []
        #expect(window.allSatisfy { ($0["timestamp"] as? String ?? "") >= since && ($0["timestamp"] as? String ?? "") < until })
        #expect(window.count == all.filter { ($0["timestamp"] as? String ?? "") >= since && ($0["timestamp"] as? String ?? "") < until }.count)
    }

    @Test func csvParsesBackToTheSameEventsAsJSON() throws {
        let json = try self.json(["export", "--format", "json", "--verdict", "redact"]) as? [[String: Any]] ?? []
        let csv = try CLIRunner.run(["export", "--dir", Self.log, "--format", "csv", "--verdict", "redact"])
        #expect(csv.stdout.hasPrefix("id,event_type,timestamp,verdict,reason_code,model,provider,config_version,"))
        // Parsed by Python's csv module, a real RFC 4180 reader.
        let script = """
            import csv, json, sys
            rows = list(csv.DictReader(sys.stdin))
            print(json.dumps(rows))
            """
        let parsed = try Process.python(script, stdin: csv.stdout)
        let rows = try JSONSerialization.jsonObject(with: Data(parsed.utf8)) as? [[String: String]] ?? []
        #expect(rows.count == json.count)
        for (row, event) in zip(rows, json) {
            #expect(row["id"] == event["id"] as? String)
            #expect(row["seq"] == String(event["seq"] as? Int ?? -1))
            #expect(row["user"] == event["user"] as? String)
            #expect(row["user_agent"] == event["user_agent"] as? String)
            #expect(row["cost"] == (event["cost"] as? NSNumber).map { "\($0)" } || row["cost"].flatMap(Double.init) == (event["cost"] as? Double))
            let policies = try JSONSerialization.jsonObject(with: Data((row["policies"] ?? "null").utf8)) as? [[String: Any]]
            #expect(policies?.first?["name"] as? String == (event["policies"] as? [[String: Any]])?.first?["name"] as? String)
        }
    }

    @Test func usageGroupsAndTotalsMatchTheEvents() throws {
        let all = try Self.all()
        let report = try json(["usage", "--format", "json", "--group-by", "team", "--group-by", "model"]) as? [String: Any] ?? [:]
        let rows = report["rows"] as? [[String: Any]] ?? []
        let totals = report["totals"] as? [String: Any] ?? [:]
        #expect(totals["requests"] as? Int == 4000)
        #expect(rows.reduce(0) { $0 + ($1["requests"] as? Int ?? 0) } == 4000)
        // Exact cost: the sum of every event's cost, in nano-dollars.
        func nanos(_ v: Any?) -> Int64 {
            guard let text = (v as? NSNumber)?.stringValue ?? (v as? String) else { return 0 }
            return Cost(decimal: text)?.nanodollars ?? -1
        }
        let expectedCost = all.reduce(Int64(0)) { $0 + nanos($1["cost"]) }
        let csvLines = try CLIRunner.run(["usage", "--dir", Self.log, "--format", "csv"]).stdout.components(separatedBy: "\r\n")
        let totalText = csvLines.count > 1 ? csvLines[1].split(separator: ",")[3] : ""
        #expect(Cost(decimal: String(totalText))?.nanodollars == expectedCost)
        let payments = all.filter { $0["team"] as? String == "payments" && $0["model"] as? String == "gpt-4o" }
        let row = rows.first { $0["team"] as? String == "payments" && $0["model"] as? String == "gpt-4o" }
        #expect(row?["requests"] as? Int == payments.count)
        #expect(row?["blocked"] as? Int == payments.filter { $0["verdict"] as? String == "block" }.count)
        let table = try CLIRunner.run(["usage", "--dir", Self.log, "--group-by", "day", "--sort", "requests"])
        #expect(table.stdout.contains("TOTAL"))
        #expect(table.stdout.contains("AVG_LATENCY_MS") && table.stdout.contains("P95_LATENCY_MS") && table.stdout.contains("CACHE_HIT_RATE"))
    }

    @Test func showPrintsOneEventWithSeqSegmentAndChain() throws {
        let all = try Self.all()
        let target = all[1234]
        let id = target["id"] as? String ?? ""
        let shown = try json(["show", id, "--json"]) as? [String: Any] ?? [:]
        #expect(shown["seq"] as? Int == target["seq"] as? Int)
        #expect((shown["segment"] as? String)?.hasPrefix("segments/") == true)
        #expect((shown["chain_value"] as? String)?.count == 64)
        #expect((shown["event"] as? [String: Any])?["id"] as? String == id)
        // The chain value of the last event is the chain head verify reports.
        let last = try json(["show", all.last?["id"] as? String ?? "", "--json"]) as? [String: Any] ?? [:]
        let verify = try json(["verify", "--json"]) as? [String: Any] ?? [:]
        #expect(last["chain_value"] as? String == verify["chain_head"] as? String)
        let missing = try CLIRunner.run(["show", "evt_nope", "--dir", Self.log])
        #expect(missing.status == 66)
    }

    @Test func segmentsReportIndexStateAndCompression() throws {
        let segments = try json(["segments", "--json"]) as? [[String: Any]] ?? []
        #expect(segments.dropLast().allSatisfy { $0["index"] as? String == "file" })
        #expect(segments.last?["index"] as? String == "memory")
        // Segments of some size compress; a day's first minute (the log ends "now", so just
        // before midnight the first day holds one event) is all header and footer.
        #expect(segments.filter { ($0["records"] as? Int ?? 0) >= 100 }.allSatisfy { ($0["compression_ratio"] as? Double ?? 0) > 1 })
        #expect(segments.filter { ($0["records"] as? Int ?? 0) >= 100 }.count >= 3)
    }

    @Test func badFlagValuesNameTheValueAndTheAcceptedForms() throws {
        for (args, needle) in [
            (["tail", "--since", "5x"], "5x"), (["tail", "--verdict", "maybe"], "allow, block, redact, escalate"),
            (["export", "--format", "xml"], "xml"), (["usage", "--group-by", "color"], "user, team"),
            (["tail", "--filter", "team"], "field=value"),
        ] {
            let r = try CLIRunner.run(args + ["--dir", Self.log])
            #expect(r.status == 64, "\(args)")
            #expect(r.stderr.contains(needle), "\(args): \(r.stderr)")
        }
        for command in ["tail", "usage", "show"] {
            let r = try CLIRunner.run([command] + (command == "show" ? ["evt_x"] : []) + ["--dir", Self.log + "-missing"])
            #expect(r.status == 66, "\(command)")
        }
    }

    @Test func followSeesAnEventAppendedByAnotherProcess() async throws {
        try await withTemporaryDirectory { dir in
            #expect(try CLIRunner.run(["ingest", "--dir", dir, "-"], stdin: Data(#"{"event_type":"decision","timestamp":"2026-03-20T10:00:00Z","verdict":"block","user":"a"}"#.utf8)).status == 0)
            let out = URL(fileURLWithPath: dir + "-follow.out")
            _ = FileManager.default.createFile(atPath: out.path, contents: nil)
            defer { try? FileManager.default.removeItem(at: out) }
            let follow = Process()
            follow.executableURL = CLIRunner.executable
            follow.arguments = ["tail", "--dir", dir, "--follow", "--json", "--verdict", "block"]
            follow.standardOutput = try FileHandle(forWritingTo: out)
            try follow.run()
            defer { follow.terminate() }
            try await Task.sleep(for: .milliseconds(700))
            let second = try CLIRunner.run(
                ["ingest", "--dir", dir, "-"],
                stdin: Data(
                    (#"{"event_type":"decision","timestamp":"2026-03-20T10:00:02Z","verdict":"allow","user":"b"}"# + "\n"
                        + #"{"id":"evt_followed","event_type":"decision","timestamp":"2026-03-20T10:00:03Z","verdict":"block","user":"c"}"#).utf8))
            #expect(second.status == 0)
            var lines: [String] = []
            for _ in 0..<40 {
                try await Task.sleep(for: .milliseconds(100))
                lines = String(decoding: try Data(contentsOf: out), as: UTF8.self).split(separator: "\n").map(String.init)
                if lines.count >= 2 { break }
            }
            #expect(lines.count == 2, "\(lines)")
            #expect(lines.last?.contains("evt_followed") == true)
            #expect(lines.allSatisfy { !$0.contains("\"user\":\"b\"") })
        }
    }

    @Test func anInterruptedExportLeavesNoPartialFile() async throws {
        try await withTemporaryDirectory { dir in
            #expect(try CLIRunner.run(["ingest", "--dir", dir, "-"], stdin: Data(try CLIRunner.run(["gen", "--count", "30000", "--seed", "2"]).stdout.utf8)).status == 0)
            let target = dir + "/report.csv"
            let export = Process()
            export.executableURL = CLIRunner.executable
            export.arguments = ["export", "--dir", dir, "--format", "csv", "--output", target]
            try export.run()
            try await Task.sleep(for: .milliseconds(300))
            kill(export.processIdentifier, SIGINT)
            export.waitUntilExit()
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains("report") }
            if export.terminationStatus == 0 {
                #expect(leftovers == ["report.csv"])  // it finished before the signal
            } else {
                #expect(leftovers.isEmpty, "\(leftovers)")
            }
            // Uninterrupted, the file appears complete.
            #expect(try CLIRunner.run(["export", "--dir", dir, "--format", "csv", "--output", target]).status == 0)
            #expect(try String(contentsOfFile: target, encoding: .utf8).components(separatedBy: "\r\n").filter { !$0.isEmpty }.count == 30_001)
        }
    }
}

extension Process {
    /// Runs a Python 3 script with `stdin`, returning its standard output.
    static func python(_ script: String, stdin: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", script]
        let input = Pipe()
        let output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        try p.run()
        let writer = Thread {
            input.fileHandleForWriting.write(Data(stdin.utf8))
            try? input.fileHandleForWriting.close()
        }
        writer.start()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
