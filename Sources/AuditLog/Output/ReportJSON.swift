import Foundation

/// How usage rows are ordered for display.
package enum UsageOrder: String, CaseIterable, Hashable, Sendable {
    /// Highest cost first (the report's own order).
    case cost
    /// Most requests first.
    case requests
    /// Most tokens (in + out) first.
    case tokens
}

extension UsageReport {
    /// The rows in `order`, at most `limit` of them; a time series stays oldest bucket first,
    /// ordered within each bucket.
    package func rows(orderedBy order: UsageOrder, limit: Int? = nil) -> [UsageRow] {
        var rows = self.rows
        let t = groupBy.firstIndex(where: \.isTime)
        func bucketFirst(_ a: UsageRow, _ b: UsageRow, _ metric: (UsageRow) -> (Int64, Cost)) -> Bool {
            if let t, a.group[t] != b.group[t] { return (a.group[t] ?? "") < (b.group[t] ?? "") }
            return metric(a) > metric(b)
        }
        switch order {
        case .cost: break
        case .requests: rows.sort { bucketFirst($0, $1) { ($0.requests, $0.cost) } }
        case .tokens: rows.sort { bucketFirst($0, $1) { ($0.tokens, $0.cost) } }
        }
        if let limit { rows = Array(rows.prefix(limit)) }
        return rows
    }

    /// The metric columns of the CSV and the table, after the group keys.
    /// (The first wave's columns keep their places; the per-request ones come after them.)
    package static let metricColumns = [
        "requests", "tokens_in", "tokens_out", "cost", "cache_hit_rate", "blocked", "redacted", "escalated", "avg_latency_ms",
        "p95_latency_ms", "tokens", "avg_cost", "avg_tokens",
    ]

    /// ``metricColumns``, then `unique_users` and `reasons` when the report has them.
    package var metricColumns: [String] {
        Self.metricColumns + (totals.uniqueUsers != nil ? ["unique_users"] : []) + (totals.reasons != nil ? ["reasons"] : [])
    }

    /// The report as RFC 4180 CSV: a header (the group keys, then ``metricColumns``), one line a
    /// row, CRLF line ends. What `auditlog usage --format csv` prints and `/v1/usage?format=csv`
    /// returns.
    package func csv(rows: [UsageRow]? = nil) -> [UInt8] {
        var bytes = Array(((groupBy.map(\.rawValue) + metricColumns).joined(separator: ",") + "\r\n").utf8)
        for row in rows ?? self.rows {
            let cells = row.group.map { $0 ?? "" } + row.metricCells + row.detailCells
            for (i, cell) in cells.enumerated() {
                if i > 0 { bytes.append(UInt8(ascii: ",")) }
                CSVExport.appendField(cell, to: &bytes)
            }
            bytes += [0x0D, 0x0A]
        }
        return bytes
    }

    /// The report as JSON: `{"group_by":[…],"rows":[…],"totals":{…}}`, each row with its group
    /// keys then the metrics (cost as an exact decimal, latencies in milliseconds). The shape
    /// the CLI's `usage --format json` prints and the HTTP API's `/v1/usage` returns.
    package func json(rows: [UsageRow]? = nil) -> JSONValue {
        .object([
            JSONMember("group_by", .array(groupBy.map { .string($0.rawValue) })),
            JSONMember("rows", .array((rows ?? self.rows).map { $0.json(keys: groupBy) })),
            JSONMember("totals", totals.json(keys: [])),
        ])
    }
}

extension UsageRow {
    /// The row as a JSON object: its values for `keys`, then the metrics.
    package func json(keys: [UsageGroup]) -> JSONValue {
        var members = zip(keys, group).map { JSONMember($0.rawValue, .string($1)) }
        members += [
            JSONMember("requests", .integer(requests)),
            JSONMember("tokens_in", .integer(tokensIn)),
            JSONMember("tokens_out", .integer(tokensOut)),
            JSONMember("cost", .number(cost.description)),
            JSONMember("cache_hit_rate", .number(String(format: "%.6f", cacheHitRate))),
            JSONMember("blocked", .integer(blocked)),
            JSONMember("redacted", .integer(redacted)),
            JSONMember("escalated", .integer(escalated)),
            JSONMember("avg_latency_ms", Self.milliseconds(averageLatencyMicros)),
            JSONMember("p50_latency_ms", Self.milliseconds(p50LatencyMicros)),
            JSONMember("p95_latency_ms", Self.milliseconds(p95LatencyMicros)),
            JSONMember("tokens", .integer(tokens)),
            JSONMember("avg_cost", averageCost.map { .number($0.description) } ?? .null),
            JSONMember("avg_tokens", averageTokens.map { .number(String(format: "%.1f", $0)) } ?? .null),
        ]
        if let uniqueUsers { members.append(JSONMember("unique_users", .integer(uniqueUsers))) }
        if let reasons {
            members.append(JSONMember("reasons", .object(reasons.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { JSONMember($0.key, .integer($0.value)) })))
        }
        // Only a log holding events from before the per-event limits can saturate a sum.
        if isSaturated { members.append(JSONMember("saturated", .bool(true))) }
        return .object(members)
    }

    /// The metric cells of the CSV and the table, in ``UsageReport/metricColumns`` order.
    package var metricCells: [String] {
        func ms(_ micros: Int64?) -> String { micros.map { String(format: "%.3f", Double($0) / 1000) } ?? "" }
        return [
            String(requests), String(tokensIn), String(tokensOut), cost.description, String(format: "%.4f", cacheHitRate), String(blocked),
            String(redacted), String(escalated), ms(averageLatencyMicros), ms(p95LatencyMicros), String(tokens), averageCost?.description ?? "",
            averageTokens.map { String(format: "%.1f", $0) } ?? "",
        ]
    }

    /// `unique_users` and `reasons` cells when asked for: reasons as `reason=count` pairs,
    /// most frequent first, separated by `;`.
    package var detailCells: [String] {
        var out: [String] = []
        if let uniqueUsers { out.append(String(uniqueUsers)) }
        if let reasons { out.append(reasons.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { "\($0.key)=\($0.value)" }.joined(separator: ";")) }
        return out
    }

    private static func milliseconds(_ micros: Int64?) -> JSONValue {
        micros.map { .number(String(format: "%.3f", Double($0) / 1000)) } ?? .null
    }
}

extension VerificationReport {
    /// The report as JSON: `ok`, counts, seq range, chain head, every issue, and the first bad
    /// seq, file and offset when there is one. The shape of the CLI's `verify --json` and the
    /// HTTP API's `/v1/verify`.
    ///
    /// `torn_tail` (or null) and `recoveries` list what a strict check (`strict`, the CLI's
    /// `--strict`) also fails on; `ok` is then ``isPristine`` rather than ``isIntact``.
    package func json(seconds: Double, strict: Bool = false) -> JSONValue {
        func seq(_ s: SequenceNumber?) -> JSONValue { s.map { .integer($0.rawValue) } ?? .null }
        let issues: [JSONValue] = issues.map { issue in
            .object([
                JSONMember("kind", .string(issue.kind.rawValue)),
                JSONMember("message", .string(issue.message)),
                JSONMember("file", .string(issue.file)),
                JSONMember("offset", .integer(issue.offset)),
                JSONMember("seq", seq(issue.seq)),
            ])
        }
        let tornTail: JSONValue =
            tail.map { t in
                .object([
                    JSONMember("file", .string(t.file)), JSONMember("offset", .integer(t.offset)),
                    JSONMember("bytes", .integer(t.bytes)), JSONMember("reason", .string(t.reason)),
                ])
            } ?? .null
        let recoveries: [JSONValue] = recoveries.map { r in
            .object([
                JSONMember("seq", .integer(r.seq.rawValue)), JSONMember("time", .string(r.time.rfc3339)),
                JSONMember("first_seq", seq(r.firstSeq)), JSONMember("last_seq", seq(r.lastSeq)),
                JSONMember("bytes", .integer(r.bytes)), JSONMember("sha256", .string(r.sha256)),
                JSONMember("file", .string(r.file)), JSONMember("kept", .string(r.kept.rawValue)),
            ])
        }
        var members = [
            JSONMember("ok", .bool(strict ? isPristine : isIntact)),
            JSONMember("records", .integer(recordsChecked)),
            JSONMember("segments", .integer(segmentsChecked)),
            JSONMember("first_seq", seq(firstSeq)),
            JSONMember("last_seq", seq(lastSeq)),
            JSONMember("chain_head", .string(chainHead?.hex)),
            JSONMember("record_bytes", .integer(recordBytes)),
            JSONMember("swept_records", .integer(sweptRecords)),
            JSONMember("seconds", .number(String(format: "%.3f", seconds))),
            JSONMember("issues", .array(issues)),
            JSONMember("torn_tail", tornTail),
            JSONMember("recoveries", .array(recoveries)),
        ]
        if let pinned = pinnedHead {
            members.append(
                JSONMember(
                    "expected_head",
                    .object([
                        JSONMember("seq", .integer(pinned.seq.rawValue)),
                        JSONMember("chain_value", .string(pinned.expected.hex)),
                        JSONMember("found", .string(pinned.found?.hex)),
                        JSONMember("status", .string(pinned.status.rawValue)),
                    ])))
        }
        if let first = firstIssue {
            members.append(JSONMember("first_bad_seq", seq(first.seq)))
            members.append(JSONMember("first_bad_file", .string(first.file)))
            members.append(JSONMember("first_bad_offset", .integer(first.offset)))
        }
        return .object(members)
    }
}
