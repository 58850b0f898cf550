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
            changes nothing. Needs the write lock (exit 75 when another process holds it).

            Examples:
              auditlog sweep --max-age 90d --dry-run
              auditlog sweep --max-age 7d --actor compliance-bot --reason "7-day policy"
              auditlog sweep --max-age 365d --max-size 50GB --json
            """
    )

    @OptionGroup var log: LogDirectoryOptions

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
        let auditLog = try await log.openWritable()
        let policy = RetentionPolicy(maxAgeNanos: maxAge.flatMap(TimeExpression.durationNanos), maxTotalBytes: maxSize.flatMap(ByteSize.parse))
        let report = try await auditLog.sweep(policy, actor: actor, reason: reason, dryRun: dryRun)
        try await auditLog.close()
        let out = OutputStream(fd: 1)
        if json {
            out.write(
                JSONValue.object([
                    JSONMember("dry_run", .bool(report.dryRun)),
                    JSONMember("segments", .array(report.segments.map { .string("segments/" + $0.fileName) })),
                    JSONMember("held_segments", .array(report.heldSegments.map { .string("segments/" + $0.fileName) })),
                    JSONMember("records", .integer(report.recordsRemoved)),
                    JSONMember("bytes_freed", .integer(report.bytesFreed)),
                    JSONMember("first_seq", report.segments.first.map { .integer($0.firstSeq.rawValue) } ?? .null),
                    JSONMember("last_seq", report.segments.last?.lastSeq.map { .integer($0.rawValue) } ?? .null),
                    JSONMember("record_seq", report.recordSeq.map { .integer($0.rawValue) } ?? .null),
                    JSONMember("archive_locked_segments", .integer(report.archivedLockedSegments)),
                    JSONMember("archive_locked_until", .string(report.archivedLockedUntil?.rfc3339)),
                ]).jsonText + "\n")
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
            for s in report.heldSegments { out.write("kept segments/\(s.fileName): under a legal hold\n") }
            if let until = report.archivedLockedUntil {
                out.write("\(report.archivedLockedSegments) of them stay in the archive under object lock until \(until.rfc3339), then expire by the bucket's lifecycle\n")
            }
        }
        out.flush()
    }
}

/// Sizes as people write them: `500MB`, `50GB` (powers of 1000), `1GiB` (powers of 1024), or
/// plain bytes.
enum ByteSize {
    static func parse(_ text: String) -> Int64? {
        let units: [(String, Double)] = [
            ("KiB", 1024), ("MiB", 1_048_576), ("GiB", 1_073_741_824), ("TiB", 1_099_511_627_776),
            ("KB", 1e3), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12), ("B", 1),
        ]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            guard let n = Double(text.dropLast(suffix.count)), n >= 0 else { return nil }
            return Int64(n * factor)
        }
        guard let n = Int64(text), n >= 0 else { return nil }
        return n
    }
}
