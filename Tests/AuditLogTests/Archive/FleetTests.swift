import AuditLogTestSupport
import Foundation
import Testing

@_spi(Testing) @testable import AuditLog

/// Three nodes archive to one prefix; the fleet answers as the union of their logs.
@Suite(.enabled(if: MotoServer.isAvailable, "moto_server is not installed (pip install 'moto[server]')"))
struct FleetTests {
    /// Node `n`'s events: interleaved in time with the other nodes', ids of its own.
    func nodeEvents(_ n: Int) -> [AuditEvent] {
        events(400, from: Timestamp(rfc3339: "2026-03-20T00:00:00Z")! + .seconds(Int64(n) * 7), stepSeconds: 30, prefix: "n\(n)-").enumerated().map { i, e in
            var e = e
            e.team = ["payments", "search", "risk"][(i + n) % 3]
            e.latencyMicros = Int64(1000 + (i * 37 + n * 11) % 5000)
            return e
        }
    }

    @Test func threeNodesAnswerAsTheirUnion() async throws {
        let moto = try MotoServer(buckets: ["audit"])
        defer { moto.stop() }
        try await withTemporaryDirectory { root in
            var ids: [String: Int] = [:]
            var all: [AuditEvent] = []
            for n in 0..<3 {
                var options = testOptions(segmentBytes: 8192)
                options.partition = .hour
                options.archive = try moto.archive("audit", prefix: "fleet")
                options.archive?.localRetention = .zero
                // The last event opens a new hour: every event before it is in a sealed segment.
                let log = try await AuditLog.open(directory: root + "/node\(n)", options: options)
                _ = try await log.append(nodeEvents(n))
                _ = try await log.append(events(1, from: Timestamp(rfc3339: "2026-03-21T00:00:00Z")!, prefix: "late\(n)-"))
                ids[log.logID.description] = n
                all += nodeEvents(n)
                try await log.close()
            }

            var archive = try moto.archive("audit", prefix: "fleet")
            archive.cacheSizeBytes = 64 << 20
            let fleet = try await AuditLog.openFleet(archive: archive, directory: root + "/fleet")
            #expect(Set(fleet.nodes.map(\.id)) == Set(ids.keys))

            // Pages of 37, newest first, until the cursor ends: every archived event once.
            var seen: [FleetRecord] = []
            var cursor: String?
            repeat {
                let page = try await fleet.page(Query(order: .newestFirst, limit: 37, cursor: cursor))
                seen += page.records
                cursor = page.nextCursor
            } while cursor != nil
            #expect(seen.count == 1200)
            #expect(Set(seen.map { "\($0.node)/\($0.record.seq)" }).count == 1200)
            #expect(Set(seen.compactMap(\.record.event.id)) == Set(all.compactMap(\.id)))
            let times = seen.map(\.record.event.timestamp.nanosSinceEpoch)
            #expect(times == times.sorted(by: >))
            #expect(seen.allSatisfy { r in ids[r.node].map { n in r.record.event.id?.hasPrefix("n\(n)-") == true } ?? false })

            // A filter and a node: exactly that node's blocked events.
            let one = try #require(ids.first { $0.value == 1 }?.key)
            let blocked = try await fleet.page(Query(filter: EventFilter(verdicts: [.block]), order: .oldestFirst, limit: 1000), only: [one])
            #expect(blocked.records.count == nodeEvents(1).filter { $0.verdict == .block }.count)
            #expect(blocked.records.allSatisfy { $0.node == one && $0.record.event.verdict == .block })
            #expect(throws: AuditLogError.self) { _ = try fleet.selected(["nope"]) }

            // Lookups find the node.
            #expect(try await fleet.event(id: "n2-17")?.node == ids.first { $0.value == 2 }?.key)
            #expect(try await fleet.event(id: "n9-1") == nil)

            // Usage equals that of one log holding the three nodes' events.
            let merged = try await AuditLog.open(directory: root + "/merged", options: testOptions())
            _ = try await merged.append(
                all.map { e in
                    var e = e
                    e.id = nil
                    return e
                })
            for groupBy in [[UsageGroup.team], [.user, .model], [.day]] {
                let expected = try await merged.usage(groupBy: groupBy)
                let got = try await fleet.usage(groupBy: groupBy)
                #expect(got.rows == expected.rows, "\(groupBy)")
                #expect(got.totals == expected.totals)
            }
            try await merged.close()

            let verification = try await fleet.verify()
            #expect(verification.isIntact)
            #expect(verification.nodes.count == 3)
            #expect(verification.nodes.map(\.report.recordsChecked).reduce(0, +) == 1200)

            // Opening again fetches nothing new and answers the same.
            let again = try await AuditLog.openFleet(archive: archive, directory: root + "/fleet")
            #expect(try await again.usage(groupBy: [.team]).rows == (try await fleet.usage(groupBy: [.team])).rows)
        }
    }
}
