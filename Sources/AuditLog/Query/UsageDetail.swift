/// Columns of a usage report that rollups cannot answer: asking for one scans every segment in
/// the window (its index columns, not its records).
public struct UsageColumns: OptionSet, Hashable, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// Distinct users per group (exact: the user codes of each segment, turned into names).
    public static let uniqueUsers = UsageColumns(rawValue: 1)
    /// Events per reason code per group: how often each policy reason fired.
    public static let reasons = UsageColumns(rawValue: 2)
}

/// The users and reason counts of one group, by name (merged across segments).
struct UsageDetail: Hashable, Sendable {
    var users: Set<String> = []
    var reasons: [String: Int64] = [:]

    mutating func merge(_ other: UsageDetail) {
        users.formUnion(other.users)
        for (reason, n) in other.reasons { reasons[reason, default: 0] += n }
    }
}

/// The same, by dictionary code, while one segment is scanned.
struct CodeDetails {
    struct Codes {
        var users: Set<UInt32> = []
        var reasons: [UInt32: Int64] = [:]

        /// By name; code 0 (no user, no reason) is left out.
        func strings(_ view: IndexView) -> UsageDetail {
            var out = UsageDetail()
            for code in users where code != 0 {
                if let name = view.string(.user, code: code) { out.users.insert(name) }
            }
            for (code, n) in reasons where code != 0 {
                if let name = view.string(.reasonCode, code: code) { out.reasons[name, default: 0] += n }
            }
            return out
        }
    }

    var byKey: [[Int64]: Codes] = [:]

    /// Notes record `i`'s user and reason under `key`, in place (a copy of the group's sets per
    /// record would make this quadratic).
    mutating func add(_ key: [Int64], _ c: IndexColumns, _ i: Int, _ columns: UsageColumns) {
        if columns.contains(.uniqueUsers), let column = Dimension.user.column { byKey[key, default: Codes()].users.insert(c.dims[column][i]) }
        if columns.contains(.reasons), let column = Dimension.reasonCode.column { byKey[key, default: Codes()].reasons[c.dims[column][i], default: 0] += 1 }
    }
}
