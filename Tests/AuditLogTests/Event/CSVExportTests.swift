import Foundation
import Testing

@testable import AuditLog

@Suite struct CSVExportTests {
    /// The definition: every column as `fieldText` gives it (extra as one JSON object, seq last).
    static func reference(_ r: Record) -> [UInt8] {
        var bytes: [UInt8] = []
        for (i, column) in CSVExport.columns.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            let value: String?
            switch column {
            case "seq": value = String(r.seq.rawValue)
            case "extra": value = r.event.extra.isEmpty ? nil : JSONValue.object(r.event.extra).jsonText
            default: value = r.event.fieldText(column)
            }
            if let value { CSVExport.appendField(value, to: &bytes) }
        }
        return bytes + [0x0D, 0x0A]
    }

    @Test func rowsEqualTheFieldTextOfEveryColumn() throws {
        var events = [fullEvent(), AuditEvent(eventType: "model.enabled", timestamp: Timestamp(nanosSinceEpoch: 0))]
        var quoted = fullEvent(id: "evt_q")
        quoted.user = "a,\"b\"\nc"
        quoted.extra = [JSONMember("note", .string("x,y"))]
        events.append(quoted)
        var generator = EventGenerator(seed: 9, count: 500, days: 2, end: Timestamp(nanosSinceEpoch: 1_774_000_000_000_000_000))
        while let e = generator.next() { events.append(e) }
        for (i, event) in events.enumerated() {
            let record = Record(seq: SequenceNumber(UInt64(i + 1)), event: event)
            var row: [UInt8] = []
            CSVExport.append(record, to: &row)
            #expect(row == Self.reference(record), "event \(i): \(String(decoding: row, as: UTF8.self))")
        }
        var row: [UInt8] = []
        CSVExport.append(Record(seq: SequenceNumber(3), event: quoted), to: &row)
        #expect(String(decoding: row, as: UTF8.self).contains("\"a,\"\"b\"\"\nc\""))
    }
}
