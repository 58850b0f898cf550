/// The JSON of sweeps and holds: what `auditlog sweep --json` and `hold list --json` print and
/// what the HTTP API answers (`POST /v1/sweep`, `/v1/holds`), defined once.
extension SweepReport {
    /// `{"dry_run", "segments", "held_segments", "records", "bytes_freed", "first_seq",
    /// "last_seq", "record_seq", "archive_locked_segments", "archive_locked_until"}`.
    package var json: JSONValue {
        .object([
            JSONMember("dry_run", .bool(dryRun)),
            JSONMember("segments", .array(segments.map { .string("segments/" + $0.fileName) })),
            JSONMember("held_segments", .array(heldSegments.map { .string("segments/" + $0.fileName) })),
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
