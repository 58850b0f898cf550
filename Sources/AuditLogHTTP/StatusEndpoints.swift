import AuditLog
import AuditLogServices
import Hummingbird

/// `/v1/verify`, `/v1/head`, `/healthz` and `/metrics`.
extension AuditLogAPI {
    func head(_ request: Request) async throws -> Response {
        _ = try QueryParameters(request, allowed: [])
        let head = log.head
        var eventTime: JSONValue = .null
        if let last = head.lastSeq, let record = try await log.record(at: last) {
            eventTime = .string(record.event.timestamp.rfc3339)
        }
        let segments = log.segments
        let members: [JSONMember] = [
            JSONMember("last_seq", Self.seqJSON(head.lastSeq)),
            JSONMember("chain_head", JSONValue.string(head.chainHead.hex)),
            JSONMember("event_time", eventTime),
            JSONMember("first_seq", Self.seqJSON(segments.first?.firstSeq)),
            JSONMember("segments", JSONValue.integer(segments.count)),
            JSONMember("checkpoint_size", try await checkpointSize()),
        ]
        return Self.json(JSONValue.object(members))
    }

    /// The tree size of the latest signed checkpoint, null before the first.
    private func checkpointSize() async throws -> JSONValue {
        let log = self.log
        let size = try await BlockingIO.run { () throws(AuditLogError) in try log.latestStoredCheckpoint()?.checkpoint.size }
        return size.map { .integer($0) } ?? .null
    }

    static func seqJSON(_ seq: SequenceNumber?) -> JSONValue {
        guard let seq else { return JSONValue.null }
        return JSONValue.integer(seq.rawValue)
    }

    func health() async throws -> Response {
        let members: [JSONMember] = [
            JSONMember("status", JSONValue.string("ok")),
            JSONMember("last_seq", Self.seqJSON(log.head.lastSeq)),
        ]
        return Self.json(JSONValue.object(members))
    }

    func prometheus() async throws -> Response {
        let segments = log.segments
        var bytes: Int64 = 0
        var records: UInt64 = 0
        var sealed = 0
        for segment in segments {
            bytes += segment.bytes
            records += segment.recordCount
            if segment.isSealed { sealed += 1 }
        }
        var gauges = APIMetrics.LogGauges(segments: segments.count, sealedSegments: sealed, bytes: bytes, records: records, lastSeq: log.head.lastSeq?.rawValue)
        gauges.archive = log.archiveStatus()
        if let sweep = try await sweeps.latest(in: log) {
            gauges.lastSweepSeconds = Double(sweep.time.nanosSinceEpoch) / 1e9
            gauges.lastSweepRecords = Int64(sweep.records)
        }
        gauges.webhooks = (try? webhooks?.statuses()) ?? []
        gauges.recordsReads = readAudit.isEnabled
        let text = metrics.render(log: gauges)
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}

/// The newest sweep record, found by reading only what was appended since the last look (a
/// scrape must not reread the whole log's event types when no sweep ever ran).
final class SweepWatcher: Sendable {
    private struct State {
        var lookedThrough: SequenceNumber?
        var latest: SweepEntry?
    }

    private let state = Locked(State())

    func latest(in log: AuditLog) async throws -> SweepEntry? {
        let head = log.head.lastSeq
        let (from, known) = state.withLock { ($0.lookedThrough, $0.latest) }
        guard let head, head != from else { return known }
        let found = try await log.latestSweep(after: from)
        return state.withLock { s in
            // A concurrent scrape may have looked further; keep the furthest look.
            if let found, found.seq > (s.latest?.seq ?? SequenceNumber(0)) { s.latest = found }
            if head > (s.lookedThrough ?? SequenceNumber(0)) { s.lookedThrough = head }
            return s.latest
        }
    }
}
