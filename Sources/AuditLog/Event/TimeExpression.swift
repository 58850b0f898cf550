/// The times users type: a duration meaning that long before now (`30s`, `5m`, `1h30m`, `7d`,
/// `2w`) or an RFC 3339 time (`2026-03-20T10:30:00Z`).
package enum TimeExpression {
    /// Parses `text` relative to `now`; nil when it is neither form.
    package static func parse(_ text: String, now: Timestamp = .now) -> Timestamp? {
        if let nanos = durationNanos(text) {
            return Timestamp(nanosSinceEpoch: max(0, now.nanosSinceEpoch - nanos))
        }
        return Timestamp(rfc3339: text)
    }

    /// The accepted forms, for error messages.
    package static let acceptedForms = "a duration such as 30s, 5m, 1h, 1h30m, 7d or 2w, or an RFC 3339 time such as 2026-03-20T10:30:00Z"

    /// `1h30m` → nanoseconds; nil unless the whole text is number-unit pairs (s, m, h, d, w).
    package static func durationNanos(_ text: String) -> Int64? {
        var total: Int64 = 0
        var number: Int64 = 0
        var sawDigit = false
        var sawUnit = false
        for c in text.utf8 {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                let (m, o1) = number.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(Int64(c - 48))
                guard !o1, !o2 else { return nil }
                number = a
                sawDigit = true
            default:
                let unit: Int64
                switch c {
                case UInt8(ascii: "s"): unit = 1_000_000_000
                case UInt8(ascii: "m"): unit = 60_000_000_000
                case UInt8(ascii: "h"): unit = 3_600_000_000_000
                case UInt8(ascii: "d"): unit = 86_400_000_000_000
                case UInt8(ascii: "w"): unit = 604_800_000_000_000
                default: return nil
                }
                guard sawDigit else { return nil }
                let (m, o1) = number.multipliedReportingOverflow(by: unit)
                let (a, o2) = total.addingReportingOverflow(m)
                guard !o1, !o2 else { return nil }
                total = a
                number = 0
                sawDigit = false
                sawUnit = true
            }
        }
        guard sawUnit, !sawDigit else { return nil }
        return total
    }
}
