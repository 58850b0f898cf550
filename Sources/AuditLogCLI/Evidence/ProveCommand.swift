import ArgumentParser
import AuditLog

struct ProveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prove",
        abstract: "Print an inclusion or consistency proof against a signed checkpoint.",
        discussion: """
            With --id or --seq: a JSON bundle {origin, checkpoint, tree_size, leaf_index, entry, \
            event, inclusion_proof} proving the event is in the log the checkpoint commits to. \
            With --old-size M: {origin, old_size, new_size, checkpoint, consistency_proof} \
            proving the log at the checkpoint extends the log of size M. --size names a size \
            with a stored checkpoint (default: the latest); any other size is exit 64, naming \
            the nearest signed sizes. Hashes are base64, in RFC 9162 order. Needs no lock. \
            Check a bundle anywhere with auditlog check-proof.

            Examples:
              auditlog prove --id evt_abc123 > evt_abc123.proof.json
              auditlog prove --old-size 120000 --size 150000
            """
    )

    @OptionGroup var log: LogDirectoryOptions

    @Option(help: ArgumentHelp("Prove this event's inclusion.", valueName: "event-id"))
    var id: String?

    @Option(help: ArgumentHelp("Prove the inclusion of the record of this seq.", valueName: "seq"))
    var seq: UInt64?

    @Option(help: ArgumentHelp("Prove consistency from this older tree size.", valueName: "M"))
    var oldSize: UInt64?

    @Option(help: ArgumentHelp("The signed checkpoint's tree size (default: the latest).", valueName: "N"))
    var size: UInt64?

    func validate() throws {
        let chosen = [id != nil, seq != nil, oldSize != nil].filter { $0 }.count
        guard chosen == 1 else { throw ValidationError("give exactly one of --id, --seq and --old-size") }
        if let seq, seq == 0 { throw ValidationError("--seq starts at 1") }
        if let oldSize, oldSize == 0 { throw ValidationError("--old-size must be at least 1") }
        if let oldSize, let size, oldSize > size { throw ValidationError("--old-size \(oldSize) is larger than --size \(size)") }
    }

    func run() async throws {
        try await runCLI { try await prove() }
    }

    private func prove() async throws {
        OutputStream.ignoreSIGPIPE()
        let auditLog = try await log.openReadOnly()
        let bundle: JSONValue
        if let oldSize {
            bundle = try await auditLog.consistencyBundle(oldSize: oldSize, newSize: size)
        } else {
            var target = seq.map { SequenceNumber($0) }
            if let id {
                guard let record = try await auditLog.event(id: id) else {
                    throw CLIError(message: "no event with id '\(id)' in \(log.directory)", status: ExitStatus.noInput)
                }
                target = record.seq
            }
            guard let target else { throw ValidationError("give --id, --seq or --old-size") }
            bundle = try await auditLog.inclusionBundle(seq: target, size: size)
        }
        let out = OutputStream(fd: 1)
        out.write(bundle.jsonText + "\n")
        out.flush()
    }
}
