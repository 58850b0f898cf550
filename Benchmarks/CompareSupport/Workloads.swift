import AuditLog
import Foundation

/// The generated events both stores hold: `auditlog gen`'s generator, seed 1, 30 days ending
/// at ``end``.
public struct CompareDataset: Sendable {
    public static let end = Timestamp(rfc3339: "2026-03-21T00:00:00Z") ?? Timestamp(nanosSinceEpoch: 0)
    public static let hour: Int64 = 3_600_000_000_000
    public static let day: Int64 = 86_400_000_000_000

    public let events: [AuditEvent]

    public init(count: Int) {
        var generator = EventGenerator(seed: 1, count: count, days: 30, end: Self.end)
        var events: [AuditEvent] = []
        events.reserveCapacity(count)
        while let e = generator.next() { events.append(e) }
        self.events = events
    }

    /// The user of the one-user-one-day query: the author of the middle event.
    public var user: String { events.isEmpty ? "" : events[events.count / 2].user ?? "alice.0@acme.com" }

    /// About 200 ids spread over the log, for the lookups by id.
    public var ids: [String] { stride(from: 0, to: events.count, by: max(1, events.count / 200)).compactMap { events[$0].id } }
}

/// Loading both stores: in bulk (batches of 1,000, durability left to the OS on both sides: the
/// same promise) and durably from concurrent tasks.
public enum AppendWorkloads {
    public static func bulkAuditLog(_ events: ArraySlice<AuditEvent>, directory: String, frameEncoding: AuditLogOptions.FrameEncoding? = nil) async throws {
        var options = AuditLogOptions()
        options.durability = .none
        options.frameEncoding = frameEncoding
        let log = try await AuditLog.open(directory: directory, options: options)
        var i = events.startIndex
        while i < events.endIndex {
            // A slice, as the SQLite side gets: neither copies the batch out of the dataset.
            _ = try await log.append(events[i..<min(i + 1000, events.endIndex)])
            i += 1000
        }
        try await log.close()
    }

    public static func bulkSQLite(_ events: ArraySlice<AuditEvent>, path: String) throws {
        let store = try SQLiteStore(path: path, synchronous: "NORMAL", create: true)
        var i = events.startIndex
        while i < events.endIndex {
            try store.insert(events[i..<min(i + 1000, events.endIndex)])
            i += 1000
        }
    }

    /// The durable row's shape (the comparison's table and its `durable-append` profile): this
    /// many tasks, each appending batches of ``durableBatchSize``.
    public static let durableTasks = 32
    public static let durableBatchSize = 100

    /// `tasks` tasks each appending `batches` batches of ``durableBatchSize`` distinct events (so
    /// `events` must hold `tasks × batches × durableBatchSize`), with an fdatasync before each
    /// append returns (group commit shares them).
    public static func durableAuditLog(
        _ events: [AuditEvent], directory: String, tasks: Int, batches: Int, frameEncoding: AuditLogOptions.FrameEncoding? = nil
    ) async throws {
        var options = AuditLogOptions()
        options.frameEncoding = frameEncoding
        let log = try await AuditLog.open(directory: directory, options: options)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for t in 0..<tasks {
                group.addTask {
                    for b in 0..<batches {
                        let start = (t * batches + b) * durableBatchSize
                        _ = try await log.append(Array(events[start..<(start + durableBatchSize)]))
                    }
                }
            }
            try await group.waitForAll()
        }
        try await log.close()
    }

    /// The same with SQLite: one transaction per batch, `synchronous=FULL`.
    public static func durableSQLite(_ events: [AuditEvent], path: String, tasks: Int, batches: Int) async throws {
        let store = try SQLiteStore(path: path, synchronous: "FULL", create: true)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for t in 0..<tasks {
                group.addTask {
                    for b in 0..<batches {
                        let start = (t * batches + b) * durableBatchSize
                        try await store.insertAsync(Array(events[start..<(start + durableBatchSize)]))
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    /// Bytes of the regular files under `path`.
    public static func directoryBytes(_ path: String) -> Int64 {
        guard let walker = FileManager.default.enumerator(atPath: path) else { return 0 }
        var total: Int64 = 0
        while let name = walker.nextObject() as? String {
            let attributes = try? FileManager.default.attributesOfItem(atPath: path + "/" + name)
            if attributes?[.type] as? FileAttributeType == .typeRegular { total += attributes?[.size] as? Int64 ?? 0 }
        }
        return total
    }
}

/// The read workloads, each defined once for both stores.
public enum ReadWorkload: String, CaseIterable, Sendable {
    case newestBlocked = "newest 50 blocked in the last hour"
    case userDay = "one user, one day (all events)"
    case byID = "one event by id"
    case usageByUser = "usage by user, 30 days"
    case usageByTeamModel = "usage by team × model, 7 days"
    case exportCSV = "export 30 days to CSV"
    case coldOpen = "open a cold log + newest 50 blocked"
}

/// Both stores holding the same events, and each read workload on each.
public struct LoadedStores: Sendable {
    public let logDirectory: String
    public let databasePath: String
    public let reader: AuditLog
    public let store: SQLiteStore
    public let user: String
    public let ids: [String]

    public static let end = CompareDataset.end.nanosSinceEpoch
    static let lastHour = end - CompareDataset.hour
    public static let userDayStart = end - 2 * CompareDataset.day
    public static let newest = Query(window: TimeWindow(since: Timestamp(nanosSinceEpoch: lastHour)), filter: EventFilter(verdicts: [.block]), order: .newestFirst, limit: 50)
    static let month = TimeWindow(since: Timestamp(nanosSinceEpoch: end - 30 * CompareDataset.day), until: CompareDataset.end)
    static let week = TimeWindow(since: Timestamp(nanosSinceEpoch: end - 7 * CompareDataset.day), until: CompareDataset.end)

    /// Opens both (read-only for AuditLog) after they were loaded.
    public init(logDirectory: String, databasePath: String, user: String, ids: [String]) async throws {
        self.logDirectory = logDirectory
        self.databasePath = databasePath
        reader = try await AuditLog.open(directory: logDirectory, options: .readOnly)
        store = try SQLiteStore(path: databasePath, synchronous: "NORMAL", create: false)
        self.user = user
        self.ids = ids
    }

    /// Runs `workload` once on AuditLog; returns the number of results (so nothing is elided).
    @discardableResult
    public func runAuditLog(_ workload: ReadWorkload) async throws -> Int {
        switch workload {
        case .newestBlocked:
            return try await reader.page(Self.newest).records.count
        case .userDay:
            return try await Self.userDay(user, on: reader)
        case .byID:
            var n = 0
            for id in ids where try await reader.event(id: id) != nil { n += 1 }
            return n
        case .usageByUser:
            return try await reader.usage(window: Self.month, groupBy: [.user]).rows.count
        case .usageByTeamModel:
            return try await reader.usage(window: Self.week, groupBy: [.team, .model]).rows.count
        case .exportCSV:
            let iterator = try reader.queryIterator(Query(window: Self.month, order: .oldestFirst))
            var encoder = ExportEncoder(format: .csv)
            var bytes: [UInt8] = []
            var total = 0
            while try encoder.encodeNext(from: iterator, into: &bytes) {
                if bytes.count >= 1 << 16 {
                    total += bytes.count
                    bytes.removeAll(keepingCapacity: true)
                }
            }
            return total + bytes.count
        case .coldOpen:
            let fresh = try await AuditLog.open(directory: logDirectory, options: .readOnly)
            return try await fresh.page(Self.newest).records.count
        }
    }

    /// All events of `user` in the day the user's-day rows read, counted.
    static func userDay(_ user: String, on log: AuditLog) async throws -> Int {
        let q = Query(
            window: TimeWindow(since: Timestamp(nanosSinceEpoch: userDayStart), until: Timestamp(nanosSinceEpoch: userDayStart + CompareDataset.day)),
            filter: EventFilter(users: [user]), order: .oldestFirst)
        var n = 0
        for try await _ in log.query(q) { n += 1 }
        return n
    }

    /// Opens the log afresh and runs `workload` on the new handle (`.coldOpen`: newest 50
    /// blocked; any other: one user's day): what a process started to answer one question does.
    public static func freshAuditLog(_ workload: ReadWorkload, logDirectory: String, user: String) async throws -> Int {
        let log = try await AuditLog.open(directory: logDirectory, options: .readOnly)
        return workload == .coldOpen ? try await log.page(newest).records.count : try await userDay(user, on: log)
    }

    /// The same on a new SQLite connection.
    public static func freshSQLite(_ workload: ReadWorkload, databasePath: String, user: String) throws -> Int {
        let store = try SQLiteStore(path: databasePath, synchronous: "NORMAL", create: false)
        return workload == .coldOpen ? try store.newestBlocked(since: lastHour) : try store.userDay(user, from: userDayStart, to: userDayStart + CompareDataset.day)
    }

    /// Runs `workload` once on SQLite; returns the number of results.
    @discardableResult
    public func runSQLite(_ workload: ReadWorkload) async throws -> Int {
        switch workload {
        case .newestBlocked:
            return try store.newestBlocked(since: Self.lastHour)
        case .userDay:
            return try store.userDay(user, from: Self.userDayStart, to: Self.userDayStart + CompareDataset.day)
        case .byID:
            var n = 0
            for id in ids { n += try store.byID(id) }
            return n
        case .usageByUser:
            return try store.usage(groupBy: ["user"], from: Self.end - 30 * CompareDataset.day, to: Self.end)
        case .usageByTeamModel:
            return try store.usage(groupBy: ["team", "model"], from: Self.end - 7 * CompareDataset.day, to: Self.end)
        case .exportCSV:
            var total = 0
            try store.exportCSV(from: Self.end - 30 * CompareDataset.day, to: Self.end) { bytes in
                total += bytes.count
                bytes.removeAll(keepingCapacity: true)
            }
            return total
        case .coldOpen:
            let fresh = try SQLiteStore(path: databasePath, synchronous: "NORMAL", create: false)
            return try fresh.newestBlocked(since: Self.lastHour)
        }
    }
}
