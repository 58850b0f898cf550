import Foundation
import Testing

@testable @_spi(Testing) import AuditLog

/// What a seal syncs is what a power cut would need, and no more: the segment, the tree's level
/// files, the footer. Not the index written after it (derived data: a reader rebuilds one a power
/// cut lost or tore), nor `tree/synced` (the footer makes the same nodes trusted) — both only
/// held up the writer's next seal or roll. A close still writes and syncs the mark.
@Suite struct SealSyncTests {
    /// Two days of events (the first segment sealed by the roll), each `fdatasync` of a file
    /// whose path holds `matching` left out and counted.
    static func load(_ dir: String, countingSyncsOf matching: String) async throws -> (AuditLog, FaultInjectingFileSystem) {
        let files = FaultInjectingFileSystem()
        files.inject(.init(operation: .sync, matching: matching, times: nil, fault: .skip))
        let log = try await AuditLog.open(directory: dir, options: testOptions(durability: .none), fileSystem: files)
        try await appendGenerated(to: log, seed: 5, count: 4_000, days: 2, batchSize: 500)
        return (log, files)
    }

    @Test func aSealedSegmentsIndexIsWrittenWithoutASync() async throws {
        try await withTemporaryDirectory { dir in
            let (log, files) = try await Self.load(dir, countingSyncsOf: ".idx")
            try await log.close()  // waits for the index builds
            // Every sealed segment has one (not the active one).
            #expect(try indexPaths(dir).count == segmentPaths(dir).count - 1)
            #expect(try indexPaths(dir).count >= 1)
            #expect(files.injectedCount == 0, "an index file was synced")
            // Written whole all the same: a reopened log answers through them, rebuilding none.
            let reader = try await AuditLog.open(directory: dir, options: .readOnly)
            try await QueryPropertyTests.checkQueries(reader, seed: 5, rounds: 20)  // against a scan
            #expect(reader.indexRebuilds.isEmpty, "\(reader.indexRebuilds)")
        }
    }

    @Test func aSealLeavesTheTreeMarkToTheClose() async throws {
        try await withTemporaryDirectory { dir in
            let (log, files) = try await Self.load(dir, countingSyncsOf: "tree/synced")
            #expect(log.segments.filter(\.isSealed).count >= 1)
            #expect(files.injectedCount == 0, "the seal wrote tree/synced")
            try await log.close()
            #expect(files.injectedCount == 1, "the close did not write tree/synced")
        }
    }
}
