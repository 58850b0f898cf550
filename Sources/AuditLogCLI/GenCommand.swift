import ArgumentParser
import AuditLog

struct GenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gen",
        abstract: "Print realistic synthetic gateway events as NDJSON.",
        discussion: """
            About 500 users in 20 teams (skewed: a few heavy users), 12 models from 4 \
            providers with list prices, verdicts ~90% allow, 5% redact, 4% block, 1% escalate, \
            prompt caching, policies and redactions, and ~0.2% admin events. The same --seed \
            and --end give the same bytes; --end defaults to the start of the current UTC hour.

            Examples:
              auditlog gen --count 1000000 --seed 1 | auditlog ingest -
              auditlog gen --count 100 --days 1 --end 2026-03-21T00:00:00Z > sample.ndjson
            """
    )

    @Option(help: "Number of events.")
    var count = 10_000

    @Option(help: "Seed for the random generator.")
    var seed: UInt64 = 1

    @Option(help: "Days of event time the events span.")
    var days = 30.0

    @Option(help: ArgumentHelp("Time of the last event: RFC 3339 or a duration before now.", valueName: "time"))
    var end: String?

    func validate() throws {
        guard count >= 0 else { throw ValidationError("--count must be 0 or more, got \(count)") }
        guard days >= 0 else { throw ValidationError("--days must be 0 or more, got \(days)") }
        if let end, TimeExpression.parse(end) == nil {
            throw ValidationError("--end '\(end)' is not \(TimeExpression.acceptedForms)")
        }
    }

    func run() async throws {
        OutputStream.ignoreSIGPIPE()
        let endTime = end.flatMap { TimeExpression.parse($0) } ?? EventGenerator.defaultEnd
        var generator = EventGenerator(seed: seed, count: count, days: days, end: endTime)
        let out = OutputStream(fd: 1)
        while let event = generator.next() {
            out.write(event.jsonText())
            out.write("\n")
        }
        out.flush()
    }
}
