import Testing

@testable import AuditLog

/// NDJSON cut into blocks of lines (``EventInputReader/nextLines(upTo:)``) and parsed
/// elsewhere (``LineBlock/parse(into:lines:)``) reads exactly as the line reader does.
@Suite struct LineBlockTests {
    /// A reader over `bytes` whose reads return at most `step` bytes, as a pipe may.
    func reader(_ bytes: [UInt8], step: Int) -> EventInputReader {
        var rest = bytes[...]
        return EventInputReader { (buffer) throws(AuditLogError) -> Int in
            let n = min(buffer.count, rest.count, step)
            rest.prefix(n).withUnsafeBytes { buffer.copyMemory(from: $0) }
            rest = rest.dropFirst(n)
            return n
        }
    }

    /// Every event and its line through blocks of at most `maxLines`, the error if one stopped
    /// the reading, and the blocks' bytes.
    func readBlocks(_ bytes: [UInt8], maxLines: Int, step: Int) -> (items: [String], error: AuditLogError?, blocks: [LineBlock]) {
        let r = reader(bytes, step: step)
        var items: [String] = []
        var blocks: [LineBlock] = []
        do throws(AuditLogError) {
            guard try r.form() == .lines else { return ([], nil, []) }
            while let block = try r.nextLines(upTo: maxLines) {
                blocks.append(block)
                var events: [AuditEvent] = []
                var lines: [Int] = []
                defer { items += zip(events, lines).map { "\($0.eventType)@\($1)" } }
                try block.parse(into: &events, lines: &lines)
            }
        } catch {
            return (items, error, blocks)
        }
        return (items, nil, blocks)
    }

    /// The same through ``EventInputReader/next()``.
    func readLines(_ bytes: [UInt8]) -> (items: [String], error: AuditLogError?) {
        let r = EventInputReader(bytes: bytes)
        var items: [String] = []
        do throws(AuditLogError) {
            while let (event, line) = try r.next() { items.append("\(event.eventType)@\(line)") }
        } catch {
            return (items, error)
        }
        return (items, nil)
    }

    func event(_ type: String) -> String { #"{"event_type":"\#(type)","timestamp":"2026-03-20T10:30:00Z"}"# }

    /// Random inputs of events, blank lines, CRLF ends, a bad or reserved event now and then and
    /// perhaps no final line feed, read in short random reads and blocks of 1 to 1,000 lines.
    @Test func blocksReadAsTheLineReaderDoes() {
        var rng = SplitMix64(seed: 16)
        for round in 0..<1000 {
            var text = ""
            for i in 0..<Int(rng.next() % 40) {
                switch rng.next() % 10 {
                case 0: text += ""
                case 1: text += " \t"
                case 2: text += "\r"
                case 3 where round % 3 == 0: text += #"{"event_type":"x","timestamp":"2026-03-20T10:30:00Z","verdict":"maybe"}"#
                case 4 where round % 5 == 0: text += event("retention.sweep")
                default: text += event("e\(i)")
                }
                text += rng.next() % 4 == 0 ? "\r\n" : "\n"
            }
            if rng.next() % 2 == 0 { text += event("last") }
            let bytes = Array(text.utf8)
            let expected = readLines(bytes)
            let maxLines = [1, 2, 3, 7, 1000][Int(rng.next() % 5)]
            let step = 1 + Int(rng.next() % 300)
            let got = readBlocks(bytes, maxLines: maxLines, step: step)
            let same = got.items == expected.items && got.error?.location.line == expected.error?.location.line && got.error?.code == expected.error?.code
            #expect(same, "round \(round), \(maxLines) lines a block, reads of \(step): \(got.items) / \(String(describing: got.error)) vs \(expected.items) / \(String(describing: expected.error))")
            // The blocks hold the input after its leading white space, cut at line feeds, and
            // each names its first line.
            let lead = bytes.prefix { [0x20, 0x09, 0x0A, 0x0D].contains($0) }
            if got.error == nil && expected.error == nil {
                #expect(got.blocks.flatMap(\.bytes) == Array(bytes.dropFirst(lead.count)), "round \(round)")
            }
            var line = 1 + lead.filter { $0 == 0x0A }.count
            for block in got.blocks {
                #expect(block.firstLine == line, "round \(round)")
                #expect(block.bytes.filter { $0 == 0x0A }.count <= maxLines)
                line += block.bytes.filter { $0 == 0x0A }.count
            }
        }
    }

    /// A line longer than an event may be stops the reading at its line, after the events
    /// before it: refused by the parse when its line feed was already read, or by
    /// ``EventInputReader/nextLines(upTo:)`` (after handing out the lines before it) when the
    /// line runs on past what an event may hold.
    @Test func aLineTooLongStopsTheReadingThere() {
        let head = event("a") + "\n" + event("b") + "\n"
        for length in [EventLimits.maxJSONBytes + 10, 2 * EventLimits.maxJSONBytes + 10] {
            let text = head + String(repeating: "x", count: length) + "\n" + event("c") + "\n"
            let got = readBlocks(Array(text.utf8), maxLines: 100, step: 1 << 16)
            #expect(got.items == ["a@1", "b@2"], "\(length)")
            #expect(got.error?.code == .limitExceeded && got.error?.location.line == 3, "\(length): \(String(describing: got.error))")
            if length > 2 * EventLimits.maxJSONBytes {
                let firstBlockIsTheHead = got.blocks.first?.bytes == Array(head.utf8)
                #expect(got.blocks.count == 1 && firstBlockIsTheHead)
            }
        }
    }

    /// Long lines end a block at the line that reaches ``LineBlock/maxBytes``, whatever its line
    /// count; the next block starts at the next line.
    @Test func aBlockEndsAfterTheLineReachingItsByteLimit() throws {
        let line = String(repeating: "y", count: 999) + "\n"
        let count = LineBlock.maxBytes / 1000 + 50
        let r = reader(Array(String(repeating: line, count: count).utf8), step: 1 << 20)
        #expect(try r.form() == .lines)
        let first = try #require(try r.nextLines(upTo: 100_000))
        #expect(first.bytes.count == (LineBlock.maxBytes / 1000 + 1) * 1000)
        let second = try #require(try r.nextLines(upTo: 100_000))
        #expect(second.firstLine == LineBlock.maxBytes / 1000 + 2)
        #expect(first.bytes.count + second.bytes.count == count * 1000)
        #expect(try r.nextLines(upTo: 100_000) == nil)
    }
}
