import AuditLog
import Benchmark
import CompareSupport
import Foundation

// AuditLog and SQLite (GRDB) side by side in the package-benchmark harness: every workload of
// Benchmarks/compare.sh as a pair "AuditLog: …" / "SQLite: …" on the same generated events.
//
//   AUDITLOG_BENCHMARKS=1 swift package --disable-sandbox benchmark --target CompareBenchmarks
//
// AUDITLOG_COMPARE_EVENTS sets the size of the loaded stores (default 1,000,000); they are built
// once in the temporary directory and reused while intact.

let compareEvents = ProcessInfo.processInfo.environment["AUDITLOG_COMPARE_EVENTS"].flatMap { Int($0) } ?? 1_000_000

/// The dataset and both stores loaded with it, made once per process.
final class Prebuilt: @unchecked Sendable {
    private let lock = NSLock()
    private var cachedDataset: CompareDataset?
    private var cachedStores: LoadedStores?

    var dataset: CompareDataset {
        lock.withLock {
            if let cachedDataset { return cachedDataset }
            let d = CompareDataset(count: compareEvents)
            cachedDataset = d
            return d
        }
    }

    func stores() async throws -> LoadedStores {
        if let s = lock.withLock({ cachedStores }) { return s }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("auditlog-compare-prebuilt-\(compareEvents)").path
        let logDir = root + "/auditlog"
        let dbPath = root + "/events.sqlite"
        let intact = await Self.isIntact(logDir: logDir, dbPath: dbPath)
        if !intact {
            try? FileManager.default.removeItem(atPath: root)
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            try await AppendWorkloads.bulkAuditLog(dataset.events[...], directory: logDir)
            try AppendWorkloads.bulkSQLite(dataset.events[...], path: dbPath)
        }
        let stores = try await LoadedStores(logDirectory: logDir, databasePath: dbPath, user: dataset.user, ids: dataset.ids)
        lock.withLock { cachedStores = stores }
        return stores
    }

    /// Whether a previous run left both stores complete (and this build reads the log).
    private static func isIntact(logDir: String, dbPath: String) async -> Bool {
        guard let report = try? await AuditLog.verify(directory: logDir), report.isIntact, report.recordsChecked == UInt64(compareEvents),
            let store = try? SQLiteStore(path: dbPath, synchronous: "NORMAL", create: false)
        else { return false }
        return (try? store.count()) == compareEvents
    }
}

let prebuilt = Prebuilt()

func scratchPath(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("auditlog-compare-\(UUID().uuidString)-\(name)").path
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.wallClock, .throughput], timeUnits: .microseconds, warmupIterations: 1, maxDuration: .seconds(10), maxIterations: 200)

    // Appends: a fresh store every iteration.
    let bulk = 100_000
    let appendConfiguration = Benchmark.Configuration(metrics: [.wallClock, .throughput], timeUnits: .milliseconds, warmupIterations: 1, maxDuration: .seconds(20), maxIterations: 10)
    Benchmark("AuditLog: bulk append, batches of 1,000 (per 100,000 events)", configuration: appendConfiguration) { benchmark in
        let events = prebuilt.dataset.events.prefix(bulk)
        let dir = scratchPath("log")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        benchmark.startMeasurement()
        try await AppendWorkloads.bulkAuditLog(events, directory: dir)
        benchmark.stopMeasurement()
    }
    Benchmark("SQLite: bulk append, batches of 1,000 (per 100,000 events)", configuration: appendConfiguration) { benchmark in
        let events = prebuilt.dataset.events.prefix(bulk)
        let path = scratchPath("events.sqlite")
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        benchmark.startMeasurement()
        try AppendWorkloads.bulkSQLite(events, path: path)
        benchmark.stopMeasurement()
    }
    // The comparison's durable row (`AppendWorkloads.durableTasks`, batches of
    // `durableBatchSize`), two batches a task.
    let durableBatches = 2
    let durableEvents = AppendWorkloads.durableTasks * durableBatches * AppendWorkloads.durableBatchSize
    let durableShape = "\(AppendWorkloads.durableTasks) tasks × \(durableBatches) batches of \(AppendWorkloads.durableBatchSize) (per \(durableEvents) events)"
    Benchmark("AuditLog: durable appends, \(durableShape)", configuration: appendConfiguration) { benchmark in
        let events = Array(prebuilt.dataset.events.prefix(durableEvents))
        let dir = scratchPath("durable-log")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        benchmark.startMeasurement()
        try await AppendWorkloads.durableAuditLog(events, directory: dir, tasks: AppendWorkloads.durableTasks, batches: durableBatches)
        benchmark.stopMeasurement()
    }
    Benchmark("SQLite: durable appends, \(durableShape)", configuration: appendConfiguration) { benchmark in
        let events = Array(prebuilt.dataset.events.prefix(durableEvents))
        let path = scratchPath("durable.sqlite")
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        benchmark.startMeasurement()
        try await AppendWorkloads.durableSQLite(events, path: path, tasks: AppendWorkloads.durableTasks, batches: durableBatches)
        benchmark.stopMeasurement()
    }

    // Bytes on disk of the loaded stores, as a custom metric.
    let bytesMetric = BenchmarkMetric.custom("bytes per event", polarity: .prefersSmaller, useScalingFactor: false)
    let bytesConfiguration = Benchmark.Configuration(metrics: [bytesMetric], warmupIterations: 0, maxIterations: 1)
    Benchmark("AuditLog: bytes on disk per event (with indexes)", configuration: bytesConfiguration) { benchmark in
        let stores = try await prebuilt.stores()
        benchmark.measurement(bytesMetric, Int(AppendWorkloads.directoryBytes(stores.logDirectory) / Int64(compareEvents)))
    }
    Benchmark("SQLite: bytes on disk per event (with indexes)", configuration: bytesConfiguration) { benchmark in
        let stores = try await prebuilt.stores()
        benchmark.measurement(bytesMetric, Int(try stores.store.bytesOnDisk() / Int64(compareEvents)))
    }

    // Reads on the loaded stores; the first (warm-up) iteration loads what each store caches.
    for workload in ReadWorkload.allCases {
        let export = workload == .exportCSV
        let configuration = Benchmark.Configuration(
            metrics: [.wallClock], timeUnits: export ? .milliseconds : .microseconds, warmupIterations: 1,
            maxDuration: .seconds(export ? 30 : 10), maxIterations: export ? 5 : 1000)
        let name = workload == .byID ? "\(workload.rawValue) (per 200 lookups)" : workload.rawValue
        Benchmark("AuditLog: \(name)", configuration: configuration) { benchmark in
            let stores = try await prebuilt.stores()
            benchmark.startMeasurement()
            blackHole(try await stores.runAuditLog(workload))
        }
        Benchmark("SQLite: \(name)", configuration: configuration) { benchmark in
            let stores = try await prebuilt.stores()
            benchmark.startMeasurement()
            blackHole(try await stores.runSQLite(workload))
        }
    }
}
