import Testing

@testable import AuditLog

/// The index's table of a column's values by their bytes: the same codes a `[String: code]`
/// dictionary gives, across growth, colliding slots, empty and long values, and repeated values
/// in a dictionary read back (the first keeps its code).
@Suite struct ValueCodesTests {
    func code(_ table: ValueCodes, _ value: String) -> UInt32? {
        var v = value
        return v.withUTF8 { table.code(of: UnsafeRawBufferPointer($0), hash: ValueCodes.hash(UnsafeRawBufferPointer($0))) }
    }

    @Test func givesTheCodesADictionaryWould() {
        var rng = SplitMix64(seed: 11)
        var table = ValueCodes()
        var reference: [String: UInt32] = [:]
        for _ in 0..<20_000 {
            // Short, 8-byte-multiple and long values, many repeats, one empty.
            let length = [0, 3, 8, 16, 17, 40][Int(rng.next() % 6)]
            let value = String((0..<length).map { _ in Character(UnicodeScalar(UInt8(97 + rng.next() % 3))) })
            var v = value
            let got = v.withUTF8 { utf8 -> UInt32 in
                let raw = UnsafeRawBufferPointer(utf8)
                let hash = ValueCodes.hash(raw)
                return table.code(of: raw, hash: hash) ?? table.insert(raw, hash: hash)
            }
            if reference[value] == nil { reference[value] = UInt32(reference.count + 1) }
            #expect(got == reference[value], "\(value)")
        }
        #expect(table.count == reference.count)
        for (value, expected) in reference { #expect(code(table, value) == expected) }
    }

    @Test func aDictionaryReadBackKeepsItsCodesAndTheFirstOfARepeat() {
        let values = (0..<100).map { "user\($0)@acme.com" } + ["user7@acme.com", "x"]
        let table = ValueCodes(values)
        #expect(table.count == 102)
        #expect(code(table, "user7@acme.com") == 8)
        #expect(code(table, "x") == 102)
        #expect(code(table, "user99@acme.com") == 100)
        #expect(code(table, "user100@acme.com") == nil)
    }
}
