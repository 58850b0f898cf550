import AuditLog
import CompareSupport
import Foundation

struct CompareOptions {
    var events = 1_000_000
    var durableBatches = 20
    /// How AuditLog's logs store their frames (`--frame-encoding`).
    var frameEncoding = AuditLogOptions.FrameEncoding.rows
    /// Bulk loads into each store, alternating, the median reported (the machine's speed drifts
    /// by a third between minutes; one load each made the ratio a coin toss). Nil: 3 up to 2M
    /// events, 1 above (a 10M SQLite load takes minutes).
    var bulkRuns: Int?
    var directory: String?
    /// The DuckDB peer script; nil: no DuckDB table.
    var duckDB: String?
    /// The `users-days` profile's frame cache (`--frame-cache-mib`); nil: the library's default.
    var frameCacheBytes: Int?
}

/// A value the comparison fills in as it runs (read after it returns).
final class Box<T>: @unchecked Sendable {
    var value: T
    init(_ value: T) { self.value = value }
}

/// Runs every workload on both stores and returns the table's rows.
struct Comparison {
    let options: CompareOptions
    /// The second table, against DuckDB, when asked for.
    let duckRows = Box<[ResultRow]>([])
    let duckVersion = Box("")

    init(_ options: CompareOptions) { self.options = options }

    func log(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }

    func run() async throws -> [ResultRow] {
        let root = options.directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("auditlog-compare-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { if options.directory == nil { try? FileManager.default.removeItem(atPath: root) } }
        let n = options.events
        log("generating \(n) events (seed 1, 30 days)…")
        let dataset = CompareDataset(count: n)
        var rows: [ResultRow] = []

        log("bulk append…")
        let logDir = root + "/auditlog"
        let dbPath = root + "/events.sqlite"
        let bulkRuns = max(1, options.bulkRuns ?? (n <= 2_000_000 ? 3 : 1))
        // Each load starts from nothing; the last one's stores stay for the queries.
        let bulk = try await Measure.alternating(
            bulkRuns,
            { run in
                if run > 0 { try FileManager.default.removeItem(atPath: logDir) }
                try await AppendWorkloads.bulkAuditLog(dataset.events[...], directory: logDir, frameEncoding: options.frameEncoding)
            },
            { run in
                if run > 0 { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: dbPath + suffix) } }
                try AppendWorkloads.bulkSQLite(dataset.events[...], path: dbPath)
            })
        let runsNote = bulkRuns == 1 ? "" : ", median of \(bulkRuns)"
        rows.append(.rate("bulk append \(n) events, batches of 1,000 (events/s\(runsNote))", auditLog: Double(n) / bulk.ours, sqlite: Double(n) / bulk.peer, unit: "/s"))

        let stores = try await LoadedStores(logDirectory: logDir, databasePath: dbPath, user: dataset.user, ids: dataset.ids)
        let logBytes = AppendWorkloads.directoryBytes(logDir)
        let dbBytes = try stores.store.bytesOnDisk()
        rows.append(
            ResultRow(
                workload: "bytes on disk per event (with indexes)", auditLog: String(format: "%.1f B", Double(logBytes) / Double(n)),
                sqlite: String(format: "%.1f B", Double(dbBytes) / Double(n)), ratio: String(format: "%.2f× its bytes", Double(logBytes) / Double(dbBytes))))

        let tasks = AppendWorkloads.durableTasks
        let batches = options.durableBatches
        let total = tasks * batches * AppendWorkloads.durableBatchSize
        if total <= n {
            log("durable appends from \(tasks) tasks…")
            let durable = try await Measure.alternating(
                bulkRuns,
                { run in try await AppendWorkloads.durableAuditLog(dataset.events, directory: root + "/durable-log-\(run)", tasks: tasks, batches: batches, frameEncoding: options.frameEncoding) },
                { run in try await AppendWorkloads.durableSQLite(dataset.events, path: root + "/durable-\(run).sqlite", tasks: tasks, batches: batches) })
            let label = "durable appends, \(tasks) tasks × batches of \(AppendWorkloads.durableBatchSize) (events/s\(runsNote))"
            rows.append(.rate(label, auditLog: Double(total) / durable.ours, sqlite: Double(total) / durable.peer, unit: "/s"))
        }

        // Queries on the bulk-loaded stores, each run once before measuring (warm), median of 7
        // (3 for the export).
        for workload in ReadWorkload.allCases {
            log(workload.rawValue + "…")
            let runs = workload == .exportCSV ? 3 : 7
            let perRun = workload == .byID ? Double(max(1, dataset.ids.count)) : 1
            let label = workload == .byID ? "\(workload.rawValue) (mean of \(dataset.ids.count))" : workload.rawValue
            rows.append(
                .time(
                    label,
                    auditLog: try await Self.timed(runs: runs) { try await stores.runAuditLog(workload) } / perRun,
                    sqlite: try await Self.timed(runs: runs) { try await stores.runSQLite(workload) } / perRun))
        }

        let verify = try await Self.timed(runs: 3) { _ = try await AuditLog.verify(directory: logDir) }
        rows.append(ResultRow(workload: "verify every checksum and chain link", auditLog: ResultRow.format(verify), sqlite: "no equivalent", ratio: "—"))
        if let script = options.duckDB {
            try await compareWithDuckDB(script: script, root: root, dataset: dataset, stores: stores, logBytes: logBytes)
        }
        return rows
    }

    /// The same events loaded into DuckDB by `script` (Benchmarks/DuckDB/duckdb_peer.py), the
    /// workloads it can express timed there, AuditLog's beside them from the same run.
    func compareWithDuckDB(script: String, root: String, dataset: CompareDataset, stores: LoadedStores, logBytes: Int64) async throws {
        log("DuckDB: writing the events as NDJSON and loading them…")
        let ndjson = root + "/events.ndjson"
        _ = FileManager.default.createFile(atPath: ndjson, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: ndjson))
        var chunk = ""
        for e in dataset.events {
            chunk += e.jsonText() + "\n"
            if chunk.utf8.count > 1 << 20 {
                try handle.write(contentsOf: Data(chunk.utf8))
                chunk = ""
            }
        }
        try handle.write(contentsOf: Data(chunk.utf8))
        try handle.close()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, ndjson, root, dataset.user, String(LoadedStores.userDayStart), String(LoadedStores.end)]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
            let result = try JSONSerialization.jsonObject(with: data) as? [String: Any],
            let seconds = result["seconds"] as? [String: Double], let bytes = result["bytes"] as? Int
        else { throw CompareError("the DuckDB peer failed (status \(process.terminationStatus)); is PyPI duckdb installed?") }
        duckVersion.value = result["version"] as? String ?? ""
        var rows: [ResultRow] = []
        rows.append(
            ResultRow(
                workload: "bytes on disk per event", auditLog: String(format: "%.1f B (with chain, tree, indexes)", Double(logBytes) / Double(dataset.events.count)),
                sqlite: String(format: "%.1f B", Double(bytes) / Double(dataset.events.count)), ratio: String(format: "%.2f× its bytes", Double(logBytes) / Double(bytes))))
        let workloads: [ReadWorkload] = [.newestBlocked, .userDay, .usageByUser, .usageByTeamModel, .coldOpen]
        for workload in workloads {
            guard let theirs = seconds[workload.rawValue] else { continue }
            log("DuckDB: " + workload.rawValue + "…")
            let ours = try await Self.timed(runs: 7) { try await stores.runAuditLog(workload) }
            rows.append(.time(workload.rawValue, auditLog: ours, sqlite: theirs))
        }
        if let load = result["load_seconds"] as? Double {
            rows.append(ResultRow(workload: "load the NDJSON (DuckDB: read_json_auto; AuditLog: bulk append above)", auditLog: "see above", sqlite: ResultRow.format(load), ratio: "—"))
        }
        duckRows.value = rows
    }

    /// Median of `runs` after one warm-up run.
    static func timed(runs: Int = 7, _ body: () async throws -> Void) async throws -> Double {
        try await body()
        return try await Measure.median(runs, body)
    }
}

struct CompareError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
