import Testing

@testable import AuditLog

/// The transcoders write into room reserved at an array's end; what does not fit must append
/// nothing, and the transcoders must then write the same bytes through the array.
@Suite struct ByteSinkTests {
    struct Stop: Error {}

    @Test func writesThatFitAreAppendedAfterWhatWasThere() {
        var out = Array("ab".utf8)
        let fitted = out.append(within: 6) { (room: inout ReservedRoom) in
            room.append(UInt8(ascii: "c"))
            room.append("de")
            room.append(count: 3) { $0.copyBytes(from: "fgh".utf8) }
        }
        #expect(fitted)
        #expect(String(decoding: out, as: UTF8.self) == "abcdefgh")
    }

    /// Values of every length up to past the word copies' reach, each at every offset in the
    /// room, land byte for byte, and touch nothing past their end.
    @Test func copiesOfEveryLengthLandByteForByte() {
        let source = (0..<48).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        for length in 0...40 {
            for offset in 0..<3 {
                var out = [UInt8](repeating: 0xEE, count: 1)
                let fitted = out.append(within: 64) { (room: inout ReservedRoom) in
                    for _ in 0..<offset { room.append(UInt8(0xAA)) }
                    source.withUnsafeBytes { room.append(raw: UnsafeRawBufferPointer(rebasing: $0[5..<(5 + length)])) }
                    room.append(UInt8(0xBB))
                }
                #expect(fitted)
                let expected = [0xEE] + [UInt8](repeating: 0xAA, count: offset) + source[5..<(5 + length)] + [0xBB]
                #expect(out == expected, "length \(length), offset \(offset)")
            }
        }
    }

    @Test func aWriteThatDoesNotFitAppendsNothing() {
        for overflow in 0..<3 {
            var out = Array("ab".utf8)
            let fitted = out.append(within: 4) { (room: inout ReservedRoom) in
                room.append("abc")
                switch overflow {
                case 0: room.append("de")
                case 1: room.append(count: 2) { $0.copyBytes(from: "de".utf8) }
                default:
                    room.append(UInt8(ascii: "d"))
                    room.append(UInt8(ascii: "e"))
                }
                // A later write that fits changes nothing: the append adds nothing all the same.
                room.append(UInt8(ascii: "z"))
            }
            #expect(!fitted, "overflow \(overflow)")
            #expect(String(decoding: out, as: UTF8.self) == "ab", "overflow \(overflow)")
        }
    }

    @Test func anErrorAppendsNothingAndAnAbandonedRoomNeither() {
        var out = Array("ab".utf8)
        #expect(throws: Stop.self) {
            _ = try out.append(within: 8) { (room: inout ReservedRoom) throws(Stop) in
                room.append("cd")
                throw Stop()
            }
        }
        let fitted = out.append(within: 8) { (room: inout ReservedRoom) in
            room.append("cd")
            room.abandon()
        }
        #expect(!fitted)
        #expect(String(decoding: out, as: UTF8.self) == "ab")
    }

    /// Events whose text is many times their stored bytes: escaped control characters, and
    /// nested values of one byte each.
    static func expansiveEvents() -> [AuditEvent] {
        var escapes = AuditEvent(eventType: String(repeating: "\u{1}", count: 1000), timestamp: Timestamp(nanosSinceEpoch: 1), id: "e")
        escapes.user = String(repeating: "\u{1F}", count: 500)
        var nested = AuditEvent(eventType: "t", timestamp: Timestamp(nanosSinceEpoch: 2), id: "n")
        nested.details = .array(Array(repeating: .null, count: 2000))
        var members = fullEvent()
        members.extra = [JSONMember("a", .array(Array(repeating: .bool(false), count: 2000))), JSONMember("", .null)]
        return [escapes, nested, members]
    }

    @Test func jsonOutgrowingTheRoomIsWrittenThroughTheArray() throws {
        for (i, e) in Self.expansiveEvents().enumerated() {
            let record = e.recordBytes()
            var expected = Array("prefix\n".utf8)
            e.appendJSON(to: &expected, seq: SequenceNumber(9))
            // The case this test is for: more text than the room the transcoder reserves.
            #expect(expected.count - 7 > RecordJSON.roomBound(record.count), "event \(i)")
            var out = Array("prefix\n".utf8)
            try record.withUnsafeBytes { try RecordJSON.append($0, seq: SequenceNumber(9), to: &out) }
            let same = out == expected
            #expect(same, "event \(i)")
        }
    }

    @Test func csvOutgrowingTheRoomIsWrittenThroughTheArray() throws {
        var csv = RecordCSV()
        for (i, e) in (Self.expansiveEvents() + [fullEvent()]).enumerated() {
            let record = e.recordBytes()
            var expected = Array("prefix\r\n".utf8)
            CSVExport.append(Record(seq: SequenceNumber(9), event: e), to: &expected)
            var out = Array("prefix\r\n".utf8)
            try record.withUnsafeBytes { try csv.append($0, seq: SequenceNumber(9), to: &out) }
            let same = out == expected
            #expect(same, "event \(i)")
        }
        // The case this test is for: the nested values' row is more than the room.
        let events = Self.expansiveEvents()
        var nestedRow: [UInt8] = []
        CSVExport.append(Record(seq: SequenceNumber(9), event: events[1]), to: &nestedRow)
        #expect(nestedRow.count > RecordJSON.roomBound(events[1].recordBytes().count))
    }
}
