import Foundation

/// An event time: nanoseconds since 1970-01-01T00:00:00Z, from 1970 up to year 2262.
///
/// JSON carries it as RFC 3339 (`2026-03-20T10:30:00.123Z`, any offset, up to 9 fractional
/// digits); it is stored and printed in UTC with 3, 6 or 9 fractional digits, whichever is
/// exact.
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Nanoseconds since the Unix epoch, never negative.
    public var nanosSinceEpoch: Int64

    /// Creates a timestamp from nanoseconds since the Unix epoch.
    public init(nanosSinceEpoch: Int64) { self.nanosSinceEpoch = nanosSinceEpoch }

    /// The timestamp nearest to a `Date` (to the microsecond).
    public init(_ date: Date) {
        let micros = (date.timeIntervalSince1970 * 1_000_000).rounded()
        nanosSinceEpoch = Int64(micros) * 1_000
    }

    /// The current wall-clock time.
    public static var now: Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(nanosSinceEpoch: Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec))
    }

    /// The same instant as a `Date` (microsecond precision).
    public var date: Date { Date(timeIntervalSince1970: Double(nanosSinceEpoch) / 1e9) }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.nanosSinceEpoch < rhs.nanosSinceEpoch }

    /// RFC 3339 in UTC.
    public var description: String { rfc3339 }

    static let maxNanos = Int64.max

    /// Parses RFC 3339 (`T`, `t` or a space between date and time; `Z`, `z` or `±hh:mm`).
    public init?(rfc3339 text: String) {
        guard let value = text.withUTF8Bytes({ Timestamp.parse($0) }) else { return nil }
        self = value
    }

    static func parse(_ b: UnsafeRawBufferPointer) -> Timestamp? {
        let n = b.count
        guard n >= 20 else { return nil }
        func digits(_ at: Int, _ count: Int) -> Int? {
            guard at + count <= n else { return nil }
            var v = 0
            for i in at..<(at + count) {
                let c = b[i]
                guard c >= 48, c <= 57 else { return nil }
                v = v * 10 + Int(c - 48)
            }
            return v
        }
        guard let year = digits(0, 4), b[4] == UInt8(ascii: "-"),
            let month = digits(5, 2), b[7] == UInt8(ascii: "-"),
            let day = digits(8, 2),
            b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t") || b[10] == UInt8(ascii: " "),
            let hour = digits(11, 2), b[13] == UInt8(ascii: ":"),
            let minute = digits(14, 2), b[16] == UInt8(ascii: ":"),
            let second = digits(17, 2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= daysInMonth(year: year, month: month),
            hour <= 23, minute <= 59, second <= 60
        else { return nil }
        var i = 19
        var nanos = 0
        if i < n, b[i] == UInt8(ascii: ".") {
            i += 1
            var count = 0
            while i < n, b[i] >= 48, b[i] <= 57 {
                guard count < 9 else { return nil }
                nanos = nanos * 10 + Int(b[i] - 48)
                count += 1
                i += 1
            }
            guard count > 0 else { return nil }
            for _ in count..<9 { nanos *= 10 }
        }
        guard i < n else { return nil }
        var offsetSeconds = 0
        if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") {
            i += 1
        } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            let sign = b[i] == UInt8(ascii: "-") ? -1 : 1
            guard let oh = digits(i + 1, 2), i + 3 < n, b[i + 3] == UInt8(ascii: ":"), let om = digits(i + 4, 2),
                oh <= 23, om <= 59
            else { return nil }
            offsetSeconds = sign * (oh * 3600 + om * 60)
            i += 6
        } else {
            return nil
        }
        guard i == n else { return nil }
        // A leap second is folded onto the last nanosecond-aligned instant of that minute.
        let leap = second == 60
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + (leap ? 59 : second)) - Int64(offsetSeconds)
        guard seconds >= 0 else { return nil }
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return nil }
        let (total, overflow2) = scaled.addingReportingOverflow(Int64(leap ? 999_999_999 : nanos))
        guard !overflow2 else { return nil }
        return Timestamp(nanosSinceEpoch: total)
    }

    /// RFC 3339 in UTC with 3, 6 or 9 fractional digits.
    public var rfc3339: String {
        var out = [UInt8]()
        out.reserveCapacity(30)
        appendRFC3339(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    func appendRFC3339<Sink: ByteSink>(to out: inout Sink) {
        let totalSeconds = nanosSinceEpoch / 1_000_000_000
        let nanos = Int(nanosSinceEpoch % 1_000_000_000)
        let days = Int(totalSeconds / 86_400)
        let secondOfDay = Int(totalSeconds % 86_400)
        let (y, m, d) = Timestamp.civilFromDays(days)
        let (fraction, width) =
            nanos % 1_000_000 == 0 ? (nanos / 1_000_000, 3) : nanos % 1_000 == 0 ? (nanos / 1_000, 6) : (nanos, 9)
        // `YYYY-MM-DDTHH:MM:SS.` (20 bytes), the fraction, `Z`: digits written in place (this
        // runs once per exported event).
        out.append(count: 21 + width) { text in
            func put(_ v: Int, at offset: Int, _ width: Int) {
                var x = v
                var k = offset + width - 1
                while k >= offset {
                    text[k] = UInt8(truncatingIfNeeded: 48 + x % 10)
                    x /= 10
                    k -= 1
                }
            }
            put(y, at: 0, 4)
            text[4] = UInt8(ascii: "-")
            put(m, at: 5, 2)
            text[7] = UInt8(ascii: "-")
            put(d, at: 8, 2)
            text[10] = UInt8(ascii: "T")
            put(secondOfDay / 3600, at: 11, 2)
            text[13] = UInt8(ascii: ":")
            put(secondOfDay / 60 % 60, at: 14, 2)
            text[16] = UInt8(ascii: ":")
            put(secondOfDay % 60, at: 17, 2)
            text[19] = UInt8(ascii: ".")
            put(fraction, at: 20, width)
            text[20 + width] = UInt8(ascii: "Z")
        }
    }

    static func isLeapYear(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilFromDays(_ z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }
}
