import ArgumentParser
import AuditLog
import Foundation

struct HoldCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hold",
        abstract: "Place, release and list legal holds (held segments are never swept).",
        discussion: """
            Holds are events in the chain (hold.placed, hold.released), so they are audited \
            like everything else.

            Examples:
              auditlog hold place --from 2026-01-01T00:00:00Z --to 2026-04-01T00:00:00Z --reason "case 42"
              auditlog hold list
              auditlog hold release evt_01J5K4B6T8S45Q3ETMV38G3DDS --reason "case closed"
            """,
        subcommands: [Place.self, Release.self, List.self]
    )

    struct Place: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Hold a range of event time (or, with neither --from nor --to, the whole log).",
            discussion: """
                Examples:
                  auditlog hold place --from 30d --reason "incident 7"
                  auditlog hold place --reason "regulator request" --actor legal@acme.com
                """)

        @OptionGroup var log: LogDirectoryOptions
        @Option(help: ArgumentHelp("Start of the held event time (RFC 3339 or a duration before now).", valueName: "time"))
        var from: String?
        @Option(help: ArgumentHelp("End of the held event time (exclusive).", valueName: "time"))
        var to: String?
        @Option(help: "Why (required).")
        var reason: String
        @Option(help: "Who places it.")
        var actor = "auditlog-cli"
        @Flag(help: "Print the hold as JSON.")
        var json = false

        func validate() throws {
            for (flag, value) in [("--from", from), ("--to", to)] {
                if let value, TimeExpression.parse(value) == nil {
                    throw ValidationError("\(flag) '\(value)' is not \(TimeExpression.acceptedForms)")
                }
            }
            guard !reason.isEmpty else { throw ValidationError("--reason must not be empty") }
        }

        func run() async throws {
            try await runCLI {
                let auditLog = try await log.openWritable()
                let hold = try await auditLog.placeHold(from: from.flatMap { TimeExpression.parse($0) }, until: to.flatMap { TimeExpression.parse($0) }, reason: reason, actor: actor)
                try await auditLog.close()
                let out = OutputStream(fd: 1)
                out.write(json ? HoldCommand.json(hold).jsonText + "\n" : "placed hold \(hold.id)\n")
                out.flush()
            }
        }
    }

    struct Release: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Release a hold by its id.",
            discussion: """
                Examples:
                  auditlog hold release evt_01J5K4B6T8S45Q3ETMV38G3DDS --reason "case closed"
                """)

        @OptionGroup var log: LogDirectoryOptions
        @Argument(help: "The hold id (from hold list).")
        var id: String
        @Option(help: "Why.")
        var reason: String?
        @Option(help: "Who releases it.")
        var actor = "auditlog-cli"

        func run() async throws {
            try await runCLI {
                let auditLog = try await log.openWritable()
                do {
                    try await auditLog.releaseHold(id, actor: actor, reason: reason)
                } catch {
                    try? await auditLog.close()
                    throw error
                }
                try await auditLog.close()
                let out = OutputStream(fd: 1)
                out.write("released hold \(id)\n")
                out.flush()
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the holds in place.",
            discussion: """
                Examples:
                  auditlog hold list --json
                """)

        @OptionGroup var log: LogDirectoryOptions
        @Flag(help: "Print a JSON array.")
        var json = false

        func run() async throws {
            try await runCLI {
                let auditLog = try await log.openReadOnly()
                let holds = try await auditLog.holds()
                let out = OutputStream(fd: 1)
                if json {
                    out.write(JSONValue.array(holds.map(HoldCommand.json)).jsonText + "\n")
                } else {
                    var rows = [["ID", "FROM", "TO", "REASON", "PLACED_BY", "PLACED_AT"]]
                    for h in holds {
                        rows.append([h.id, h.from?.rfc3339 ?? "-", h.until?.rfc3339 ?? "-", h.reason, h.placedBy ?? "-", h.placedAt.rfc3339])
                    }
                    out.write(Table.render(rows))
                }
                out.flush()
            }
        }
    }

    static func json(_ h: LegalHold) -> JSONValue {
        .object([
            JSONMember("id", .string(h.id)),
            JSONMember("from", .string(h.from?.rfc3339)),
            JSONMember("to", .string(h.until?.rfc3339)),
            JSONMember("reason", .string(h.reason)),
            JSONMember("placed_by", .string(h.placedBy)),
            JSONMember("placed_at", .string(h.placedAt.rfc3339)),
            JSONMember("seq", .integer(h.seq.rawValue)),
        ])
    }
}
