import Foundation
import Testing

@testable import AuditLog

/// `fixtures/golden-v2/` pins segment version 2 and column frames (codec 2): the events of
/// `fixtures/golden-v1.ndjson` written once by `auditlog ingest --frame-encoding columns` (see
/// fixtures/README.md). Its frames rebuild to exactly the payloads of `golden-v1`'s row frames
/// (but for the one id the log assigned), so the same records, chain rules and readers apply.
@Suite struct GoldenColumnsFixtureTests {
    static let root = GoldenFixtureTests.root

    /// The chain value after the last record, as written when the fixture was made.
    static let chainHead = "dba46665ebbc947aabd38f575ada7c23e3c0934b0028c375179dc7c6603f4c0e"

    func withFixture<T>(_ name: String, _ body: (String) async throws -> T) async throws -> T {
        try await withTemporaryDirectory { dir in
            let copy = dir + "/" + name
            try FileManager.default.copyItem(atPath: Self.root.appendingPathComponent(name).path, toPath: copy)
            return try await body(copy)
        }
    }

    @Test func theColumnsLogVerifies() async throws {
        try await withFixture("golden-v2") { dir in
            let report = try await AuditLog.verify(directory: dir, options: VerificationOptions(deep: true))
            #expect(report.isIntact, "\(report.issues)")
            #expect(report.recordsChecked == 43)
            #expect(report.segmentsChecked == 3)
            #expect(report.chainHead?.hex == Self.chainHead)
        }
    }

    @Test func itsSegmentsAreVersionTwoAndItsFramesColumns() throws {
        let dir = Self.root.appendingPathComponent("golden-v2").path
        for name in try LogDirectory(path: dir).segmentNames() {
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/segments/" + name)))
            #expect(bytes[8] == 2 && bytes[9] == 0, "\(name)")
            let frames = try frameHeaders(dir, name)
            #expect(!frames.isEmpty && frames.allSatisfy { $0.header.codec == .columns }, "\(name)")
        }
    }

    /// Every frame rebuilds to the payload the row fixture stores for the same events: byte for
    /// byte in the first two segments; in the last, but for the id the log assigned.
    @Test func itsFramesRebuildTheRowFixturesPayloads() async throws {
        let v1 = Self.root.appendingPathComponent("golden-v1").path
        let v2 = Self.root.appendingPathComponent("golden-v2").path
        func payloads(_ dir: String) throws -> [[UInt8]] {
            var out: [[UInt8]] = []
            for name in try LogDirectory(path: dir).segmentNames() {
                let walker = try SegmentWalker(LogDirectory(path: dir), name)
                while case .frame = try walker.next(.decompress) { out.append(walker.withPayload { Array($0) }) }
            }
            return out
        }
        let rows = try payloads(v1)
        let columns = try payloads(v2)
        #expect(rows.count == 3 && columns.count == 3)
        #expect(Array(columns.prefix(2)) == Array(rows.prefix(2)))
        let columnsLog = try await AuditLog.open(directory: v2, options: .readOnly)
        let rowsLog = try await AuditLog.open(directory: v1, options: .readOnly)
        let columnRecords = try await readAll(columnsLog)
        let rowRecords = try await readAll(rowsLog)
        #expect(columnRecords.count == 43)
        for (c, r) in zip(columnRecords, rowRecords) {
            var expected = r.event
            if c.seq == SequenceNumber(43) { expected.id = c.event.id }
            #expect(c.event == expected, "seq \(c.seq)")
        }
    }

    /// This build's encoder writes the same column body (before LZ4, whose output may differ
    /// between library versions) for each frame's payload as the one that made the fixture.
    @Test func theEncoderWritesTheFixturesBodies() throws {
        let dir = Self.root.appendingPathComponent("golden-v2").path
        var encoder = FrameColumnEncoder()
        var frames = 0
        for name in try LogDirectory(path: dir).segmentNames() {
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/segments/" + name)))
            let walker = try SegmentWalker(LogDirectory(path: dir), name)
            while case .frame(let header, let offset) = try walker.next(.decompress) {
                let start = Int(offset) + FrameHeader.byteCount
                let stored = Array(bytes[start..<(start + Int(header.storedLengthBytes))])
                var encoded: [UInt8] = []
                let count = walker.withPayload { encoder.encode($0, recordCount: Int(header.recordCount), into: &encoded) }
                #expect(count == encoded.count)
                #expect(try Self.body(encoded) == Self.body(stored), "\(name) at \(offset)")
                frames += 1
            }
        }
        #expect(frames == 3)
    }

    /// A codec-2 payload's body, decompressed.
    static func body(_ stored: [UInt8]) throws -> [UInt8] {
        let bodyLength = Int(stored[0]) | Int(stored[1]) << 8 | Int(stored[2]) << 16 | Int(stored[3]) << 24
        var body: [UInt8] = []
        try decompress(Array(stored[4...]), bodyLength, into: &body)
        return Array(body.prefix(bodyLength))
    }

    /// The string columns of the fixture's frames use all three modes (plain, dictionary, hex
    /// suffix), so the fixture pins each.
    @Test func itsStringColumnsUseEveryMode() throws {
        let dir = Self.root.appendingPathComponent("golden-v2").path
        var modes: Set<UInt8> = []
        for name in try LogDirectory(path: dir).segmentNames() {
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/segments/" + name)))
            for (offset, header) in try frameHeaders(dir, name) {
                let start = Int(offset) + FrameHeader.byteCount
                let stored = Array(bytes[start..<(start + Int(header.storedLengthBytes))])
                modes.formUnion(try Self.stringColumnModes(stored))
            }
        }
        #expect(modes == [0, 1, 2])
    }

    /// The mode byte of each string section that holds values (sections 4, 5 and those of the
    /// string fields), read from a codec-2 payload by the section table alone.
    static func stringColumnModes(_ stored: [UInt8]) throws -> Set<UInt8> {
        let body = try body(stored)
        var offset = 0
        func varint() -> Int {
            var value = 0
            var shift = 0
            while true {
                let byte = body[offset]
                offset += 1
                value |= Int(byte & 0x7F) << shift
                shift += 7
                if byte < 0x80 { return value }
            }
        }
        let lengths = (0..<FrameColumns.Section.count).map { _ in varint() }
        let strings =
            [FrameColumns.Section.textIDs, FrameColumns.Section.eventTypes]
            + (0..<21).filter { FrameColumns.fieldKinds[$0] == .string }.map(FrameColumns.Section.field)
        var modes: Set<UInt8> = []
        for (section, length) in lengths.enumerated() {
            if strings.contains(section), length > 0 { modes.insert(body[offset]) }
            offset += length
        }
        return modes
    }

    static func decompress(_ block: [UInt8], _ length: Int, into body: inout [UInt8]) throws(FormatError) {
        try block.withRawBytes { (raw) throws(FormatError) in try Compression.decompress(raw, rawLength: length, into: &body) }
    }
}
