import Foundation
import Testing

@testable import AuditLog

/// Sustained load: 64 concurrent appenders (group commit: with a sync every batch on the
/// writer's thread; with a sync timer or none, written by the appender that finds the writer
/// idle) and 8 concurrent readers (pages, lookups by id, usage, scans) on one log. Every append is
/// acknowledged exactly once with dense seqs, readers never see a torn or out-of-order state,
/// and memory stays bounded (the peak RSS is printed). Short mode: 4 seconds;
/// `AUDITLOG_RELIABILITY=long`: 60.
@Suite(.serialized) struct LoadTests {
    static let seconds = ProcessInfo.processInfo.environment["AUDITLOG_RELIABILITY"] == "long" ? 60 : 4

    /// Resident and peak resident memory of this process, in KiB (Linux).
    static func memory() -> (rss: Int, peak: Int) {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        func value(_ key: String) -> Int {
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(key) }) else { return 0 }
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
        }
        return (value("VmRSS:"), value("VmHWM:"))
    }

    @Test(arguments: [AuditLogOptions.Durability.syncEveryBatch, .syncInterval(milliseconds: 1), .none])
    func sixtyFourAppendersAndEightReadersForASustainedPeriod(_ durability: AuditLogOptions.Durability) async throws {
        try await withTemporaryDirectory { dir in
            var options = AuditLogOptions()
            options.durability = durability
            options.partition = .hour
            options.segmentSizeLimitBytes = 1 << 20
            let log = try await AuditLog.open(directory: dir, options: options)
            let start = Self.memory()
            let deadline = ContinuousClock.now + .seconds(Self.seconds)
            let end = Timestamp(rfc3339: "2026-03-21T00:00:00Z")!
            let appended = try await withThrowingTaskGroup(of: [SequenceNumber].self) { group in
                for writer in 0..<64 {
                    group.addTask {
                        var generator = EventGenerator(seed: UInt64(writer), count: Int.max / 2, days: 2, end: end)
                        var seqs: [SequenceNumber] = []
                        var n = 0
                        // At least one batch each, however busy the machine (other suites run too).
                        while ContinuousClock.now < deadline || n == 0 {
                            var batch: [AuditEvent] = []
                            for _ in 0..<(1 + (writer + n) % 20) {
                                guard var e = generator.next() else { break }
                                e.id = "evt_w\(writer)_\(n)"
                                n += 1
                                batch.append(e)
                            }
                            let receipt = try await log.append(batch)
                            #expect(receipt.lastSeq.rawValue - receipt.firstSeq.rawValue + 1 == UInt64(batch.count))
                            seqs += (receipt.firstSeq.rawValue...receipt.lastSeq.rawValue).map { SequenceNumber($0) }
                        }
                        return seqs
                    }
                }
                for reader in 0..<8 {
                    group.addTask {
                        var reads = 0
                        while ContinuousClock.now < deadline {
                            switch (reader + reads) % 4 {
                            case 0:
                                let page = try await log.page(Query(filter: EventFilter(verdicts: [.block]), order: .newestFirst, limit: 50))
                                #expect(page.records.map(\.seq) == page.records.map(\.seq).sorted(by: >))
                            case 1:
                                let head = log.head.lastSeq?.rawValue ?? 0
                                if head > 0, let r = try await log.event(id: "evt_w\(reads % 64)_0") {
                                    #expect(r.event.id == "evt_w\(reads % 64)_0")
                                }
                            case 2:
                                let usage = try await log.usage(groupBy: [.model])
                                #expect(usage.totals.requests >= 0)
                            default:
                                var last: SequenceNumber?
                                for try await r in log.query(Query(filter: EventFilter(users: ["alice.0@acme.com"]), order: .oldestFirst)) {
                                    if let l = last { #expect(r.seq > l) }
                                    last = r.seq
                                }
                            }
                            reads += 1
                        }
                        return []
                    }
                }
                var all: [SequenceNumber] = []
                for try await seqs in group { all += seqs }
                return all
            }
            let peak = Self.memory()
            try await log.close()
            #expect(appended.count > 0)
            #expect(appended.sorted().map(\.rawValue) == Array(1...UInt64(appended.count)), "acknowledged seqs are dense and unique")
            let report = try await AuditLog.verify(directory: dir)
            #expect(report.isIntact && report.recordsChecked == UInt64(appended.count), "\(report)")
            print(
                "LoadTests (\(durability)): \(Self.seconds) s, 64 appenders + 8 readers: \(appended.count) events acknowledged (\(appended.count / Self.seconds)/s), RSS \(start.rss / 1024) → \(peak.rss / 1024) MiB, peak \(peak.peak / 1024) MiB"
            )
            #expect(peak.rss - start.rss < 1 << 20, "RSS grew by more than 1 GiB")
        }
    }
}
