import Testing

@testable import AuditLog

@Suite struct FixedPointTests {
    @Test(arguments: [
        ("0.0142", Int64(14_200_000)), ("5", 5_000_000_000), ("1.5e-3", 1_500_000), ("0", 0),
        ("0.000000001", 1), ("12.340000000000", 12_340_000_000), ("1E2", 100_000_000_000), ("-0", 0),
        ("0.1234567890", 123_456_789),
    ])
    func parsesCostExactly(literal: String, nanos: Int64) {
        #expect(FixedPoint.parse(literal, scale: 9) == .success(nanos))
    }

    @Test(arguments: ["0.0000000001", "1.23456789012", "1e-10"])
    func rejectsMoreThanNineDecimals(literal: String) {
        guard case .failure(.tooManyDecimals) = FixedPoint.parse(literal, scale: 9) else {
            Issue.record("\(literal) accepted")
            return
        }
    }

    @Test func rejectsNegativeAndOverflow() {
        #expect(FixedPoint.parse("-1", scale: 9) == .failure(.negative))
        #expect(FixedPoint.parse("1e30", scale: 9) == .failure(.outOfRange))
        #expect(FixedPoint.parse("99999999999999999999", scale: 0) == .failure(.outOfRange))
        #expect(FixedPoint.parse("abc", scale: 9) == .failure(.notANumber))
        #expect(FixedPoint.parse("1.", scale: 9) == .failure(.notANumber))
    }

    @Test(arguments: [(Int64(14_200_000), "0.0142"), (5_000_000_000, "5"), (1, "0.000000001"), (0, "0"), (1_500_000_000, "1.5")])
    func formatsWithFewestDecimals(nanos: Int64, text: String) {
        #expect(FixedPoint.format(nanos, scale: 9) == text)
    }

    @Test func roundTripsRandomValues() {
        var rng = SplitMix64(seed: 42)
        for _ in 0..<10_000 {
            let value = Int64(rng.next() >> 2)
            let text = FixedPoint.format(value, scale: 9)
            #expect(FixedPoint.parse(text, scale: 9) == .success(value), "seed 42, value \(value)")
        }
    }

    /// The one-pass path for plain literals gives what the general path gives, or leaves the
    /// literal to it: over random literals near its edges (18 bytes, 18 digits, decimals past
    /// the scale, overflow on scaling, points and exponents anywhere).
    @Test func plainLiteralsParseAsTheGeneralPathDoes() {
        var rng = SplitMix64(seed: 77)
        let alphabet = Array("0123456789".utf8) + Array("0000.9-eE+".utf8)
        var mismatches: [String] = []
        var plain = 0
        for round in 0..<60_000 {
            let length = Int(rng.next() % 22)
            var bytes = (0..<length).map { _ in alphabet[Int(rng.next() % UInt64(round % 3 == 0 ? alphabet.count : 10))] }
            if round % 3 == 1, length > 2 { bytes[Int(rng.next() % UInt64(length - 1)) + 1] = UInt8(ascii: ".") }
            for scale in [0, 3, 9] {
                let (general, fast) = bytes.withUnsafeBytes { (FixedPoint.parseAny($0, scale: scale), FixedPoint.parsePlain($0, scale: scale)) }
                if let fast {
                    plain += 1
                    if general != .success(fast) { mismatches.append("\(String(decoding: bytes, as: UTF8.self)) scale \(scale)") }
                }
                if bytes.withUnsafeBytes({ FixedPoint.parse($0, scale: scale) }) != general { mismatches.append("parse \(String(decoding: bytes, as: UTF8.self)) scale \(scale)") }
            }
        }
        let allAgree = mismatches.isEmpty  // not the array itself: #expect would print all of it
        #expect(allAgree, "\(mismatches.count) mismatches, first: \(mismatches.prefix(5))")
        #expect(plain > 50_000)
    }
}

@Suite struct TimestampTests {
    @Test(arguments: [
        ("2026-03-20T10:30:00.123Z", "2026-03-20T10:30:00.123Z"),
        ("2026-03-20T10:30:00Z", "2026-03-20T10:30:00.000Z"),
        ("2026-03-20T12:30:00.5+02:00", "2026-03-20T10:30:00.500Z"),
        ("2026-03-20t10:30:00.123456z", "2026-03-20T10:30:00.123456Z"),
        ("2026-03-20 10:30:00.123456789Z", "2026-03-20T10:30:00.123456789Z"),
        ("1970-01-01T00:00:00Z", "1970-01-01T00:00:00.000Z"),
        ("2024-02-29T23:59:59.999Z", "2024-02-29T23:59:59.999Z"),
    ])
    func parsesAndPrintsUTC(input: String, output: String) throws {
        let t = try #require(Timestamp(rfc3339: input))
        #expect(t.rfc3339 == output)
        #expect(Timestamp(rfc3339: t.rfc3339) == t)
    }

    @Test(arguments: [
        "2026-03-20", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2025-02-29T00:00:00Z",
        "2026-03-20T24:00:00Z", "2026-03-20T10:30:00", "2026-03-20T10:30:00.Z",
        "2026-03-20T10:30:00.1234567891Z", "1969-12-31T23:59:59Z", "9999-01-01T00:00:00Z", "", "now",
    ])
    func rejectsInvalidOrOutOfRange(input: String) {
        #expect(Timestamp(rfc3339: input) == nil)
    }

    @Test func civilConversionMatchesOverManyDays() {
        for days in stride(from: 0, to: 100_000, by: 37) {
            let (y, m, d) = Timestamp.civilFromDays(days)
            #expect(Timestamp.daysFromCivil(year: y, month: m, day: d) == days)
        }
    }

    @Test(arguments: [("30s", Int64(30)), ("5m", 300), ("1h", 3600), ("1h30m", 5400), ("7d", 604_800), ("2w", 1_209_600)])
    func parsesDurations(text: String, seconds: Int64) {
        #expect(TimeExpression.durationNanos(text) == seconds * 1_000_000_000)
    }

    @Test(arguments: ["5x", "h", "1", "", "1h30", "-1h"])
    func rejectsBadDurations(text: String) {
        #expect(TimeExpression.durationNanos(text) == nil)
    }
}
