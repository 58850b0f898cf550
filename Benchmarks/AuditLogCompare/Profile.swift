@_spi(Testing) import AuditLog
import CompareSupport
import Foundation

/// One workload run over and over on a kept pair of stores, for `perf record`: the stores are
/// loaded into `--dir` on the first run and reused after. `bulk-append` loads a fresh log each
/// time instead.
struct ProfileRun {
    let options: CompareOptions
    let workload: String
    let repeats: Int

    func run() async throws {
        guard let root = options.directory else { throw CompareError("--profile needs --dir (the stores are kept there between runs)") }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let dataset = CompareDataset(count: options.events)
        let logDir = root + "/auditlog"
        let dbPath = root + "/events.sqlite"
        if workload == "bulk-append" {
            let seconds = try await Measure.seconds {
                for _ in 0..<repeats {
                    try? FileManager.default.removeItem(atPath: root + "/bulk")
                    try await AppendWorkloads.bulkAuditLog(dataset.events[...], directory: root + "/bulk", frameEncoding: options.frameEncoding)
                }
            }
            report(seconds, per: Double(repeats * dataset.events.count), unit: "event")
            return
        }
        if workload == "durable-append" {
            // The comparison's durable row alone: the same tasks, `--durable-batches` batches
            // each, an fdatasync before each append returns (group commit shares them).
            let tasks = AppendWorkloads.durableTasks
            let batches = options.durableBatches
            let seconds = try await Measure.seconds {
                for _ in 0..<repeats {
                    try? FileManager.default.removeItem(atPath: root + "/durable")
                    try await AppendWorkloads.durableAuditLog(dataset.events, directory: root + "/durable", tasks: tasks, batches: batches, frameEncoding: options.frameEncoding)
                }
            }
            report(seconds, per: Double(repeats * tasks * batches * AppendWorkloads.durableBatchSize), unit: "event")
            return
        }
        if workload == "prepare" {
            // The appending task's half of a bulk append (validate, assign ids, encode), in the
            // same batches of 1,000 and without a log: the writer's half is the rest.
            var bytes = 0
            let seconds = try Measure.seconds {
                for _ in 0..<repeats { bytes = try AppendPreparationTiming.prepare(dataset.events[...], batchSize: 1000) }
            }
            FileHandle.standardError.write(Data("prepare: \(bytes) record bytes\n".utf8))
            report(seconds, per: Double(repeats * dataset.events.count), unit: "event")
            return
        }
        if workload == "index-build" {
            // What each seal's background build costs, apart from the appends: every sealed
            // segment of the log `bulk-append` left, indexed again (not written).
            let bulk = root + "/bulk"
            if !FileManager.default.fileExists(atPath: bulk) { try await AppendWorkloads.bulkAuditLog(dataset.events[...], directory: bulk, frameEncoding: options.frameEncoding) }
            var records = 0
            var bytes = 0
            let seconds = try Measure.seconds {
                for _ in 0..<repeats { (records, bytes) = try IndexBuildTiming.buildSealed(directory: bulk) }
            }
            FileHandle.standardError.write(Data("index-build: \(records) records, \(bytes) index bytes (\(String(format: "%.2f", Double(bytes) / Double(max(1, records)))) B/event)\n".utf8))
            report(seconds, per: Double(repeats * max(1, records)), unit: "event")
            return
        }
        if workload == "verify" {
            // `AuditLog.verify` of the log `bulk-append` left: its record bytes a second.
            let bulk = root + "/bulk"
            if !FileManager.default.fileExists(atPath: bulk) { try await AppendWorkloads.bulkAuditLog(dataset.events[...], directory: bulk, frameEncoding: options.frameEncoding) }
            var recordBytes: UInt64 = 0
            let seconds = try await Measure.seconds {
                for _ in 0..<repeats { recordBytes = try await AuditLog.verify(directory: bulk).recordBytes }
            }
            let rate = Double(recordBytes) * Double(repeats) / seconds / 1e9
            FileHandle.standardError.write(Data("verify: \(recordBytes) record bytes, \(String(format: "%.2f", rate)) GB/s\n".utf8))
            report(seconds, per: Double(repeats), unit: "run")
            return
        }
        if workload == "parse-ndjson" {
            // The ingest's reading half on one core: the events as NDJSON lines (as `auditlog
            // gen` writes them), parsed and checked as `auditlog ingest` reads its input.
            var ndjson: [UInt8] = []
            for event in dataset.events { ndjson += event.jsonText().utf8 + [0x0A] }
            var count = 0
            let seconds = try Measure.seconds {
                for _ in 0..<repeats {
                    let reader = EventInputReader(bytes: ndjson)
                    var batch: [AuditEvent] = []
                    batch.reserveCapacity(1000)
                    count = 0
                    while try reader.next(into: &batch) != nil {
                        count += 1
                        if batch.count == 1000 { batch.removeAll(keepingCapacity: true) }
                    }
                }
            }
            FileHandle.standardError.write(Data("parse-ndjson: \(count) events, \(ndjson.count) bytes, \(String(format: "%.0f", Double(ndjson.count) * Double(repeats) / seconds / 1e6)) MB/s\n".utf8))
            report(seconds, per: Double(repeats * max(1, count)), unit: "event")
            return
        }
        if workload == "cold-cache" {
            try await ColdCacheRun(logDirectory: logDir, databasePath: dbPath, user: dataset.user, rounds: repeats).run()
            return
        }
        if workload == "users-days" {
            try await usersDays(logDir, dbPath, dataset)
            return
        }
        if workload == "cold-open-parts" {
            try await coldOpenParts(logDir)
            return
        }
        guard let read = ReadWorkload.allCases.first(where: { "\($0)" == workload }) else {
            let reads = ReadWorkload.allCases.map { "\($0)" }.joined(separator: ", ")
            throw CompareError("unknown workload '\(workload)': bulk-append, durable-append, prepare, index-build, verify, parse-ndjson, cold-open-parts, users-days, cold-cache or one of \(reads)")
        }
        if !FileManager.default.fileExists(atPath: logDir) {
            try await AppendWorkloads.bulkAuditLog(dataset.events[...], directory: logDir, frameEncoding: options.frameEncoding)
            try AppendWorkloads.bulkSQLite(dataset.events[...], path: dbPath)
        }
        let stores = try await LoadedStores(logDirectory: logDir, databasePath: dbPath, user: dataset.user, ids: dataset.ids)
        try await stores.runAuditLog(read)
        let seconds = try await Measure.seconds {
            for _ in 0..<repeats { try await stores.runAuditLog(read) }
        }
        report(seconds, per: Double(repeats), unit: "run")
        // SQLite beside it, in the same run.
        try await stores.runSQLite(read)
        let peer = try await Measure.seconds {
            for _ in 0..<repeats { try await stores.runSQLite(read) }
        }
        FileHandle.standardError.write(Data("\(workload) on SQLite: \(ResultRow.format(peer / Double(repeats))) per run\n".utf8))
    }

    /// The day of the user-day rows for 16 users in turn on one handle (a dashboard going
    /// through a team), SQLite beside it: unlike the row, which repeats one query, it reads
    /// every frame of the day (~68 MB decompressed at 10M events), so the frame cache's size
    /// and evictions are part of the measure (`--frame-cache-mib` sets it: below the day's
    /// frames, every query misses).
    private func usersDays(_ logDir: String, _ dbPath: String, _ dataset: CompareDataset) async throws {
        guard FileManager.default.fileExists(atPath: logDir) else { throw CompareError("users-days needs the stores in --dir (run userDay first)") }
        var users: [String] = []
        for event in dataset.events[(dataset.events.count / 2)...] where users.count < 16 {
            if let user = event.user, !users.contains(user) { users.append(user) }
        }
        let day = TimeWindow(since: Timestamp(nanosSinceEpoch: LoadedStores.userDayStart), until: Timestamp(nanosSinceEpoch: LoadedStores.userDayStart + CompareDataset.day))
        var readOnly = AuditLogOptions.readOnly
        if let bytes = options.frameCacheBytes { readOnly.frameCacheBytes = bytes }
        let reader = try await AuditLog.open(directory: logDir, options: readOnly)
        var events = 0
        let seconds = try await Measure.seconds {
            for i in 0..<repeats {
                for try await _ in reader.query(Query(window: day, filter: EventFilter(users: [users[i % users.count]]), order: .oldestFirst)) { events += 1 }
            }
        }
        report(seconds, per: Double(repeats), unit: "run")
        let store = try SQLiteStore(path: dbPath, synchronous: "NORMAL", create: false)
        var rows = 0
        let peer = try Measure.seconds {
            for i in 0..<repeats { rows += try store.userDay(users[i % users.count], from: LoadedStores.userDayStart, to: LoadedStores.userDayStart + CompareDataset.day) }
        }
        FileHandle.standardError.write(Data("\(workload) on SQLite: \(ResultRow.format(peer / Double(repeats))) per run (\(events) events, \(rows) rows)\n".utf8))
    }

    /// Where a cold open's time goes: the open alone, the query on a warm handle, and both
    /// (the first query after an open loads indexes and frames the warm one has cached).
    private func coldOpenParts(_ logDir: String) async throws {
        guard FileManager.default.fileExists(atPath: logDir) else { throw CompareError("cold-open-parts needs the stores in --dir (run coldOpen first)") }
        let open = try await Measure.seconds {
            for _ in 0..<repeats { _ = try await AuditLog.open(directory: logDir, options: .readOnly) }
        }
        report(open, per: Double(repeats), unit: "open")
        let reader = try await AuditLog.open(directory: logDir, options: .readOnly)
        let warm = try await Measure.seconds {
            for _ in 0..<repeats { _ = try await reader.page(LoadedStores.newest) }
        }
        report(warm, per: Double(repeats), unit: "query on an open handle")
        let cpuBefore = Measure.processCPUSeconds()
        let both = try await Measure.seconds {
            for _ in 0..<repeats { _ = try await AuditLog.open(directory: logDir, options: .readOnly).page(LoadedStores.newest) }
        }
        let cpu = Measure.processCPUSeconds() - cpuBefore
        report(both, per: Double(repeats), unit: "open + first query")
        FileHandle.standardError.write(Data("\(workload): \(ResultRow.format(cpu / Double(repeats))) of CPU (all threads) per open + first query\n".utf8))
    }

    private func report(_ seconds: Double, per count: Double, unit: String) {
        FileHandle.standardError.write(Data("\(workload): \(repeats) runs in \(String(format: "%.3f", seconds)) s, \(ResultRow.format(seconds / count)) per \(unit)\n".utf8))
    }
}
