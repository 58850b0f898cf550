/// Event ids assigned at append: `evt_` + a ULID (48-bit millisecond time, 80 random bits, in
/// Crockford base32), so ids sort by event time. Such ids are stored as their 16 bytes.
enum EventID {
    /// Digit values for the bytes `0` (0x30) to `Z` (0x5A): a digit's value + 0x30, `~` for a
    /// byte that is not a digit of the alphabet (`:` to `@`, and `I`, `L`, `O`, `U`). A literal,
    /// not a table built at first use: the append path decodes every id it is given.
    private static let digitValues: StaticString = "0123456789~~~~~~~:;<=>?@A~BC~DE~FGHIJ~KLMNO"

    /// The value of uppercase Crockford base32 digit `c`, or nil.
    @inline(__always)
    private static func value(_ c: UInt8) -> UInt8? {
        let i = Int(c) &- 0x30
        guard i >= 0, i < digitValues.utf8CodeUnitCount else { return nil }
        let v = digitValues.utf8Start[i]
        return v == UInt8(ascii: "~") ? nil : v &- 0x30
    }

    static func make<G: RandomNumberGenerator>(timestampNanos: Int64, using rng: inout G) -> String {
        let millis = UInt64(max(0, timestampNanos / 1_000_000)) & 0xFFFF_FFFF_FFFF
        let high = millis << 16 | (rng.next() & 0xFFFF)
        return string(high: high, low: rng.next())
    }

    /// `evt_` + the 26-character ULID of a 128-bit value (high 64 bits first).
    static func string(high: UInt64, low: UInt64) -> String {
        String(unsafeUninitializedCapacity: textBytes) { buffer in
            write(high: high, low: low, to: UnsafeMutableRawBufferPointer(buffer))
            return textBytes
        }
    }

    /// Appends the id text of a 128-bit value.
    static func append<Sink: ByteSink>(high: UInt64, low: UInt64, to out: inout Sink) {
        out.append(count: textBytes) { write(high: high, low: low, to: $0) }
    }

    /// The length of an id's text: `evt_` and 26 digits.
    static let textBytes = 30

    /// Writes the id text of a 128-bit value into the first ``textBytes`` bytes of `out`.
    static func write(high: UInt64, low: UInt64, to out: UnsafeMutableRawBufferPointer) {
        precondition(out.count >= textBytes, "room for the id text")
        out[0] = UInt8(ascii: "e")
        out[1] = UInt8(ascii: "v")
        out[2] = UInt8(ascii: "t")
        out[3] = UInt8(ascii: "_")
        // The last digit first: the low five bits, then the 128-bit value shifted right by five
        // (the first digit holds its top three bits).
        var high = high
        var low = low
        digits.withUTF8Buffer { digits in
            for i in stride(from: textBytes - 1, through: 4, by: -1) {
                out[i] = digits[Int(truncatingIfNeeded: low & 0x1F)]
                low = low >> 5 | high << 59
                high >>= 5
            }
        }
    }

    /// Crockford's base32 digits, uppercase (a static string: no lazy global to check on each
    /// of the millions of ids an index build writes).
    private static let digits: StaticString = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

    /// The 128-bit value of an id that is exactly `evt_` + a canonical (uppercase) ULID, so
    /// that ``string(high:low:)`` gives it back byte for byte; nil for any other id.
    static func ulidBytes(_ id: String) -> (high: UInt64, low: UInt64)? {
        id.withUTF8Bytes { ulidBytes(utf8: $0) }
    }

    /// ``ulidBytes(_:)`` of UTF-8 bytes.
    static func ulidBytes(utf8 u: UnsafeRawBufferPointer) -> (high: UInt64, low: UInt64)? {
        guard u.count == 30, u[0] == UInt8(ascii: "e"), u[1] == UInt8(ascii: "v"), u[2] == UInt8(ascii: "t"),
            u[3] == UInt8(ascii: "_"), u[4] <= UInt8(ascii: "7")
        else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for i in 4..<30 {
            guard let d = value(u[i]) else { return nil }
            high = high << 5 | low >> 59
            low = low << 5 | UInt64(d)
        }
        return (high, low)
    }
}
