// An index built from its segment alone (a seal, a rebuild), and the report of a rebuild.

/// An index rebuilt because its file was missing, stale or damaged.
package struct IndexRebuild: Hashable, Sendable, CustomStringConvertible {
    /// The index file, relative to the log directory.
    package var file: String
    /// Why it was rebuilt.
    package var reason: String

    package var description: String { "rebuilt '\(file)' from its segment: \(reason)" }
}

extension IndexStore {
    /// Scans `segment` (continuing `builder` when given) into a finished index with rollups.
    static func build(
        _ directory: LogDirectory, segment: SegmentInfo, from partial: (IndexBuilder, Int64)?, minRecordsPerHourlyRow: Int = IndexData.recordsPerHourlyRow
    ) throws(AuditLogError) -> IndexData {
        let walker = try SegmentWalker(directory, segment.fileName, limit: segment.dataEnd)
        var builder = partial?.0 ?? IndexBuilder(firstSeq: segment.firstSeq)
        // Room for the records the footer counts, up to 2^20 (a default segment holds ~600,000):
        // a forged count costs at most that, and the scan below refuses it.
        builder.reserve(min(Int(clamping: segment.recordCount), 1 << 20) - builder.recordCount)
        let end = try builder.scan(walker, from: partial?.1 ?? Int64(SegmentHeader.byteCount))
        guard end == segment.dataEnd, UInt64(builder.recordCount) == segment.recordCount else {
            throw AuditLogError(
                .corruption, "segment ends at byte \(end) with \(builder.recordCount) records; its footer says \(segment.dataEnd) and \(segment.recordCount)",
                location: .init(file: walker.displayName, offset: end))
        }
        return builder.finish(withRollups: true, minRecordsPerHourlyRow: minRecordsPerHourlyRow)
    }
}
