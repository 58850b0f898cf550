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

    @Option(
        name: .customLong("group-by"),
        help: ArgumentHelp(
            "user, team, model, provider, api_key, verdict, reason_code, source, event_type, gateway, or a time: hour, day, week (ISO, from Monday) or month (repeatable). With a time, rows come oldest first as a series: every bucket of the window, for each value of one other key, zeros included.",
            valueName: "key"))
    var groupBy: [String] = []

    @Option(help: "Output format: table, json or csv.")
    var format: Format = .table

    @Option(help: "Order rows by cost, requests or tokens (highest first).")
    var sort: UsageOrder = .cost

    @Option(help: "At most this many rows (the totals still cover all).")
    var limit: Int?

    @Flag(name: .customLong("unique-users"), help: "Add a column of distinct users per group (scans the user column of every segment in the window).")
    var uniqueUsers = false

    @Flag(help: "Add the number of events per reason code per group (how often each policy reason fired).")
    var reasons = false

    @Flag(help: "Draw the time series as a bar chart of the --sort metric, one bar a bucket (by day unless --group-by names a time). Unicode blocks; # when the locale is not UTF-8 or TERM is dumb.")
    var chart = false

    func validate() throws {
        for key in groupBy where UsageGroup(rawValue: key) == nil {
            throw ValidationError("--group-by '\(key)' is not one of \(UsageGroup.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard Set(groupBy).count == groupBy.count else { throw ValidationError("--group-by names a key twice") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1, got \(limit)") }
        if chart, format != .table { throw ValidationError("--chart draws in the terminal; it does not go with --format \(format.rawValue)") }
        if chart, groupBy.filter({ UsageGroup(rawValue: $0)?.isTime == false }).count > 1 {
            throw ValidationError("--chart draws a time series: at most one key besides the time")
        }
    }

    func run() async throws {
        try await runCLI { try await usage() }
    }

    private func usage() async throws {
        OutputStream.ignoreSIGPIPE()
        let auditLog = try await log.openReadOnly()
        var keys = groupBy.compactMap(UsageGroup.init(rawValue:))
        if chart, !keys.contains(where: \.isTime) { keys.insert(.day, at: 0) }
        var columns: UsageColumns = []
        if uniqueUsers { columns.insert(.uniqueUsers) }
        if reasons { columns.insert(.reasons) }
        let report = try await auditLog.usage(window: filter.window(), groupBy: keys, filter: filter.eventFilter, columns: columns)
        let rows = report.rows(orderedBy: sort, limit: limit)
        let out = OutputStream(fd: 1)
        if chart {
            out.write(BarChart.render(rows, groupBy: keys, metric: sort, unicode: BarChart.unicode(), width: BarChart.width()))
            out.flush()
            return
        }
        switch format {
        case .json:
            out.write(report.json(rows: rows).jsonText + "\n")
        case .csv:
            out.write(report.csv(rows: rows))
        case .table:
            var table = [keys.map { $0.rawValue.uppercased() } + report.metricColumns.map { $0.uppercased() }]
            for row in rows { table.append(row.group.map { $0 ?? "-" } + row.metricCells + row.detailCells) }
            if !keys.isEmpty { table.append(["TOTAL"] + Array(repeating: "", count: keys.count - 1) + report.totals.metricCells + report.totals.detailCells) }
            out.write(Table.render(table))
        }
        out.flush()
    }

}

extension UsageOrder: ExpressibleByArgument {}
