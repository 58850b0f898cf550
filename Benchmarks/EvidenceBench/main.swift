// What the Merkle tree and signed checkpoints cost (issue 15), in process, release build:
//   Benchmarks/evidence.sh [EVENTS]      (default 10,000,000)
// 1. Append throughput with the tree against the same appends without it (the writer's
//    `keepsMerkleTree` seam), 1M events in batches of 1,000, no fsync, alternating runs.
// 2. On a log of EVENTS events with a signed checkpoint: an inclusion bundle (random seq) and a
//    consistency bundle (random old size), each built and checked by the library — the median
//    and the 99th percentile of 200, from a handle opened for it.
// 3. Checkpoint signing: the Ed25519 signed note alone, and `signCheckpoint` end to end (root,
//    consistency with the last one, appended and synced to the history) after each append.
@_spi(Testing) import AuditLog
import Foundation

func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

func timed(_ body: () async throws -> Void) async rethrows -> Double {
    let start = ContinuousClock.now
    try await body()
    return seconds(ContinuousClock.now - start)
}

func fresh(_ name: String) -> String {
    let dir = NSTemporaryDirectory() + "evidence-bench-\(name)-\(getpid())"
    try? FileManager.default.removeItem(atPath: dir)
    return dir
}

/// Appends `count` generated events in batches of 1,000; returns events per second.
func append(_ count: Int, to dir: String, tree: Bool) async throws -> Double {
    var options = AuditLogOptions()
    options.durability = .none
    options.keepsMerkleTree = tree
    let log = try await AuditLog.open(directory: dir, options: options)
    var generator = EventGenerator(seed: 1, count: count, days: 30, end: Timestamp(rfc3339: "2026-03-21T00:00:00Z") ?? .now)
    var batches: [[AuditEvent]] = []
    var batch: [AuditEvent] = []
    while let e = generator.next() {
        batch.append(e)
        if batch.count == 1_000 {
            batches.append(batch)
            batch = []
        }
    }
    if !batch.isEmpty { batches.append(batch) }
    let t = try await timed {
        for b in batches { _ = try await log.append(b) }
        try await log.close()
    }
    return Double(count) / t
}

func percentile(_ values: [Double], _ p: Double) -> Double {
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}

func ms(_ s: Double) -> String { String(format: "%.3f ms", s * 1e3) }

let arguments = CommandLine.arguments
let events = arguments.count > 1 ? Int(arguments[1]) ?? 10_000_000 : 10_000_000
let signer = try NoteSigner(name: "bench.example/log", seed: Array(repeating: 3, count: 32))

print("== append throughput, 1,000,000 events in batches of 1,000 (durability none)")
var with: [Double] = []
var without: [Double] = []
for run in 0..<3 {
    // Alternating which goes first, so that neither always runs on a cold machine.
    for tree in run % 2 == 0 ? [false, true] : [true, false] {
        let dir = fresh("append-\(run)-\(tree)")
        let rate = try await append(1_000_000, to: dir, tree: tree)
        try? FileManager.default.removeItem(atPath: dir)
        if tree { with.append(rate) } else { without.append(rate) }
    }
    print(String(format: "run %d: without the tree %.0f events/s, with it %.0f events/s (%.1f%%)", run + 1, without[run], with[run], with[run] / without[run] * 100))
}
print(String(format: "median of each: %.1f%% of the throughput without the tree", with.sorted()[1] / without.sorted()[1] * 100))

print("== proofs on a log of \(events) events")
let dir = fresh("proofs")
let built = try await append(events, to: dir, tree: true)
print(String(format: "built at %.0f events/s", built))
let writer = try await AuditLog.open(directory: dir)
_ = try await writer.signCheckpoint(with: signer)
try await writer.close()
let log = try await AuditLog.open(directory: dir, options: .readOnly)
let verifier = signer.verifier
var rng = SystemRandomNumberGenerator()
var inclusion: [Double] = []
var consistency: [Double] = []
for _ in 0..<200 {
    let seq = SequenceNumber(UInt64.random(in: 1...UInt64(events), using: &rng))
    inclusion.append(
        try await timed {
            let bundle = try await log.inclusionBundle(seq: seq, size: nil)
            _ = try ProofCheck.check(bundle.jsonText, verifier: verifier)
        })
    let old = UInt64.random(in: 1...UInt64(events), using: &rng)
    consistency.append(try await timed { _ = try await log.consistencyBundle(oldSize: old, newSize: nil) })
}
print("inclusion bundle (built, self-checked, then checked by ProofCheck): median \(ms(percentile(inclusion, 0.5))), p99 \(ms(percentile(inclusion, 0.99))), first \(ms(inclusion[0]))")
print("consistency bundle (built and self-checked): median \(ms(percentile(consistency, 0.5))), p99 \(ms(percentile(consistency, 0.99))), first \(ms(consistency[0]))")
try await log.close()
try? FileManager.default.removeItem(atPath: dir)

print("== checkpoint signing")
let text = "bench.example/log\n10000000\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
let n = 5_000
let raw = try await timed { for _ in 0..<n { _ = try SignedNote(signing: text, with: signer) } }
print(String(format: "signed notes alone: %.0f/s", Double(n) / raw))
let signDir = fresh("sign")
var options = AuditLogOptions()
options.durability = .none
let signing = try await AuditLog.open(directory: signDir, options: options)
var one = EventGenerator(seed: 2, count: 2_000, days: 1, end: Timestamp(rfc3339: "2026-03-21T00:00:00Z") ?? .now)
let m = 1_000
var signTime = 0.0
for _ in 0..<m {
    guard let e = one.next() else { break }
    _ = try await signing.append([e])
    let start = ContinuousClock.now
    _ = try await signing.signCheckpoint(with: signer)
    signTime += seconds(ContinuousClock.now - start)
}
print(String(format: "signCheckpoint after each append (root, consistency check, history appended and synced): %.0f/s", Double(m) / signTime))
try await signing.close()
try? FileManager.default.removeItem(atPath: signDir)
