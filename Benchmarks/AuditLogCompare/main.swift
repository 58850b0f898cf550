import AuditLog
import Foundation

// Side-by-side: the same generated events in AuditLog and in SQLite (GRDB), the same
// workloads, one table. Usage: AuditLogCompare [--events N] [--durable-batches N] [--dir D]
// (Benchmarks/compare.sh builds it in release mode and runs it).

var options = CompareOptions()
var args = CommandLine.arguments.dropFirst().makeIterator()
while let arg = args.next() {
    switch arg {
    case "--events": options.events = args.next().flatMap { Int($0) } ?? options.events
    case "--durable-batches": options.durableBatches = args.next().flatMap { Int($0) } ?? options.durableBatches
    case "--dir": options.directory = args.next()
    default:
        FileHandle.standardError.write(Data("usage: AuditLogCompare [--events N] [--durable-batches N] [--dir D]\n".utf8))
        exit(64)
    }
}
do {
    let rows = try await Comparison(options).run()
    print(Table.render(rows))
} catch {
    FileHandle.standardError.write(Data("AuditLogCompare: \(error)\n".utf8))
    exit(1)
}
