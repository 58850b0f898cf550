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
        return (log.indexes.segmentsWithColumns, log.segments.filter(\.isSealed).count)
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

    @Test func theDefaultIsBetween96MiBAnd1GiB() {
        #expect(AuditLogOptions.defaultIndexCacheBytes >= 96 << 20 && AuditLogOptions.defaultIndexCacheBytes <= 1 << 30)
        #expect(AuditLogOptions().indexCacheBytes == AuditLogOptions.defaultIndexCacheBytes)
    }
}
