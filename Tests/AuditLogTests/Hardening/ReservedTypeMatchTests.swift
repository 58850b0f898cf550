import Testing

@testable import AuditLog

/// The reserved event types (`retention.`, `hold.`, `log.`, `audit.`, in any case): the ASCII
/// fast path answers exactly as lowering the text and comparing prefixes does.
@Suite struct ReservedTypeMatchTests {
    static func reference(_ type: String) -> Bool {
        AuditEvent.reservedEventTypePrefixes.contains { type.lowercased().hasPrefix($0) }
    }

    @Test func theFastPathAgreesWithLoweringTheText() {
        let fixed = [
            "hold.released", "Hold.Released", "HOLD.PLACED", "hold", "hold.", "holdx.", "xhold.", "log.", "LoG.recovered", "lo", "log",
            "audit.read", "AUDIT.", "audit", "audi.t", "retention.sweep", "Retention.", "retention", "decision", "", ".", "h0ld.",
            "Höld.x", "İog.", "log\u{301}.", "log.\u{301}", "\u{212A}", "audit.\u{0}", "model.enabled", "api_key.revoked", "[ld.",
        ]
        for type in fixed { #expect(AuditEvent.isReserved(eventType: type) == Self.reference(type), "\(type)") }
        // Every mix of cases and a byte either side of each letter.
        var rng = SplitMix64(seed: 7)
        for prefix in AuditEvent.reservedEventTypePrefixes {
            for _ in 0..<200 {
                var bytes = Array(prefix.utf8).map { b -> UInt8 in
                    switch rng.next() % 4 {
                    case 0: b & ~0x20 & 0x7F
                    case 1: b ^ 0x01
                    case 2: b ^ 0x40
                    default: b
                    }
                }
                bytes += [UInt8(rng.next() % 0x7F)]
                let type = String(decoding: bytes, as: UTF8.self)
                #expect(AuditEvent.isReserved(eventType: type) == Self.reference(type), "\(bytes)")
            }
        }
    }
}
