import ArgumentParser
import AuditLog
import Foundation

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write every matching event, oldest first, each with its seq.",
        discussion: """
            Formats: json (one array), ndjson (one event a line), csv (RFC 4180; header \
            id,event_type,timestamp,verdict,reason_code,model,provider,config_version, then the \
            other scalar fields, nested fields as JSON text, and seq). With --output the file \
            appears only when complete (written to a temporary name, synced, then renamed); an \
            interrupted export leaves no partial file. Progress goes to stderr when it is a \
            terminal. The events are transcoded on every core, a run of each segment at a time, \
            and written in order.

            Examples:
              auditlog export --since 30d --format csv --output report.csv
              auditlog export --verdict block --format ndjson > blocked.ndjson
              auditlog export --filter team=payments --since 2026-03-01T00:00:00Z --until 2026-04-01T00:00:00Z
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case json, ndjson, csv
        var exportFormat: ExportFormat { ExportFormat(rawValue: rawValue) ?? .ndjson }
    }

    @OptionGroup var log: LogDirectoryOptions
    @OptionGroup var filter: FilterOptions

    @Option(help: "Output format: json, ndjson or csv.")
    var format: Format = .ndjson

    @Option(help: ArgumentHelp("Write to this file instead of standard output.", valueName: "path"))
    var output: String?

    @Flag(
        help: ArgumentHelp(
            "Make the export evidence: a first line {\"checkpoint\": …} and, per event, leaf_index, entry and inclusion_proof against that checkpoint (ndjson only; events after it are left out)."
        ))
    var proofs = false

    @Option(help: ArgumentHelp("With --proofs: the signed checkpoint's tree size (default: the latest).", valueName: "N"))
    var size: UInt64?

    func validate() throws {
        if proofs && format != .ndjson { throw ValidationError("--proofs writes ndjson: drop --format \(format.rawValue)") }
        if size != nil && !proofs { throw ValidationError("--size needs --proofs") }
    }

    func run() async throws {
        try await runCLI { try await export() }
    }

    private func export() async throws {
        OutputStream.ignoreSIGPIPE()
        let auditLog = try await log.openReadOnly()
        if proofs { return try await exportWithProofs(auditLog) }
        let chunks = auditLog.exportChunks(Query(window: filter.window(), filter: filter.eventFilter, order: .oldestFirst), format: format.exportFormat)
        let sink = try OutputFile(path: output)
        let progress = StandardError.isTerminal
        var count = 0
        do {
            for try await chunk in chunks {
                try sink.write(chunk.bytes)
                count += chunk.events
                if progress && chunk.events > 0 { StandardError.write("\rexported \(count) events") }
            }
            try sink.finish()
            if progress { StandardError.write("\rexported \(count) events\n") }
        } catch {
            sink.abandon()
            throw error
        }
    }

    private func exportWithProofs(_ auditLog: AuditLog) async throws {
        let export = try ProofExport(auditLog, query: Query(window: filter.window(), filter: filter.eventFilter, order: .oldestFirst), size: size)
        let sink = try OutputFile(path: output)
        var bytes: [UInt8] = []
        do {
            while try export.encodeNext(into: &bytes) {
                if bytes.count >= 1 << 16 {
                    try sink.write(bytes)
                    bytes.removeAll(keepingCapacity: true)
                }
            }
            try sink.write(bytes)
            try sink.finish()
        } catch {
            sink.abandon()
            throw error
        }
    }
}
