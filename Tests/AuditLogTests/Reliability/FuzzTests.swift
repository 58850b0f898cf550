import Foundation
import Testing

@_spi(Testing) @testable import AuditLog

/// Hostile input, seeded (the libFuzzer targets in Tests/AuditLogFuzz run the same entry points
/// open-ended): mutated event JSON, binary records and whole segments never crash, hang or
/// allocate without bound; every rejection is a typed error. Short mode: 30,000 inputs;
/// `AUDITLOG_RELIABILITY=long`: 1,000,000.
@Suite struct FuzzTests {
    static let inputs = ProcessInfo.processInfo.environment["AUDITLOG_RELIABILITY"] == "long" ? 1_000_000 : 30_000

    /// Valid events as JSON: one of every field, and generated ones.
    static let corpus: [[UInt8]] = {
        var out = [Array(fullEvent().jsonText().utf8)]
        var generator = EventGenerator(seed: 3, count: 40, days: 1, end: Timestamp(rfc3339: "2026-03-21T00:00:00Z")!)
        while let e = generator.next() { out.append(Array(e.jsonText().utf8)) }
        return out
    }()

    static let tokens: [String] = [
        "NaN", "Infinity", "-Infinity", "1e999", "-1e999", "99999999999999999999", "-9223372036854775809",
        "0.1e-400", "\"\\ud800\"", "\"\\u0000\"", "null", "true", "{}", "[]", "\"", "\\", ",", ":", "{", "[",
        String(repeating: "[", count: 500), String(repeating: "{\"a\":", count: 300),
        "\"verdict\":\"maybe\"", "\"timestamp\":\"99999-01-01T00:00:00Z\"", "\"timestamp\":\"2026-02-30T00:00:00Z\"",
        "\"tokens_in\":-1", "\"cost\":-0.5", "\"id\":\"\"", "\"event_type\":\"decision\"",
    ]

    /// What `decode` makes of `bytes`: its value, or the typed error it threw.
    static func attempt<T>(_ bytes: [UInt8], _ decode: (UnsafeRawBufferPointer) throws(AuditLogError) -> T) -> Result<T, AuditLogError> {
        bytes.withUnsafeBytes { raw in
            do throws(AuditLogError) { return .success(try decode(raw)) } catch { return .failure(error) }
        }
    }

    static func mutate(_ input: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var bytes = input
        for _ in 0..<(1 + rng.below(4)) {
            let at = bytes.isEmpty ? 0 : rng.below(bytes.count)
            switch rng.below(7) {
            case 0: if !bytes.isEmpty { bytes[at] ^= UInt8(truncatingIfNeeded: 1 << rng.below(8)) }
            case 1: if !bytes.isEmpty { bytes[at] = [0xFF, 0xC0, 0x80, 0xED, 0x00, 0x22, 0x5C][rng.below(7)] }
            case 2: bytes.insert(contentsOf: Array(tokens[rng.below(tokens.count)].utf8), at: at)
            case 3: bytes = Array(bytes.prefix(at))
            case 4: if at < bytes.count { bytes.removeSubrange(at..<min(bytes.count, at + 1 + rng.below(16))) }
            case 5:
                // A member again (duplicate key) or a huge value.
                if let comma = bytes.firstIndex(of: UInt8(ascii: ",")) {
                    let member = rng.below(2) == 0 ? Array(",\"user\":\"mallory\"".utf8) : Array(",\"ip\":\"\(String(repeating: "x", count: 70_000))\"".utf8)
                    bytes.insert(contentsOf: member, at: comma)
                }
            default: bytes.insert(contentsOf: bytes[at...].prefix(8), at: at)
            }
        }
        return bytes
    }

    @Test func mutatedEventJSONIsParsedOrRejectedWithATypedError() throws {
        var rng = SplitMix64(seed: 77)
        var accepted = 0
        var slowest: Duration = .zero
        let start = ContinuousClock.now
        for i in 0..<Self.inputs {
            let input = Self.mutate(Self.corpus[i % Self.corpus.count], &rng)
            let t0 = ContinuousClock.now
            let result = Self.attempt(input, DecoderFuzzing.eventJSON)
            slowest = max(slowest, ContinuousClock.now - t0)
            switch result {
            case .success: accepted += 1
            case .failure(let error):
                #expect(!error.message.isEmpty)
                #expect([.invalidEvent, .limitExceeded].contains(error.code), "\(error)")
            }
        }
        print("FuzzTests: \(Self.inputs) mutated JSON events, \(accepted) accepted, slowest \(slowest), total \(ContinuousClock.now - start)")
        #expect(slowest < .seconds(1))
    }

    /// Writes a small log (300 events in hourly segments) to `dir`; returns the path of its
    /// first, sealed segment.
    static func makeSampleLog(_ dir: String) async throws -> String {
        var options = testOptions()
        options.partition = .hour
        let log = try await AuditLog.open(directory: dir, options: options)
        var generator = EventGenerator(seed: 4, count: 300, days: 0.05, end: Timestamp(rfc3339: "2026-03-21T00:00:00Z")!)
        var batch: [AuditEvent] = []
        while let e = generator.next() {
            batch.append(e)
            if batch.count == 37 { _ = try await log.append(batch); batch.removeAll() }
        }
        _ = try await log.append(batch)
        _ = try await log.append([AuditEvent(eventType: "decision", timestamp: Timestamp(rfc3339: "2026-03-22T00:00:00Z")!)])
        try await log.close()
        return try segmentPaths(dir)[0]
    }

    /// A small log's sealed segment, as bytes.
    static func sampleSegment() async throws -> [UInt8] {
        try await withTemporaryDirectory { dir in Array(try Data(contentsOf: URL(fileURLWithPath: try await makeSampleLog(dir)))) }
    }

    @Test func mutatedSegmentsAndRecordsAreDecodedOrRejectedWithATypedError() async throws {
        let segment = try await Self.sampleSegment()
        let intact = Self.attempt(segment, DecoderFuzzing.segment)
        #expect((try? intact.get()) ?? 0 > 0, "\(intact)")
        var rng = SplitMix64(seed: 78)
        var rejected = 0
        let n = Self.inputs / 10
        for _ in 0..<n {
            var bytes = segment
            switch rng.below(4) {
            case 0: for _ in 0..<(1 + rng.below(3)) { bytes[rng.below(bytes.count)] ^= UInt8(truncatingIfNeeded: 1 + rng.below(255)) }
            case 1: bytes = Array(bytes.prefix(rng.below(bytes.count)))
            case 2:
                // A frame's stored or raw length (bytes 8..<16 of its header) made huge.
                let at = 128 + 8 + rng.below(8)
                bytes[at] = 0xFF
            default:
                let at = rng.below(bytes.count - 8)
                bytes.replaceSubrange(at..<(at + 8), with: (0..<8).map { _ in UInt8(truncatingIfNeeded: rng.below(256)) })
            }
            let walked = Self.attempt(bytes, DecoderFuzzing.segment)
            if case .failure(let error) = walked {
                rejected += 1
                #expect(!error.message.isEmpty)
            }
            // The records of the first frame, one by one, mutated.
            let record = Array(bytes.dropFirst(128 + 88 + rng.below(64)).prefix(rng.below(600)))
            let decoded = Self.attempt(record, DecoderFuzzing.record)
            if case .failure(let error) = decoded { #expect(!error.message.isEmpty) }
        }
        print("FuzzTests: \(n) mutated segments (\(rejected) rejected) and \(n) record slices")
        #expect(rejected > n / 2)
    }

    /// A column frame's body as ``DecoderFuzzing/columnFrame(_:)`` takes it (the libFuzzer
    /// target's input 3): its record count, raw length and a fields mask, then the body.
    static func columnFrameInput(_ events: [AuditEvent], fields: UInt32) throws -> [UInt8] {
        let raw = FrameColumnsTests.payload(events.map { $0.recordBytes() })
        let stored = try #require(FrameColumnsTests.encode(raw, count: events.count))
        var body: [UInt8] = []
        try stored.withRawBytes { (s) throws(FormatError) in
            try Compression.decompress(UnsafeRawBufferPointer(rebasing: s[4...]), rawLength: Int(s.loadUnaligned(as: UInt32.self)), into: &body)
        }
        var input: [UInt8] = []
        input.appendLittleEndian(UInt32(events.count))
        input.appendLittleEndian(UInt32(raw.count))
        input.appendLittleEndian(fields)
        return input + body
    }

    /// Column frame bodies mutated past their checksum and LZ4 (as a hostile operator can
    /// rewrite a segment and its checksums): decoded whole, sparsely and by fields, or
    /// rejected with a typed error — never a trap, never a decode past the frame's raw length.
    @Test func mutatedColumnFramesAreDecodedOrRejectedWithATypedError() throws {
        let events = FrameColumnsTests.generated(60) + [fullEvent()]
        let input = try Self.columnFrameInput(events, fields: 0b1010_1010)
        let intact = Self.attempt(input, DecoderFuzzing.columnFrame)
        #expect((try? intact.get()) == events.count, "\(intact)")
        var rng = SplitMix64(seed: 80)
        var rejected = 0
        let n = Self.inputs / 10
        for _ in 0..<n {
            var bytes = input
            switch rng.below(3) {
            case 0: for _ in 0..<(1 + rng.below(3)) { bytes[12 + rng.below(bytes.count - 12)] ^= UInt8(truncatingIfNeeded: 1 + rng.below(255)) }
            case 1: bytes = Array(bytes.prefix(12 + rng.below(bytes.count - 12)))
            default:
                // The count or the raw length changed.
                let at = rng.below(8)
                bytes[at] = UInt8(truncatingIfNeeded: rng.below(256))
            }
            let decoded = Self.attempt(bytes, DecoderFuzzing.columnFrame)
            if case .failure(let error) = decoded {
                rejected += 1
                #expect(!error.message.isEmpty)
            }
        }
        print("FuzzTests: \(n) mutated column frames (\(rejected) rejected)")
        #expect(rejected > n / 2)
    }

    /// The same damage through the real file path: opening, reading and verifying a log whose
    /// sealed segment was mutated gives errors or a verification report, never a crash.
    @Test func mutatedSegmentFilesOnDiskGiveErrorsNotCrashes() async throws {
        var rng = SplitMix64(seed: 79)
        try await withTemporaryDirectory { dir in
            let path = try await Self.makeSampleLog(dir)
            let segment = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
            var reported = 0
            for _ in 0..<(Self.inputs / 300) {
                var bytes = segment
                if rng.below(3) == 0 {
                    bytes = Array(bytes.prefix(128 + rng.below(bytes.count - 128)))
                } else {
                    bytes[128 + rng.below(bytes.count - 128)] ^= UInt8(truncatingIfNeeded: 1 + rng.below(255))
                }
                try Data(bytes).write(to: URL(fileURLWithPath: path))
                try? FileManager.default.removeItem(atPath: path.replacingOccurrences(of: ".seg", with: ".idx"))
                do {
                    let reader = try await AuditLog.open(directory: dir, options: .readOnly)
                    _ = try await readAll(reader)
                } catch let error as AuditLogError {
                    #expect(error.location.file != nil, "\(error)")
                }
                let report = try await AuditLog.verify(directory: dir)
                if !report.isIntact { reported += 1 }
            }
            #expect(reported > 0)
        }
    }

    static let base = #"{"event_type":"decision","timestamp":"2026-03-20T10:00:00Z""#

    /// Each hostile input the issue lists, rejected with what and where.
    @Test(arguments: [
        (base + #","tokens_in":NaN}"#, nil as String?, "NaN and Infinity"),
        (base + #","cost":-Infinity}"#, nil, "NaN and Infinity"),
        (base + #","tokens_in":99999999999999999999}"#, "tokens_in", "out of range"),
        (base + #","latency_ms":-9223372036854775809}"#, "latency_ms", "out of range"),
        (base + #","user":"a","user":"b"}"#, "user", "duplicate key"),
        (#"{"event_type":"decision","timestamp":"99999-03-20T10:00:00Z"}"#, "timestamp", "between 1970 and 2262"),
        (#"{"event_type":"decision","timestamp":"1969-12-31T23:59:59Z"}"#, "timestamp", "between 1970 and 2262"),
        (base + #","details":"# + String(repeating: "[", count: 100) + String(repeating: "]", count: 100) + "}", nil, "nesting deeper than a field value may hold (62 arrays and objects)"),
    ])
    func hostileJSONIsRejectedNamingWhatAndWhere(input: String, field: String?, message: String) {
        let bytes = Array(input.utf8)
        let result = Self.attempt(bytes) { (raw) throws(AuditLogError) in try AuditEvent(jsonBytes: raw) }
        guard case .failure(let error) = result else {
            Issue.record("accepted: \(input.prefix(120))")
            return
        }
        #expect(error.location.field == field, "\(error)")
        #expect(error.message.contains(message), "\(error)")
        #expect(error.location.offset != nil, "\(error)")
    }

    @Test func invalidUTF8AndHugeFieldsAreRejected() {
        var invalid = Array((Self.base + #","user":"ab"}"#).utf8)
        invalid.insert(contentsOf: [0xFF, 0xFE], at: invalid.count - 3)
        let huge = Array((Self.base + #","user":""# + String(repeating: "x", count: 17 << 20) + #""}"#).utf8)
        // The huge one is refused whole, before it is parsed: 1 MiB of JSON an event at most.
        for (bytes, field) in [(invalid, "user" as String?), (huge, nil)] {
            let result = Self.attempt(bytes) { (raw) throws(AuditLogError) in try AuditEvent(jsonBytes: raw) }
            guard case .failure(let error) = result else {
                Issue.record("accepted a \(bytes.count)-byte event")
                continue
            }
            #expect(error.location.field == field, "\(error)")
        }
    }
}
