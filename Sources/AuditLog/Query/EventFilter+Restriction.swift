extension EventFilter {
    /// This filter AND "`field` is one of `allowed`" (a team-scoped token's view of the log),
    /// as a filter the query engine runs from its indexes: the field's equalities (exact and
    /// prefix, which this filter ORs) are replaced by the allowed values they admit. Nil when
    /// none is admitted: nothing can match.
    package func restricted(field: String, to allowed: Set<String>) -> EventFilter? {
        var exact: Set<String> = []
        var prefixes: [String] = []
        var constrained = false
        var copy = self
        switch field {
        case "user":
            if !users.isEmpty { constrained = true; exact.formUnion(users) }
            copy.users = []
        case "model":
            if !models.isEmpty { constrained = true; exact.formUnion(models) }
            copy.models = []
        case "verdict":
            if !verdicts.isEmpty { constrained = true; exact.formUnion(verdicts.map(\.rawValue)) }
            copy.verdicts = []
        default: break
        }
        if let values = fields[field], !values.isEmpty {
            constrained = true
            exact.formUnion(values)
        }
        copy.fields[field] = nil
        copy.expressions = expressions.filter { e in
            guard e.field == field, e.op == .equal else { return true }
            constrained = true
            if e.isPrefix { prefixes.append(e.value) } else { exact.insert(e.value) }
            return false
        }
        let admitted = constrained ? allowed.filter { v in exact.contains(v) || prefixes.contains { v.hasPrefix($0) } } : allowed
        guard !admitted.isEmpty else { return nil }
        copy.fields[field] = admitted
        return copy
    }
}
