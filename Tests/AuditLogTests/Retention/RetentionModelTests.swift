import Foundation
import Testing

@_spi(Testing) @testable import AuditLog

/// Random retention histories checked against a model of what retention promises: appends whose
/// event times run out of seq order, holds placed and released, sweeps by age and by size (some cut
/// short by a failing deletion), reopens. After every sweep no event a hold in force covers is
/// gone, a sweep by age took only events older than its cutoff, and one by size that ran to the end
/// left the log within its size or kept what it did not delete; the holds the log lists are the
/// ones placed and not released; at every reopen and at the end the log opens, `verify` finds
/// nothing, and checkpoints signed before (the first, the last two) hold. Long power-cut runs
/// found, at about one cut in a thousand, two false reports these histories reach in seconds (a
/// range spanning a hold none of its segments met; a carried range judged by the sweep that
/// finished it), and a hold back in force once its release was swept.
@Suite(.serialized) struct RetentionModelTests {
    static let minute: Int64 = 60_000_000_000
    static let start = Timestamp(rfc3339: "2026-03-01T00:00:00Z") ?? Timestamp(nanosSinceEpoch: 0)

    func options() -> AuditLogOptions {
        var o = testOptions(segmentBytes: 4096)
        o.partition = .hour
        return o
    }

    /// Eight seeds; 200 with `AUDITLOG_RELIABILITY=long` (make reliability).
    static let seeds = (UInt64(1)...(CrashTests.long ? 200 : 8)).map { $0 }

    @Test(arguments: seeds)
    func randomHistoriesKeepWhatRetentionPromises(seed: UInt64) async throws {
        try await withTemporaryDirectory { dir in
            var rng = SplitMix64(seed: seed)
            let faults = FaultInjectingFileSystem()
            var log = try await AuditLog.open(directory: dir, options: options(), fileSystem: faults)
            var clock = Self.start
            var present: [String: Timestamp] = [:]
            var inForce: [String: LegalHold] = [:]
            var next = 0
            let signer = try NoteSigner(name: "retention.test/log", seed: Array(repeating: 7, count: 32))
            var checkpoints: [StoredCheckpoint] = []
            func minutes(_ m: Int) -> Duration { .nanoseconds(Int64(m) * Self.minute) }
            func step(_ s: Int) -> String { "seed \(seed), step \(s)" }

            for s in 0..<300 {
                switch rng.below(12) {
                case 0..<6:
                    // A batch of a few minutes' events, from up to twelve hours before the
                    // clock: segments of narrow spans, out of time order.
                    var batch: [AuditEvent] = []
                    let base = clock - minutes(rng.below(720))
                    for _ in 0..<(1 + rng.below(16)) {
                        var e = AuditEvent(eventType: "decision", timestamp: base + minutes(rng.below(5)))
                        e.id = "e\(next)"
                        e.user = "user\(rng.below(5))@acme.com"
                        e.verdict = .allow
                        e.requestID = String((0..<6).map { _ in String(rng.next(), radix: 16) }.joined().prefix(64))
                        next += 1
                        batch.append(e)
                    }
                    _ = try await log.append(batch)
                    for e in batch { present[e.id ?? ""] = e.timestamp }
                    clock = clock + minutes(10 + rng.below(50))
                case 6:
                    // A window; one in five holds everything up to its end.
                    let from = clock - minutes(rng.below(600))
                    let until = from + minutes(1 + rng.below(90))
                    let hold = try await log.placeHold(from: rng.below(5) == 0 ? nil : from, until: until, reason: "case \(s)", actor: "legal", now: clock)
                    inForce[hold.id] = hold
                case 7:
                    // In placement order (hold ids are random): a seed replays the history.
                    if let id = inForce.values.sorted(by: { $0.seq < $1.seq }).first(where: { _ in rng.below(2) == 0 })?.id {
                        try await log.releaseHold(id, actor: "legal", now: clock)
                        inForce[id] = nil
                    }
                case 8..<11:
                    let byAge = rng.below(3) != 0
                    let maxAge = Int64(60 + rng.below(600)) * Self.minute
                    let total = log.segments.reduce(Int64(0)) { $0 + $1.bytes }
                    let policy = byAge ? RetentionPolicy(maxAgeNanos: maxAge) : RetentionPolicy(maxAgeNanos: nil, maxTotalBytes: total * Int64(3 + rng.below(5)) / 10)
                    let interrupted = rng.below(4) == 0
                    if interrupted {
                        faults.inject(.init(operation: .remove, matching: ".seg", after: rng.below(3), times: nil, fault: .fail(EIO)))
                    }
                    let deletable = log.segments.dropLast().filter { $0.isSealed && $0.recordCount > 0 }
                    // Only an injected failure may stop a sweep: one that fails on its own
                    // would fail again at every later sweep, and the log would never shrink.
                    let report = interrupted ? try? await log.sweep(policy, actor: "ops", now: clock) : try await log.sweep(policy, actor: "ops", now: clock)
                    faults.clear()
                    // A sweep by size that ran to the end brought the log down to its size, or
                    // kept every deletable segment it did not delete.
                    if let report, let maxBytes = policy.maxTotalBytes {
                        let left = total - report.segments.reduce(Int64(0)) { $0 + $1.bytes }
                        let passedOver = deletable.filter { s in !report.segments.contains(s) && !report.heldSegments.contains(s) }
                        #expect(left <= maxBytes || passedOver.isEmpty, "\(step(s)): \(left) bytes left of \(maxBytes), \(passedOver.count) deletable segments neither deleted nor held")
                    }
                    // What is gone must have been free to go.
                    var gone: [(String, Timestamp)] = []
                    for (id, time) in present where try await log.event(id: id) == nil { gone.append((id, time)) }
                    for (id, time) in gone {
                        present[id] = nil
                        for hold in inForce.values where hold.covers(minNanos: time.nanosSinceEpoch, maxNanos: time.nanosSinceEpoch) {
                            Issue.record("\(step(s)): event \(id) at \(time.rfc3339) was swept under hold \(hold.reason)")
                        }
                        if byAge && time.nanosSinceEpoch >= clock.nanosSinceEpoch - maxAge {
                            Issue.record("\(step(s)): event \(id) at \(time.rfc3339) was newer than the sweep's cutoff")
                        }
                    }
                default:
                    // A checkpoint signed before the reopen: the first and the last two signed
                    // so far must still hold against the records and the tree the sweeps left.
                    checkpoints.append(try await log.signCheckpoint(with: signer))
                    try await log.close()
                    let report = try await AuditLog.verify(directory: dir)
                    #expect(report.isIntact, "\(step(s)): \(report.issues)")
                    for checkpoint in Set(checkpoints.prefix(1) + checkpoints.suffix(2)) {
                        let audit = try await AuditLog.auditTree(directory: dir, checkpoint: checkpoint.note, verifier: signer.verifier)
                        #expect(audit.isConsistent, "\(step(s)): checkpoint of size \(checkpoint.checkpoint.size): \(audit.findings)")
                    }
                    log = try await AuditLog.open(directory: dir, options: options(), fileSystem: faults)
                }
                let listed = try await log.holds().map(\.id).sorted()
                #expect(listed == inForce.keys.sorted(), "\(step(s)): the holds the log lists")
            }
            try await log.close()
            let report = try await AuditLog.verify(directory: dir)
            #expect(report.isIntact, "seed \(seed), at the end: \(report.issues)")
        }
    }
}
