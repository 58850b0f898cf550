import ArgumentParser
import AuditLog

/// The time window and filters shared by tail, export and usage.
struct FilterOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Events at or after this time: a duration before now (30s, 5m, 1h30m, 7d, 2w), RFC 3339 (2026-03-20T10:30:00Z; without an offset it is UTC) or a date (2026-03-20, midnight UTC).",
            valueName: "time"))
    var since: String?

    @Option(help: ArgumentHelp("Events before this time (same forms as --since).", valueName: "time"))
    var until: String?

    @Option(name: .customLong("verdict"), help: ArgumentHelp("Only this verdict: allow, block, redact or escalate (repeat for any of several).", valueName: "verdict"))
    var verdicts: [String] = []

    @Option(name: .customLong("user"), help: ArgumentHelp("Only this user (repeatable).", valueName: "user"))
    var users: [String] = []

    @Option(name: .customLong("model"), help: ArgumentHelp("Only this model (repeatable).", valueName: "model"))
    var models: [String] = []

    @Option(
        name: .customLong("filter"),
        help: ArgumentHelp(
            "A condition on any field: field=value, field!=value (events without the field pass), field=prefix* (e.g. user=alice*, event_type=model.*), field>N, field<N, field>=N, field<=N on numbers (tokens_in, tokens_out, tokens_cached, tokens_reasoning, cost, latency_ms). Fields: every top-level field, extra.<name> for custom ones, policy and policy_verdict. Repeated = on one field means any of the values; all other conditions must hold too. Verdicts and true/false match in any case. Quote conditions with *, <, > or ! for the shell: --filter 'cost>0.5'.",
            valueName: "condition"))
    var filters: [String] = []

    @Flag(help: "Only administrative events (event_type other than decision); tail shows them as TIME ID ACTOR ACTION RESOURCE DETAILS.")
    var admin = false

    @Option(help: ArgumentHelp("Only events one of whose text fields (ids, user, team, model, reason, resource, details, policy names…) contains this text, in any case.", valueName: "text"))
    var search: String?

    func validate() throws {
        for (flag, value) in [("--since", since), ("--until", until)] {
            if let value, TimeExpression.parse(value) == nil {
                throw ValidationError("\(flag) '\(value)' is not \(TimeExpression.acceptedForms)")
            }
        }
        for v in verdicts where Verdict(rawValue: v.lowercased()) == nil {
            throw ValidationError("--verdict '\(v)' is not one of allow, block, redact, escalate")
        }
        for f in filters {
            do throws(AuditLogError) {
                _ = try FilterExpression(parsing: f)
            } catch {
                throw ValidationError("--filter: \(error.message)")
            }
        }
    }

    func window(now: Timestamp = .now) -> TimeWindow {
        TimeWindow(since: since.flatMap { TimeExpression.parse($0, now: now) }, until: until.flatMap { TimeExpression.parse($0, now: now) })
    }

    var eventFilter: EventFilter {
        EventFilter(
            verdicts: Set(verdicts.compactMap { Verdict(rawValue: $0.lowercased()) }), users: Set(users), models: Set(models),
            expressions: filters.compactMap { try? FilterExpression(parsing: $0) } + (admin ? [FilterExpression.administrative] : []), search: search)
    }
}
