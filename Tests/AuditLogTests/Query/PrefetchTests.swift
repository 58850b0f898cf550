import Foundation
import Testing

@testable @_spi(Testing) import AuditLog

/// A query whose matches are spread over many frames asks the disk for their frames a run at a
/// time (``RecordFetcher/prefetch(_:)``) once it has had to read one, and not while the frame
/// cache serves it; the answers are the same either way.
@Suite struct PrefetchTests {
    @Test func aSparseQueryHintsTheFramesOfItsMatchesAndAWarmOneDoesNot() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await AuditLog.open(directory: dir, options: testOptions())
            var generator = EventGenerator(seed: 16, count: 30_000, days: 1, end: Timestamp(rfc3339: "2026-03-21T00:00:00Z")!)
            var batch: [AuditEvent] = []
            while var e = generator.next() {
                if batch.count % 331 == 0 { e.user = "needle@acme.com" }
                batch.append(e)
            }
            _ = try await log.append(batch)
            try await log.close()

            let files = FaultInjectingFileSystem()
            let reader = try await AuditLog.open(directory: dir, options: .readOnly, fileSystem: files)
            let q = Query(filter: EventFilter(users: ["needle@acme.com"]), order: .oldestFirst)
            var found: [Record] = []
            for try await r in reader.query(q) { found.append(r) }
            let expected = batch.indices.filter { $0 % 331 == 0 }.map { SequenceNumber(UInt64($0 + 1)) }
            #expect(found.map(\.seq) == expected)

            // The hints name whole frames of the segment that hold matches, each once, and
            // most of those frames.
            let hints = files.readHints
            let segment = try #require(try FileManager.default.contentsOfDirectory(atPath: dir + "/segments").first { $0.hasSuffix(".seg") })
            #expect(hints.count >= 2, "\(hints.count) hints")
            #expect(hints.allSatisfy { $0.path.hasSuffix(segment) })
            let frames = try frameHeaders(dir, segment)
            let wanted = Set(expected.map(\.rawValue))
            var hinted: [Int] = []  // frame indices
            for hint in hints {
                guard let first = frames.firstIndex(where: { $0.offset == hint.range.lowerBound }) else {
                    Issue.record("hint \(hint.range) does not start at a frame")
                    continue
                }
                var i = first
                while i < frames.count && frames[i].offset < hint.range.upperBound {
                    hinted.append(i)
                    i += 1
                }
                #expect(i == frames.count || frames[i].offset == hint.range.upperBound, "hint \(hint.range) does not end at a frame")
            }
            func holdsMatch(_ i: Int) -> Bool {
                let h = frames[i].header
                return (h.firstSeq.rawValue..<(h.firstSeq.rawValue + UInt64(h.recordCount))).contains { wanted.contains($0) }
            }
            #expect(Set(hinted).count == hinted.count, "a frame hinted twice")
            #expect(hinted.allSatisfy(holdsMatch), "a frame without a match hinted")
            let matching = frames.indices.filter(holdsMatch)
            #expect(hinted.count * 2 > matching.count, "\(hinted.count) of \(matching.count) frames with matches hinted")

            // Again on the same handle: the frames read in part the first time (not cached)
            // are read whole and cached; a third time every frame comes from the cache, and
            // nothing is hinted.
            var second: [Record] = []
            for try await r in reader.query(q) { second.append(r) }
            #expect(second == found)
            let hintsBefore = files.readHints.count
            #expect(hintsBefore > hints.count, "the second query read its frames from the file again")
            var again: [Record] = []
            for try await r in reader.query(q) { again.append(r) }
            #expect(again == found)
            #expect(files.readHints.count == hintsBefore)
            try await reader.close()
        }
    }
}
