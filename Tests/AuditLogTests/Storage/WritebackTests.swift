import Foundation
import Testing

@testable @_spi(Testing) import AuditLog

/// Without a sync per batch, the writer hands what it wrote to write-back a mebibyte at a time
/// (``SegmentFile/startWriteback(_:)``), so that the sync at a seal finds little left to write:
/// each segment's hints follow one another from its start with nothing skipped or named twice,
/// and leave less than a chunk unhinted. With a sync per batch there are none.
@Suite struct WritebackTests {
    /// About 9 MiB of rows over two days: two segments of several chunks each, the first
    /// sealed by the roll, the second by the close.
    static func load(_ dir: String, durability: AuditLogOptions.Durability) async throws -> FaultInjectingFileSystem {
        let files = FaultInjectingFileSystem()
        let log = try await AuditLog.open(directory: dir, options: testOptions(durability: durability), fileSystem: files)
        try await appendGenerated(to: log, seed: 21, count: 80_000, days: 2, batchSize: 1_000)
        try await log.close()
        return files
    }

    @Test(arguments: [AuditLogOptions.Durability.none, .syncInterval(milliseconds: 60_000)])
    func everySegmentIsHandedToWriteBackAChunkAtATime(durability: AuditLogOptions.Durability) async throws {
        try await withTemporaryDirectory { dir in
            let files = try await Self.load(dir, durability: durability)
            let segments = try FileManager.default.contentsOfDirectory(atPath: dir + "/segments").filter { $0.hasSuffix(".seg") }.sorted()
            #expect(segments.count == 2)
            let hints = files.writebackHints
            #expect(hints.allSatisfy { $0.path.hasSuffix(".seg") }, "a hint on another file")
            for segment in segments {
                let ranges = hints.filter { $0.path.hasSuffix(segment) }.map(\.range)
                let size = try #require(try FileManager.default.attributesOfItem(atPath: dir + "/segments/" + segment)[.size] as? Int64)
                #expect(ranges.count >= 3, "\(segment): \(ranges.count) hints for \(size) bytes")
                guard let first = ranges.first, let last = ranges.last else { continue }
                // From the segment's start (its header synced when it was created), each where
                // the last ended, each at least a chunk, none past the file.
                #expect(first.lowerBound <= Int64(SegmentHeader.byteCount), "\(segment) starts at \(first.lowerBound)")
                for (a, b) in zip(ranges, ranges.dropFirst()) {
                    #expect(b.lowerBound == a.upperBound, "\(segment): \(a) then \(b)")
                }
                #expect(ranges.allSatisfy { $0.count >= WriterCore.writebackChunk })
                #expect(last.upperBound <= size)
                // What the seal's sync still writes: less than a chunk and the last group.
                #expect(size - last.upperBound < WriterCore.writebackChunk + (256 << 10), "\(segment): \(size - last.upperBound) bytes unhinted")
            }
            #expect(try await AuditLog.verify(directory: dir).isIntact)
        }
    }

    @Test func aSyncPerBatchGivesNoHints() async throws {
        try await withTemporaryDirectory { dir in
            let files = try await Self.load(dir, durability: .syncEveryBatch)
            #expect(files.writebackHints.isEmpty)
        }
    }
}
