import Foundation
import Testing

@testable import AuditLog

/// An index is derived data: missing, stale or damaged, it is rebuilt from its segment (and
/// reported), never trusted over it.
@Suite(.serialized) struct IndexRebuildTests {
    /// Runs a few queries and checks them against a full scan.
    func checkQueries(_ log: AuditLog) async throws {
        let all = try await readAll(log)
        for filter in [EventFilter(verdicts: [.block]), EventFilter(users: [all[all.count / 2].event.user ?? ""]), EventFilter(fields: ["team": ["payments"]])] {
            var got: [SequenceNumber] = []
            for try await r in log.query(Query(filter: filter, order: .oldestFirst)) { got.append(r.seq) }
            #expect(got == all.filter { filter.matches($0.event) }.map(\.seq))
        }
        let usage = try await log.usage(groupBy: [.model])
        #expect(usage.totals.requests == Int64(all.count))
        let hourly = try await log.usage(groupBy: [.hour])
        #expect(hourly.totals.requests == Int64(all.count))
        #expect(usage.totals.cost.nanodollars == all.reduce(0) { $0 + ($1.event.cost?.nanodollars ?? 0) })
        let target = all[all.count / 3]
        #expect(try await log.event(id: target.event.id ?? "") == target)
    }

    @Test func sealedSegmentsGetIndexFilesWrittenAtomically() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await QueryPropertyTests.makeLog(dir, seed: 51, count: 2000, reopen: false)
            try await log.close()
            let segments = try segmentPaths(dir)
            let indexes = try indexPaths(dir)
            #expect(indexes.count == segments.count - 1)  // every sealed segment, not the active one
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/segments").allSatisfy { !$0.contains(".tmp") })
        }
    }

    @Test(arguments: ["missing", "damaged", "stale", "truncated"])
    func aBadIndexFileIsRebuiltAndReported(damage: String) async throws {
        try await withTemporaryDirectory { dir in
            let log = try await QueryPropertyTests.makeLog(dir, seed: 52, count: 2000, reopen: false)
            try await log.close()
            let indexes = try indexPaths(dir)
            let victim = indexes[indexes.count / 2]
            switch damage {
            case "missing": try FileManager.default.removeItem(atPath: victim)
            case "damaged": try flipByte(victim, at: try fileSize(victim) - 20)
            case "truncated": try truncateFile(victim, to: 100)
            default:  // another segment's index in its place
                try FileManager.default.removeItem(atPath: victim)
                try FileManager.default.copyItem(atPath: indexes[0], toPath: victim)
            }
            // A reader rebuilds in memory and reports it.
            let reader = try await AuditLog.open(directory: dir, options: .readOnly)
            try await checkQueries(reader)
            #expect(reader.indexRebuilds.count == 1, "\(reader.indexRebuilds)")
            #expect(reader.indexRebuilds.first?.file == "segments/" + URL(fileURLWithPath: victim).lastPathComponent)

            // A writer rebuilds the file itself (a bad header at open, a bad section on use).
            let writer = try await AuditLog.open(directory: dir, options: testOptions())
            try await checkQueries(writer)
            try await writer.close()
            #expect(writer.indexRebuilds.count == 1)
            let fresh = try await AuditLog.open(directory: dir, options: .readOnly)
            try await checkQueries(fresh)
            #expect(fresh.indexRebuilds.isEmpty, "\(fresh.indexRebuilds)")
        }
    }
}
