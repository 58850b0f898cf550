import AuditLog
import Foundation
import GRDB

/// The events in SQLite through GRDB, set up as a careful user would: WAL, typed columns for
/// every field, indexes on (timestamp), (verdict, timestamp), (user, timestamp),
/// (model, timestamp) and a unique id, inserts batched in transactions with a prepared
/// (cached) statement.
public struct SQLiteStore: Sendable {
    public let queue: DatabaseQueue
    public let path: String

    static let columns = [
        "id", "event_type", "timestamp", "verdict", "reason_code", "user", "team", "model", "provider",
        "config_version", "api_key", "source", "tokens_in", "tokens_out", "tokens_cached", "tokens_reasoning",
        "cost_nanos", "latency_us", "cache_hit", "request_id", "session_id", "gateway", "ip", "user_agent",
        "resource", "policies", "redactions", "details", "extra",
    ]

    static let insertSQL = "INSERT INTO events (\(columns.joined(separator: ", "))) VALUES (\(columns.map { _ in "?" }.joined(separator: ", ")))"

    /// Opens (creating) the database; `synchronous` is NORMAL or FULL.
    public init(path: String, synchronous: String, create: Bool) throws {
        self.path = path
        var config = Configuration()
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
        }
        queue = try DatabaseQueue(path: path, configuration: config)
        guard create else { return }
        try queue.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE IF NOT EXISTS events (
                      seq INTEGER PRIMARY KEY,
                      id TEXT NOT NULL UNIQUE,
                      event_type TEXT NOT NULL,
                      timestamp INTEGER NOT NULL,
                      verdict TEXT, reason_code TEXT, user TEXT, team TEXT, model TEXT, provider TEXT,
                      config_version TEXT, api_key TEXT, source TEXT,
                      tokens_in INTEGER, tokens_out INTEGER, tokens_cached INTEGER, tokens_reasoning INTEGER,
                      cost_nanos INTEGER, latency_us INTEGER, cache_hit INTEGER,
                      request_id TEXT, session_id TEXT, gateway TEXT, ip TEXT, user_agent TEXT, resource TEXT,
                      policies TEXT, redactions TEXT, details TEXT, extra TEXT);
                    CREATE INDEX IF NOT EXISTS events_timestamp ON events(timestamp);
                    CREATE INDEX IF NOT EXISTS events_verdict ON events(verdict, timestamp);
                    CREATE INDEX IF NOT EXISTS events_user ON events(user, timestamp);
                    CREATE INDEX IF NOT EXISTS events_model ON events(model, timestamp);
                    """)
        }
    }

    static func arguments(_ e: AuditEvent) -> StatementArguments {
        let values: [(any DatabaseValueConvertible)?] = [
            e.id, e.eventType, e.timestamp.nanosSinceEpoch, e.verdict?.rawValue, e.reasonCode, e.user, e.team, e.model,
            e.provider, e.configVersion, e.apiKey, e.source, e.tokensIn, e.tokensOut, e.tokensCached, e.tokensReasoning,
            e.cost?.nanodollars, e.latencyMicros, e.cacheHit, e.requestID, e.sessionID, e.gateway, e.ip, e.userAgent,
            e.resource, e.fieldText("policies"), e.fieldText("redactions"), e.details?.jsonText,
            e.extra.isEmpty ? nil : JSONValue.object(e.extra).jsonText,
        ]
        return StatementArguments(values)
    }

    /// Inserts `events` in one transaction.
    static func insert(_ events: ArraySlice<AuditEvent>, _ db: Database) throws {
        let statement = try db.cachedStatement(sql: insertSQL)
        for e in events { try statement.execute(arguments: arguments(e)) }
    }

    public func insert(_ events: ArraySlice<AuditEvent>) throws {
        try queue.write { db in try Self.insert(events, db) }
    }

    public func insertAsync(_ events: [AuditEvent]) async throws {
        try await queue.write { db in try Self.insert(events[...], db) }
    }

    /// Reads every column of every row (as a user mapping rows to values would); the rows.
    static func readRows(_ cursor: RowCursor) throws -> Int {
        var rows = 0
        var present = 0
        while let row = try cursor.next() {
            for value in row.databaseValues where !value.isNull { present += 1 }
            rows += 1
        }
        return present >= rows ? rows : 0
    }

    public func newestBlocked(since: Int64) throws -> Int {
        try queue.read { db in
            try Self.readRows(try Row.fetchCursor(db, sql: "SELECT * FROM events WHERE verdict = 'block' AND timestamp >= ? ORDER BY timestamp DESC LIMIT 50", arguments: [since]))
        }
    }

    public func userDay(_ user: String, from: Int64, to: Int64) throws -> Int {
        try queue.read { db in
            try Self.readRows(try Row.fetchCursor(db, sql: "SELECT * FROM events WHERE user = ? AND timestamp >= ? AND timestamp < ? ORDER BY timestamp", arguments: [user, from, to]))
        }
    }

    public func byID(_ id: String) throws -> Int {
        try queue.read { db in try Self.readRows(try Row.fetchCursor(db, sql: "SELECT * FROM events WHERE id = ?", arguments: [id])) }
    }

    /// Requests, tokens, cost, cache hits, blocked/redacted/escalated, mean latency per group.
    public func usage(groupBy: [String], from: Int64, to: Int64) throws -> Int {
        let keys = groupBy.joined(separator: ", ")
        let sql = """
            SELECT \(keys), COUNT(*), SUM(tokens_in), SUM(tokens_out), SUM(cost_nanos), SUM(cache_hit),
                   SUM(verdict = 'block'), SUM(verdict = 'redact'), SUM(verdict = 'escalate'), AVG(latency_us)
            FROM events WHERE timestamp >= ? AND timestamp < ? GROUP BY \(keys) ORDER BY SUM(cost_nanos) DESC
            """
        return try queue.read { db in try Row.fetchAll(db, sql: sql, arguments: [from, to]).count }
    }

    /// Every event in the window, oldest first, as CSV into `sink` (a chunk at a time).
    @discardableResult
    public func exportCSV(from: Int64, to: Int64, sink: (inout [UInt8]) -> Void) throws -> Int {
        try queue.read { db in
            let cursor = try Row.fetchCursor(db, sql: "SELECT * FROM events WHERE timestamp >= ? AND timestamp < ? ORDER BY timestamp", arguments: [from, to])
            var bytes = Array((Self.columns.joined(separator: ",") + "\r\n").utf8)
            var n = 0
            while let row = try cursor.next() {
                for (i, column) in Self.columns.enumerated() {
                    if i > 0 { bytes.append(UInt8(ascii: ",")) }
                    let value: DatabaseValue = row[column]
                    switch value.storage {
                    case .null: break
                    case .int64(let v): bytes += Array(String(v).utf8)
                    case .double(let v): bytes += Array(String(v).utf8)
                    case .string(let s): CSVExport.appendField(s, to: &bytes)
                    case .blob(let d): bytes += Array(d)
                    }
                }
                bytes += [0x0D, 0x0A]
                n += 1
                if bytes.count >= 1 << 16 { sink(&bytes) }
            }
            sink(&bytes)
            return n
        }
    }

    /// Rows in the table.
    public func count() throws -> Int {
        try queue.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM events") ?? 0 }
    }

    /// Bytes of the database files after a checkpoint folds the WAL in.
    public func bytesOnDisk() throws -> Int64 {
        try queue.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
        return [path, path + "-wal", path + "-shm"].reduce(Int64(0)) { sum, p in
            sum + ((try? FileManager.default.attributesOfItem(atPath: p)[.size] as? Int64) ?? 0)
        }
    }
}
