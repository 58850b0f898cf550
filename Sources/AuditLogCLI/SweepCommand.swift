import ArgumentParser
import AuditLog
import Foundation

struct SweepCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Delete whole sealed segments that retention no longer requires.",
        discussion: """
            Removes sealed segments whose newest event is older than --max-age (and, with \
            --max-size, the oldest ones while the log is larger), never the active segment and \
            never a segment under a legal hold. Before deleting anything it appends one \
            retention.sweep record naming the seq ranges, files and chain values it removes, so \
            that verify can tell the deletion from tampering. --dry-run lists what would go and \
            changes nothing. Needs the write lock (exit 75 when another process holds it); \
            when a server holds the log, --server URL sends the sweep to it (POST /v1/sweep, the \
            token from AUDITLOG_API_TOKEN, recorded as the token's name).

            Examples:
              auditlog sweep --max-age 90d --dry-run
              auditlog sweep --max-age 7d --actor compliance-bot --reason "7-day policy"
              auditlog sweep --max-age 365d --max-size 50GB --json
              AUDITLOG_API_TOKEN=… auditlog sweep --max-age 90d --server http://127.0.0.1:8080
            """
    )

    @OptionGroup var log: LogDirectoryOptions

    @OptionGroup var remote: ServerOptions

    @Option(name: .customLong("max-age"), help: ArgumentHelp("Delete segments whose newest event is older than this (30d, 12h, 2w).", valueName: "duration"))
    var maxAge: String?

    @Option(name: .customLong("max-size"), help: ArgumentHelp("Keep the segments within this many bytes (500MB, 50GB, 1TiB).", valueName: "size"))
    var maxSize: String?

    @Flag(help: "List what would be deleted; change nothing.")
    var dryRun = false

    @Flag(help: "Print the result as JSON.")
    var json = false

    @Option(help: "Who is sweeping (recorded as the record's user).")
    var actor = "auditlog-cli"

    @Option(help: "Why (recorded in the record's details).")
    var reason: String?

    func validate() throws {
        guard maxAge != nil || maxSize != nil else { throw ValidationError("give --max-age, --max-size or both") }
        if let maxAge, TimeExpression.durationNanos(maxAge) == nil {
            throw ValidationError("--max-age '\(maxAge)' is not a duration such as 90d, 12h or 2w")
        }
        if let maxSize, ByteSize.parse(maxSize) == nil {
            throw ValidationError("--max-size '\(maxSize)' is not a size such as 500MB, 50GB or 1TiB")
        }
    }

    func run() async throws {
        try await runCLI { try await sweep() }
    }

    private func sweep() async throws {
        OutputStream.ignoreSIGPIPE()
        if let client = remote.client { return try await sweep(on: client) }
        let auditLog = try await log.openWritable(route: "POST /v1/sweep")
        let policy = RetentionPolicy(maxAgeNanos: maxAge.flatMap(TimeExpression.durationNanos), maxTotalBytes: maxSize.flatMap(ByteSize.parse))
        let report = try await auditLog.sweep(policy, actor: actor, reason: reason, dryRun: dryRun)
        try await auditLog.close()
        let out = OutputStream(fd: 1)
        if json {
            out.write(report.json.jsonText + "\n")
        } else {
            let verb = report.dryRun ? "would delete" : "deleted"
            if report.segments.isEmpty {
                out.write("nothing to sweep\n")
            } else {
                for s in report.segments {
                    out.write("\(verb) segments/\(s.fileName)  seq \(s.firstSeq)–\(s.lastSeq.map { String($0.rawValue) } ?? "-")  \(s.recordCount) records  \(s.bytes) bytes\n")
                }
                out.write("\(verb) \(report.segments.count) segments, \(report.recordsRemoved) records, \(report.bytesFreed) bytes")
                out.write(report.recordSeq.map { "; recorded as seq \($0)\n" } ?? "\n")
            }
            for k in report.kept { out.write("kept segments/\(k.segment.fileName): \(KeptSegment.why(holds: k.holds, releases: k.releases))\n") }
            if let until = report.archivedLockedUntil {
                out.write("\(report.archivedLockedSegments) of them stay in the archive under object lock until \(until.rfc3339), then expire by the bucket's lifecycle\n")
            }
        }
        out.flush()
    }
}

extension SweepCommand {
    /// The sweep sent to the server holding the log; prints what it answers.
    private func sweep(on client: ServerClient) async throws {
        var body = [JSONMember("dry_run", .bool(dryRun))]
        if let maxAge { body.append(JSONMember("max_age", .string(maxAge))) }
        if let maxSize { body.append(JSONMember("max_size", .string(maxSize))) }
        if let reason { body.append(JSONMember("reason", .string(reason))) }
        let report = try await client.send(.post, "/v1/sweep", body: .object(body))
        let out = OutputStream(fd: 1)
        defer { out.flush() }
        if json {
            out.write(report.jsonText + "\n")
            return
        }
        let verb = dryRun ? "would delete" : "deleted"
        let segments = report["segments"]?.arrayValue?.compactMap(\.stringValue) ?? []
        if segments.isEmpty {
            out.write("nothing to sweep\n")
        } else {
            for s in segments { out.write("\(verb) \(s)\n") }
            out.write("\(verb) \(segments.count) segments, \(report["records"]?.intValue ?? 0) records, \(report["bytes_freed"]?.intValue ?? 0) bytes")
            out.write(report["record_seq"]?.intValue.map { "; recorded as seq \($0)\n" } ?? "\n")
        }
        if let kept = report["kept"]?.arrayValue {
            for k in kept {
                let ids = { (name: String) in k[name]?.arrayValue?.compactMap(\.stringValue) ?? [] }
                out.write("kept \(k["segment"]?.stringValue ?? "?"): \(KeptSegment.why(holds: ids("holds"), releases: ids("releases")))\n")
            }
        } else {
            // A server older than the `kept` field.
            for s in report["held_segments"]?.arrayValue?.compactMap(\.stringValue) ?? [] { out.write("kept \(s): under a legal hold\n") }
        }
    }
}
