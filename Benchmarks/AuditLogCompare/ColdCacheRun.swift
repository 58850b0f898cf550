import CompareSupport
import Foundation

/// The cold-cache rows: one user's day, and a cold open + newest 50 blocked, each on a handle
/// opened after the kernel's page cache was dropped (`sync`, then `3` into
/// `/proc/sys/vm/drop_caches`, which needs root), so that every byte a query needs comes from
/// the disk. The two stores alternate, and which goes first alternates from round to round.
struct ColdCacheRun {
    let logDirectory: String
    let databasePath: String
    let user: String
    let rounds: Int

    func run() async throws {
        guard FileManager.default.fileExists(atPath: logDirectory), FileManager.default.fileExists(atPath: databasePath) else {
            throw CompareError("cold-cache needs the stores in --dir (run --profile coldOpen first)")
        }
        for workload in [ReadWorkload.userDay, .coldOpen] {
            var auditLog: [Double] = []
            var sqlite: [Double] = []
            var counts: (Int, Int) = (0, 0)
            for round in 0..<rounds {
                for turn in 0..<2 {
                    try Self.dropPageCache()
                    if (round + turn) % 2 == 0 {
                        let start = DispatchTime.now().uptimeNanoseconds
                        counts.0 = try await LoadedStores.freshAuditLog(workload, logDirectory: logDirectory, user: user)
                        auditLog.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
                    } else {
                        let start = DispatchTime.now().uptimeNanoseconds
                        counts.1 = try LoadedStores.freshSQLite(workload, databasePath: databasePath, user: user)
                        sqlite.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
                    }
                }
            }
            guard counts.0 == counts.1 else { throw CompareError("\(workload.rawValue): AuditLog found \(counts.0), SQLite \(counts.1)") }
            let (a, b) = (Self.median(auditLog), Self.median(sqlite))
            let ratio = a <= b ? String(format: "%.1f× faster", b / a) : String(format: "%.1f× slower", a / b)
            let line =
                "cold page cache, \(workload == .coldOpen ? "open + newest 50 blocked" : "open + one user's day") (\(counts.0) events): "
                + "AuditLog \(ResultRow.format(a)), SQLite \(ResultRow.format(b)) (medians of \(rounds)): AuditLog \(ratio)\n"
            FileHandle.standardError.write(Data(line.utf8))
        }
    }

    static func dropPageCache() throws {
        sync()
        guard let handle = FileHandle(forWritingAtPath: "/proc/sys/vm/drop_caches") else {
            throw CompareError("cold-cache drops the page cache: it needs root (/proc/sys/vm/drop_caches)")
        }
        defer { try? handle.close() }
        try handle.write(contentsOf: Data("3\n".utf8))
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }
}
