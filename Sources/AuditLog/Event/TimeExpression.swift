/// The times users type: a duration meaning that long before now (`30s`, `5m`, `1h30m`, `7d`,
/// `2w`), an RFC 3339 time (`2026-03-20T10:30:00Z`; without an offset, `2026-03-20T10:30:00`,
/// it is UTC) or a date (`2026-03-20`: midnight UTC).
package enum TimeExpression {
    /// Parses `text` relative to `now`; nil when it is neither form.
    package static func parse(_ text: String, now: Timestamp = .now) -> Timestamp? {
        if let nanos = durationNanos(text) {
            return Timestamp(nanosSinceEpoch: max(0, now.nanosSinceEpoch - nanos))
        }
        if let t = Timestamp(rfc3339: text) { return t }
        let bytes = Array(text.utf8)
        // A date alone: midnight UTC.
        if bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") {
            return Timestamp(rfc3339: text + "T00:00:00Z")
        }
        // A date and time without an offset: UTC.
        if let t = bytes.firstIndex(where: { $0 == UInt8(ascii: "T") || $0 == UInt8(ascii: "t") }), t == 10,
            !bytes[t...].contains(where: { $0 == UInt8(ascii: "Z") || $0 == UInt8(ascii: "z") || $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "-") })
        {
            return Timestamp(rfc3339: text + "Z")
        }
        return nil
    }

    /// The accepted forms, for error messages.
    package static let acceptedForms =
        "a duration such as 30s, 5m, 1h, 1h30m, 7d or 2w, an RFC 3339 time such as 2026-03-20T10:30:00Z (UTC when it has no offset) or a date such as 2026-03-20 (midnight UTC)"

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
