import Foundation
import Testing

@testable import AuditLog

/// A real full disk: a 2 MiB tmpfs mounted for the test (root only; skipped with a message
/// otherwise). Appends fill it until the kernel says ENOSPC; the log reports it, keeps every
/// acknowledged event, and takes appends again once space is freed.
@Suite struct FullDiskTests {
    static func run(_ arguments: [String]) -> Bool {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = arguments
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }

    @Test func appendsOnAFullTmpfsFailCleanlyAndResumeWhenSpaceIsFreed() async throws {
        try await withTemporaryDirectory { mountPoint in
            guard getuid() == 0, Self.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mountPoint]) else {
                print("FullDiskTests: skipped (needs root and permission to mount a tmpfs)")
                return
            }
            // Lazy: detaches even while a file of the log is still open.
            defer { _ = Self.run(["umount", "-l", mountPoint]) }
            // Room to free later.
            let filler = mountPoint + "/filler"
            try Data(count: 512 << 10).write(to: URL(fileURLWithPath: filler))
            let dir = mountPoint + "/log"
            var options = AuditLogOptions()
            options.durability = .syncEveryBatch
            let log = try await AuditLog.open(directory: dir, options: options)
            var acknowledged: [AuditEvent] = []
            var failure: AuditLogError?
            var generator = EventGenerator(seed: 5, count: 100_000, days: 0.2, end: Timestamp(rfc3339: "2026-03-21T00:00:00Z")!)
            fill: while true {
                var batch: [AuditEvent] = []
                while batch.count < 200, let e = generator.next() { batch.append(e) }
                do {
                    _ = try await log.append(batch)
                    acknowledged += batch
                } catch let error as AuditLogError {
                    failure = error
                    break fill
                }
            }
            let error = try #require(failure)
            #expect(error.code == .io)
            #expect((error.cause as? SystemCallError)?.errno == ENOSPC, "\(error)")
            #expect(error.location.file?.hasPrefix("segments/") == true, "\(error)")
            let stored = try await readAll(log)
            #expect(stored.map(\.event.id) == acknowledged.map(\.id))

            try FileManager.default.removeItem(atPath: filler)
            let more = Array((0..<50).compactMap { _ in generator.next() })
            let receipt = try await log.append(more)
            #expect(receipt.firstSeq.rawValue == UInt64(acknowledged.count + 1))
            try await log.close()
            let report = try await AuditLog.verify(directory: dir)
            #expect(report.isIntact && report.recordsChecked == UInt64(acknowledged.count + 50), "\(report)")
        }
    }
}
