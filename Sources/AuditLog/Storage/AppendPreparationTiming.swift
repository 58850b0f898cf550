/// What an appending task does before its batch reaches the writer (validate every event,
/// assign missing ids, encode the records: ``PreparedBatch``), without a log: for the
/// comparison tool's `--profile prepare`, which times the caller's half of an append apart from
/// the writer's. Not API: SPI for the benchmarks.
@_spi(Testing)
public enum AppendPreparationTiming {
    /// Prepares `events` in batches of `batchSize` as ``AuditLog/append(_:)`` would; returns the
    /// record bytes encoded.
    public static func prepare(_ events: ArraySlice<AuditEvent>, batchSize: Int) throws(AuditLogError) -> Int {
        var bytes = 0
        var start = events.startIndex
        while start < events.endIndex {
            let end = min(start + batchSize, events.endIndex)
            bytes += try PreparedBatch(events[start..<end], maxEvents: batchSize).records.count
            start = end
        }
        return bytes
    }
}
