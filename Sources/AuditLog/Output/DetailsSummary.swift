/// What an admin event's `details` says, for people: a change as `field: old → new`, anything
/// else as `key=value` pairs. Used by `auditlog tail --admin` (one line) and `auditlog show`
/// (one line a change).
///
/// Changes are recognized in the shapes gateways write them:
/// - `{"field": {"old": …, "new": …}}` (also `from`/`to`, `before`/`after`), possibly under a
///   `changes` or `diff` member;
/// - `{"before": {…}, "after": {…}}`: the members whose values differ.
package enum DetailsSummary {
    /// One line: the changes joined by `; `, or the members as `key=value`; at most `width`
    /// characters (cut with `…`). Nil without details.
    package static func line(_ details: JSONValue?, width: Int = 80) -> String? {
        guard let details else { return nil }
        let parts = lines(details)
        let text = parts.joined(separator: "; ")
        guard text.count > width, width > 1 else { return text }
        return String(text.prefix(width - 1)) + "…"
    }

    /// One entry a change (`field: old → new`), else one a member (`key=value`).
    package static func lines(_ details: JSONValue) -> [String] {
        if let changes = changes(details), !changes.isEmpty {
            return changes.map { "\($0.field): \(text($0.old)) → \(text($0.new))" }
        }
        guard case .object(let members) = details else { return [text(details)] }
        return members.map { "\($0.key)=\(text($0.value))" }
    }

    /// The changes `details` describes, nil when it describes none.
    package static func changes(_ details: JSONValue) -> [(field: String, old: JSONValue?, new: JSONValue?)]? {
        guard case .object(let members) = details else { return nil }
        for wrapper in ["changes", "diff"] {
            if let inner = members.first(where: { $0.key == wrapper })?.value, let found = changes(inner) { return found }
        }
        // Two snapshots: {"before": {…}, "after": {…}} (or old/new, from/to and nothing else).
        for (o, n) in [("before", "after"), ("old", "new"), ("from", "to")] {
            guard let before = members.first(where: { $0.key == o })?.value, let after = members.first(where: { $0.key == n })?.value,
                case .object(let old) = before, case .object(let new) = after, o == "before" || members.count == 2
            else { continue }
            var out: [(String, JSONValue?, JSONValue?)] = []
            for m in old where new.first(where: { $0.key == m.key })?.value != m.value {
                out.append((m.key, m.value, new.first { $0.key == m.key }?.value))
            }
            for m in new where !old.contains(where: { $0.key == m.key }) { out.append((m.key, nil, m.value)) }
            return out
        }
        var out: [(String, JSONValue?, JSONValue?)] = []
        for m in members {
            guard case .object(let pair) = m.value, let (old, new) = oldAndNew(pair) else { return nil }
            out.append((m.key, old, new))
        }
        return out.isEmpty ? nil : out
    }

    private static func oldAndNew(_ pair: [JSONMember]) -> (JSONValue?, JSONValue?)? {
        for (o, n) in [("old", "new"), ("from", "to"), ("before", "after")] {
            let old = pair.first { $0.key == o }?.value
            let new = pair.first { $0.key == n }?.value
            if old != nil || new != nil, pair.allSatisfy({ $0.key == o || $0.key == n }) { return (old, new) }
        }
        return nil
    }

    /// A value as text: strings bare, the rest as compact JSON; absent as `∅`.
    private static func text(_ value: JSONValue?) -> String {
        guard let value else { return "∅" }
        if case .string(let s) = value { return s }
        return value.jsonText
    }
}
