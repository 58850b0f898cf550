// The writer the crash test kills (Tests/AuditLogTests/Reliability/CrashTests.swift): appends
// generated events from 4 concurrent tasks with an fdatasync before every acknowledgement, to
// a log with small segments and hourly partitions (so segments seal and index files are
// written all the time) and frames as rows in even runs, as columns in odd ones; signs
// checkpoints, sweeps retention (by age and by size) and places or releases a legal hold every
// few batches, and records every acknowledged event as `<seq>\t<event JSON>` in an acks file —
// one write(2) per batch, after the append returned. It runs until it is killed.
//
// Usage: AuditLogCrashWriter <log dir> <acks file> <run number> [<operation>:<path fragment>:<after>[:skip]]
// The optional crash point makes it SIGKILL itself at that system call (a FaultInjectingFileSystem
// under the log); with `:skip`, every such call from the `after`th on is left out instead (the
// power-cut test's check that its file system catches a missing directory fsync).
@_spi(Testing) import AuditLog
import Foundation

let arguments = CommandLine.arguments
guard arguments.count >= 4, let run = Int(arguments[3]) else {
    FileHandle.standardError.write(Data("usage: AuditLogCrashWriter <dir> <acks> <run> [op:fragment:after[:skip]]\n".utf8))
    exit(64)
}
let directory = arguments[1]
let acksPath = arguments[2]
let fileSystem = FaultInjectingFileSystem()
if arguments.count >= 5 {
    let parts = arguments[4].split(separator: ":", omittingEmptySubsequences: false).map(String.init)
    if parts.count >= 3, let operation = FaultInjectingFileSystem.Operation(rawValue: parts[0]), let after = Int(parts[2]) {
        let skip = parts.count == 4 && parts[3] == "skip"
        fileSystem.inject(.init(operation: operation, matching: parts[1], after: after, times: skip ? nil : 1, fault: skip ? .skip : .crash))
    }
}

let acks = open(acksPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
guard acks >= 0 else { exit(74) }

var options = AuditLogOptions()
options.durability = .syncEveryBatch
options.partition = .hour
options.segmentSizeLimitBytes = 96 << 10
// Odd runs store frames as columns, even runs as rows: the log mixes segment versions 1 and 2,
// and a cut can tear either kind of frame.
options.frameEncoding = run % 2 == 1 ? .columns : .rows

/// Event time moves 2 hours a run and 4 seconds an event: partitions roll within a run.
let hour: Int64 = 3_600_000_000_000
let base = (Timestamp(rfc3339: "2026-01-01T00:00:00Z")?.nanosSinceEpoch ?? 0) + Int64(run) * 2 * hour

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    func take(_ n: Int) -> Int {
        lock.withLock {
            defer { next += n }; return next
        }
    }
}

/// The key the crash test checks the checkpoints with (CrashTests.signer).
let signer: NoteSigner
do { signer = try NoteSigner(name: "crash.test/log", seed: Array(repeating: 5, count: 32)) } catch { exit(70) }

do {
    let log = try await AuditLog.open(directory: directory, options: options, fileSystem: fileSystem)
    let counter = Counter()
    try await withThrowingTaskGroup(of: Void.self) { group in
        for task in 0..<4 {
            group.addTask {
                var generator = EventGenerator(seed: UInt64(run * 16 + task), count: Int.max / 2, days: 1, end: Timestamp(nanosSinceEpoch: base))
                var batches = 0
                while true {
                    let size = 1 + (batches * 7 + task * 13) % 40
                    let first = counter.take(size)
                    var batch: [AuditEvent] = []
                    for k in 0..<size {
                        guard var e = generator.next() else { return }
                        e.id = "evt_r\(run)_\(first + k)"
                        e.timestamp = Timestamp(nanosSinceEpoch: base + Int64(first + k) * 4_000_000_000)
                        batch.append(e)
                    }
                    let receipt = try await log.append(batch)
                    var line = ""
                    for (k, e) in batch.enumerated() {
                        line += "\(receipt.firstSeq.rawValue + UInt64(k))\t\(e.jsonText())\n"
                    }
                    let bytes = Array(line.utf8)
                    _ = bytes.withUnsafeBytes { write(acks, $0.baseAddress, $0.count) }
                    batches += 1
                    if task == 1, batches % 6 == 0 {
                        // Checkpoints signed between appends and sweeps: a kill may cut the
                        // history's append, and the next run must still sign consistently.
                        _ = try await log.signCheckpoint(with: signer)
                    }
                    let now = Timestamp(nanosSinceEpoch: base + Int64(first + size) * 4_000_000_000)
                    if task == 0, batches % 8 == 0 {
                        // Keep 3 hours of event time behind the newest event, or (every other
                        // sweep) 768 KiB of segments: by age and by size the deleted segments
                        // are not the same, nor nested, across runs whose times overlap.
                        let policy = batches % 16 == 0 ? RetentionPolicy(maxTotalBytes: 768 << 10) : RetentionPolicy(maxAgeNanos: 3 * hour)
                        _ = try await log.sweep(policy, actor: "crash-writer", now: now)
                    }
                    if task == 2, batches % 10 == 0 {
                        // A legal hold on the hour the age sweeps are about to reach, placed
                        // and released in turn (the first release: a hold a killed run left).
                        if let hold = try await log.holds().first {
                            try await log.releaseHold(hold.id, actor: "crash-writer", now: now)
                        } else {
                            let from = Timestamp(nanosSinceEpoch: now.nanosSinceEpoch - 4 * hour)
                            _ = try await log.placeHold(from: from, until: Timestamp(nanosSinceEpoch: from.nanosSinceEpoch + hour), reason: "crash test", actor: "crash-writer", now: now)
                        }
                    }
                }
            }
        }
        try await group.waitForAll()
    }
} catch {
    FileHandle.standardError.write(Data("AuditLogCrashWriter: \(error)\n".utf8))
    exit(1)
}
