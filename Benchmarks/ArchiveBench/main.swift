// What the archive costs and how it reads (issue 18), in process, release build, against moto
// on loopback through scripts/flaky-s3-proxy.py (which counts requests and can add a delay):
//   Benchmarks/archive.sh [EVENTS] [FLEET_EVENTS]
// 1. Appends (batches of 1,000, no fsync) with and without an archive, alternating runs, and
//    how fast sealed segments reach the store (segments/s, MB/s, from the first append until
//    every sealed segment is confirmed).
// 2. On a log of EVENTS events evicted to the store: newest 50 blocked and one user's day, with
//    a cold local cache (none) and warm (the same reader again), requests per query; through a
//    proxy adding no delay and one adding 20 ms a request.
// 3. A fleet of three logs of FLEET_EVENTS events each: opening it (a mirror from nothing),
//    usage by team, cold and warm.
import AuditLog
import Foundation

let env = ProcessInfo.processInfo.environment
let events = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 1_000_000
let fleetEvents = Int(CommandLine.arguments.dropFirst(2).first ?? "") ?? 1_000_000
guard let fast = env["ARCHIVE_FAST_ENDPOINT"], let slow = env["ARCHIVE_SLOW_ENDPOINT"] else {
    print("run through Benchmarks/archive.sh (it starts moto and the proxies)")
    exit(2)
}
let end = Timestamp(rfc3339: "2026-03-21T00:00:00Z") ?? .now
let work = NSTemporaryDirectory() + "archive-bench-\(getpid())"
try? FileManager.default.removeItem(atPath: work)
try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: work) }

func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
func now() -> ContinuousClock.Instant { ContinuousClock.now }

func archive(_ endpoint: String, prefix: String) throws -> ArchiveOptions {
    ArchiveOptions(location: try ArchiveLocation(url: "s3://bench/\(prefix)", endpoint: endpoint))
}

/// Requests the proxy at `endpoint` has forwarded.
func requests(_ endpoint: String) throws -> Int {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["curl", "-s", endpoint + "/__requests"]
    let out = Pipe()
    p.standardOutput = out
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return Int(String(decoding: data, as: UTF8.self)) ?? -1
}

func batches(_ count: Int, seed: UInt64) -> [[AuditEvent]] {
    var generator = EventGenerator(seed: seed, count: count, days: 30, end: end)
    var out: [[AuditEvent]] = []
    var batch: [AuditEvent] = []
    while let e = generator.next() {
        batch.append(e)
        if batch.count == 1_000 {
            out.append(batch)
            batch = []
        }
    }
    if !batch.isEmpty { out.append(batch) }
    return out
}

/// Appends `input` to a new log at `dir`; with `archive`, also waits until every sealed segment
/// is confirmed. Returns (append events/s, seconds until uploaded, segments, bytes uploaded).
func appendRun(_ input: [[AuditEvent]], dir: String, archive: ArchiveOptions?) async throws -> (rate: Double, upload: Double, segments: Int, bytes: Int64) {
    try? FileManager.default.removeItem(atPath: dir)
    var options = AuditLogOptions()
    options.durability = .none
    options.archive = archive
    let log = try await AuditLog.open(directory: dir, options: options)
    let start = now()
    for batch in input { _ = try await log.append(batch) }
    let appended = seconds(now() - start)
    let count = input.reduce(0) { $0 + $1.count }
    guard archive != nil else {
        try await log.close()
        return (Double(count) / appended, 0, 0, 0)
    }
    while let status = log.archiveStatus(), status.pendingSegments > 0 { try await Task.sleep(for: .milliseconds(5)) }
    let uploaded = seconds(now() - start)
    let status = log.archiveStatus()
    try await log.close()
    return (Double(count) / appended, uploaded, status?.uploadedSegments ?? 0, status?.uploadedBytes ?? 0)
}

print("archive benchmark: \(events) events (30 days), fleet of 3 × \(fleetEvents), moto on loopback")
print("")

// 1. Appends with and without the archive (at most 1,000,000 events, generated beforehand).
let input = batches(min(events, 1_000_000), seed: 1)
var plain: [Double] = []
var archived: [(rate: Double, upload: Double, segments: Int, bytes: Int64)] = []
let runs = Int(env["ARCHIVE_RUNS"] ?? "") ?? 3
for run in 0..<runs {
    plain.append(try await appendRun(input, dir: work + "/plain", archive: nil).rate)
    archived.append(try await appendRun(input, dir: work + "/log", archive: try archive(fast, prefix: "run\(run)")))
    try? FileManager.default.removeItem(atPath: work + "/plain")
}
let bestPlain = plain.max() ?? 0
let bestArchived = archived.max { $0.rate < $1.rate }!
print(String(format: "appends, no archive (best of %d)          %9.0f events/s", runs, bestPlain))
print(String(format: "appends, archiving (best of %d)           %9.0f events/s  (%.2f× of no archive)", runs, bestArchived.rate, bestArchived.rate / bestPlain))
let up = archived.last!
print(
    String(
        format: "upload: %d segments, %.1f MB in %.2f s   %9.1f segments/s, %.1f MB/s (first append to last confirmed)", up.segments, Double(up.bytes) / 1e6,
        up.upload, Double(up.segments) / up.upload, Double(up.bytes) / 1e6 / up.upload))
print("")

// 2. Queries on the evicted log: the last run's, or, for more than 1,000,000 events, one
// appended (generated as it goes) and uploaded for the purpose.
var queried = "run\(runs - 1)"
if events > 1_000_000 {
    queried = "big"
    try? FileManager.default.removeItem(atPath: work + "/log")
    var options = AuditLogOptions()
    options.durability = .none
    options.archive = try archive(fast, prefix: queried)
    let log = try await AuditLog.open(directory: work + "/log", options: options)
    var generator = EventGenerator(seed: 1, count: events, days: 30, end: end)
    var batch: [AuditEvent] = []
    let start = now()
    while let e = generator.next() {
        batch.append(e)
        if batch.count == 1_000 {
            _ = try await log.append(batch)
            batch.removeAll(keepingCapacity: true)
        }
    }
    if !batch.isEmpty { _ = try await log.append(batch) }
    while let status = log.archiveStatus(), status.pendingSegments > 0 { try await Task.sleep(for: .milliseconds(5)) }
    let status = log.archiveStatus()
    let took = seconds(now() - start)
    try await log.close()
    print(
        String(
            format: "%d events generated, appended and uploaded in %.1f s: %d segments, %.1f MB (%.1f MB/s)", events, took, status?.uploadedSegments ?? 0,
            Double(status?.uploadedBytes ?? 0) / 1e6, Double(status?.uploadedBytes ?? 0) / 1e6 / took))
}
do {
    var evict = AuditLogOptions()
    evict.durability = .none
    evict.archive = try archive(fast, prefix: queried)
    evict.archive?.localRetention = .zero
    try await AuditLog.open(directory: work + "/log", options: evict).close()
    let local = try FileManager.default.contentsOfDirectory(atPath: work + "/log/segments").filter { $0.hasSuffix(".seg") }.count
    print("evicted: \(local) segment file(s) left on disk (the active one)")
}
let sample = input[input.count / 2][0]
let user = sample.user ?? ""
let day = Timestamp(nanosSinceEpoch: sample.timestamp.nanosSinceEpoch / 86_400_000_000_000 * 86_400_000_000_000)
let queries: [(String, Query)] = [
    ("newest 50 blocked", Query(filter: EventFilter(verdicts: [.block]), order: .newestFirst, limit: 50)),
    (
        "newest 50 blocked before day 15",
        Query(window: TimeWindow(until: day), filter: EventFilter(verdicts: [.block]), order: .newestFirst, limit: 50)
    ),
    ("one user's day (\(user))", Query(window: TimeWindow(since: day, until: day + .days(1)), filter: EventFilter(users: [user]), order: .oldestFirst)),
]
for (label, endpoint) in [("loopback", fast), ("+20 ms a request", slow)] {
    try? FileManager.default.removeItem(atPath: work + "/log/archive-cache")
    var options = AuditLogOptions.readOnly
    options.archive = try archive(endpoint, prefix: queried)
    let before = try requests(endpoint)
    let openStart = now()
    let reader = try await AuditLog.open(directory: work + "/log", options: options)
    print(String(format: "open (%@)                         %8.1f ms, %d requests", label, seconds(now() - openStart) * 1000, try requests(endpoint) - before))
    for (name, query) in queries {
        for cache in ["cold", "warm"] {
            let r0 = try requests(endpoint)
            let t0 = now()
            var n = 0
            for try await _ in reader.query(query) { n += 1 }
            let ms = seconds(now() - t0) * 1000
            print(
                String(
                    format: "%-34@ %-18@ %8.1f ms, %4d requests, %d events", name as NSString, "\(cache), \(label)" as NSString, ms, try requests(endpoint) - r0, n))
        }
    }
}
print("")

// 3. A fleet of three logs.
var fleetTotal = 0
for n in 0..<3 {
    var options = AuditLogOptions()
    options.durability = .none
    options.archive = try archive(fast, prefix: "fleet")
    options.archive?.localRetention = .zero
    let log = try await AuditLog.open(directory: work + "/node\(n)", options: options)
    for batch in batches(fleetEvents, seed: UInt64(10 + n)) { _ = try await log.append(batch) }
    fleetTotal += Int(log.head.lastSeq?.rawValue ?? 0)
    try await log.close()
}
for (label, endpoint) in [("loopback", fast), ("+20 ms a request", slow)] {
    let mirror = work + "/fleet-\(label.count)"
    let r0 = try requests(endpoint)
    let t0 = now()
    let fleet = try await AuditLog.openFleet(archive: try archive(endpoint, prefix: "fleet"), directory: mirror)
    print(String(format: "fleet open, empty mirror (%@)   %8.1f ms, %d requests, %d nodes", label, seconds(now() - t0) * 1000, try requests(endpoint) - r0, fleet.nodes.count))
    for cache in ["cold", "warm"] {
        let r1 = try requests(endpoint)
        let t1 = now()
        let report = try await fleet.usage(groupBy: [.team])
        print(
            String(
                format: "fleet usage by team, %@ (%@)  %8.1f ms, %4d requests, %lld requests counted", cache, label, seconds(now() - t1) * 1000, try requests(endpoint) - r1,
                report.totals.requests))
    }
}
print("(fleet: \(fleetTotal) events appended across the nodes; the active segments stay local)")
