import Foundation

/// Wall-clock measurement: the median of repeated runs.
enum Measure {
    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = ContinuousClock.now
        try body()
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    static func seconds(_ body: () async throws -> Void) async rethrows -> Double {
        let start = ContinuousClock.now
        try await body()
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    /// CPU seconds the whole process has used (every thread): beside a wall time, how much of
    /// it was spent working rather than waiting.
    static func processCPUSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    static func median(_ runs: Int, _ body: () async throws -> Void) async rethrows -> Double {
        var times: [Double] = []
        for _ in 0..<runs { times.append(try await seconds(body)) }
        return median(times)
    }

    /// Median seconds of `runs` runs of each body (given the run's number), run in turn — ours,
    /// the peer's, ours, … — so that the machine's drift between minutes falls on both.
    static func alternating(
        _ runs: Int, _ ours: (Int) async throws -> Void, _ peer: (Int) async throws -> Void
    ) async rethrows -> (ours: Double, peer: Double) {
        var a: [Double] = []
        var b: [Double] = []
        for run in 0..<max(1, runs) {
            a.append(try await seconds { try await ours(run) })
            b.append(try await seconds { try await peer(run) })
        }
        return (median(a), median(b))
    }

    /// The middle value (the upper of the two middle ones for an even count); 0 for none.
    static func median(_ values: [Double]) -> Double {
        values.isEmpty ? 0 : values.sorted()[values.count / 2]
    }
}

/// A row of the result table: a workload, both figures, and how AuditLog compares.
struct ResultRow {
    var workload: String
    var auditLog: String
    var sqlite: String
    var ratio: String

    /// Times (lower is better): ratio = SQLite ÷ AuditLog.
    static func time(_ workload: String, auditLog: Double, sqlite: Double?) -> ResultRow {
        ResultRow(
            workload: workload, auditLog: format(auditLog), sqlite: sqlite.map(format) ?? "n/a",
            ratio: sqlite.map { compare($0 / auditLog, better: "faster", worse: "slower") } ?? "—")
    }

    /// Throughputs (higher is better): ratio = AuditLog ÷ SQLite.
    static func rate(_ workload: String, auditLog: Double, sqlite: Double, unit: String) -> ResultRow {
        ResultRow(
            workload: workload, auditLog: String(format: "%.0f %@", auditLog, unit), sqlite: String(format: "%.0f %@", sqlite, unit),
            ratio: compare(auditLog / sqlite, better: "more", worse: "less"))
    }

    /// "4.2× faster", or "3.1× slower" when the ratio is below 1.
    static func compare(_ ratio: Double, better: String, worse: String) -> String {
        ratio >= 1 ? String(format: "%.1f× %@", ratio, better) : String(format: "%.1f× %@ (not ahead)", 1 / ratio, worse)
    }

    static func format(_ seconds: Double) -> String {
        seconds >= 1 ? String(format: "%.2f s", seconds) : seconds >= 1e-3 ? String(format: "%.2f ms", seconds * 1e3) : String(format: "%.1f µs", seconds * 1e6)
    }
}

enum Table {
    static func render(_ rows: [ResultRow], peer: String = "SQLite (GRDB)", short: String = "SQLite") -> String {
        let all = [["workload", "AuditLog", peer, "AuditLog vs \(short)"]] + rows.map { [$0.workload, $0.auditLog, $0.sqlite, $0.ratio] }
        let widths = (0..<4).map { c in all.map { $0[c].count }.max() ?? 0 }
        var out = ""
        for (i, row) in all.enumerated() {
            out += "| " + row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: " | ") + " |\n"
            if i == 0 { out += "|" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "|") + "|\n" }
        }
        return out
    }
}
