import ArgumentParser
import AuditLog
import Foundation

struct UsageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "usage",
        abstract: "Summarise requests, tokens, cost, cache hits and latency per group.",
        discussion: """
            Group by any of user, team, model, provider, api_key, verdict, hour, day (repeat \
            --group-by for combinations such as team × model). Cost is exact (summed in \
            nano-dollars). Tables end with a totals row.

            Examples:
              auditlog usage --since 30d --group-by team
              auditlog usage --since 7d --group-by team --group-by model --sort cost --limit 20
              auditlog usage --since 24h --group-by hour --format csv
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json, csv }

    @OptionGroup var log: LogDirectoryOptions
    @OptionGroup var filter: FilterOptions

    @Option(name: .customLong("group-by"), help: ArgumentHelp("user, team, model, provider, api_key, verdict, hour or day (repeatable).", valueName: "key"))
    var groupBy: [String] = []

    @Option(help: "Output format: table, json or csv.")
    var format: Format = .table

    @Option(help: "Order rows by cost, requests or tokens (highest first).")
    var sort: UsageOrder = .cost

    @Option(help: "At most this many rows (the totals still cover all).")
    var limit: Int?

    func validate() throws {
        for key in groupBy where UsageGroup(rawValue: key) == nil {
            throw ValidationError("--group-by '\(key)' is not one of \(UsageGroup.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard Set(groupBy).count == groupBy.count else { throw ValidationError("--group-by names a key twice") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1, got \(limit)") }
    }

    func run() async throws {
        try await runCLI { try await usage() }
    }

    static let metricColumns = ["requests", "tokens_in", "tokens_out", "cost", "cache_hit_rate", "blocked", "redacted", "escalated", "avg_latency_ms", "p95_latency_ms"]

    private func usage() async throws {
        OutputStream.ignoreSIGPIPE()
        let auditLog = try await log.openReadOnly()
        let keys = groupBy.compactMap(UsageGroup.init(rawValue:))
        let report = try await auditLog.usage(window: filter.window(), groupBy: keys, filter: filter.eventFilter)
        let rows = report.rows(orderedBy: sort, limit: limit)
        let out = OutputStream(fd: 1)
        switch format {
        case .json:
            out.write(report.json(rows: rows).jsonText + "\n")
        case .csv:
            var bytes = Array(((keys.map(\.rawValue) + Self.metricColumns).joined(separator: ",") + "\r\n").utf8)
            for row in rows {
                let cells = row.group.map { $0 ?? "" } + Self.cells(row)
                for (i, cell) in cells.enumerated() {
                    if i > 0 { bytes.append(UInt8(ascii: ",")) }
                    CSVExport.appendField(cell, to: &bytes)
                }
                bytes += [0x0D, 0x0A]
            }
            out.write(bytes)
        case .table:
            var table = [keys.map { $0.rawValue.uppercased() } + Self.metricColumns.map { $0.uppercased() }]
            for row in rows { table.append(row.group.map { $0 ?? "-" } + Self.cells(row)) }
            table.append((keys.isEmpty ? [] : ["TOTAL"] + Array(repeating: "", count: keys.count - 1)) + Self.cells(report.totals))
            out.write(Table.render(table))
        }
        out.flush()
    }

    static func milliseconds(_ micros: Int64?) -> String {
        guard let micros else { return "" }
        return String(format: "%.3f", Double(micros) / 1000)
    }

    static func cells(_ r: UsageRow) -> [String] {
        [
            String(r.requests), String(r.tokensIn), String(r.tokensOut), r.cost.description, String(format: "%.4f", r.cacheHitRate),
            String(r.blocked), String(r.redacted), String(r.escalated), milliseconds(r.averageLatencyMicros), milliseconds(r.p95LatencyMicros),
        ]
    }
}

extension UsageOrder: ExpressibleByArgument {}
