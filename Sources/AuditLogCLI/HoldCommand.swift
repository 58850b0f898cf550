import ArgumentParser
import AuditLog
import Foundation

struct HoldCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hold",
        abstract: "Place, release and list legal holds (held segments are never swept).",
        discussion: """
            Holds are events in the chain (hold.placed, hold.released), so they are audited \
            like everything else. When a server holds the log, --server URL sends the request \
            to it (/v1/holds, the token from AUDITLOG_API_TOKEN).

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
        @OptionGroup var remote: ServerOptions
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
                let fromTime = from.flatMap { TimeExpression.parse($0) }
                let toTime = to.flatMap { TimeExpression.parse($0) }
                let hold: JSONValue
                if let client = remote.client {
                    hold = try await client.send(
                        .post, "/v1/holds",
                        body: .object([
                            JSONMember("from", .string(fromTime?.rfc3339)), JSONMember("to", .string(toTime?.rfc3339)), JSONMember("reason", .string(reason)),
                        ]))
                } else {
                    let auditLog = try await log.openWritable(route: "POST /v1/holds")
                    hold = try await auditLog.placeHold(from: fromTime, until: toTime, reason: reason, actor: actor).json
                    try await auditLog.close()
                }
                let out = OutputStream(fd: 1)
                out.write(json ? hold.jsonText + "\n" : "placed hold \(hold["id"]?.stringValue ?? "?")\n")
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
        @OptionGroup var remote: ServerOptions
        @Argument(help: "The hold id (from hold list).")
        var id: String
        @Option(help: "Why.")
        var reason: String?
        @Option(help: "Who releases it.")
        var actor = "auditlog-cli"

        func run() async throws {
            try await runCLI {
                if let client = remote.client {
                    let query = reason.map { "?reason=" + ($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "") } ?? ""
                    _ = try await client.send(.delete, "/v1/holds/" + (id.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(["_", "-"])) ?? id) + query)
                    let out = OutputStream(fd: 1)
                    out.write("released hold \(id)\n")
                    out.flush()
                    return
                }
                let auditLog = try await log.openWritable(route: "DELETE /v1/holds/\(id)")
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
        @OptionGroup var remote: ServerOptions
        @Flag(help: "Print a JSON array.")
        var json = false

        func run() async throws {
            try await runCLI {
                let holds: [JSONValue]
                if let client = remote.client {
                    holds = try await client.send(.get, "/v1/holds")["holds"]?.arrayValue ?? []
                } else {
                    let auditLog = try await log.openReadOnly()
                    holds = try await auditLog.holds().map(\.json)
                }
                let out = OutputStream(fd: 1)
                if json {
                    out.write(JSONValue.array(holds).jsonText + "\n")
                } else {
                    var rows = [["ID", "FROM", "TO", "REASON", "PLACED_BY", "PLACED_AT"]]
                    for h in holds {
                        rows.append(["id", "from", "to", "reason", "placed_by", "placed_at"].map { h[$0]?.stringValue ?? "-" })
                    }
                    out.write(Table.render(rows))
                }
                out.flush()
            }
        }
    }
}
