import AuditLog
import Foundation

// Side-by-side: the same generated events in AuditLog and in SQLite (GRDB), the same
// workloads, one table. Usage: AuditLogCompare [--events N] [--durable-batches N] [--bulk-runs N]
// [--dir D] [--duckdb Benchmarks/DuckDB/duckdb_peer.py] (then a second table: the same events in DuckDB)
// [--profile WORKLOAD --repeat N] (one workload in a loop on the stores kept in --dir, for perf)
// [--frame-encoding columns] (AuditLog's logs written with column frames)
// [--frame-cache-mib N] (the `users-days` profile's frame cache; the default scales with memory)
// (Benchmarks/compare.sh builds it in release mode and runs it).

var options = CompareOptions()
var profile: String?
var repeats = 100
var args = CommandLine.arguments.dropFirst().makeIterator()
while let arg = args.next() {
    switch arg {
    case "--events": options.events = args.next().flatMap { Int($0) } ?? options.events
    case "--durable-batches": options.durableBatches = args.next().flatMap { Int($0) } ?? options.durableBatches
    case "--bulk-runs": options.bulkRuns = args.next().flatMap { Int($0) }
    case "--dir": options.directory = args.next()
    case "--duckdb": options.duckDB = args.next()
    case "--profile": profile = args.next()
    case "--frame-encoding":
        guard let encoding = args.next().flatMap(AuditLogOptions.FrameEncoding.init(rawValue:)) else {
            FileHandle.standardError.write(Data("--frame-encoding takes rows or columns\n".utf8))
            exit(64)
        }
        options.frameEncoding = encoding
    case "--frame-cache-mib":
        guard let mib = args.next().flatMap({ Int($0) }), (0...(1 << 20)).contains(mib) else {
            FileHandle.standardError.write(Data("--frame-cache-mib takes a whole number of MiB, 0 to 1048576\n".utf8))
            exit(64)
        }
        options.frameCacheBytes = mib << 20
    case "--repeat": repeats = args.next().flatMap { Int($0) } ?? repeats
    default:
        let usage =
            "usage: AuditLogCompare [--events N] [--durable-batches N] [--bulk-runs N] [--dir D] [--duckdb PEER_SCRIPT]"
            + " [--profile WORKLOAD --repeat N] [--frame-encoding rows|columns] [--frame-cache-mib N]\n"
        FileHandle.standardError.write(Data(usage.utf8))
        exit(64)
    }
}
do {
    if let profile {
        try await ProfileRun(options: options, workload: profile, repeats: repeats).run()
        exit(0)
    }
    let comparison = Comparison(options)
    let rows = try await comparison.run()
    print(Table.render(rows))
    if !comparison.duckRows.value.isEmpty {
        print("")
        print(Table.render(comparison.duckRows.value, peer: "DuckDB \(comparison.duckVersion.value)", short: "DuckDB"))
    }
} catch {
    FileHandle.standardError.write(Data("AuditLogCompare: \(error)\n".utf8))
    exit(1)
}
