import ArgumentParser
import AuditLog

/// The time window and filters shared by tail, export and usage.
struct FilterOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Events at or after this time: a duration before now (30s, 5m, 1h30m, 7d, 2w) or RFC 3339.", valueName: "time"))
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
        help: ArgumentHelp("Only events whose field equals the value, e.g. team=payments or cache_hit=true (repeatable; repeated fields mean any of the values).", valueName: "field=value"))
    var filters: [String] = []

    func validate() throws {
        for (flag, value) in [("--since", since), ("--until", until)] {
            if let value, TimeExpression.parse(value) == nil {
                throw ValidationError("\(flag) '\(value)' is not \(TimeExpression.acceptedForms)")
            }
        }
        for v in verdicts where Verdict(rawValue: v) == nil {
            throw ValidationError("--verdict '\(v)' is not one of allow, block, redact, escalate")
        }
        for f in filters {
            guard let eq = f.firstIndex(of: "="), eq != f.startIndex else {
                throw ValidationError("--filter '\(f)' is not field=value (e.g. team=payments)")
            }
        }
    }

    func window(now: Timestamp = .now) -> TimeWindow {
        TimeWindow(since: since.flatMap { TimeExpression.parse($0, now: now) }, until: until.flatMap { TimeExpression.parse($0, now: now) })
    }

    var eventFilter: EventFilter {
        var fields: [String: Set<String>] = [:]
        for f in filters {
            guard let eq = f.firstIndex(of: "=") else { continue }
            fields[String(f[..<eq]), default: []].insert(String(f[f.index(after: eq)...]))
        }
        return EventFilter(verdicts: Set(verdicts.compactMap(Verdict.init(rawValue:))), users: Set(users), models: Set(models), fields: fields)
    }
}
