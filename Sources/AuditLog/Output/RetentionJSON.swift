/// The JSON of sweeps and holds: what `auditlog sweep --json` and `hold list --json` print and
/// what the HTTP API answers (`POST /v1/sweep`, `/v1/holds`), defined once.
extension SweepReport {
    /// `{"dry_run", "segments", "held_segments", "kept", "records", "bytes_freed", "first_seq",
    /// "last_seq", "record_seq", "archive_locked_segments", "archive_locked_until"}`; each of
    /// `kept` is `{"segment", "holds", "releases"}`.
    package var json: JSONValue {
        .object([
            JSONMember("dry_run", .bool(dryRun)),
            JSONMember("segments", .array(segments.map { .string("segments/" + $0.fileName) })),
            JSONMember("held_segments", .array(heldSegments.map { .string("segments/" + $0.fileName) })),
            JSONMember(
                "kept",
                .array(
                    kept.map { k in
                        .object([
                            JSONMember("segment", .string("segments/" + k.segment.fileName)),
                            JSONMember("holds", .array(k.holds.map { .string($0) })),
                            JSONMember("releases", .array(k.releases.map { .string($0) })),
                        ])
                    })),
            JSONMember("records", .integer(recordsRemoved)),
            JSONMember("bytes_freed", .integer(bytesFreed)),
            JSONMember("first_seq", segments.first.map { .integer($0.firstSeq.rawValue) } ?? .null),
            JSONMember("last_seq", segments.last?.lastSeq.map { .integer($0.rawValue) } ?? .null),
            JSONMember("record_seq", recordSeq.map { .integer($0.rawValue) } ?? .null),
            JSONMember("archive_locked_segments", .integer(archivedLockedSegments)),
            JSONMember("archive_locked_until", .string(archivedLockedUntil?.rfc3339)),
        ])
    }
}

extension KeptSegment {
    /// Why the sweep kept the segment, as `auditlog sweep` says it: the holds covering it, or
    /// the holds whose release it holds.
    package static func why(holds: [String], releases: [String]) -> String {
        var parts: [String] = []
        if !holds.isEmpty { parts.append("under legal hold\(holds.count > 1 ? "s" : "") \(holds.joined(separator: ", "))") }
        if !releases.isEmpty {
            parts.append("holds the release of legal hold\(releases.count > 1 ? "s" : "") \(releases.joined(separator: ", ")) (the hold's placement stays)")
        }
        return parts.isEmpty ? "under a legal hold" : parts.joined(separator: "; ")
    }
}

extension LegalHold {
    /// `{"id", "from", "to", "reason", "placed_by", "placed_at", "seq"}`.
    package var json: JSONValue {
        .object([
            JSONMember("id", .string(id)),
            JSONMember("from", .string(from?.rfc3339)),
            JSONMember("to", .string(until?.rfc3339)),
            JSONMember("reason", .string(reason)),
            JSONMember("placed_by", .string(placedBy)),
            JSONMember("placed_at", .string(placedAt.rfc3339)),
            JSONMember("seq", .integer(seq.rawValue)),
        ])
    }
}
