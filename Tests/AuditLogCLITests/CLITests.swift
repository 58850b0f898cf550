import AuditLog
import Foundation
import Testing

@Suite(.serialized) struct CLITests {
    let end = "2026-03-21T00:00:00Z"

    func gen(_ count: Int, seed: Int = 1) throws -> Data {
        let r = try CLIRunner.run(["gen", "--count", "\(count)", "--seed", "\(seed)", "--end", end])
        #expect(r.status == 0, "\(r.stderr)")
        return Data(r.stdout.utf8)
    }

    func lines(_ text: String) -> [String] { text.split(separator: "\n").map(String.init) }

    @Test func genIsReproducibleAndRealistic() throws {
        let a = try gen(2000, seed: 7)
        let b = try gen(2000, seed: 7)
        let c = try gen(2000, seed: 8)
        #expect(a == b)
        #expect(a != c)
        let events = try lines(String(decoding: a, as: UTF8.self)).map { try AuditEvent(json: $0) }
        #expect(events.count == 2000)
        let verdicts = Dictionary(grouping: events.compactMap(\.verdict), by: { $0 }).mapValues(\.count)
        #expect((verdicts[.allow] ?? 0) > 1600)
        #expect((verdicts[.block] ?? 0) > 30)
        #expect(Set(events.compactMap(\.user)).count > 150)
        #expect(Set(events.compactMap(\.model)).count == 12)
        #expect(Set(events.compactMap(\.provider)).count == 4)
        #expect(Set(events.compactMap(\.team)).count == 20)
        #expect(events.allSatisfy { $0.timestamp <= Timestamp(rfc3339: end)! })
    }

    @Test func ingestThenExportReturnsTheSameEventsWithSeqs() async throws {
        try await withTemporaryDirectory { dir in
            let input = try gen(3000)
            let ingest = try CLIRunner.run(["ingest", "--dir", dir, "-"], stdin: input)
            #expect(ingest.status == 0, "\(ingest.stderr)")
            #expect(ingest.stdout.contains("ingested 3000 events"))
            let export = try CLIRunner.run(["export", "--dir", dir, "--format", "ndjson"])
            #expect(export.status == 0)
            let exported = lines(export.stdout)
            let original = lines(String(decoding: input, as: UTF8.self))
            #expect(exported.count == 3000)
            for (i, (out, inp)) in zip(exported, original).enumerated() {
                #expect(out.hasPrefix("{\"seq\":\(i + 1),"))
                #expect(try AuditEvent(json: out, droppingSeq: true) == AuditEvent(json: inp))
            }
            // An export carries seqs: ingesting it elsewhere is refused, naming the line and
            // the field, unless --drop-seq says to drop them.
            try await withTemporaryDirectory { other in
                let refused = try CLIRunner.run(["ingest", "--dir", other, "-"], stdin: Data(export.stdout.utf8))
                #expect(refused.status == 65)
                #expect(refused.stderr.contains("line 1") && refused.stderr.contains("field 'seq'") && refused.stderr.contains("--drop-seq"), "\(refused.stderr)")
                let copied = try CLIRunner.run(["ingest", "--dir", other, "--drop-seq", "-"], stdin: Data(export.stdout.utf8))
                #expect(copied.status == 0 && copied.stdout.contains("ingested 3000 events"), "\(copied.stderr)")
            }
            let json = try CLIRunner.run(["export", "--dir", dir, "--format", "json"])
            let array = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
            #expect(array?.count == 3000)
            #expect(array?.last?["seq"] as? Int == 3000)
            let verify = try CLIRunner.run(["verify", "--dir", dir])
            #expect(verify.status == 0, "\(verify.stdout)")
            #expect(verify.stdout.hasPrefix("OK: 3000 records"))
        }
    }

    @Test func ingestReadsAJSONArrayAndUsesAUDITLOG_DIR() async throws {
        try await withTemporaryDirectory { dir in
            let array =
                #"[{"event_type":"model.enabled","timestamp":"2026-03-20T10:00:00Z","user":"admin@acme.com"},"# + "\n"
                + #" {"event_type":"decision","timestamp":"2026-03-20T10:00:01Z","verdict":"allow"}]"#
            let r = try CLIRunner.run(["ingest", "--json"], stdin: Data(array.utf8), environment: ["AUDITLOG_DIR": dir])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout.contains("\"ingested\":2"))
            #expect(r.stdout.contains("\"first_seq\":1"))
            #expect(r.stdout.contains("\"last_seq\":2"))
        }
    }

    @Test func aBadLineIsExit65NamingLineAndFieldAndEverythingBeforeItIsCommitted() async throws {
        try await withTemporaryDirectory { dir in
            var input = lines(String(decoding: try gen(5), as: UTF8.self))
            input[3] = input[3].replacingOccurrences(of: "\"verdict\":\"allow\"", with: "\"verdict\":\"maybe\"")
                .replacingOccurrences(of: "\"verdict\":\"block\"", with: "\"verdict\":\"maybe\"")
                .replacingOccurrences(of: "\"verdict\":\"redact\"", with: "\"verdict\":\"maybe\"")
            let r = try CLIRunner.run(["ingest", "--dir", dir, "--batch-size", "2", "-"], stdin: Data(input.joined(separator: "\n").utf8))
            #expect(r.status == 65)
            #expect(r.stderr.contains("line 4"), "\(r.stderr)")
            #expect(r.stderr.contains("verdict"))
            #expect(r.stderr.contains("committed 3 events"), "\(r.stderr)")
            let export = try CLIRunner.run(["export", "--dir", dir])
            #expect(lines(export.stdout).count == 3)

            // A non-object line and a duplicate id are data errors too.
            let notObject = try CLIRunner.run(["ingest", "--dir", dir, "-"], stdin: Data("[1]\n".utf8))
            #expect(notObject.status == 65)
            let duplicate = try CLIRunner.run(["ingest", "--dir", dir, "-"], stdin: Data(input[0].utf8))
            #expect(duplicate.status == 65)
            #expect(duplicate.stderr.contains("already in the log"))
            #expect(lines(try CLIRunner.run(["export", "--dir", dir]).stdout).count == 3)
        }
    }

    /// A batch refused as a whole (an id twice in it, or one already in the log), in a later
    /// batch of a parallel NDJSON ingest: the events before the refused one go in, in order, and
    /// the error names its line.
    @Test func aRefusedIDInALaterBatchCommitsEverythingBeforeIt() async throws {
        try await withTemporaryDirectory { dir in
            func event(_ n: Int, id: String) -> String {
                #"{"event_type":"decision","timestamp":"2026-03-20T10:\#(10 + n):00Z","id":"\#(id)","user":"u\#(n)"}"#
            }
            var input = (1...9).map { event($0, id: "evt_cli_\($0)") }
            input[7] = event(8, id: "evt_cli_7")  // line 8 repeats line 7's id, in the third batch of 3
            let twice = try CLIRunner.run(["ingest", "--dir", dir, "--batch-size", "3", "-"], stdin: Data(input.joined(separator: "\n").utf8))
            #expect(twice.status == 65)
            #expect(twice.stderr.contains("line 8") && twice.stderr.contains("appears twice") && twice.stderr.contains("committed 7 events"), "\(twice.stderr)")
            func storedIDs() throws -> [String] {
                try lines(CLIRunner.run(["export", "--dir", dir]).stdout).compactMap { line in
                    line.range(of: "evt_cli_[0-9]+", options: .regularExpression).map { String(line[$0]) }
                }
            }
            #expect(try storedIDs() == (1...7).map { "evt_cli_\($0)" })

            // Line 5 holds an id the log has (line 2's): refused by the writer, after line 4.
            let more = (10...15).map { event($0, id: "evt_cli_\($0)") }
            var again = more
            again[4] = event(14, id: "evt_cli_2")
            let known = try CLIRunner.run(["ingest", "--dir", dir, "--batch-size", "2", "-"], stdin: Data(again.joined(separator: "\n").utf8))
            #expect(known.status == 65)
            #expect(known.stderr.contains("line 5") && known.stderr.contains("already in the log") && known.stderr.contains("committed 4 events"), "\(known.stderr)")
            #expect(try storedIDs() == ((1...7).map { "evt_cli_\($0)" } + (10...13).map { "evt_cli_\($0)" }))
        }
    }

    @Test func aMissingLogIsExit66AndNothingIsCreated() async throws {
        try await withTemporaryDirectory { dir in
            let missing = dir + "/nope"
            for command in [["export"], ["verify"], ["segments"]] {
                let r = try CLIRunner.run(command + ["--dir", missing])
                #expect(r.status == 66, "\(command): \(r.stderr)")
                #expect(r.stderr.contains("no log"))
            }
            #expect(!FileManager.default.fileExists(atPath: missing))
        }
    }

    @Test func anotherWriterIsExit75() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await AuditLog.open(directory: dir)
            let r = try CLIRunner.run(["ingest", "--dir", dir, "-"], stdin: try gen(3))
            #expect(r.status == 75)
            #expect(r.stderr.contains("another process holds the log"))
            try await log.close()
            #expect(try CLIRunner.run(["ingest", "--dir", dir, "-"], stdin: try gen(3)).status == 0)
        }
    }

    @Test func verifyFailsWithExit1NamingTheSeqAndOffset() async throws {
        try await withTemporaryDirectory { dir in
            #expect(try CLIRunner.run(["ingest", "--dir", dir, "-"], stdin: try gen(5000)).status == 0)
            let segments = try FileManager.default.contentsOfDirectory(atPath: dir + "/segments").filter { $0.hasSuffix(".seg") }.sorted()
            let path = dir + "/segments/" + segments[0]
            var data = try Data(contentsOf: URL(fileURLWithPath: path))
            data[1000] ^= 0x01
            try data.write(to: URL(fileURLWithPath: path))
            let r = try CLIRunner.run(["verify", "--dir", dir])
            #expect(r.status == 1)
            #expect(r.stdout.contains("FAILED"))
            #expect(r.stdout.contains("first bad seq 1 "), "\(r.stdout)")
            #expect(r.stdout.contains("segments/" + segments[0]))
            let json = try CLIRunner.run(["verify", "--dir", dir, "--json"])
            #expect(json.status == 1)
            let report = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
            #expect(report?["ok"] as? Bool == false)
            #expect(report?["first_bad_seq"] as? Int == 1)
        }
    }

    @Test func segmentsListsEverySegmentAsJSON() async throws {
        try await withTemporaryDirectory { dir in
            #expect(try CLIRunner.run(["ingest", "--dir", dir, "-"], stdin: try gen(3000)).status == 0)
            let r = try CLIRunner.run(["segments", "--dir", dir, "--json"])
            #expect(r.status == 0)
            let segments = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
            #expect(segments.count > 20)  // 30 day partitions
            #expect(segments.map { $0["records"] as? Int ?? 0 }.reduce(0, +) == 3000)
            #expect(segments.first?["first_seq"] as? Int == 1)
            #expect(segments.last?["state"] as? String == "active")
            #expect(segments.dropLast().allSatisfy { $0["sealed"] as? Bool == true })
            for key in ["file", "last_seq", "min_time", "max_time", "bytes", "compression_ratio"] {
                #expect(segments.first?[key] != nil, "missing \(key)")
            }
        }
    }

    @Test func aReaderInAnotherProcessSeesAConsistentPrefixWhileTheLogIsWritten() async throws {
        try await withTemporaryDirectory { dir in
            var options = AuditLogOptions()
            options.durability = .none
            options.segmentSizeLimitBytes = 64 << 10
            let log = try await AuditLog.open(directory: dir, options: options)
            _ = try await log.append([AuditEvent(eventType: "start", timestamp: .now)])
            let writer = Task {
                var n = 0
                while !Task.isCancelled && n < 2000 {
                    var batch: [AuditEvent] = []
                    for _ in 0..<20 {
                        var e = AuditEvent(eventType: "decision", timestamp: .now)
                        e.user = "user\(n % 13)@acme.com"
                        batch.append(e)
                        n += 1
                    }
                    _ = try await log.append(batch)
                }
            }
            var lastCount = 0
            for _ in 0..<6 {
                let export = try CLIRunner.run(["export", "--dir", dir])
                #expect(export.status == 0, "\(export.stderr)")
                let seqs = try lines(export.stdout).map { line -> Int in
                    let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                    return object?["seq"] as? Int ?? -1
                }
                #expect(seqs == Array(1...max(1, seqs.count)))
                #expect(seqs.count >= lastCount)
                lastCount = seqs.count
                let verify = try CLIRunner.run(["verify", "--dir", dir])
                #expect(verify.status == 0, "\(verify.stdout)")
            }
            writer.cancel()
            _ = await writer.result
            try await log.close()
        }
    }

    @Test func aClosedPipeEndsQuietly() async throws {
        try await withTemporaryDirectory { dir in
            #expect(try CLIRunner.run(["ingest", "--dir", dir, "-"], stdin: try gen(20000)).status == 0)
            let r = try CLIRunner.shell("\"$AUDITLOG\" export --dir '\(dir)' | head -1; echo \"status=${PIPESTATUS:-0}\"")
            #expect(r.stderr.isEmpty, "\(r.stderr)")
            #expect(r.stdout.hasPrefix("{\"seq\":1,"))
            let g = try CLIRunner.shell("set -o pipefail 2>/dev/null; \"$AUDITLOG\" gen --count 100000 | head -2 >/dev/null; echo $?")
            #expect(g.stderr.isEmpty)
        }
    }

    @Test func badFlagValuesAreUsageErrors() throws {
        #expect(try CLIRunner.run(["gen", "--count", "-1"]).status == 64)
        #expect(try CLIRunner.run(["gen", "--end", "5x"]).status == 64)
        let r = try CLIRunner.run(["export", "--format", "xml"])
        #expect(r.status == 64)
        #expect(r.stderr.contains("xml"))
        #expect(try CLIRunner.run(["ingest", "--batch-size", "0"]).status == 64)
    }

    @Test func helpShowsExamples() throws {
        for command in ["gen", "ingest", "export", "verify", "segments", "tail", "usage", "show", "sweep", "hold"] {
            let r = try CLIRunner.run([command, "--help"])
            #expect(r.status == 0)
            #expect(r.stdout.contains("Examples:"), "\(command)")
        }
    }
}
