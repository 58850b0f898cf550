/// Exact conversion between JSON number literals and scaled integers (cost in nano-dollars,
/// latency in microseconds). No floating point is involved at any step.
enum FixedPoint {
    enum ParseError: Error, Equatable {
        case notANumber
        case negative
        case tooManyDecimals(Int)
        case outOfRange
    }

    /// Parses a JSON number literal into `value × 10^scale` exactly.
    ///
    /// Accepts `-?digits(.digits)?([eE][+-]?digits)?`. Trailing zeros beyond `scale` decimals
    /// are fine; a non-zero digit beyond them is ``ParseError/tooManyDecimals(_:)``.
    static func parse(_ literal: UnsafeRawBufferPointer, scale: Int) -> Result<Int64, ParseError> {
        if let value = parsePlain(literal, scale: scale) { return .success(value) }
        return parseAny(literal, scale: scale)
    }

    /// ``parse(_:scale:)`` of `digits(.digits)?` in at most 18 bytes, nearly every literal an
    /// ingest meets (tokens, cost, latency), in one pass and without the digit array of
    /// ``parseAny(_:scale:)``. Nil for anything else, and for a value that does not fit or has
    /// non-zero digits beyond `scale` decimals: the general path decides those, and names the
    /// error. Fewer than 19 digits cannot overflow on the way.
    @inline(__always)
    static func parsePlain(_ literal: UnsafeRawBufferPointer, scale: Int) -> Int64? {
        let n = literal.count
        guard n >= 1, n <= 18 else { return nil }
        var value: Int64 = 0
        var digits = 0
        var decimals = -1  // -1 until the point
        for i in 0..<n {
            let c = literal[i]
            if c &- 48 < 10 {
                value = value &* 10 &+ Int64(c &- 48)
                digits += 1
                if decimals >= 0 { decimals += 1 }
            } else if c == UInt8(ascii: "."), decimals < 0, digits > 0 {
                decimals = 0
            } else {
                return nil
            }
        }
        guard decimals != 0 else { return nil }  // "5." is not a number
        var shift = scale - max(decimals, 0)
        if shift < 0 {
            var divisor: Int64 = 1
            while shift < 0 { divisor &*= 10; shift += 1 }
            guard value % divisor == 0 else { return nil }
            return value / divisor
        }
        while shift > 0 {
            let (m, overflow) = value.multipliedReportingOverflow(by: 10)
            guard !overflow else { return nil }
            value = m
            shift -= 1
        }
        return value
    }

    /// ``parse(_:scale:)`` of any literal its grammar takes.
    static func parseAny(_ literal: UnsafeRawBufferPointer, scale: Int) -> Result<Int64, ParseError> {
        var i = 0
        let n = literal.count
        var negative = false
        if i < n, literal[i] == UInt8(ascii: "-") { negative = true; i += 1 }
        var digits: [UInt8] = []
        digits.reserveCapacity(24)
        var fractionDigits = 0
        var sawDigit = false
        while i < n, literal[i] >= 48, literal[i] <= 57 { digits.append(literal[i] - 48); i += 1; sawDigit = true }
        if i < n, literal[i] == UInt8(ascii: ".") {
            i += 1
            var sawFraction = false
            while i < n, literal[i] >= 48, literal[i] <= 57 {
                digits.append(literal[i] - 48); fractionDigits += 1; i += 1; sawFraction = true
            }
            guard sawFraction else { return .failure(.notANumber) }
        }
        guard sawDigit else { return .failure(.notANumber) }
        var exponent = 0
        if i < n, literal[i] == UInt8(ascii: "e") || literal[i] == UInt8(ascii: "E") {
            i += 1
            var expNegative = false
            if i < n, literal[i] == UInt8(ascii: "+") || literal[i] == UInt8(ascii: "-") {
                expNegative = literal[i] == UInt8(ascii: "-"); i += 1
            }
            var sawExp = false
            while i < n, literal[i] >= 48, literal[i] <= 57 {
                sawExp = true
                if exponent < 100_000 { exponent = exponent * 10 + Int(literal[i] - 48) }
                i += 1
            }
            guard sawExp else { return .failure(.notANumber) }
            if expNegative { exponent = -exponent }
        }
        guard i == n else { return .failure(.notANumber) }
        // value = digits × 10^(exponent - fractionDigits); we want value × 10^scale.
        let shift = exponent - fractionDigits + scale
        var significant = digits
        if shift < 0 {
            let drop = -shift
            if drop > significant.count {
                if significant.contains(where: { $0 != 0 }) {
                    return .failure(.tooManyDecimals(fractionDigits - exponent))
                }
                significant = []
            } else {
                let dropped = significant.suffix(drop)
                if dropped.contains(where: { $0 != 0 }) {
                    return .failure(.tooManyDecimals(fractionDigits - exponent))
                }
                significant.removeLast(drop)
            }
        }
        var value: Int64 = 0
        for d in significant {
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int64(d))
            if o1 || o2 { return .failure(.outOfRange) }
            value = a
        }
        if shift > 0, value != 0 {
            for _ in 0..<shift {
                let (m, o) = value.multipliedReportingOverflow(by: 10)
                if o { return .failure(.outOfRange) }
                value = m
            }
        }
        if negative && value != 0 { return .failure(.negative) }
        return .success(value)
    }

    static func parse(_ literal: String, scale: Int) -> Result<Int64, ParseError> {
        literal.withUTF8Bytes { parse($0, scale: scale) }
    }

    /// Formats `value / 10^scale` with the fewest decimals that are exact ("0.0142", "5").
    static func format(_ value: Int64, scale: Int) -> String {
        var divisor: Int64 = 1
        for _ in 0..<scale { divisor *= 10 }
        let negative = value < 0
        let magnitude = value.magnitude
        let whole = magnitude / UInt64(divisor)
        var fraction = magnitude % UInt64(divisor)
        var text = negative ? "-" : ""
        text += String(whole)
        if fraction != 0 {
            var width = scale
            while fraction % 10 == 0 { fraction /= 10; width -= 1 }
            let digits = String(fraction)
            text += "." + String(repeating: "0", count: width - digits.count) + digits
        }
        return text
    }
}

/// An amount of US dollars, kept exactly as an integer number of nano-dollars (10⁻⁹ USD).
///
/// Sums never pass through floating point: add ``nanodollars`` and format the total.
public struct Cost: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Nano-dollars: `Cost(nanodollars: 14_200_000)` is $0.0142.
    public var nanodollars: Int64

    /// Creates a cost from nano-dollars.
    public init(nanodollars: Int64) { self.nanodollars = nanodollars }

    /// Parses a decimal such as `"0.0142"` or `"1.5e-3"`; nil when it is negative, has more
    /// than 9 decimals or is out of range.
    public init?(decimal: String) {
        guard case .success(let value) = FixedPoint.parse(decimal, scale: 9) else { return nil }
        nanodollars = value
    }

    /// The exact decimal text in dollars, with the fewest decimals needed ("0.0142").
    public var description: String { FixedPoint.format(nanodollars, scale: 9) }

    public static func < (lhs: Cost, rhs: Cost) -> Bool { lhs.nanodollars < rhs.nanodollars }
}
