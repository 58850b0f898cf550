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
            terminal.

            Examples:
              auditlog export --since 30d --format csv --output report.csv
              auditlog export --verdict block --format ndjson > blocked.ndjson
              auditlog export --filter team=payments --since 2026-03-01T00:00:00Z --until 2026-04-01T00:00:00Z
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case json, ndjson, csv
    }

    @OptionGroup var log: LogDirectoryOptions
    @OptionGroup var filter: FilterOptions

    @Option(help: "Output format: json, ndjson or csv.")
    var format: Format = .ndjson

    @Option(help: ArgumentHelp("Write to this file instead of standard output.", valueName: "path"))
    var output: String?

    func run() async throws {
        try await runCLI { try await export() }
    }

    private func export() async throws {
        OutputStream.ignoreSIGPIPE()
        let auditLog = try await log.openReadOnly()
        let iterator = try auditLog.query(Query(window: filter.window(), filter: filter.eventFilter, order: .oldestFirst)).makeIterator()
        let sink = try OutputFile(path: output)
        let progress = StandardError.isTerminal
        var bytes: [UInt8] = []
        bytes.reserveCapacity(1 << 17)
        var count = 0
        switch format {
        case .json: bytes.append(UInt8(ascii: "["))
        case .csv: bytes += Array(CSV.header.utf8)
        case .ndjson: break
        }
        do {
            exportLoop: while true {
                switch format {
                case .json:
                    let mark = bytes.count
                    bytes += count == 0 ? [0x0A] : [0x2C, 0x0A]
                    guard try iterator.nextJSON(into: &bytes) else {
                        bytes.removeSubrange(mark...)
                        break exportLoop
                    }
                case .ndjson:
                    guard try iterator.nextJSON(into: &bytes) else { break exportLoop }
                    bytes.append(0x0A)
                case .csv:
                    guard let record = try iterator.next() else { break exportLoop }
                    CSV.append(record, to: &bytes)
                }
                count += 1
                if bytes.count >= 1 << 16 {
                    try sink.write(bytes)
                    bytes.removeAll(keepingCapacity: true)
                    if progress && count % 100_000 < 300 { StandardError.write("\rexported \(count) events") }
                }
            }
            if format == .json { bytes += Array((count == 0 ? "]\n" : "\n]\n").utf8) }
            try sink.write(bytes)
            try sink.finish()
            if progress { StandardError.write("\rexported \(count) events\n") }
        } catch {
            sink.abandon()
            throw error
        }
    }
}

/// RFC 4180 CSV of events: the columns below, CRLF line ends, fields quoted when they hold a
/// comma, quote, CR or LF (quotes doubled). Absent fields are empty.
enum CSV {
    static let columns = [
        "id", "event_type", "timestamp", "verdict", "reason_code", "model", "provider", "config_version",
        "user", "team", "api_key", "source", "tokens_in", "tokens_out", "tokens_cached", "tokens_reasoning",
        "cost", "latency_ms", "cache_hit", "request_id", "session_id", "gateway", "ip", "user_agent", "resource",
        "policies", "redactions", "details", "extra", "seq",
    ]

    static let header = columns.joined(separator: ",") + "\r\n"

    static func append(_ r: Record, to bytes: inout [UInt8]) {
        for (i, column) in columns.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            let value: String?
            switch column {
            case "seq": value = String(r.seq.rawValue)
            case "extra": value = r.event.extra.isEmpty ? nil : JSONValue.object(r.event.extra).jsonText
            default: value = r.event.fieldText(column)
            }
            if let value { appendField(value, to: &bytes) }
        }
        bytes += [0x0D, 0x0A]
    }

    static func appendField(_ value: String, to bytes: inout [UInt8]) {
        let utf8 = Array(value.utf8)
        guard utf8.contains(where: { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }) else {
            bytes += utf8
            return
        }
        bytes.append(0x22)
        for b in utf8 {
            if b == 0x22 { bytes.append(0x22) }
            bytes.append(b)
        }
        bytes.append(0x22)
    }
}
