/// Event ids assigned at append: `evt_` + a ULID (48-bit millisecond time, 80 random bits, in
/// Crockford base32), so ids sort by event time.
enum EventID {
    private static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    static func make<G: RandomNumberGenerator>(timestampNanos: Int64, using rng: inout G) -> String {
        let millis = UInt64(max(0, timestampNanos / 1_000_000)) & 0xFFFF_FFFF_FFFF
        let hi = rng.next() & 0xFFFF  // 16 random bits
        let lo = rng.next()  // 64 random bits
        // 128 bits: 48 time, 80 random → 26 base32 characters (the top 2 bits are zero).
        let high64 = millis << 16 | hi
        let low64 = lo
        var out = [UInt8](repeating: 0, count: 30)
        out[0] = UInt8(ascii: "e"); out[1] = UInt8(ascii: "v"); out[2] = UInt8(ascii: "t"); out[3] = UInt8(ascii: "_")
        for i in 0..<26 {
            let bitFromEnd = (25 - i) * 5  // position of this digit's lowest bit
            var v: UInt64
            if bitFromEnd >= 64 {
                v = high64 >> UInt64(bitFromEnd - 64)
            } else if bitFromEnd + 5 <= 64 {
                v = low64 >> UInt64(bitFromEnd)
            } else {
                v = (low64 >> UInt64(bitFromEnd)) | (high64 << UInt64(64 - bitFromEnd))
            }
            out[4 + i] = alphabet[Int(v & 0x1F)]
        }
        return String(decoding: out, as: UTF8.self)
    }
}
