import Testing

@testable import AuditLog

/// `isPlainJSONString` (eight bytes a step) against the byte-by-byte rule it replaces.
@Suite struct PlainJSONStringTests {
    private static func naive(_ bytes: [UInt8]) -> Bool {
        !bytes.contains { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C || $0 >= 0x80 }
    }

    private static func fast(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { isPlainJSONString($0) }
    }

    /// Every byte value at every position of strings of 0 to 24 bytes of plain text: the
    /// words, the overlapping last word and the padded short string all see it.
    @Test func everyByteAtEveryPosition() {
        var mismatches: [String] = []
        for length in 0...24 {
            let plain = (0..<length).map { UInt8(ascii: "a") + UInt8($0 % 26) }
            if !Self.fast(plain) { mismatches.append("plain of \(length)") }
            for position in 0..<length {
                for value in 0...255 {
                    var bytes = plain
                    bytes[position] = UInt8(value)
                    if Self.fast(bytes) != Self.naive(bytes) { mismatches.append("\(length) bytes, 0x\(String(value, radix: 16)) at \(position)") }
                }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(10))")
    }

    /// Random strings mostly of bytes near the edges of the rule (0x1F/0x20, 0x21–0x23, 0x5B–0x5D,
    /// 0x7F/0x80), where a borrow between bytes could go wrong.
    @Test func randomStringsNearTheEdges() {
        var rng = SplitMix64(seed: 42)
        let edges: [UInt8] = [0x00, 0x1F, 0x20, 0x21, 0x22, 0x23, 0x41, 0x5B, 0x5C, 0x5D, 0x7E, 0x7F, 0x80, 0xFF]
        var mismatches = 0
        for _ in 0..<20_000 {
            let length = Int(rng.next() % 40)
            let bytes = (0..<length).map { _ in rng.next() % 4 == 0 ? edges[Int(rng.next() % UInt64(edges.count))] : UInt8(0x20 + rng.next() % 0x5E) }
            if Self.fast(bytes) != Self.naive(bytes) { mismatches += 1 }
        }
        #expect(mismatches == 0)
    }
}
