import Foundation
import Testing

@_spi(Testing) @testable import AuditLog

/// Failed writes, short writes, failed syncs, ENOSPC, failed creates and renames at chosen
/// points (through a ``FaultInjectingFileSystem`` under the log): the failing call reports a
/// clear I/O error naming the file, the log stays exactly as it was, and it accepts appends
/// again once the fault clears.
@Suite struct IOFaultTests {
    static let hour: Int64 = 3_600_000_000_000
    static let start = Timestamp(rfc3339: "2026-03-20T00:00:00Z")!

    /// Where the fault strikes.
    struct Scenario: CustomTestStringConvertible, Sendable {
        var name: String
        var operation: FaultInjectingFileSystem.Operation
        var fault: FaultInjectingFileSystem.Fault
        /// Segment files only by default: the background index writer must not take the fault.
        var matching = ".seg"
        var after = 0
        /// The failing batch's events fall in the next hour (the append seals and rolls).
        var rolls = false

        var testDescription: String { name }
    }

    static let scenarios: [Scenario] = [
        Scenario(name: "write fails (EIO)", operation: .write, fault: .fail(EIO)),
        Scenario(name: "short write, then ENOSPC", operation: .write, fault: .shortWrite(ENOSPC)),
        Scenario(name: "fdatasync fails (EIO)", operation: .sync, fault: .fail(EIO)),
        Scenario(name: "footer write fails while sealing", operation: .write, fault: .fail(ENOSPC), rolls: true),
        Scenario(name: "sync fails while sealing", operation: .sync, fault: .fail(EIO), rolls: true),
        Scenario(name: "new segment cannot be created", operation: .create, fault: .fail(ENOSPC), matching: ".seg", rolls: true),
        Scenario(name: "new segment header write fails", operation: .write, fault: .shortWrite(ENOSPC), after: 1, rolls: true),
        Scenario(name: "directory sync fails after a roll", operation: .syncDirectory, fault: .fail(EIO), matching: "segments", rolls: true),
        Scenario(name: "first frame in the new segment fails", operation: .write, fault: .fail(EIO), after: 2, rolls: true),
    ]

    static func batch(_ n: Int, hour: Int64, tag: String) -> [AuditEvent] {
        events(n, from: Timestamp(nanosSinceEpoch: start.nanosSinceEpoch + hour * Self.hour), stepSeconds: 1, prefix: "evt_\(tag)_")
    }

    static func options() -> AuditLogOptions {
        var o = AuditLogOptions()
        o.durability = .syncEveryBatch
        o.partition = .hour
        return o
    }

    @Test(arguments: scenarios)
    func aFaultFailsTheAppendLeavesTheLogIntactAndClears(_ scenario: Scenario) async throws {
        try await withTemporaryDirectory { dir in
            let faults = FaultInjectingFileSystem()
            let log = try await AuditLog.open(directory: dir, options: Self.options(), fileSystem: faults)
            for i in 0..<3 { _ = try await log.append(Self.batch(50, hour: 0, tag: "ok\(i)")) }
            let before = try await readAll(log)

            if scenario.rolls {
                // The index of the segment sealed now is written in the background, with its own
                // writes and directory sync: keep it from reaching them (and taking the fault).
                faults.inject(.init(operation: .rename, matching: ".idx", times: nil, fault: .fail(EIO)))
            }
            faults.inject(.init(operation: scenario.operation, matching: scenario.matching, after: scenario.after, fault: scenario.fault))
            let failing = Self.batch(40, hour: scenario.rolls ? 1 : 0, tag: "failed")
            let error = await #expect(throws: AuditLogError.self) { try await log.append(failing) }
            #expect(error?.code == .io, "\(String(describing: error))")
            #expect(error?.location.file != nil, "the error names the file")
            #expect(try await readAll(log) == before)
            faults.clear()

            // Appends work again, with the next seq; the failed batch's ids are free.
            let receipt = try await log.append(failing)
            #expect(receipt.firstSeq == SequenceNumber(151))
            _ = try await log.append(Self.batch(10, hour: 2, tag: "later"))
            let all = try await readAll(log)
            #expect(all.map(\.seq.rawValue) == Array(1...200))
            #expect(Array(all.prefix(150)) == before)
            try await log.close()

            let report = try await AuditLog.verify(directory: dir)
            #expect(report.isIntact && report.recordsChecked == 200, "\(report)")
            let reopened = try await AuditLog.open(directory: dir, options: .readOnly)
            #expect(try await readAll(reopened) == all)
        }
    }

    @Test func aFailedIndexWriteOnlyCostsARebuild() async throws {
        try await withTemporaryDirectory { dir in
            let faults = FaultInjectingFileSystem()
            faults.inject(.init(operation: .rename, matching: ".idx", times: nil, fault: .fail(ENOSPC)))
            let log = try await AuditLog.open(directory: dir, options: Self.options(), fileSystem: faults)
            for h in 0..<3 { _ = try await log.append(Self.batch(30, hour: Int64(h), tag: "h\(h)")) }
            try await log.close()
            let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/segments")
            #expect(!files.contains { $0.hasSuffix(".idx") || $0.contains(".tmp") }, "\(files)")
            let reader = try await AuditLog.open(directory: dir, options: .readOnly)
            var blocked = 0
            for try await _ in reader.query(Query(filter: EventFilter(verdicts: [.block]))) { blocked += 1 }
            #expect(blocked == (try await readAll(reader)).filter { $0.event.verdict == .block }.count)
            #expect(reader.indexRebuilds.count == 2)
        }
    }

    @Test func aSweepThatCannotDeleteEverythingLeavesAConsistentLogAndFinishesLater() async throws {
        try await withTemporaryDirectory { dir in
            let faults = FaultInjectingFileSystem()
            let log = try await AuditLog.open(directory: dir, options: Self.options(), fileSystem: faults)
            for h in 0..<5 { _ = try await log.append(Self.batch(20, hour: Int64(h), tag: "h\(h)")) }
            // The second segment file cannot be deleted.
            faults.inject(.init(operation: .remove, matching: ".seg", after: 1, fault: .fail(EIO)))
            let now = Timestamp(nanosSinceEpoch: Self.start.nanosSinceEpoch + 10 * Self.hour)
            let policy = RetentionPolicy(maxAgeNanos: 7 * Self.hour)
            await #expect(throws: AuditLogError.self) { _ = try await log.sweep(policy, actor: "test", now: now) }
            faults.clear()
            // Whatever is left reads and verifies; a second sweep removes the rest.
            _ = try await readAll(log)
            _ = try await log.sweep(policy, actor: "test", now: now)
            _ = try await log.append(Self.batch(5, hour: 9, tag: "after"))
            try await log.close()
            let report = try await AuditLog.verify(directory: dir)
            #expect(report.isIntact, "\(report)")
            let reopened = try await AuditLog.open(directory: dir, options: .readOnly)
            let left = try await readAll(reopened)
            #expect(left.allSatisfy { $0.event.timestamp.nanosSinceEpoch >= Self.start.nanosSinceEpoch + 3 * Self.hour })
        }
    }
}
