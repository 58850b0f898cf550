import ArgumentParser
import AuditLog
import Foundation

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write every event, oldest first, each with its seq.",
        discussion: """
            With --output the file appears only when complete (written to a temporary name, \
            synced, then renamed).

            Examples:
              auditlog export --format ndjson > all.ndjson
              auditlog export --format json --output audit-2026-03.json
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case ndjson, json
    }

    @OptionGroup var log: LogDirectoryOptions

    @Option(help: "Output format: ndjson or json.")
    var format: Format = .ndjson

    @Option(help: ArgumentHelp("Write to this file instead of standard output.", valueName: "path"))
    var output: String?

    func run() async throws {
        try await runCLI { try await export() }
    }

    private func export() async throws {
        OutputStream.ignoreSIGPIPE()
        let auditLog = try await log.openReadOnly()
        let sink = try OutputFile(path: output)
        let reader = auditLog.records().makeReader()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(1 << 17)
        var first = true
        if format == .json { bytes.append(UInt8(ascii: "[")) }
        do {
            while let record = try reader.next() {
                if format == .json {
                    bytes.append(contentsOf: first ? [0x0A] : [0x2C, 0x0A])
                }
                first = false
                record.event.appendJSON(to: &bytes, seq: record.seq)
                if format == .ndjson { bytes.append(0x0A) }
                if bytes.count >= 1 << 16 {
                    try sink.write(bytes)
                    bytes.removeAll(keepingCapacity: true)
                }
            }
            if format == .json { bytes.append(contentsOf: first ? Array("]\n".utf8) : Array("\n]\n".utf8)) }
            try sink.write(bytes)
            try sink.finish()
        } catch {
            sink.abandon()
            throw error
        }
    }
}
