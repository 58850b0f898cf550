import ArgumentParser
import AuditLog

struct ShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one event with everything: fields, seq, segment and chain value.",
        discussion: """
            Exit 66 when no event has the id.

            Examples:
              auditlog show evt_01J5K4B6T8S45Q3ETMV38G3DDS
              auditlog show evt_abc123 --json | jq .event.policies
            """
    )

    @OptionGroup var log: LogDirectoryOptions

    @Argument(help: "The event id.")
    var id: String

    @Flag(help: "Print JSON: {seq, segment, frame_offset, chain_value, event}.")
    var json = false

    func run() async throws {
        try await runCLI { try await show() }
    }

    private func show() async throws {
        OutputStream.ignoreSIGPIPE()
        let auditLog = try await log.openReadOnly()
        guard let record = try await auditLog.event(id: id) else {
            throw CLIError(message: "no event with id '\(id)' in \(log.directory)", status: ExitStatus.noInput)
        }
        let location = try await auditLog.location(of: record.seq)
        let out = OutputStream(fd: 1)
        if json {
            let body = JSONValue.object([
                JSONMember("seq", .integer(record.seq.rawValue)),
                JSONMember("segment", .string(location?.file)),
                JSONMember("frame_offset", location.map { .integer($0.frameOffset) } ?? .null),
                JSONMember("chain_value", .string(location?.chainValue.hex)),
                JSONMember("event", try JSONValue.parse(record.event.jsonText())),
            ])
            out.write(body.jsonText + "\n")
        } else {
            var rows: [[String]] = [["seq", String(record.seq.rawValue)]]
            rows.append(["segment", location?.file ?? "-"])
            rows.append(["frame offset", location.map { String($0.frameOffset) } ?? "-"])
            rows.append(["chain value", location?.chainValue.hex ?? "-"])
            if case .object(let members) = try JSONValue.parse(record.event.jsonText()) {
                for m in members {
                    // A change in details reads as one line a field: `enabled: false → true`.
                    if m.key == "details", let changes = DetailsSummary.changes(m.value), !changes.isEmpty {
                        for (i, line) in DetailsSummary.lines(m.value).enumerated() { rows.append([i == 0 ? "details" : "", line]) }
                        continue
                    }
                    let text: String
                    if case .string(let s) = m.value { text = s } else { text = m.value.jsonText }
                    rows.append([m.key, text])
                }
            }
            out.write(Table.render(rows))
        }
        out.flush()
    }
}
