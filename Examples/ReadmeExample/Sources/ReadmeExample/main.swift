// README:begin
import AuditLog

let log = try await AuditLog.open(directory: "audit")  // created when missing
var event = AuditEvent(eventType: "decision", timestamp: .now)
event.verdict = .block
event.user = "alice@acme.com"
event.model = "gpt-4o"
event.cost = Cost(decimal: "0.0142")
let receipt = try await log.append([event])  // durable when it returns
print(receipt.firstSeq, receipt.ids)

// Blocked in the last hour, newest first, read off your executor a batch at a time.
for try await record in log.query(Query(window: .last(.hours(1)), filter: EventFilter(verdicts: [.block]))) {
    print(record.seq, record.event.jsonText())
}
// Everything alice did in the last day, a page of 50 (pass page.nextCursor for the next).
let page = try await log.page(Query(window: .last(.days(1)), filter: EventFilter(users: ["alice@acme.com"]), limit: 50))
let usage = try await log.usage(window: .last(.days(30)), groupBy: [.team, .model])  // exact cost per group
let report = try await log.verify()  // every checksum and chain link
try await log.close()
// README:end

// Not in the README: what the example must have done.
struct ExampleFailed: Error, CustomStringConvertible {
    var description: String
}
guard page.records.count == 1, usage.rows.count == 1, usage.totals.cost == Cost(decimal: "0.0142"), report.isIntact else {
    throw ExampleFailed(description: "\(page.records.count) records, \(usage.rows.count) usage rows, intact \(report.isIntact)")
}
print("README example: ok")
