/// A batch validated and encoded by the appending task, before it reaches the writer: the
/// writer then only checks ids against the log, assigns seqs, chains, frames and writes.
/// Encoding on the caller's side spreads the CPU work of concurrent appenders across cores.
struct PreparedBatch: Sendable {
    /// The records back to back.
    var records: [UInt8] = []
    /// End offset in ``records`` of each record.
    var recordEnds: [Int] = []
    var timestampsNanos: [Int64] = []
    /// Every event's id, assigned ones included.
    var ids: [String] = []
    /// XXH3-64 of each id's UTF-8 (``IDIndex/fullHash(_:)``), hashed here rather than on the
    /// writer's thread.
    var idHashes: [UInt64] = []
    /// Indices of events whose id the client supplied (they need the duplicate check).
    var clientIDIndices: [Int] = []

    var count: Int { ids.count }

    /// Largest encoded record accepted.
    static let maxRecordBytes = EventLimits.maxJSONBytes * 2

    /// Who appends: what the batch may contain.
    enum Origin: Sendable {
        /// A client of the public API: reserved event types are refused.
        case client
        /// The log itself (sweep, hold and recovery records).
        case log
        /// Tests only: no validation at all, to build logs as older versions (without the
        /// per-event limits) could write them.
        case unvalidatedForTesting
    }

    /// Validates every event, refuses ids repeated within the batch, assigns missing ids
    /// (`evt_` + ULID) and encodes the records.
    init(_ events: [AuditEvent], maxEvents: Int, origin: Origin = .client) throws(AuditLogError) {
        guard !events.isEmpty else { throw AuditLogError(.invalidArgument, "empty batch") }
        guard events.count <= maxEvents else {
            throw AuditLogError(.limitExceeded, "batch of \(events.count) events exceeds the limit of \(maxEvents)")
        }
        var rng = SplitMix64(seed: UInt64.random(in: 0...UInt64.max))
        var writer = ByteWriter(capacity: events.count * 256)
        recordEnds.reserveCapacity(events.count)
        timestampsNanos.reserveCapacity(events.count)
        ids.reserveCapacity(events.count)
        idHashes.reserveCapacity(events.count)
        var seen = Set<String>(minimumCapacity: events.count)
        for (i, event) in events.enumerated() {
            do throws(AuditLogError) {
                if origin != .unvalidatedForTesting { try event.validate() }
                if origin == .client { try event.refuseReservedType() }
            } catch {
                throw error.located(index: i)
            }
            let ts = event.timestamp.nanosSinceEpoch
            let id: String
            if let clientID = event.id {
                guard seen.insert(clientID).inserted else {
                    throw AuditLogError(.duplicateID, "id \"\(clientID)\" appears twice in the batch", location: .init(index: i, field: "id"))
                }
                clientIDIndices.append(i)
                id = clientID
            } else {
                id = EventID.make(timestampNanos: ts, using: &rng)
            }
            let start = writer.count
            event.encodeRecord(id: id, to: &writer)
            guard writer.count - start <= Self.maxRecordBytes else {
                throw AuditLogError(.limitExceeded, "event encodes to \(writer.count - start) bytes; the limit is \(Self.maxRecordBytes)", location: .init(index: i))
            }
            ids.append(id)
            idHashes.append(IDIndex.fullHash(id))
            recordEnds.append(writer.count)
            timestampsNanos.append(ts)
        }
        records = writer.bytes
    }
}
