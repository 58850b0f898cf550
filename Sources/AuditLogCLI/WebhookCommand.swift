import ArgumentParser
import AuditLog
import AuditLogServices
import Foundation

struct WebhookCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhook",
        abstract: "Add, list and remove webhook subscriptions (delivered by auditlog serve).",
        discussion: """
            A subscription receives, as signed CloudEvents (Standard Webhooks signatures), the \
            events appended after it was created: event.blocked, event.redacted, \
            event.escalated, spend.threshold (with --threshold) and model.first_seen. \
            Subscriptions live in the log directory (webhooks/); adding and removing them are \
            events in the chain. When a server holds the log, --server URL sends the request \
            to it (/v1/webhooks, the token from AUDITLOG_API_TOKEN). docs/OPERATIONS.md shows a \
            receiver that checks the signature.

            Examples:
              auditlog webhook add --url https://hooks.example.com/audit --events event.blocked,event.redacted
              auditlog webhook add --url http://127.0.0.1:9000/ --events spend.threshold --threshold 'team=payments cost>100/day'
              auditlog webhook list
              auditlog webhook remove wh_4k2m9x0q3v7c1n8b5t6a
            """,
        subcommands: [Add.self, List.self, Remove.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Subscribe a URL to events appended from now on; prints its id and signing secret.",
            discussion: """
                The secret (whsec_…) is printed once; keep it with the receiver. --secret-file \
                gives one instead (a file holding whsec_ and the base64 of 16 to 64 random bytes).
                """)

        @OptionGroup var log: LogDirectoryOptions
        @OptionGroup var remote: ServerOptions
        @Option(help: ArgumentHelp("Where deliveries are posted (http or https).", valueName: "url"))
        var url: String
        @Option(help: ArgumentHelp("Comma-separated: \(WebhookEventType.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "types"))
        var events: String
        @Option(name: .customLong("filter"), help: ArgumentHelp("Only events meeting this condition (repeatable, all must hold), e.g. team=payments.", valueName: "condition"))
        var filters: [String] = []
        @Option(name: .customLong("threshold"), help: ArgumentHelp("A spend alert, e.g. 'team=payments cost>100/day' (repeatable; with spend.threshold).", valueName: "threshold"))
        var thresholds: [String] = []
        @Option(help: ArgumentHelp("A file holding the signing secret (whsec_…); generated when not given.", valueName: "path"))
        var secretFile: String?
        @Option(help: "Who adds it (recorded).")
        var actor = "auditlog-cli"
        @Flag(help: "Print the subscription as JSON.")
        var json = false

        func run() async throws {
            try await runCLI {
                var types: [WebhookEventType] = []
                for text in events.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !text.isEmpty {
                    guard let type = WebhookEventType(rawValue: text) else {
                        throw CLIError(message: "--events: '\(text)' is not one of \(WebhookEventType.allCases.map(\.rawValue).joined(separator: ", "))", status: ExitStatus.usage)
                    }
                    types.append(type)
                }
                var secret: String?
                if let secretFile {
                    secret = try EvidenceInputs.read(secretFile, what: "secret file").trimmingCharacters(in: .whitespacesAndNewlines)
                }
                let result: JSONValue
                if let client = remote.client {
                    var body = [
                        JSONMember("url", .string(url)), JSONMember("events", .array(types.map { .string($0.rawValue) })),
                        JSONMember("filter", .array(filters.map { .string($0) })), JSONMember("thresholds", .array(thresholds.map { .string($0) })),
                    ]
                    if let secret { body.append(JSONMember("secret", .string(secret))) }
                    result = try await client.send(.post, "/v1/webhooks", body: .object(body))
                } else {
                    var parsed: [SpendThreshold] = []
                    for t in thresholds { parsed.append(try SpendThreshold(parsing: t)) }
                    let auditLog = try await log.openWritable(route: "POST /v1/webhooks")
                    do {
                        let s = try await Webhooks(log: auditLog).add(url: url, events: types, filter: filters, thresholds: parsed, secret: secret, actor: actor)
                        var members: [JSONMember] = []
                        if case .object(let listed) = Webhooks.Status(new: s).json { members = listed }
                        members.insert(JSONMember("secret", .string(s.secret)), at: 1)
                        result = .object(members)
                    } catch {
                        try? await auditLog.close()
                        throw error
                    }
                    try await auditLog.close()
                }
                let out = OutputStream(fd: 1)
                if json {
                    out.write(result.jsonText + "\n")
                } else {
                    out.write("added webhook \(result["id"]?.stringValue ?? "?")\nsecret \(result["secret"]?.stringValue ?? "?")\n")
                }
                out.flush()
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the subscriptions and how their deliveries go (never their secrets).")

        @OptionGroup var log: LogDirectoryOptions
        @OptionGroup var remote: ServerOptions
        @Flag(help: "Print a JSON array.")
        var json = false

        func run() async throws {
            try await runCLI {
                let items: [JSONValue]
                if let client = remote.client {
                    items = try await client.send(.get, "/v1/webhooks")["webhooks"]?.arrayValue ?? []
                } else {
                    let auditLog = try await log.openReadOnly()
                    items = try Webhooks(log: auditLog).statuses().map(\.json)
                }
                let out = OutputStream(fd: 1)
                if json {
                    out.write(JSONValue.array(items).jsonText + "\n")
                } else {
                    var rows = [["ID", "URL", "EVENTS", "FILTER", "STATE", "CURSOR", "LAG", "DELIVERED", "LAST_ERROR"]]
                    for w in items {
                        func list(_ key: String) -> String {
                            let values = w[key]?.arrayValue?.compactMap(\.stringValue) ?? []
                            return values.isEmpty ? "-" : values.joined(separator: ",")
                        }
                        func text(_ key: String) -> String {
                            switch w[key] {
                            case .string(let s)?: s
                            case .number(let n)?: n
                            default: "-"
                            }
                        }
                        rows.append([text("id"), text("url"), list("events"), list("filter"), text("state"), text("cursor"), text("lag"), text("delivered"), text("last_error")])
                    }
                    out.write(Table.render(rows))
                }
                out.flush()
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a subscription by its id (recorded).")

        @OptionGroup var log: LogDirectoryOptions
        @OptionGroup var remote: ServerOptions
        @Argument(help: "The subscription id (from webhook list).")
        var id: String
        @Option(help: "Who removes it (recorded).")
        var actor = "auditlog-cli"

        func run() async throws {
            try await runCLI {
                if let client = remote.client {
                    _ = try await client.send(.delete, "/v1/webhooks/" + (id.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(["_", "-"])) ?? id))
                } else {
                    let auditLog = try await log.openWritable(route: "DELETE /v1/webhooks/\(id)")
                    do {
                        try await Webhooks(log: auditLog).remove(id: id, actor: actor)
                    } catch {
                        try? await auditLog.close()
                        throw error
                    }
                    try await auditLog.close()
                }
                let out = OutputStream(fd: 1)
                out.write("removed webhook \(id)\n")
                out.flush()
            }
        }
    }
}
