import AuditLog
import Foundation

struct CompareOptions {
    var events = 1_000_000
    var durableBatches = 20
    var directory: String?
}

/// Runs every workload on both stores and returns the table's rows.
struct Comparison {
    let options: CompareOptions
    /// The generated events end here and span 30 days before it.
    let end = Timestamp(rfc3339: "2026-03-21T00:00:00Z") ?? Timestamp(nanosSinceEpoch: 0)
    static let hour: Int64 = 3_600_000_000_000
    static let day: Int64 = 86_400_000_000_000

    init(_ options: CompareOptions) { self.options = options }

    func log(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }

    func run() async throws -> [ResultRow] {
        let root = options.directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("auditlog-compare-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { if options.directory == nil { try? FileManager.default.removeItem(atPath: root) } }
        let n = options.events
        log("generating \(n) events (seed 1, 30 days)…")
        var generator = EventGenerator(seed: 1, count: n, days: 30, end: end)
        var events: [AuditEvent] = []
        events.reserveCapacity(n)
        while let e = generator.next() { events.append(e) }
        var rows: [ResultRow] = []

        // Bulk append: batches of 1,000. AuditLog syncs when sealing and closing only; SQLite in
        // WAL with synchronous=NORMAL syncs at checkpoints only: the same promise.
        log("bulk append…")
        let logDir = root + "/auditlog"
        var logOptions = AuditLogOptions()
        logOptions.durability = .none
        let auditLogAppend = try await Measure.seconds {
            let auditLog = try await AuditLog.open(directory: logDir, options: logOptions)
            var i = 0
            while i < n {
                _ = try await auditLog.append(Array(events[i..<min(i + 1000, n)]))
                i += 1000
            }
            try await auditLog.close()
        }
        let dbPath = root + "/events.sqlite"
        let sqliteAppend = try Measure.seconds {
            let store = try SQLiteStore(path: dbPath, synchronous: "NORMAL", create: true)
            var i = 0
            while i < n {
                try store.insert(events[i..<min(i + 1000, n)])
                i += 1000
            }
        }
        rows.append(.rate("bulk append \(n) events, batches of 1,000 (events/s)", auditLog: Double(n) / auditLogAppend, sqlite: Double(n) / sqliteAppend, unit: "/s"))

        let logBytes = Self.directoryBytes(logDir)
        let store = try SQLiteStore(path: dbPath, synchronous: "NORMAL", create: false)
        let dbBytes = try store.bytesOnDisk()
        rows.append(ResultRow(workload: "bytes on disk per event (with indexes)", auditLog: String(format: "%.1f B", Double(logBytes) / Double(n)),
                              sqlite: String(format: "%.1f B", Double(dbBytes) / Double(n)), ratio: String(format: "%.2f× its bytes", Double(logBytes) / Double(dbBytes))))

        try await durable(root: root, events: events, rows: &rows)

        // Queries on the bulk-loaded stores (warm: each run once before measuring).
        let reader = try await AuditLog.open(directory: logDir, options: .readOnly)
        let lastHour = end.nanosSinceEpoch - Self.hour
        let newest = Query(window: TimeWindow(since: Timestamp(nanosSinceEpoch: lastHour)), filter: EventFilter(verdicts: [.block]), order: .newestFirst, limit: 50)
        rows.append(.time("newest 50 blocked in the last hour",
                          auditLog: try await Self.timed { _ = try await reader.page(newest).records.count },
                          sqlite: try await Self.timed { _ = try store.newestBlocked(since: lastHour) }))

        let user = events[n / 2].user ?? "alice.0@acme.com"
        let dayStart = end.nanosSinceEpoch - 2 * Self.day
        let userQuery = Query(window: TimeWindow(since: Timestamp(nanosSinceEpoch: dayStart), until: Timestamp(nanosSinceEpoch: dayStart + Self.day)),
                              filter: EventFilter(users: [user]), order: .oldestFirst)
        rows.append(.time("one user, one day (all events)",
                          auditLog: try await Self.timed { for try await _ in reader.query(userQuery) {} },
                          sqlite: try await Self.timed { _ = try store.userDay(user, from: dayStart, to: dayStart + Self.day) }))

        let ids = stride(from: 0, to: n, by: max(1, n / 200)).compactMap { events[$0].id }
        rows.append(.time("one event by id (mean of \(ids.count))",
                          auditLog: try await Self.timed { for id in ids { _ = try await reader.event(id: id) } } / Double(ids.count),
                          sqlite: try await Self.timed { for id in ids { _ = try store.byID(id) } } / Double(ids.count)))

        let month = TimeWindow(since: Timestamp(nanosSinceEpoch: end.nanosSinceEpoch - 30 * Self.day), until: end)
        rows.append(.time("usage by user, 30 days",
                          auditLog: try await Self.timed { _ = try await reader.usage(window: month, groupBy: [.user]) },
                          sqlite: try await Self.timed { _ = try store.usage(groupBy: ["user"], from: end.nanosSinceEpoch - 30 * Self.day, to: end.nanosSinceEpoch) }))
        let week = TimeWindow(since: Timestamp(nanosSinceEpoch: end.nanosSinceEpoch - 7 * Self.day), until: end)
        rows.append(.time("usage by team × model, 7 days",
                          auditLog: try await Self.timed { _ = try await reader.usage(window: week, groupBy: [.team, .model]) },
                          sqlite: try await Self.timed { _ = try store.usage(groupBy: ["team", "model"], from: end.nanosSinceEpoch - 7 * Self.day, to: end.nanosSinceEpoch) }))

        rows.append(.time("export 30 days to CSV",
                          auditLog: try await Self.timed(runs: 3) {
                              let iterator = try reader.query(Query(window: month, order: .oldestFirst)).makeIterator()
                              var encoder = ExportEncoder(format: .csv)
                              var bytes: [UInt8] = []
                              while try encoder.encodeNext(from: iterator, into: &bytes) {
                                  if bytes.count >= 1 << 16 { bytes.removeAll(keepingCapacity: true) }
                              }
                          },
                          sqlite: try await Self.timed(runs: 3) {
                              _ = try store.exportCSV(from: end.nanosSinceEpoch - 30 * Self.day, to: end.nanosSinceEpoch) { $0.removeAll(keepingCapacity: true) }
                          }))

        rows.append(.time("open a cold log + newest 50 blocked",
                          auditLog: try await Self.timed {
                              let fresh = try await AuditLog.open(directory: logDir, options: .readOnly)
                              _ = try await fresh.page(newest)
                          },
                          sqlite: try await Self.timed {
                              let fresh = try SQLiteStore(path: dbPath, synchronous: "NORMAL", create: false)
                              _ = try fresh.newestBlocked(since: lastHour)
                          }))

        let verify = try await Self.timed(runs: 3) { _ = try await AuditLog.verify(directory: logDir) }
        rows.append(ResultRow(workload: "verify every checksum and chain link", auditLog: ResultRow.format(verify), sqlite: "no equivalent", ratio: "—"))
        return rows
    }

    /// 32 tasks appending batches of 100 durably: AuditLog's group commit (one fdatasync for
    /// whatever is pending) against one SQLite transaction per batch with synchronous=FULL.
    func durable(root: String, events: [AuditEvent], rows: inout [ResultRow]) async throws {
        let tasks = 32
        let batches = options.durableBatches
        let total = tasks * batches * 100
        guard total <= events.count else { return }
        log("durable appends from \(tasks) tasks…")
        let logDir = root + "/durable-log"
        let auditLog = try await AuditLog.open(directory: logDir)
        let auditLogSeconds = try await Measure.seconds {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for t in 0..<tasks {
                    group.addTask {
                        for b in 0..<batches {
                            let start = (t * batches + b) * 100
                            _ = try await auditLog.append(Array(events[start..<(start + 100)]))
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        try await auditLog.close()
        let store = try SQLiteStore(path: root + "/durable.sqlite", synchronous: "FULL", create: true)
        let sqliteSeconds = try await Measure.seconds {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for t in 0..<tasks {
                    group.addTask {
                        for b in 0..<batches {
                            let start = (t * batches + b) * 100
                            try await store.insertAsync(Array(events[start..<(start + 100)]))
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        rows.append(.rate("durable appends, 32 tasks × batches of 100 (events/s)", auditLog: Double(total) / auditLogSeconds, sqlite: Double(total) / sqliteSeconds, unit: "/s"))
    }

    /// Median of `runs` after one warm-up run.
    static func timed(runs: Int = 7, _ body: () async throws -> Void) async throws -> Double {
        try await body()
        return try await Measure.median(runs, body)
    }

    static func directoryBytes(_ path: String) -> Int64 {
        guard let walker = FileManager.default.enumerator(atPath: path) else { return 0 }
        var total: Int64 = 0
        while let name = walker.nextObject() as? String {
            let attributes = try? FileManager.default.attributesOfItem(atPath: path + "/" + name)
            if attributes?[.type] as? FileAttributeType == .typeRegular { total += attributes?[.size] as? Int64 ?? 0 }
        }
        return total
    }
}
