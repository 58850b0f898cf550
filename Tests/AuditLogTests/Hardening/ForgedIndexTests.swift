import Foundation
import Testing

@testable import AuditLog

/// Index files are derived data, and hostile like every file on disk: one written with valid
/// checksums but impossible contents must be refused (and rebuilt from its segment), never
/// trap a query or a usage report.
@Suite struct ForgedIndexTests {
    enum Forgery: String, CaseIterable {
        case rollupValueBeyondItsDictionary, rollupCountsBeyondTheSegment, negativeEventTime, hourNotOnTheHour, hourlyRowOfAnUnlistedDimension
    }

    @Test(arguments: Forgery.allCases)
    func aForgedIndexIsRebuiltNotTrusted(_ forgery: Forgery) async throws {
        try await withTemporaryDirectory { dir in
            let day: Int64 = 86_400_000_000_000
            let start = Timestamp(rfc3339: "2026-03-20T00:00:00Z")!
            let log = try await AuditLog.open(directory: dir, options: testOptions())
            _ = try await log.append(events(200, from: start, stepSeconds: 60))
            _ = try await log.append(events(10, from: Timestamp(nanosSinceEpoch: start.nanosSinceEpoch + day)))
            try await log.close()
            let segment = log.segments[0]
            var data = try IndexStore.build(log.files, segment: segment, from: nil)
            var rollups = try #require(data.rollups)
            let some = try #require(rollups.first { $0.key.dimension == .user && $0.key.hourNanos == RollupKey.allTime })
            switch forgery {
            case .rollupValueBeyondItsDictionary:
                rollups[RollupKey(dimension: .user, value: 9999, hourNanos: RollupKey.allTime)] = some.value
            case .rollupCountsBeyondTheSegment:
                var a = some.value
                a.requests = 1_000_000
                rollups[some.key] = a
            case .negativeEventTime:
                data.columns.timestamps[3] = -5
            case .hourNotOnTheHour:
                rollups[RollupKey(dimension: .user, value: some.key.value, hourNanos: start.nanosSinceEpoch + 17)] = some.value
            case .hourlyRowOfAnUnlistedDimension:
                rollups[RollupKey(dimension: .user, value: some.key.value, hourNanos: start.nanosSinceEpoch)] = some.value
                data.hourlyMask &= ~(1 << (Dimension.user.rollupCode ?? 0))
            }
            data.rollups = rollups
            let path = log.files.segmentPath(LogDirectory.name(of: .index, forSegment: segment.fileName))
            try Data(IndexFile.encode(data, segment: segment)).write(to: URL(fileURLWithPath: path))

            let reader = try await AuditLog.open(directory: dir, options: .readOnly)
            let all = try await readAll(reader)
            let usage = try await reader.usage(groupBy: [.user])
            #expect(usage.totals.requests == Int64(all.count))
            let hourly = try await reader.usage(groupBy: [.hour])
            #expect(hourly.totals.requests == Int64(all.count))
            // A window that cuts the segment, so that its timestamps are read (a segment wholly
            // inside a window needs none).
            let since = Timestamp(nanosSinceEpoch: start.nanosSinceEpoch + 30 * 60_000_000_000)
            var got = 0
            for try await _ in reader.query(Query(window: TimeWindow(since: since), filter: EventFilter(verdicts: [.block]))) { got += 1 }
            #expect(got == all.filter { $0.event.verdict == .block && $0.event.timestamp >= since }.count)
            #expect(reader.indexRebuilds.count == 1, "\(reader.indexRebuilds)")
        }
    }
}
