import ArgumentParser
import AuditLog
import Foundation

struct TailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Show the newest matching events.",
        discussion: """
            Newest first, 50 by default, as a table (TIME ID VERDICT REASON USER MODEL; with \
            --admin, the administrative trail: TIME ID ACTOR ACTION RESOURCE DETAILS, a change \
            in details shown as field: old → new) or, with --json, a JSON array of full events \
            each with its seq. With --follow, keeps printing \
            matching events as another process appends them (oldest first; one JSON object a \
            line with --json) until interrupted.

            Examples:
              auditlog tail --since 1h --verdict block
              auditlog tail --user alice@acme.com --since 24h --json
              auditlog tail --filter team=payments --follow
              auditlog tail --admin --since 7d
            """
    )

    @OptionGroup var log: LogDirectoryOptions
    @OptionGroup var filter: FilterOptions

    @Option(help: "At most this many events.")
    var limit = 50

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @Flag(help: "Keep printing new matching events until interrupted.")
    var follow = false

    func validate() throws {
        guard limit >= 1 else { throw ValidationError("--limit must be at least 1, got \(limit)") }
    }

    func run() async throws {
        try await runCLI { try await tail() }
    }

    private func tail() async throws {
        OutputStream.ignoreSIGPIPE()
        let auditLog = try await log.openReadOnly()
        let out = OutputStream(fd: 1)
        let page = try await auditLog.page(Query(window: filter.window(), filter: filter.eventFilter, order: .newestFirst, limit: limit))
        guard follow else {
            if json {
                out.write(EventPrinter.jsonArray(page.records))
            } else {
                out.write(EventPrinter.table(page.records, admin: filter.admin))
            }
            out.flush()
            return
        }
        var lastSeq = auditLog.head.lastSeq ?? SequenceNumber(0)
        if json {
            for r in page.records.reversed() { out.write(EventPrinter.jsonLine(r)) }
        } else {
            out.write(EventPrinter.table(page.records.reversed(), admin: filter.admin))
        }
        out.flush()
        // Poll the log for records appended after what was shown.
        while true {
            try await Task.sleep(for: .milliseconds(200))
            try await auditLog.refresh()
            guard let head = auditLog.head.lastSeq, head > lastSeq else { continue }
            let newer = Query(window: TimeWindow(since: filter.window().since, until: filter.window().until), filter: filter.eventFilter, order: .oldestFirst, cursor: QueryCursorText.after(lastSeq))
            let iterator = try auditLog.queryIterator(newer)
            var shown: [Record] = []
            while let r = try iterator.next() { shown.append(r) }
            lastSeq = head
            if json {
                for r in shown { out.write(EventPrinter.jsonLine(r)) }
            } else if !shown.isEmpty {
                out.write(EventPrinter.table(shown, header: false, admin: filter.admin))
            }
            out.flush()
        }
    }
}

/// Builds the cursor that resumes an oldest-first query after a seq.
enum QueryCursorText {
    static func after(_ seq: SequenceNumber) -> String { Query.cursor(after: seq, order: .oldestFirst) }
}

/// Human and JSON renderings of records.
enum EventPrinter {
    static func table(_ records: some Sequence<Record>, header: Bool = true, admin: Bool = false) -> String {
        if admin {
            // Who changed what: the actor, the action, its resource and what changed.
            var rows: [[String]] = header ? [["TIME", "ID", "ACTOR", "ACTION", "RESOURCE", "DETAILS"]] : []
            for r in records {
                let e = r.event
                rows.append([e.timestamp.rfc3339, e.id ?? "-", e.user ?? "-", e.eventType, e.resource ?? "-", DetailsSummary.line(e.details) ?? "-"])
            }
            return Table.render(rows)
        }
        var rows: [[String]] = header ? [["TIME", "ID", "VERDICT", "REASON", "USER", "MODEL"]] : []
        for r in records {
            let e = r.event
            rows.append([e.timestamp.rfc3339, e.id ?? "-", e.verdict?.rawValue ?? "-", e.reasonCode ?? "-", e.user ?? "-", e.model ?? "-"])
        }
        return Table.render(rows)
    }

    static func jsonLine(_ r: Record) -> String {
        r.event.jsonText(seq: r.seq) + "\n"
    }

    static func jsonArray(_ records: [Record]) -> String {
        guard !records.isEmpty else { return "[]\n" }
        return "[\n" + records.map { r in r.event.jsonText(seq: r.seq) }.joined(separator: ",\n") + "\n]\n"
    }
}
