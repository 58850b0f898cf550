/// Legal holds: records in the chain (`hold.placed`, `hold.released`) that keep sweeps off
/// the segments they cover (docs/FORMAT.md, "Retention sweeps and gaps").
extension AuditLog {
    static let holdPlaced = "hold.placed"
    static let holdReleased = "hold.released"

    /// The holds in place, oldest first.
    public func holds() async throws(AuditLogError) -> [LegalHold] {
        try await holdRecords().inForce
    }

    /// The hold records in the log: every hold placed, oldest first, and the seq of the
    /// release of each released one, by hold id.
    func holdRecords() async throws(AuditLogError) -> HoldRecords {
        var records = HoldRecords()
        for record in try await collect(Query(filter: EventFilter(fields: ["event_type": [Self.holdPlaced, Self.holdReleased]]), order: .oldestFirst)) {
            let e = record.event
            if e.eventType == Self.holdReleased {
                if let id = e.details?["hold_id"]?.stringValue { records.releasedAt[id] = record.seq }
                continue
            }
            records.placed.append(LegalHold(record: record))
        }
        return records
    }

    /// Places a hold on `[from, until)` of event time (nil bounds: open) and records it.
    public func placeHold(from: Timestamp?, until: Timestamp?, reason: String, actor: String, now: Timestamp = .now) async throws(AuditLogError) -> LegalHold {
        try await retentionGate.run { () async throws(AuditLogError) -> LegalHold in
            guard !reason.isEmpty else { throw AuditLogError(.invalidArgument, "a hold needs a reason") }
            if let from, let until, from >= until {
                throw AuditLogError(.invalidArgument, "a hold's start (\(from)) must come before its end (\(until))")
            }
            var event = AuditEvent(eventType: Self.holdPlaced, timestamp: now)
            event.user = actor
            event.resource = "log:\(logID)"
            event.details = .object([
                JSONMember("from", .string(from?.rfc3339)),
                JSONMember("to", .string(until?.rfc3339)),
                JSONMember("reason", .string(reason)),
            ])
            let record = try await append(event, origin: .log)
            return LegalHold(id: record.event.id ?? "", from: from, until: until, reason: reason, placedBy: actor, placedAt: now, seq: record.seq)
        }
    }

    /// Releases the hold `id` and records it.
    public func releaseHold(_ id: String, actor: String, reason: String? = nil, now: Timestamp = .now) async throws(AuditLogError) {
        try await retentionGate.run { () async throws(AuditLogError) in
            guard try await holds().contains(where: { $0.id == id }) else {
                throw AuditLogError(.invalidArgument, "no hold '\(id)' is in place")
            }
            var event = AuditEvent(eventType: Self.holdReleased, timestamp: now)
            event.user = actor
            event.resource = "hold:\(id)"
            var details = [JSONMember("hold_id", .string(id))]
            if let reason { details.append(JSONMember("reason", .string(reason))) }
            event.details = .object(details)
            _ = try await append(event, origin: .log)
        }
    }
}

/// What the hold records of a log say.
struct HoldRecords: Sendable {
    /// Every hold placed, oldest first.
    var placed: [LegalHold] = []
    /// The seq of the `hold.released` record of each released hold, by id.
    var releasedAt: [String: SequenceNumber] = [:]

    /// The holds in force: placed and not released.
    var inForce: [LegalHold] { placed.filter { releasedAt[$0.id] == nil } }
}
