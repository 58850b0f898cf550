import Foundation
import Testing

@testable import AuditLog

/// Index columns a query loaded stay in memory within ``AuditLogOptions/indexCacheBytes``, the
/// least recently used evicted first.
@Suite struct IndexCacheTests {
    func scanAll(_ dir: String, cacheBytes: Int) async throws -> (kept: Int, sealed: Int) {
        var options = AuditLogOptions.readOnly
        options.indexCacheBytes = cacheBytes
        let log = try await AuditLog.open(directory: dir, options: options)
        // Two keys: no rollup answers it, every segment's columns are read.
        let report = try await log.usage(groupBy: [.team, .model])
        #expect(report.totals.requests == 3_000)
        return (log.indexes.segmentsWithColumns.count, log.segments.filter(\.isSealed).count)
    }

    @Test func theBudgetBoundsTheColumnsKept() async throws {
        try await withTemporaryDirectory { dir in
            let writer = try await writeGeneratedLog(dir, seed: 5, count: 3_000, days: 5, segmentBytes: 128 << 10)
            try await writer.close()
            let roomy = try await scanAll(dir, cacheBytes: 64 << 20)
            #expect(roomy.sealed >= 3)
            #expect(roomy.kept == roomy.sealed)
            // No budget: only the segment used last keeps its columns.
            let none = try await scanAll(dir, cacheBytes: 0)
            #expect(none.kept == 1)
        }
    }

    /// What counts is the last use, a lookup that finds everything cached included: with room
    /// for two segments' columns, the one used again stays and the other goes.
    @Test func aSegmentUsedAgainOutlastsOneUsedBeforeIt() async throws {
        try await withTemporaryDirectory { dir in
            let writer = try await writeGeneratedLog(dir, seed: 5, count: 3_000, days: 5, segmentBytes: 128 << 10)
            try await writer.close()
            let probe = try await AuditLog.open(directory: dir, options: .readOnly)
            let sealed = probe.segments.filter(\.isSealed)
            try #require(sealed.count >= 3)
            let (a, b, c) = (sealed[0], sealed[1], sealed[2])
            var bytes = 0
            for segment in [a, b, c] { _ = try probe.indexes.view(segment, parts: [.timestamps]) }
            for (_, n) in probe.indexes.segmentsWithColumns { bytes = max(bytes, n) }
            // Room for the two largest of them, not for three.
            var options = AuditLogOptions.readOnly
            options.indexCacheBytes = 2 * bytes
            let log = try await AuditLog.open(directory: dir, options: options)
            for segment in [a, b, a, c] { _ = try log.indexes.view(segment, parts: [.timestamps]) }
            #expect(Set(log.indexes.segmentsWithColumns.keys) == [a.fileName, c.fileName])
        }
    }

    /// A writer keeps each sealed segment's rollups for usage, but within the budget: left
    /// running it would otherwise hold every segment's rows. Evicted rows load again from the
    /// index file, and usage gives the same answer with them or without.
    @Test(arguments: [0, 64 << 20])
    func aWriterKeepsRollupsWithinTheBudget(cacheBytes: Int) async throws {
        try await withTemporaryDirectory { dir in
            var options = testOptions()
            options.segmentSizeLimitBytes = 64 << 10
            options.indexCacheBytes = cacheBytes
            let log = try await AuditLog.open(directory: dir, options: options)
            var generator = EventGenerator(seed: 6, count: 3_000, days: 3, end: Timestamp(rfc3339: "2026-03-21T00:00:00Z")!)
            var events: [AuditEvent] = []
            while let e = generator.next() { events.append(e) }
            // Appended in parts, so that seals (and their index builds) come one after another.
            for part in stride(from: 0, to: events.count, by: 500) { _ = try await log.append(Array(events[part..<min(events.count, part + 500)])) }
            log.indexes.waitForBackgroundWork()
            let sealed = log.segments.filter(\.isSealed).count
            #expect(sealed >= 4)
            #expect(log.indexes.segmentsWithRollups == (cacheBytes == 0 ? 1 : sealed))
            let byTeam = try await log.usage(groupBy: [.team])
            let byModel = try await log.usage(window: TimeWindow(since: nil, until: Timestamp(rfc3339: "2026-03-20T00:00:00Z")), groupBy: [.model])
            #expect(byTeam.totals.requests == 3_000)
            try await log.close()
            let reader = try await AuditLog.open(directory: dir, options: .readOnly)
            #expect(try await reader.usage(groupBy: [.team]) == byTeam)
            #expect(try await reader.usage(window: TimeWindow(since: nil, until: Timestamp(rfc3339: "2026-03-20T00:00:00Z")), groupBy: [.model]) == byModel)
            #expect(reader.indexRebuilds.isEmpty)
        }
    }

    @Test func theDefaultIsBetween96MiBAnd1GiB() {
        #expect(AuditLogOptions.defaultIndexCacheBytes >= 96 << 20 && AuditLogOptions.defaultIndexCacheBytes <= 1 << 30)
        #expect(AuditLogOptions().indexCacheBytes == AuditLogOptions.defaultIndexCacheBytes)
    }
}
