import Foundation
import Testing

@testable import AuditLog

/// The outside probe's findings through the real `auditlog` tool (issue 13): what a user or an
/// attacker with the CLI could do before, and what the tool says now.
@Suite(.serialized) struct CLIProbeTests {
    @Test func hugeCountersAreRefusedAtIngestAndALogHoldingThemStillWorks() async throws {
        try await withTemporaryDirectory { root in
            let dir = root + "/log"
            let good = #"{"event_type":"decision","timestamp":"2026-03-20T10:30:00Z","user":"alice"}"#
            let bad = #"{"event_type":"decision","timestamp":"2026-03-20T10:31:00Z","tokens_out":9223372036854775807}"#
            let refused = try CLIRunner.run(["ingest", "--dir", dir, "-"], stdin: Data((good + "\n" + bad + "\n").utf8))
            #expect(refused.status == 65)
            #expect(refused.stderr.contains("line 2") && refused.stderr.contains("field 'tokens_out'"), "\(refused.stderr)")

            // A log written before the limits existed: every command still answers.
            let log = try await AuditLog.open(directory: dir)
            var huge = AuditEvent(eventType: "decision", timestamp: Timestamp(rfc3339: "2026-03-20T11:00:00Z")!, id: "evt_huge")
            huge.tokensOut = .max
            huge.cost = Cost(nanodollars: .max)
            huge.user = "mallory"
            var second = huge
            second.id = "evt_huge_2"
            _ = try await log.append([huge, second], origin: .unvalidatedForTesting)
            _ = try await log.append([AuditEvent(eventType: "decision", timestamp: Timestamp(rfc3339: "2026-03-21T11:00:00Z")!)])  // seals the day
            try await log.close()
            for args in [["usage", "--format", "json"], ["usage", "--group-by", "user"], ["tail"], ["export"], ["show", "evt_huge"], ["verify"], ["segments"]] {
                let r = try CLIRunner.run(args + ["--dir", dir])
                #expect(r.status == 0, "\(args): \(r.stderr)")
            }
            let usage = try CLIRunner.run(["usage", "--format", "json", "--dir", dir])
            #expect(usage.stdout.contains(#""saturated":true"#), "\(usage.stdout)")
        }
    }

    @Test func reservedEventTypesAreRefusedNamingTheLine() async throws {
        try await withTemporaryDirectory { dir in
            for type in ["retention.sweep", "hold.released", "hold.placed", "log.recovered", "audit.export"] {
                let input = #"{"event_type":"decision","timestamp":"2026-03-20T10:30:00Z"}"# + "\n" + #"{"event_type":"\#(type)","timestamp":"2026-03-20T10:30:00Z","details":{}}"# + "\n"
                let r = try CLIRunner.run(["ingest", "--dir", dir, "-"], stdin: Data(input.utf8))
                #expect(r.status == 65, "\(type)")
                #expect(r.stderr.contains("line 2") && r.stderr.contains("reserved"), "\(type): \(r.stderr)")
            }
        }
    }

    @Test func aFlippedLastFrameFailsVerifyAndTheWriterRefusesToCut() async throws {
        try await withTemporaryDirectory { dir in
            let gen = try CLIRunner.run(["gen", "--count", "300", "--seed", "5", "--days", "1"])
            #expect(try CLIRunner.run(["ingest", "--dir", dir, "--batch-size", "100", "-"], stdin: Data(gen.stdout.utf8)).status == 0)
            let segment = try #require(try FileManager.default.contentsOfDirectory(atPath: dir + "/segments").filter { $0.hasSuffix(".seg") }.sorted().last)
            let path = dir + "/segments/" + segment
            let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
            try handle.seek(toOffset: UInt64(size - 5))
            let byte = try handle.read(upToCount: 1) ?? Data([0])
            try handle.seek(toOffset: UInt64(size - 5))
            try handle.write(contentsOf: Data([byte[0] ^ 0x01]))
            try handle.close()

            let verify = try CLIRunner.run(["verify", "--dir", dir, "--json"])
            #expect(verify.status == 1)
            #expect(try JSONValue.parse(verify.stdout)["ok"] == .bool(false))
            let ingest = try CLIRunner.run(["ingest", "--dir", dir, "-"], stdin: Data(#"{"event_type":"x","timestamp":"2026-03-20T10:30:00Z"}"#.utf8))
            #expect(ingest.status == 1, "\(ingest.stderr)")
            #expect(ingest.stderr.contains("seq"))
            #expect((try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) == size)  // nothing cut
        }
    }

    @Test func aTornTailIsReportedCutAndRecorded() async throws {
        try await withTemporaryDirectory { dir in
            let gen = try CLIRunner.run(["gen", "--count", "300", "--seed", "6", "--days", "1"])
            #expect(try CLIRunner.run(["ingest", "--dir", dir, "--batch-size", "100", "-"], stdin: Data(gen.stdout.utf8)).status == 0)
            let names = try FileManager.default.contentsOfDirectory(atPath: dir + "/segments")
            for name in names where name.hasSuffix(".aidx") { try FileManager.default.removeItem(atPath: dir + "/segments/" + name) }  // as after a crash
            let segment = dir + "/segments/" + (names.filter { $0.hasSuffix(".seg") }.sorted().last ?? "")
            let size = (try FileManager.default.attributesOfItem(atPath: segment)[.size] as? Int) ?? 0
            let handle = try FileHandle(forUpdating: URL(fileURLWithPath: segment))
            try handle.truncate(atOffset: UInt64(size - 40))
            try handle.close()

            let torn = try CLIRunner.run(["verify", "--dir", dir, "--json"])
            #expect(torn.status == 0)
            #expect(try JSONValue.parse(torn.stdout)["torn_tail"]?["bytes"] != nil, "\(torn.stdout)")
            #expect(try CLIRunner.run(["verify", "--dir", dir, "--strict"]).status == 1)

            let ingest = try CLIRunner.run(["ingest", "--dir", dir, "-"], stdin: Data(#"{"event_type":"x","timestamp":"2026-03-20T10:30:00Z"}"#.utf8))
            #expect(ingest.status == 0)
            #expect(ingest.stderr.contains("recovered") && ingest.stderr.contains(".cut-"), "\(ingest.stderr)")
            let after = try CLIRunner.run(["verify", "--dir", dir])
            #expect(after.status == 0 && after.stdout.contains("recovered:"), "\(after.stdout)")
            #expect(try CLIRunner.run(["verify", "--dir", dir, "--strict"]).status == 1)
            let recovered = try CLIRunner.run(["export", "--dir", dir, "--filter", "event_type=log.recovered"])
            #expect(recovered.stdout.contains(#""sha256""#))
        }
    }

    @Test func verifyChecksAPinnedHead() async throws {
        try await withTemporaryDirectory { dir in
            let gen = try CLIRunner.run(["gen", "--count", "500", "--seed", "7", "--days", "2"])
            #expect(try CLIRunner.run(["ingest", "--dir", dir, "-"], stdin: Data(gen.stdout.utf8)).status == 0)
            let report = try JSONValue.parse(try CLIRunner.run(["verify", "--dir", dir, "--json"]).stdout)
            guard case .number(let last)? = report["last_seq"] else { Issue.record("no last_seq"); return }
            let head = "\(last):\(report["chain_head"]?.stringValue ?? "")"
            #expect(try CLIRunner.run(["ingest", "--dir", dir, "-"], stdin: Data(#"{"event_type":"x","timestamp":"2026-03-20T10:30:00Z"}"#.utf8)).status == 0)
            let ok = try CLIRunner.run(["verify", "--dir", dir, "--expect-head", head])
            #expect(ok.status == 0 && ok.stdout.contains("pinned head"), "\(ok.stdout)")
            let forged = "250:" + String(repeating: "ab", count: 32)
            let bad = try CLIRunner.run(["verify", "--dir", dir, "--expect-head", forged, "--json"])
            #expect(bad.status == 1)
            #expect(try JSONValue.parse(bad.stdout)["expected_head"]?["status"]?.stringValue == "differs")
            #expect(try CLIRunner.run(["verify", "--dir", dir, "--expect-head", "9999:" + String(repeating: "ab", count: 32)]).status == 1)
            #expect(try CLIRunner.run(["verify", "--dir", dir, "--expect-head", "oops"]).status == 64)
        }
    }

    @Test func aFullDiskSaysHowManyEventsWereCommitted() async throws {
        try await withTemporaryDirectory { mountPoint in
            func run(_ arguments: [String]) -> Bool {
                let p = Process()
                p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                p.arguments = arguments
                p.standardOutput = FileHandle.nullDevice
                p.standardError = FileHandle.nullDevice
                do { try p.run() } catch { return false }
                p.waitUntilExit()
                return p.terminationStatus == 0
            }
            guard getuid() == 0, run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mountPoint]) else {
                print("CLIProbeTests: full disk skipped (needs root and permission to mount a tmpfs)")
                return
            }
            defer { _ = run(["umount", "-l", mountPoint]) }
            let gen = try CLIRunner.run(["gen", "--count", "40000", "--seed", "8", "--days", "1"])
            let full = try CLIRunner.run(["ingest", "--dir", mountPoint + "/log", "--batch-size", "500", "-"], stdin: Data(gen.stdout.utf8))
            #expect(full.status == 74, "\(full.stderr)")
            #expect(full.stderr.contains("before the failure"), "\(full.stderr)")
            let committed = full.stderr.split(separator: " ").drop { $0 != "committed" }.dropFirst().first.flatMap { Int($0) } ?? -1
            let verify = try JSONValue.parse(try CLIRunner.run(["verify", "--dir", mountPoint + "/log", "--json"]).stdout)
            #expect(verify["records"] == .number(String(committed)), "\(full.stderr)")
        }
    }

    @Test func smallerOnes() async throws {
        try await withTemporaryDirectory { root in
            let dir = root + "/log"
            // A UTF-8 byte order mark at the start of the input is skipped.
            let bom = Data([0xEF, 0xBB, 0xBF]) + Data(#"{"event_type":"decision","timestamp":"2026-03-20T10:30:00Z","user":"\#(String(repeating: "u", count: 1_000_000))"}"#.utf8)
            let ingest = try CLIRunner.run(["ingest", "--dir", dir, "-"], stdin: bom)
            #expect(ingest.status == 0, "\(ingest.stderr)")
            // A 1 MB user name prints as one short cell.
            let tail = try CLIRunner.run(["tail", "--dir", dir])
            #expect(tail.status == 0 && tail.stdout.utf8.count < 2_000, "\(tail.stdout.utf8.count) bytes")
            #expect(tail.stdout.contains("…"))
            // --output never replaces what is not a regular file.
            let target = root + "/real.csv"
            try "keep me".write(toFile: target, atomically: true, encoding: .utf8)
            try FileManager.default.createSymbolicLink(atPath: root + "/link.csv", withDestinationPath: target)
            let viaLink = try CLIRunner.run(["export", "--dir", dir, "--format", "csv", "--output", root + "/link.csv"])
            #expect(viaLink.status == 64 && viaLink.stderr.contains("symbolic link"), "\(viaLink.stderr)")
            #expect(try String(contentsOfFile: target, encoding: .utf8) == "keep me")
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root + "/link.csv") == target)
            let intoDirectory = try CLIRunner.run(["export", "--dir", dir, "--output", root])
            #expect(intoDirectory.status == 64)
            // --dir at a regular file names that.
            let file = try CLIRunner.run(["ingest", "--dir", target, "-"], stdin: Data())
            #expect(file.status == 66 && file.stderr.contains("is a file, not a log directory"), "\(file.stderr)")
        }
    }
}
