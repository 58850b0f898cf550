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
