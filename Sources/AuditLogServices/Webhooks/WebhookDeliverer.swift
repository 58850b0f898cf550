import AsyncHTTPClient
import AuditLog
import Foundation
import Logging
import Metrics
import NIOCore
import NIOHTTP1

/// One subscription's delivery loop: the records after its cursor that it is sent, in seq
/// order, each retried until it succeeds; spend thresholds once per window. The cursor is
/// saved at most once a second while deliveries flow (each save is two fsyncs, which would
/// otherwise compete with the writer's), at every failure and fired threshold, and when the
/// loop stops: a crash repeats at most a second of deliveries, with the same `webhook-id`.
struct WebhookDeliverer: Sendable {
    let webhooks: Webhooks
    let subscription: WebhookSubscription
    /// When the cursor was last saved.
    private let lastSave = Locked<ContinuousClock.Instant?>(nil)
    static let saveInterval = Duration.seconds(1)

    private var log: AuditLog { webhooks.log }
    private var options: Webhooks.Options { webhooks.options }

    func run() async {
        var state: WebhookStore.State
        do {
            state = try webhooks.store.state(subscription.id) ?? WebhookStore.State(cursor: subscription.startSeq)
        } catch {
            webhooks.logger.error("webhook state unreadable; starting at the subscription's start", metadata: ["id": "\(subscription.id)", "error": "\(error.summary)"])
            state = WebhookStore.State(cursor: subscription.startSeq)
        }
        // Whatever way the loop ends (shutdown, removal), the cursor reached is kept.
        defer { save(state) }
        let filter: EventFilter?
        do {
            filter = try subscription.eventFilter()
        } catch {
            webhooks.logger.error("webhook filter invalid; nothing is delivered", metadata: ["id": "\(subscription.id)", "error": "\(error.summary)"])
            return
        }
        let verdicts = Set(subscription.events.compactMap(\.verdict))
        let firstSeen = subscription.events.contains(.modelFirstSeen)
        // Only what can be sent is read: with model.first_seen every record with a model.
        let records: EventFilter? = firstSeen ? filter : filter?.restricted(field: "verdict", to: Set(verdicts.map(\.rawValue)))
        var knownModels = Set<String>()
        var lastThresholdCheck: ContinuousClock.Instant?
        while !Task.isCancelled {
            let head = log.head.lastSeq?.rawValue ?? 0
            var advanced = false
            if head > state.cursor, let records, !verdicts.isEmpty || firstSeen {
                do {
                    let query = Query(filter: records, order: .oldestFirst, limit: 100, cursor: Query.cursor(after: SequenceNumber(state.cursor), order: .oldestFirst))
                    let page = try await log.page(query)
                    for record in page.records {
                        var messages: [WebhookMessage] = []
                        if let v = record.event.verdict, verdicts.contains(v), let type = subscription.events.first(where: { $0.verdict == v }) {
                            messages.append(message(type, record))
                        }
                        if firstSeen, let model = record.event.model, !knownModels.contains(model) {
                            if try await firstSeq(of: model) == record.seq { messages.append(message(.modelFirstSeen, record)) }
                            knownModels.insert(model)
                        }
                        for m in messages {
                            guard await send(m, subject: String(record.seq.rawValue), state: &state) else { return }
                        }
                        state.cursor = record.seq.rawValue
                        if !messages.isEmpty { saveSoon(state) }
                    }
                    if page.nextCursor == nil && head > state.cursor {
                        // Nothing else up to the head seen matched.
                        state.cursor = head
                        saveSoon(state)
                    }
                    advanced = !page.records.isEmpty
                } catch {
                    webhooks.logger.error("webhook: reading the log failed", metadata: ["id": "\(subscription.id)", "error": "\(error.summary)"])
                }
            } else if head > state.cursor {
                state.cursor = head
            }
            if !subscription.thresholds.isEmpty, let filter, lastThresholdCheck.map({ ContinuousClock.now - $0 >= options.thresholdInterval }) ?? true {
                lastThresholdCheck = .now
                guard await checkThresholds(filter: filter, state: &state) else { return }
            }
            if !advanced { try? await Task.sleep(for: options.pollInterval) }
        }
    }

    /// The message for `record` sent as `type`.
    private func message(_ type: WebhookEventType, _ record: Record) -> WebhookMessage {
        var data: [UInt8] = []
        record.event.appendJSON(to: &data, seq: record.seq)
        let value = (try? JSONValue.parse(data)) ?? .null
        return WebhookMessage(id: "\(subscription.id).\(record.seq.rawValue).\(type.rawValue)", type: type, time: record.event.timestamp, data: value)
    }

    /// The seq of the oldest record in the log with `model`.
    private func firstSeq(of model: String) async throws(AuditLogError) -> SequenceNumber? {
        try await log.page(Query(filter: EventFilter(models: [model]), order: .oldestFirst, limit: 1)).records.first?.seq
    }

    /// Sends each crossed threshold once per window; false when cancelled.
    private func checkThresholds(filter: EventFilter, state: inout WebhookStore.State) async -> Bool {
        let now = Timestamp.now
        for (i, threshold) in subscription.thresholds.enumerated() {
            let length = threshold.window.nanos
            let start = Timestamp(nanosSinceEpoch: now.nanosSinceEpoch / length * length)
            if state.fired[threshold.description] == start { continue }
            // The threshold's key AND the subscription's filter (and its creator's teams).
            var combined: EventFilter? = threshold.eventFilter
            combined?.expressions += filter.expressions
            for (k, v) in filter.fields where !v.isEmpty { combined = combined?.restricted(field: k, to: v) }
            guard let counted = combined else { continue }
            guard let report = try? await log.usage(window: TimeWindow(since: start, until: Timestamp(nanosSinceEpoch: start.nanosSinceEpoch + length)), filter: counted) else { continue }
            let (observed, exceeded) = threshold.observe(report.totals)
            guard exceeded else { continue }
            let data = JSONValue.object([
                JSONMember("threshold", .string(threshold.description)),
                JSONMember("key", .string(threshold.key)),
                JSONMember("value", .string(threshold.value)),
                JSONMember("metric", .string(threshold.metric.rawValue)),
                JSONMember("limit", .string(threshold.amount)),
                JSONMember("observed", .string(observed)),
                JSONMember("window", .string(threshold.window.rawValue)),
                JSONMember("window_start", .string(start.rfc3339)),
                JSONMember("window_end", .string(Timestamp(nanosSinceEpoch: start.nanosSinceEpoch + length).rfc3339)),
            ])
            let message = WebhookMessage(
                id: "\(subscription.id).threshold.\(i).\(start.nanosSinceEpoch / 1_000_000_000)", type: .spendThreshold, time: now, data: data)
            guard await send(message, subject: threshold.description, state: &state) else { return false }
            state.fired[threshold.description] = start
            save(state)
        }
        return true
    }

    /// Posts `message` until the receiver answers 2xx; false when cancelled first.
    private func send(_ message: WebhookMessage, subject: String, state: inout WebhookStore.State) async -> Bool {
        let body = message.body(source: webhooks.source, subject: subject)
        var attempt = 0
        while !Task.isCancelled {
            let problem = await post(message, body: body)
            Counter(label: "auditlog_webhook_attempts_total", dimensions: [("subscription", subscription.id), ("outcome", problem == nil ? "delivered" : "failed")]).increment()
            guard let problem else {
                state.delivered += 1
                let recovered = state.failingSince != nil
                state.failingSince = nil
                state.failing = false
                state.lastError = nil
                if recovered {
                    webhooks.logger.info("webhook deliveries resumed", metadata: ["id": "\(subscription.id)"])
                    save(state)
                }
                return true
            }
            webhooks.countFailure(subscription.id)
            let now = Timestamp.now
            let since = state.failingSince ?? now
            state.failingSince = since
            state.lastError = problem
            if !state.failing && now.nanosSinceEpoch - since.nanosSinceEpoch >= options.retryLimit.nanoseconds {
                state.failing = true
                webhooks.logger.error("webhook failing: deliveries have failed longer than the retry limit", metadata: ["id": "\(subscription.id)", "error": "\(problem)"])
            }
            save(state)
            let doubled = options.initialBackoff * (1 << min(attempt, 20))
            let delay = min(doubled, options.maxBackoff) * Double.random(in: 0.5...1.0)
            attempt += 1
            do {
                try await Task.sleep(for: delay)
            } catch {
                return false
            }
        }
        return false
    }

    /// One attempt; nil on a 2xx answer, else what went wrong.
    private func post(_ message: WebhookMessage, body: [UInt8]) async -> String? {
        let timestamp = Timestamp.now.nanosSinceEpoch / 1_000_000_000
        var request = HTTPClientRequest(url: subscription.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/cloudevents+json; charset=utf-8")
        request.headers.add(name: "User-Agent", value: "auditlog-webhooks/1")
        request.headers.add(name: "webhook-id", value: message.id)
        request.headers.add(name: "webhook-timestamp", value: String(timestamp))
        request.headers.add(name: "webhook-signature", value: WebhookMessage.signature(id: message.id, timestamp: timestamp, body: body, key: subscription.signingKey))
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await Webhooks.client.execute(request, timeout: .nanoseconds(options.requestTimeout.nanoseconds))
            _ = try? await response.body.collect(upTo: 64 << 10)
            guard (200..<300).contains(response.status.code) else { return "HTTP \(response.status.code)" }
            return nil
        } catch {
            return "\(error)".prefix(300).description
        }
    }

    /// Saves unless the last save was less than ``saveInterval`` ago.
    private func saveSoon(_ state: WebhookStore.State) {
        let now = ContinuousClock.now
        guard lastSave.withLock({ $0.map { now - $0 >= Self.saveInterval } ?? true }) else { return }
        save(state)
    }

    private func save(_ state: WebhookStore.State) {
        lastSave.withLock { $0 = .now }
        do {
            try webhooks.store.write(state, id: subscription.id)
        } catch {
            webhooks.logger.error("webhook cursor not saved", metadata: ["id": "\(subscription.id)", "error": "\(error.summary)"])
        }
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
