/// A filter reduced to what is tested: per field, the values any of which passes (exact or
/// prefix), the values none of which may be there, and numeric comparisons; plus a free-text
/// search. ``EventFilter/matches(_:)`` is the reference; ``SegmentPredicate`` answers the tests
/// on indexed fields from columns and dictionaries, and the rest (``FieldTests``) on decoded events.
struct FieldTest: Hashable, Sendable {
    enum Target: Hashable, Sendable, Comparable {
        /// A top-level field by its JSON name (`extra.<name>` for a custom one).
        case field(String)
        /// Any policy result's name.
        case policy
        /// Any policy result's verdict, in lower case.
        case policyVerdict
    }

    enum Kind: Hashable, Sendable {
        case anyOf(exact: Set<String>, prefixes: [String])
        case noneOf(exact: Set<String>, prefixes: [String])
        case compare(FilterExpression.Operator, Int64)
    }

    var target: Target
    var kind: Kind

    /// The index column the test can be answered from, if any.
    var column: IndexStore.Part? {
        guard case .field(let name) = target else { return nil }
        if case .compare = kind { return nil }
        return IndexStore.Part.column(forField: name)
    }

    /// For a single-valued field: whether a record whose value is `value` (nil: absent) passes.
    func passes(_ value: String?) -> Bool {
        switch kind {
        case .anyOf(let exact, let prefixes):
            guard let value else { return false }
            return Self.hits(value, exact, prefixes)
        case .noneOf(let exact, let prefixes):
            guard let value else { return true }
            return !Self.hits(value, exact, prefixes)
        case .compare:
            return false
        }
    }

    func matches(_ event: AuditEvent) -> Bool {
        switch target {
        case .field(let name):
            if case .compare(let op, let n) = kind {
                // Events without the field pass `!=` (they do not have that value).
                guard let field = EventField(jsonName: name), let v = event[integer: field] else { return op == .notEqual }
                switch op {
                case .less: return v < n
                case .lessOrEqual: return v <= n
                case .greater: return v > n
                case .greaterOrEqual: return v >= n
                case .equal: return v == n
                case .notEqual: return v != n
                }
            }
            let text = name.hasPrefix("extra.") ? event.fieldText(String(name.dropFirst("extra.".count)), customOnly: true) : event.fieldText(name)
            return passes(text)
        case .policy, .policyVerdict:
            let values = (event.policies ?? []).compactMap { target == .policy ? $0.name : $0.verdict?.lowercased() }
            switch kind {
            case .anyOf(let exact, let prefixes): return values.contains { Self.hits($0, exact, prefixes) }
            case .noneOf(let exact, let prefixes): return !values.contains { Self.hits($0, exact, prefixes) }
            case .compare: return false
            }
        }
    }

    /// A few exact values are compared, not looked up: a query tests every value of a segment's
    /// dictionary (every user of a day: ~500 in the generated log), and hashing each one for the
    /// set cost more than comparing it with one or two values (for a short string, a compare of
    /// two words). The equality is the one the set uses.
    private static func hits(_ value: String, _ exact: Set<String>, _ prefixes: [String]) -> Bool {
        (exact.count <= 4 ? exact.contains { $0 == value } : exact.contains(value)) || prefixes.contains { value.hasPrefix($0) }
    }
}

/// Tests checked on decoded events: those without a column, and the search.
struct FieldTests: Hashable, Sendable {
    var tests: [FieldTest] = []
    /// Lower-cased search text.
    var search: [UInt8]?

    var isEmpty: Bool { tests.isEmpty && search == nil }

    /// `filter`'s conditions as tests and its search (a query works them out once).
    init(_ filter: EventFilter) { self.init(tests: filter.tests, search: filter.searchBytes) }

    init(tests: [FieldTest] = [], search: [UInt8]? = nil) {
        self.tests = tests
        self.search = search
    }

    /// Whether some test is on a field without a column, or there is a search (then records
    /// must be decoded).
    var needsEvent: Bool { search != nil || tests.contains { $0.column == nil } }

    /// The index columns the tests are answered from.
    var indexColumns: Set<IndexStore.Part> { Set(tests.compactMap(\.column)) }

    func matches(_ event: AuditEvent) -> Bool {
        for test in tests where !test.matches(event) { return false }
        if let search { return event.searchableTexts.contains { Self.contains($0.lowercased(), search) } }
        return true
    }

    /// Whether `needle` occurs in `text`'s UTF-8.
    static func contains(_ text: String, _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty else { return true }
        return text.withUTF8Bytes { hay in
            guard hay.count >= needle.count, let first = needle.first else { return false }
            var i = 0
            let last = hay.count - needle.count
            while i <= last {
                if hay[i] == first {
                    var j = 1
                    while j < needle.count && hay[i + j] == needle[j] { j += 1 }
                    if j == needle.count { return true }
                }
                i += 1
            }
            return false
        }
    }
}

extension EventFilter {
    /// Every condition as tests: the named sets (verdicts, users, models, fields) and the
    /// expressions, equalities on one field merged into one "any of".
    var tests: [FieldTest] {
        var anyOf: [FieldTest.Target: (exact: Set<String>, prefixes: [String])] = [:]
        var noneOf: [FieldTest.Target: (exact: Set<String>, prefixes: [String])] = [:]
        var compares: [FieldTest] = []
        if !verdicts.isEmpty { anyOf[.field("verdict"), default: ([], [])].exact.formUnion(verdicts.map(\.rawValue)) }
        if !users.isEmpty { anyOf[.field("user"), default: ([], [])].exact.formUnion(users) }
        if !models.isEmpty { anyOf[.field("model"), default: ([], [])].exact.formUnion(models) }
        for (name, values) in fields where !values.isEmpty { anyOf[.field(name), default: ([], [])].exact.formUnion(values) }
        for e in expressions {
            let target: FieldTest.Target =
                switch e.field {
                case "policy": .policy
                case "policy_verdict": .policyVerdict
                default: .field(e.field)
                }
            switch e.op {
            case .equal, .notEqual:
                var numeric: Int64?
                if case .number(let scale) = FilterFields.kind(of: e.field), case .success(let n) = FixedPoint.parse(e.value, scale: scale) { numeric = n }
                if let numeric, case .field = target {
                    // Numbers compare as numbers (`cost=0.50` is `cost=0.5`).
                    if e.op == .equal {
                        anyOf[target, default: ([], [])].exact.insert(e.value)
                    } else {
                        compares.append(FieldTest(target: target, kind: .compare(.notEqual, numeric)))
                    }
                } else if e.op == .equal {
                    if e.isPrefix { anyOf[target, default: ([], [])].prefixes.append(e.value) } else { anyOf[target, default: ([], [])].exact.insert(e.value) }
                } else {
                    if e.isPrefix { noneOf[target, default: ([], [])].prefixes.append(e.value) } else { noneOf[target, default: ([], [])].exact.insert(e.value) }
                }
            case .less, .lessOrEqual, .greater, .greaterOrEqual:
                guard case .number(let scale) = FilterFields.kind(of: e.field), case .success(let n) = FixedPoint.parse(e.value, scale: scale) else { continue }
                compares.append(FieldTest(target: target, kind: .compare(e.op, n)))
            }
        }
        var out: [FieldTest] = []
        for (target, v) in anyOf.sorted(by: { $0.key < $1.key }) { out.append(FieldTest(target: target, kind: .anyOf(exact: v.exact, prefixes: v.prefixes))) }
        for (target, v) in noneOf.sorted(by: { $0.key < $1.key }) { out.append(FieldTest(target: target, kind: .noneOf(exact: v.exact, prefixes: v.prefixes))) }
        return out + compares
    }

    /// The lower-cased search text, nil when there is none.
    var searchBytes: [UInt8]? {
        guard let search, !search.isEmpty else { return nil }
        return Array(search.lowercased().utf8)
    }
}

extension AuditEvent {
    /// The string fields a search looks in: ids, names, reasons, the resource, the request,
    /// `details` as JSON, policy names and reasons, and custom string fields.
    var searchableTexts: [String] {
        var out: [String] = [eventType]
        if let id { out.append(id) }
        for field in EventField.allCases where field.kind == .string {
            if let v = self[string: field] { out.append(v) }
        }
        if let details { out.append(details.jsonText) }
        for p in policies ?? [] {
            if let name = p.name { out.append(name) }
            if let reason = p.reason { out.append(reason) }
        }
        for member in extra {
            if case .string(let s) = member.value { out.append(s) }
        }
        return out
    }
}
