/// A client's batch validated and encoded ahead of its append by ``AuditLog/prepare(_:)``.
package struct PreparedEvents: Sendable {
    let batch: PreparedBatch

    /// The number of events.
    package var count: Int { batch.count }
}

extension AuditLog {
    /// Does for `events` what ``append(_:)-([AuditEvent])`` does before the batch reaches the
    /// writer (validation, the batch's own duplicate ids, ids assigned, records encoded), without
    /// touching the log. A caller that must commit batches in order, one at a time (the ingest),
    /// prepares the next batches on other cores while the writer commits the current one. Fails
    /// as that append would, with the index of the first bad event.
    package func prepare(_ events: [AuditEvent]) throws(AuditLogError) -> PreparedEvents {
        PreparedEvents(batch: try PreparedBatch(events, maxEvents: options.maxBatchEvents, origin: .client))
    }

    /// Appends a batch ``prepare(_:)`` made, as ``append(_:)-([AuditEvent])`` appends: all of it
    /// or nothing, durable as ``AuditLogOptions/durability`` promises. The ids are checked
    /// against the log here, since it may have gained some since the batch was prepared.
    package func append(_ prepared: PreparedEvents) async throws(AuditLogError) -> AppendReceipt {
        try await submit(prepared.batch)
    }
}
