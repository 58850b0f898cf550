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
        try self.init(events[...], maxEvents: maxEvents, origin: origin)
    }

    /// The same for a slice, read where it lies (a bulk load appending a large array a batch at
    /// a time copies nothing). Indices in errors and ``clientIDIndices`` count from the slice's
    /// first event.
    init(_ events: ArraySlice<AuditEvent>, maxEvents: Int, origin: Origin = .client) throws(AuditLogError) {
        guard !events.isEmpty else { throw AuditLogError(.invalidArgument, "empty batch") }
        guard events.count <= maxEvents else {
            throw AuditLogError(.limitExceeded, "batch of \(events.count) events exceeds the limit of \(maxEvents)")
        }
        recordEnds.reserveCapacity(events.count)
        timestampsNanos.reserveCapacity(events.count)
        ids.reserveCapacity(events.count)
        idHashes.reserveCapacity(events.count)
        var work = Encoding(count: events.count)
        try events.withUnsafeBufferPointer { (buffer) throws(AuditLogError) in
            guard let first = buffer.baseAddress else { return }
            // Each event is handed over by address. A copy (`let event = events[i]`, or even the
            // argument `buffer[i]`: the optimiser cannot prove the callee leaves the memory
            // alone) retained and released every string and array of the event, about a fifth
            // of the preparation's time. `add` only reads the event: nothing is ever written
            // through this pointer, so the array's storage (perhaps shared) stays as it is.
            let pointer = UnsafeMutablePointer(mutating: first)
            for i in buffer.indices { try add(&pointer[i], index: i, origin: origin, work: &work) }
        }
        records = work.writer.bytes
    }

    /// What encoding a batch needs besides the batch itself.
    private struct Encoding {
        var rng = SplitMix64(seed: UInt64.random(in: 0...UInt64.max))
        /// The records so far, back to back (``records`` at the end).
        var writer: ByteWriter
        var seen: SeenIDs

        init(count: Int) {
            writer = ByteWriter(capacity: count * 256)
            seen = SeenIDs(capacity: count)
        }
    }

    /// Validates, assigns an id when missing, and encodes `event`, the batch's `i`th.
    /// `inout` only to take it by address (see the caller): it is never modified.
    private mutating func add(_ event: inout AuditEvent, index i: Int, origin: Origin, work: inout Encoding) throws(AuditLogError) {
        do throws(AuditLogError) {
            if origin != .unvalidatedForTesting { try event.validate() }
            if origin == .client { try event.refuseReservedType() }
        } catch {
            throw error.located(index: i)
        }
        let ts = event.timestamp.nanosSinceEpoch
        let id: String
        let hash: UInt64
        if let clientID = event.id {
            hash = IDIndex.fullHash(clientID)
            guard work.seen.insert(clientID, hash: hash) else {
                throw AuditLogError(.duplicateID, "id \"\(clientID)\" appears twice in the batch", location: .init(index: i, field: "id"))
            }
            clientIDIndices.append(i)
            id = clientID
        } else {
            id = EventID.make(timestampNanos: ts, using: &work.rng)
            hash = IDIndex.fullHash(id)
        }
        let start = work.writer.count
        event.encodeRecord(id: id, to: &work.writer)
        guard work.writer.count - start <= Self.maxRecordBytes else {
            throw AuditLogError(.limitExceeded, "event encodes to \(work.writer.count - start) bytes; the limit is \(Self.maxRecordBytes)", location: .init(index: i))
        }
        ids.append(id)
        idHashes.append(hash)
        recordEnds.append(work.writer.count)
        timestampsNanos.append(ts)
    }
}

/// The client ids a batch has given so far, found by their XXH3-64 (which the writer needs
/// anyway) rather than by hashing each string again: a hit is confirmed by comparing the ids,
/// and ids sharing a hash with an earlier, different one are kept in a set of their own.
struct SeenIDs {
    private var firstWithHash: [UInt64: String]
    private var collided: Set<String> = []

    init(capacity: Int) { firstWithHash = .init(minimumCapacity: capacity) }

    /// Adds `id`, whose hash is `hash`; false when the batch already gave it.
    mutating func insert(_ id: String, hash: UInt64) -> Bool {
        switch firstWithHash[hash] {
        case nil:
            firstWithHash[hash] = id
            return true
        case id?:
            return false
        default:
            return collided.insert(id).inserted
        }
    }
}
