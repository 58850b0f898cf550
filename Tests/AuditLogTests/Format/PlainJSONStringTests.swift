import Testing

@testable import AuditLog

/// `isPlainJSONString` and `isPlainCSVCell` (eight bytes a step) against the byte-by-byte
/// rules they replace.
@Suite struct PlainJSONStringTests {
    enum Rule: CaseIterable {
        case json, csv

        func naive(_ bytes: [UInt8]) -> Bool {
            switch self {
            case .json: !bytes.contains { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C || $0 >= 0x80 }
            case .csv: !bytes.contains { $0 >= 0x80 || CSVExport.needsQuotes($0) }
            }
        }

        func fast(_ bytes: [UInt8]) -> Bool {
            bytes.withUnsafeBytes { self == .json ? isPlainJSONString($0) : isPlainCSVCell($0) }
        }
    }

    /// Every byte value at every position of strings of 0 to 24 bytes of plain text: the
    /// words, the overlapping last word and the padded short string all see it.
    @Test(arguments: Rule.allCases)
    func everyByteAtEveryPosition(rule: Rule) {
        var mismatches: [String] = []
        for length in 0...24 {
            let plain = (0..<length).map { UInt8(ascii: "a") + UInt8($0 % 26) }
            if !rule.fast(plain) { mismatches.append("plain of \(length)") }
            for position in 0..<length {
                for value in 0...255 {
                    var bytes = plain
                    bytes[position] = UInt8(value)
                    if rule.fast(bytes) != rule.naive(bytes) { mismatches.append("\(length) bytes, 0x\(String(value, radix: 16)) at \(position)") }
                }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(10))")
    }

    /// Random strings mostly of bytes near the edges of the rules (0x1F/0x20, 0x21–0x23, 0x5B–0x5D,
    /// 0x7F/0x80, CR, LF, comma), where a borrow between bytes could go wrong.
    @Test(arguments: Rule.allCases)
    func randomStringsNearTheEdges(rule: Rule) {
        var rng = SplitMix64(seed: 42)
        let edges: [UInt8] = [0x00, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1F, 0x20, 0x21, 0x22, 0x23, 0x2B, 0x2C, 0x2D, 0x41, 0x5B, 0x5C, 0x5D, 0x7E, 0x7F, 0x80, 0xFF]
        var mismatches = 0
        for _ in 0..<20_000 {
            let length = Int(rng.next() % 40)
            let bytes = (0..<length).map { _ in rng.next() % 4 == 0 ? edges[Int(rng.next() % UInt64(edges.count))] : UInt8(0x20 + rng.next() % 0x5E) }
            if rule.fast(bytes) != rule.naive(bytes) { mismatches += 1 }
        }
        #expect(mismatches == 0)
    }
}

/// ``jsonStringStop(in:from:)`` finds what a byte loop finds: the first quote, backslash or
/// control byte from where it starts, or none.
@Suite struct JSONStringStopTests {
    static func naive(_ bytes: [UInt8], from: Int) -> Int? {
        guard from < bytes.count else { return nil }
        return bytes[from...].firstIndex { $0 == 0x22 || $0 == 0x5C || $0 < 0x20 }
    }

    static func fast(_ bytes: [UInt8], from: Int) -> Int? {
        bytes.withUnsafeBytes { jsonStringStop(in: $0, from: from) }
    }

    /// Every byte value at every position of 0 to 24 bytes of text, from each of the first four
    /// offsets: the whole words, the bytes after them and a stop before the start all see it.
    @Test func everyByteAtEveryPosition() {
        var mismatches: [String] = []
        for length in 0...24 {
            let plain = (0..<length).map { UInt8(ascii: "a") + UInt8($0 % 26) }
            for position in 0..<length {
                for value in 0...255 {
                    var bytes = plain
                    bytes[position] = UInt8(value)
                    for from in 0...3 where Self.fast(bytes, from: from) != Self.naive(bytes, from: from) {
                        mismatches.append("\(length) bytes, 0x\(String(value, radix: 16)) at \(position), from \(from)")
                    }
                }
            }
            if Self.fast(plain, from: 0) != nil { mismatches.append("plain of \(length)") }
        }
        let allAgree = mismatches.isEmpty
        #expect(allAgree, "\(mismatches.count) mismatches, first: \(mismatches.prefix(10))")
    }

    /// Random text with several stops and bytes near them (0x1F/0x20, 0x21–0x23, 0x5B–0x5D,
    /// UTF-8 bytes), where a borrow from one byte into the next could go wrong.
    @Test func randomTextNearTheEdges() {
        var rng = SplitMix64(seed: 43)
        let edges: [UInt8] = [0x00, 0x01, 0x0A, 0x1F, 0x20, 0x21, 0x22, 0x23, 0x5B, 0x5C, 0x5D, 0x7F, 0x80, 0xA2, 0xDC, 0xFF]
        var mismatches = 0
        for _ in 0..<20_000 {
            let length = Int(rng.next() % 40)
            let bytes = (0..<length).map { _ in rng.next() % 5 == 0 ? edges[Int(rng.next() % UInt64(edges.count))] : UInt8(0x23 + rng.next() % 0x39) }
            let from = Int(rng.next() % 4)
            if Self.fast(bytes, from: from) != Self.naive(bytes, from: from) { mismatches += 1 }
        }
        #expect(mismatches == 0)
    }
}
