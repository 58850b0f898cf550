import Foundation
import Testing

@testable import AuditLog

/// Crash consistency: a writer process (Tests/AuditLogCrashWriter) appends with an fdatasync
/// before every acknowledgement, seals small segments, writes index files and sweeps retention,
/// and is killed with SIGKILL at random moments — or at chosen system calls: while creating an
/// index file, renaming it into place, starting a segment, deleting a swept segment. After each
/// kill the log is reopened (recovery) and checked: every acknowledged event not removed by a
/// recorded sweep is present at its seq and byte-identical, no id is stored twice, the chain and
/// every sweep verify, the recovered Merkle tree matches the records and the last checkpoint
/// signed (the writer signs them as it goes) still holds.
///
/// Short mode (CI): 24 kills. `AUDITLOG_RELIABILITY=long` (make reliability): 220.
@Suite(.serialized) struct CrashTests {
    static let long = ProcessInfo.processInfo.environment["AUDITLOG_RELIABILITY"] == "long"
    static let kills = long ? 220 : 24

    static let writer: URL = {
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [
            here.appendingPathComponent("AuditLogCrashWriter"),
            here.deletingLastPathComponent().appendingPathComponent("AuditLogCrashWriter"),
            URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(".build/debug/AuditLogCrashWriter"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[2]
    }()

    /// System calls to die at: operation, path fragment, calls to let pass first.
    static let crashPoints = [
        "create:.idx.tmp:0",  // writing a sealed segment's index file
        "rename:.idx:0",  // putting it in place
        "create:.seg:0",  // starting a segment (the previous one just sealed)
        "syncDirectory:segments:0",
        "remove:.seg:0",  // a sweep deleting its first segment
        "remove:.seg:1",  // … between two deletions
        "remove:.idx:0",
        "truncate:.seg:0",
    ]

    struct Figures: CustomStringConvertible {
        var kills = 0
        var atCrashPoints = 0
        var acknowledged = 0
        var checked = 0
        var swept = 0
        /// Distinct seq ranges the sweep records name at the end, and the seqs they cover.
        var sweptRanges = 0
        var sweptRecords: UInt64 = 0
        var recoveries = 0
        var checkpoints = 0
        var lost = 0
        /// Version-2 (column frame) segments seen, summed over the checks.
        var columnSegments = 0

        var description: String {
            "\(kills) kills (\(atCrashPoints) at chosen system calls), \(acknowledged) events acknowledged, \(checked) checked byte for byte, \(swept) removed by a recorded sweep before they could be checked; \(sweptRanges) swept ranges cover \(sweptRecords) seqs; \(recoveries) torn tails cut; \(checkpoints) times the tree and the last signed checkpoint checked against the records; \(columnSegments) column-frame segments seen"
        }
    }

    @Test func killedWritersLoseNothingAcknowledged() async throws {
        try await withTemporaryDirectory { root in
            let dir = root + "/log"
            var rng = SplitMix64(seed: UInt64(ProcessInfo.processInfo.environment["AUDITLOG_RELIABILITY_SEED"].flatMap { Int($0) } ?? 20_261_122))
            var figures = Figures()
            for run in 0..<Self.kills {
                let acks = root + "/acks-\(run)"
                var arguments = [dir, acks, String(run)]
                let targeted = run % 3 == 2
                if targeted { arguments.append(Self.crashPoints[rng.below(Self.crashPoints.count)]) }
                let process = Process()
                process.executableURL = Self.writer
                process.arguments = arguments
                process.standardOutput = FileHandle.nullDevice
                let errors = Pipe()
                process.standardError = errors
                try process.run()
                // Let it start (and recover), then kill it at a random moment; a targeted run
                // gets time to reach its crash point.
                let deadline = ContinuousClock.now + .milliseconds(targeted ? 3000 : 60 + rng.below(400))
                while process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
                process.waitUntilExit()
                let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL, "run \(run) ended on its own: \(stderr)")
                figures.kills += 1
                if targeted && ContinuousClock.now < deadline { figures.atCrashPoints += 1 }
                try await check(dir: dir, acks: acks, run: run, figures: &figures)
            }
            print("CrashTests: \(figures)")
            #expect(figures.checked > 0)
            #expect(figures.columnSegments > 0, "no run stored column frames")
        }
    }

    /// Reopens the log and checks the run's acknowledged events and the whole log; records
    /// what is wrong as issues of the running test.
    func check(dir: String, acks: String, run: Int, figures: inout Figures) async throws {
        for problem in try await Self.problems(dir: dir, acks: acks, run: run, figures: &figures) { Issue.record("\(problem)") }
    }

    /// What is wrong with the log after run `run` (empty when nothing is): every acknowledged
    /// event not removed by a recorded sweep present at its seq and byte-identical, no id
    /// twice, a query through the indexes equal to a scan, the chain and every sweep verified,
    /// the tree and the last checkpoint consistent.
    static func problems(dir: String, acks: String, run: Int, figures: inout Figures) async throws -> [String] {
        var problems: [String] = []
        // Only complete lines: a line cut by the kill is not an acknowledgement.
        let text = (try? String(contentsOfFile: acks, encoding: .utf8)) ?? ""
        var acknowledged: [(seq: UInt64, json: String)] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            guard let tab = line.firstIndex(of: "\t"), let seq = UInt64(line[..<tab]) else {
                problems.append("run \(run): unreadable ack line \(line.prefix(80))")
                continue
            }
            acknowledged.append((seq, String(line[line.index(after: tab)...])))
        }
        figures.acknowledged += acknowledged.count
        guard FileManager.default.fileExists(atPath: dir + "/auditlog.meta") else {
            if !acknowledged.isEmpty { problems.append("run \(run): \(acknowledged.count) events were acknowledged, and there is no log") }
            return problems
        }
        let log: AuditLog
        do {
            log = try await AuditLog.open(directory: dir)
        } catch {
            problems.append("run \(run): the log does not open: \(error.code): \(error.message) (\(error.location))")
            return problems
        }
        figures.recoveries += log.recovery.count
        figures.columnSegments += log.segments.filter { log.formatVersion(of: $0) == 2 }.count
        let swept = try await log.existingSweptRanges()
        // Carried ranges overlap the pieces and runs that name the same seqs: count seqs once.
        figures.sweptRanges = Set(swept.map { $0.firstSeq...$0.lastSeq }).count
        figures.sweptRecords = 0
        var covered = SequenceNumber(0)
        for r in swept.sorted(by: { $0.firstSeq < $1.firstSeq }) where r.lastSeq > covered {
            let from = max(r.firstSeq.rawValue, covered.rawValue + 1)
            figures.sweptRecords += r.lastSeq.rawValue - from + 1
            covered = r.lastSeq
        }
        var stored: [UInt64: Record] = [:]
        var ids = Set<String>()
        for try await record in log.records() {
            stored[record.seq.rawValue] = record
            if let id = record.event.id, !ids.insert(id).inserted {
                problems.append("run \(run): id \(id) stored twice")
            }
        }
        // Derived files answer as the records do: a filtered query goes through the sealed
        // segments' indexes (rebuilt at open when missing or stale) and the active one's.
        // The log's own records too: sweeps and holds find them by event type.
        let own = EventFilter(fields: ["event_type": ["retention.sweep", "hold.placed", "hold.released", "log.recovered"]])
        for (name, filter) in [("blocked", EventFilter(verdicts: [.block])), ("retention, hold and recovery", own)] {
            var queried: [UInt64] = []
            for try await record in log.query(Query(filter: filter, order: .oldestFirst)) { queried.append(record.seq.rawValue) }
            let expected = stored.values.filter { filter.matches($0.event) }.map(\.seq.rawValue).sorted()
            if queried != expected {
                problems.append("run \(run): a query through the indexes finds \(queried.count) \(name) events, the records hold \(expected.count)")
            }
        }
        for (seq, json) in acknowledged {
            if swept.contains(where: { $0.firstSeq.rawValue <= seq && seq <= $0.lastSeq.rawValue }) {
                figures.swept += 1
                continue
            }
            guard let record = stored[seq] else {
                problems.append("run \(run): acknowledged seq \(seq) is missing")
                figures.lost += 1
                continue
            }
            if record.event.jsonText() != json { problems.append("run \(run): seq \(seq) differs from what was acknowledged") }
            figures.checked += 1
        }
        let lastAcked = acknowledged.map(\.seq).max() ?? 0
        if (log.head.lastSeq?.rawValue ?? 0) < lastAcked {
            problems.append("run \(run): the head is seq \(log.head.lastSeq?.rawValue ?? 0), before the last acknowledged \(lastAcked)")
        }
        try await log.close()
        let report = try await AuditLog.verify(directory: dir)
        if !report.isIntact { problems.append("run \(run): \(report)") }
        // The tree the writer recovered matches the records, and the last checkpoint it signed
        // (a kill may have cut the history's append) still holds.
        let reader = try await AuditLog.open(directory: dir, options: .readOnly)
        let latest = try reader.storedCheckpoints().last
        try await reader.close()
        if let latest {
            figures.checkpoints += 1
            let verifier = try NoteSigner(name: "crash.test/log", seed: Array(repeating: 5, count: 32)).verifier
            let audit = try await AuditLog.auditTree(directory: dir, checkpoint: latest.note, verifier: verifier)
            if !audit.isConsistent { problems.append("run \(run): \(audit.findings)") }
        }
        return problems
    }
}
