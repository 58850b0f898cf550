import Foundation
import Testing

@testable import AuditLog

@Suite struct SegmentLogTests {
    @Test func appendsAndReadsBackEveryField() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await AuditLog.open(directory: dir, options: testOptions())
            let receipt = try await log.append([fullEvent(), fullEvent(id: nil)])
            #expect(receipt.firstSeq == SequenceNumber(1) && receipt.lastSeq == SequenceNumber(2))
            #expect(receipt.ids[0] == "evt_full_1")
            #expect(receipt.ids[1].hasPrefix("evt_") && receipt.ids[1].count == 30)
            let records = try await readAll(log)
            #expect(records.map(\.seq) == [SequenceNumber(1), SequenceNumber(2)])
            #expect(records[0].event == fullEvent())
            var expectedSecond = fullEvent(id: nil)
            expectedSecond.id = receipt.ids[1]
            #expect(records[1].event == expectedSecond)
            #expect(log.head.chainHead == receipt.chainHead)
            try await log.close()
        }
    }

    @Test func readsRangesForwardAndBackwardAcrossSegments() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await AuditLog.open(directory: dir, options: testOptions(segmentBytes: 4096))
            for chunk in 0..<20 {
                _ = try await log.append(events(50, from: Timestamp(nanosSinceEpoch: 1_700_000_000_000_000_000 + Int64(chunk) * 50_000_000_000)))
            }
            #expect(log.segments.count > 3)
            #expect(log.segments.dropLast().allSatisfy { $0.isSealed })
            let forward = try await readAll(log)
            #expect(forward.map(\.seq.rawValue) == Array(1...1000))
            let backward = try await readAll(log, order: .newestFirst)
            #expect(backward.map(\.seq.rawValue) == Array((1...1000).reversed()))
            for (lo, hi) in [(1, 1), (10, 20), (333, 777), (999, 1000), (1, 1000)] {
                var got: [UInt64] = []
                for try await r in log.records(SequenceNumber(UInt64(lo))...SequenceNumber(UInt64(hi))) { got.append(r.seq.rawValue) }
                #expect(got == Array(UInt64(lo)...UInt64(hi)))
                got = []
                for try await r in log.records(SequenceNumber(UInt64(lo))...SequenceNumber(UInt64(hi)), order: .newestFirst) { got.append(r.seq.rawValue) }
                #expect(got == Array((UInt64(lo)...UInt64(hi)).reversed()))
            }
            #expect(try await log.record(at: SequenceNumber(500))?.event.tokensIn == 499 % 50)
            #expect(try await log.record(at: SequenceNumber(5000)) == nil)
            let report = try await log.verify()
            #expect(report.isIntact, "\(report.issues)")
            #expect(report.recordsChecked == 1000)
            try await log.close()
        }
    }

    @Test func rollsSegmentsAtPartitionBoundariesAndKeepsLateEventsInTheActiveOne() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await AuditLog.open(directory: dir, options: testOptions())
            let day = Int64(86_400) * 1_000_000_000
            let base = Timestamp(rfc3339: "2026-03-20T00:00:00Z")!.nanosSinceEpoch
            func at(_ nanos: Int64) -> AuditEvent { AuditEvent(eventType: "decision", timestamp: Timestamp(nanosSinceEpoch: nanos)) }
            _ = try await log.append([at(base + 10), at(base + day / 2)])
            _ = try await log.append([at(base + day + 5), at(base + 3)])  // second is late: stays in day 2's segment
            _ = try await log.append([at(base + 2 * day + 1)])
            let segments = log.segments
            #expect(segments.count == 3)
            #expect(segments.map(\.recordCount) == [2, 2, 1])
            #expect(segments[0].isSealed && segments[1].isSealed && !segments[2].isSealed)
            #expect(segments[1].minTimestamp?.nanosSinceEpoch == base + 3)
            #expect(segments[1].partitionStart.nanosSinceEpoch == base + day)
            try await log.close()
        }
    }

    @Test func reopeningContinuesTheChain() async throws {
        try await withTemporaryDirectory { dir in
            var log = try await AuditLog.open(directory: dir, options: testOptions())
            _ = try await log.append(events(10))
            try await log.close()
            log = try await AuditLog.open(directory: dir, options: testOptions())
            #expect(log.recovery.isEmpty)
            let receipt = try await log.append(events(5))
            #expect(receipt.firstSeq == SequenceNumber(11))
            try await log.close()
            let report = try await AuditLog.verify(directory: dir)
            #expect(report.isIntact, "\(report.issues)")
            #expect(report.lastSeq == SequenceNumber(15))
            #expect(report.chainHead == receipt.chainHead)
        }
    }

    @Test(arguments: [AuditLogOptions.Durability.syncEveryBatch, .syncInterval(milliseconds: 5), .none])
    func everyDurabilityPolicyAppendsAndSyncs(durability: AuditLogOptions.Durability) async throws {
        try await withTemporaryDirectory { dir in
            let log = try await AuditLog.open(directory: dir, options: testOptions(durability: durability))
            for _ in 0..<5 { _ = try await log.append(events(100)) }
            try await Task.sleep(for: .milliseconds(20))
            try await log.close()
            let reopened = try await AuditLog.open(directory: dir, options: .readOnly)
            #expect(try await readAll(reopened).count == 500)
        }
    }

    /// Appends that race with one id can land in one group, the later checked against an
    /// earlier one not yet written: exactly one is accepted.
    @Test func concurrentAppendsOfOneIDAcceptExactlyOne() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await AuditLog.open(directory: dir, options: testOptions())
            for round in 0..<5 {
                let id = "race-\(round)"
                let outcomes = await withTaskGroup(of: AuditLogError.Code?.self) { group in
                    for _ in 0..<40 {
                        group.addTask {
                            let padding = events(200, prefix: nil)
                            do throws(AuditLogError) {
                                _ = try await log.append(padding + [AuditEvent(eventType: "x", timestamp: .now, id: id)])
                                return nil
                            } catch {
                                return error.code
                            }
                        }
                    }
                    var codes: [AuditLogError.Code?] = []
                    for await code in group { codes.append(code) }
                    return codes
                }
                let accepted = outcomes.filter { $0 == nil }.count
                let refused = outcomes.filter { $0 == .duplicateID }.count
                #expect(accepted == 1 && refused == 39, "round \(round): \(accepted) appends of one id accepted, \(refused) refused as duplicates")
            }
            try await log.close()
        }
    }

    /// The id index is built when the first client-supplied id arrives. Built in the middle of
    /// a group, it must still take the ids the group's earlier batches were given, or a client
    /// sending one back later (a retry with the id its receipt named) is accepted twice. The
    /// group is made directly: which batches racing appends put in one group is up to timing.
    @Test func idsAssignedEarlierInTheGroupThatBuildsTheIndexAreRefusedLater() async throws {
        try await withTemporaryDirectory { dir in
            try await AuditLog.open(directory: dir, options: testOptions()).close()
            let directory = LogDirectory(path: dir)
            let catalog = try LogCatalog.load(directory, repair: true)
            let core = try WriterCore(directory: directory, catalog: catalog, options: testOptions(), observers: [])
            let assigned = try PreparedBatch(events(3), maxEvents: 10)
            let supplied = try PreparedBatch(events(2, prefix: "client-"), maxEvents: 10)
            let group = core.write([assigned, supplied])
            let ids = try group[0].get().ids
            #expect(ids.count == 3)
            for id in ids {
                let again = core.write([try PreparedBatch([AuditEvent(eventType: "x", timestamp: .now, id: id)], maxEvents: 10)])
                switch again[0] {
                case .success: Issue.record("\(id), assigned in the group that built the index, accepted again")
                case .failure(let error): #expect(error.code == .duplicateID)
                }
            }
            try core.close()
        }
    }

    @Test func refusesDuplicateIDsWithoutWritingAnything() async throws {
        try await withTemporaryDirectory { dir in
            var log = try await AuditLog.open(directory: dir, options: testOptions())
            _ = try await log.append(events(3, prefix: "id-"))
            await #expect(throws: AuditLogError.self) { _ = try await log.append(events(1, prefix: "id-")) }
            do throws(AuditLogError) {
                _ = try await log.append(events(2, prefix: "new-") + events(1, prefix: "new-"))
                Issue.record("duplicate within batch accepted")
            } catch {
                #expect(error.code == .duplicateID)
                #expect(error.location.index == 2)
            }
            #expect(log.head.lastSeq == SequenceNumber(3))
            try await log.close()
            // The id index is rebuilt from disk on reopen.
            log = try await AuditLog.open(directory: dir, options: testOptions())
            do throws(AuditLogError) {
                _ = try await log.append([AuditEvent(eventType: "x", timestamp: .now, id: "fresh")] + events(1, prefix: "id-"))
                Issue.record("duplicate accepted after reopen")
            } catch {
                #expect(error.code == .duplicateID)
                #expect(error.message.contains("seq 1"))
            }
            _ = try await log.append([AuditEvent(eventType: "x", timestamp: .now, id: "fresh")])
            #expect(log.head.lastSeq == SequenceNumber(4))
            try await log.close()
        }
    }

    /// A slice is appended as a batch of its own events, and errors count from its first
    /// event, whatever its place in the array it comes from.
    @Test func appendsASliceOfALargerArrayAsItsOwnBatch() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await AuditLog.open(directory: dir, options: testOptions())
            let all = events(10, prefix: "id-")
            let receipt = try await log.append(all[4..<7])
            #expect(receipt.firstSeq == SequenceNumber(1) && receipt.lastSeq == SequenceNumber(3))
            #expect(receipt.ids == ["id-4", "id-5", "id-6"])
            for (seq, source) in zip(1..., all[4..<7]) {
                #expect(try await log.record(at: SequenceNumber(UInt64(seq)))?.event == source)
            }
            // An id the log holds, third in a slice that starts at the array's second event.
            let repeating = events(3, prefix: "new-") + [all[5]] + events(2, prefix: "other-")
            do throws(AuditLogError) {
                _ = try await log.append(repeating[1...])
                Issue.record("an id already in the log was accepted from a slice")
            } catch {
                #expect(error.code == .duplicateID)
                #expect(error.message.contains("id-5"))
            }
            var bad = events(6, prefix: "bad-")
            bad[4].tokensOut = -1
            do throws(AuditLogError) {
                _ = try await log.append(bad[2...])
                Issue.record("an invalid event was accepted from a slice")
            } catch {
                #expect(error.code == .invalidEvent)
                #expect(error.location.index == 2, "counted from the slice's first event")
            }
            #expect(log.head.lastSeq == SequenceNumber(3), "nothing of the refused slices was stored")
            try await log.close()
        }
    }

    @Test func refusesInvalidEventsNamingIndexAndField() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await AuditLog.open(directory: dir, options: testOptions())
            var bad = events(3)
            bad[1].tokensOut = -1
            do throws(AuditLogError) {
                _ = try await log.append(bad)
                Issue.record("accepted")
            } catch {
                #expect(error.code == .invalidEvent)
                #expect(error.location.index == 1)
                #expect(error.location.field == "tokens_out")
            }
            await #expect(throws: AuditLogError.self) { _ = try await log.append([]) }
            #expect(log.head.lastSeq == nil)
            _ = try await log.append(events(1))
            #expect(log.head.lastSeq == SequenceNumber(1))
            try await log.close()
        }
    }

    @Test func aSecondWriterIsRefused() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await AuditLog.open(directory: dir, options: testOptions())
            do throws(AuditLogError) {
                _ = try await AuditLog.open(directory: dir, options: testOptions())
                Issue.record("second writer accepted")
            } catch {
                #expect(error.code == .locked)
            }
            // Readers are welcome.
            _ = try await AuditLog.open(directory: dir, options: .readOnly)
            try await log.close()
            let again = try await AuditLog.open(directory: dir, options: testOptions())
            try await again.close()
        }
    }

    @Test func readOnlyOpenOfAMissingLogFailsWithoutCreatingOne() async throws {
        try await withTemporaryDirectory { dir in
            do throws(AuditLogError) {
                _ = try await AuditLog.open(directory: dir + "/nothing", options: .readOnly)
                Issue.record("opened")
            } catch {
                #expect(error.code == .noLog)
            }
            #expect(!FileManager.default.fileExists(atPath: dir + "/nothing"))
        }
    }

    @Test func concurrentAppendersLoseNothingAndKeepSeqsDense() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await AuditLog.open(directory: dir, options: testOptions(segmentBytes: 256 << 10, durability: .syncEveryBatch))
            let receipts = try await withThrowingTaskGroup(of: [AppendReceipt].self) { group in
                for task in 0..<32 {
                    group.addTask {
                        var out: [AppendReceipt] = []
                        for batch in 0..<25 {
                            out.append(try await log.append(events(8, prefix: "t\(task)-b\(batch)-")))
                        }
                        return out
                    }
                }
                var all: [AppendReceipt] = []
                for try await r in group { all += r }
                return all
            }
            #expect(receipts.count == 800)
            let records = try await readAll(log)
            #expect(records.map(\.seq.rawValue) == Array(1...6400))
            // Every receipt names exactly its own events, contiguously.
            let idBySeq = Dictionary(uniqueKeysWithValues: records.map { ($0.seq.rawValue, $0.event.id ?? "") })
            for r in receipts {
                #expect(Array(r.firstSeq.rawValue...r.lastSeq.rawValue).map { idBySeq[$0] ?? "" } == r.ids)
            }
            #expect(Set(records.compactMap(\.event.id)).count == 6400)
            try await log.close()
            let report = try await AuditLog.verify(directory: dir)
            #expect(report.isIntact, "\(report.issues)")
        }
    }
}
