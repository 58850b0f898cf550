#if canImport(Glibc)
    import Glibc
#endif

/// Whole lines of NDJSON input, cut by ``EventInputReader/nextLines(upTo:)`` to be parsed on
/// another thread: the reader only finds line feeds and copies, so blocks can be parsed on
/// several cores while their order, and the line numbers errors name, stay the input's.
package struct LineBlock: Sendable {
    /// A block ends after the line that reaches this many bytes (unless its line count is
    /// reached first), so that long lines do not make a block of thousands of them huge.
    package static let maxBytes = 16 << 20

    /// The lines, each ended by a line feed but perhaps the last (the end of the input).
    package let bytes: [UInt8]
    /// The 1-based number of the block's first line in the input.
    package let firstLine: Int
    let droppingSeq: Bool

    /// Parses the lines in order, as ``EventInputReader/next(into:)`` does: blank lines are
    /// skipped, each event is appended to `events` and its line number to `lines`. At an error
    /// (it names its line), `events` and `lines` hold the events of the lines before it.
    package func parse(into events: inout [AuditEvent], lines: inout [Int]) throws(AuditLogError) {
        try bytes.withRawBytes { (raw) throws(AuditLogError) in
            guard let base = raw.baseAddress else { return }
            var start = 0
            var number = firstLine
            while start < raw.count {
                let end = memchr(base + start, 0x0A, raw.count - start).map { base.distance(to: UnsafeRawPointer($0)) } ?? raw.count
                let line = UnsafeRawBufferPointer(rebasing: raw[start..<end])
                if try EventInputReader.parseLine(line, number: number, droppingSeq: droppingSeq, into: &events) {
                    lines.append(number)
                }
                start = end + 1
                number += 1
            }
        }
    }
}
