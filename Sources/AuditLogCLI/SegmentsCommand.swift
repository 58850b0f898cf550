import ArgumentParser
import AuditLog
import Foundation

struct SegmentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "segments",
        abstract: "List the log's segment files.",
        discussion: """
            Each segment: file, seq range, event-time range, records, bytes, compression ratio, \
            whether it is sealed or active, and the state of its index (file: a valid index \
            file; missing or invalid: rebuilt from the segment when needed; memory: the active \
            segment, indexed in memory). With an archive, each sealed segment's ARCHIVE state: \
            pending (not yet confirmed in the store), archived (confirmed, local copy kept) or \
            evicted (read from the store).

            Examples:
              auditlog segments
              auditlog segments --json | jq '.[] | select(.state == "active")'
            """
    )

    @OptionGroup var log: LogDirectoryOptions

    @Flag(help: "Print a JSON array.")
    var json = false

    func run() async throws {
        try await runCLI { try await list() }
    }

    private func list() async throws {
        OutputStream.ignoreSIGPIPE()
        let auditLog = try await log.openReadOnly()
        let segments = auditLog.segments
        let out = OutputStream(fd: 1)
        if json {
            let listed = segments.map {
                Self.json($0, index: auditLog.indexState(of: $0), archive: auditLog.archiveState(of: $0), version: auditLog.formatVersion(of: $0))
            }
            out.write(JSONValue.array(listed).jsonText + "\n")
        } else {
            let archived = auditLog.archiveStatus() != nil
            var rows = [["FILE", "FIRST_SEQ", "LAST_SEQ", "RECORDS", "MIN_TIME", "MAX_TIME", "BYTES", "RATIO", "STATE", "INDEX"] + (archived ? ["ARCHIVE"] : [])]
            for s in segments {
                rows.append(
                    [
                        "segments/" + s.fileName, String(s.firstSeq.rawValue), s.lastSeq.map { String($0.rawValue) } ?? "-",
                        String(s.recordCount), s.damage == nil ? s.minTimestamp?.rfc3339 ?? "-" : "-", s.damage == nil ? s.maxTimestamp?.rfc3339 ?? "-" : "-",
                        String(s.bytes), String(format: "%.2f", Self.ratio(s)), Self.state(s),
                        Self.indexText(auditLog.indexState(of: s)),
                    ] + (archived ? [Self.archiveText(auditLog.archiveState(of: s))] : []))
            }
            out.write(Table.render(rows))
        }
        out.flush()
    }

    /// sealed, active, or damaged (a sealed segment whose header or footer cannot be read).
    static func state(_ s: SegmentInfo) -> String {
        s.damage != nil ? "damaged" : s.isSealed ? "sealed" : "active"
    }

    static func ratio(_ s: SegmentInfo) -> Double {
        s.bytes > 0 ? Double(s.rawPayloadBytes) / Double(s.bytes) : 0
    }

    static func indexText(_ state: IndexState) -> String {
        switch state {
        case .file: "file"
        case .missing: "missing"
        case .invalid: "invalid"
        case .memory: "memory"
        }
    }

    /// pending, archived, evicted, or - (no archive, or the active segment).
    static func archiveText(_ state: SegmentArchiveState) -> String {
        state == .none ? "-" : state.rawValue
    }

    static func json(_ s: SegmentInfo, index: IndexState, archive: SegmentArchiveState, version: Int?) -> JSONValue {
        .object([
            JSONMember("file", .string("segments/" + s.fileName)),
            JSONMember("first_seq", .integer(s.firstSeq.rawValue)),
            JSONMember("last_seq", s.lastSeq.map { .integer($0.rawValue) } ?? .null),
            JSONMember("records", .integer(s.recordCount)),
            JSONMember("min_time", .string(s.damage == nil ? s.minTimestamp?.rfc3339 : nil)),
            JSONMember("max_time", .string(s.damage == nil ? s.maxTimestamp?.rfc3339 : nil)),
            JSONMember("partition_start", .string(s.partitionStart.rfc3339)),
            JSONMember("bytes", .integer(s.bytes)),
            JSONMember("raw_bytes", .integer(s.rawPayloadBytes)),
            JSONMember("compression_ratio", .number(String(format: "%.3f", ratio(s)))),
            JSONMember("frames", .integer(s.frameCount)),
            JSONMember("format_version", version.map { .integer($0) } ?? .null),
            JSONMember("sealed", .bool(s.isSealed)),
            JSONMember("state", .string(state(s))),
            JSONMember("index", .string(indexText(index))),
            JSONMember("damage", .string(s.damage?.reason)),
            JSONMember("archive", archive == .none ? .null : .string(archive.rawValue)),
        ])
    }
}
