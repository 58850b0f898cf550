import Testing

@testable import AuditLog

@Suite struct EventInputReaderTests {
    func readAll(_ text: String) throws(AuditLogError) -> [(AuditEvent, Int)] {
        let reader = EventInputReader(bytes: Array(text.utf8))
        var out: [(AuditEvent, Int)] = []
        while let item = try reader.next() { out.append(item) }
        return out
    }

    let a = #"{"event_type":"a","timestamp":"2026-03-20T10:30:00Z"}"#
    let b = #"{"event_type":"b","timestamp":"2026-03-20T10:30:01Z"}"#

    @Test func readsNDJSONWithLineNumbersSkippingBlankLines() throws {
        let items = try readAll("\n\(a)\n\n\(b)\r\n")
        #expect(items.map(\.0.eventType) == ["a", "b"])
        #expect(items.map(\.1) == [2, 4])
    }

    @Test func readsAJSONArray() throws {
        let items = try readAll("[\n \(a),\n \(b)\n]\n")
        #expect(items.map(\.0.eventType) == ["a", "b"])
        #expect(items.map(\.1) == [2, 3])
    }

    @Test func namesTheLineOfABadEvent() {
        let bad = #"{"event_type":"c","timestamp":"2026-03-20T10:30:00Z","verdict":"maybe"}"#
        do {
            _ = try readAll("\(a)\n\(b)\n\(bad)\n\(a)\n")
            Issue.record("accepted")
        } catch {
            #expect(error.location.line == 3)
            #expect(error.location.field == "verdict")
        }
        do {
            _ = try readAll("[\(a),\n\(bad)]")
            Issue.record("accepted")
        } catch {
            #expect(error.location.line == 2)
        }
    }

    @Test func readsLinesAcrossChunkBoundaries() throws {
        // More than one 1 MiB chunk of input.
        let lines = (0..<30_000).map { #"{"event_type":"e\#($0)","timestamp":"2026-03-20T10:30:00Z"}"# }
        let items = try readAll(lines.joined(separator: "\n"))
        #expect(items.count == 30_000)
        #expect(items.last?.0.eventType == "e29999")
        #expect(items.last?.1 == 30_000)
    }

    /// Reading into a batch appends each event and returns its line; a bad event, a reserved
    /// type and the end of the input leave the batch as it was, in both forms of input.
    @Test func readsIntoABatchLeavingItAsItWasOnAnError() {
        let bad = #"{"event_type":"c","timestamp":"2026-03-20T10:30:00Z","verdict":"maybe"}"#
        let reserved = #"{"event_type":"retention.sweep","timestamp":"2026-03-20T10:30:00Z"}"#
        for (text, failingLine) in [("\(a)\n\(b)\n\(bad)\n", 3), ("\(a)\n\(b)\n\(reserved)\n", 3), ("[\(a),\n\(b),\n\(reserved)]", 3), ("\(a)\n\n\(b)\n", 0)] {
            let reader = EventInputReader(bytes: Array(text.utf8))
            var batch: [AuditEvent] = []
            var lines: [Int] = []
            do {
                while let line = try reader.next(into: &batch) { lines.append(line) }
                #expect(failingLine == 0, "\(text) read to the end")
                #expect(lines == [1, 3])
            } catch {
                #expect(error.location.line == failingLine)
                #expect(lines == [1, 2])
            }
            #expect(batch.map(\.eventType) == ["a", "b"], "\(text)")
        }
    }
}
