import Foundation
import Testing

@testable import AuditLog

/// The outside probe's fifth finding: reserved bytes, flags, the partition grid and the
/// partition length could be changed (with the XXH3 checksum recomputed) and `verify` did not
/// notice; overlong varints and an `evt_` ULID stored as a string were accepted. Each MUST of
/// docs/FORMAT.md is now checked; one test per rule.
@Suite struct FormatRulesTests {
    /// Rewrites bytes of a file and recomputes the XXH3-64 stored at `checksumAt` over
    /// `[0, checksumAt)` (a manifest, a segment header or a footer at `base`).
    static func patch(_ path: String, base: Int = 0, checksumAt: Int, _ edit: (inout [UInt8]) -> Void) throws {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var region = Array(bytes[base..<(base + checksumAt + 8)])
        edit(&region)
        let sum = Checksum.xxh3(Array(region[0..<checksumAt]))
        withUnsafeBytes(of: sum.littleEndian) { region.replaceSubrange(checksumAt..<(checksumAt + 8), with: $0) }
        bytes.replaceSubrange(base..<(base + checksumAt + 8), with: region)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// A sealed day and an active one.
    func makeLog(_ dir: String) async throws {
        let log = try await AuditLog.open(directory: dir, options: testOptions())
        _ = try await log.append(events(30))
        _ = try await log.append(events(30, from: Timestamp(rfc3339: "2026-03-21T00:00:00Z")!))
        try await log.close()
    }

    func expectRejected(_ dir: String, at offset: Int64, in file: String, _ comment: Comment) async throws {
        let report = try await AuditLog.verify(directory: dir)
        let issue = report.issues.first
        #expect(issue?.file == file, comment)
        #expect(issue?.offset == offset, comment)
        do throws(AuditLogError) {
            let log = try await AuditLog.open(directory: dir, options: testOptions())
            try await log.close()
            Issue.record("a writer opened: \(comment)")
        } catch {
            #expect(error.code == .corruption, comment)
        }
    }

    enum HeaderRule: String, CaseIterable {
        case flags, reservedByte, partitionOffGrid, partitionLengthOtherThanTheLogs, partitionLengthNeitherHourNorDay
    }

    @Test(arguments: HeaderRule.allCases)
    func aSegmentHeaderBreakingARuleIsCaughtDespiteItsChecksum(_ rule: HeaderRule) async throws {
        try await withTemporaryDirectory { dir in
            try await makeLog(dir)
            let segment = try segmentPaths(dir)[0]
            try Self.patch(segment, checksumAt: 120) { h in
                switch rule {
                case .flags: h[12] = 1
                case .reservedByte: h[100] = 7
                case .partitionOffGrid: h[40] &+= 1
                case .partitionLengthOtherThanTheLogs:  // an hour in a day-partitioned log
                    withUnsafeBytes(of: Int64(3_600_000_000_000).littleEndian) { h.replaceSubrange(48..<56, with: $0) }
                case .partitionLengthNeitherHourNorDay:
                    withUnsafeBytes(of: Int64(60_000_000_000).littleEndian) { h.replaceSubrange(48..<56, with: $0) }
                }
            }
            let offset: Int64 = rule == .partitionLengthOtherThanTheLogs ? 48 : [.flags: 12, .reservedByte: 96, .partitionOffGrid: 40, .partitionLengthNeitherHourNorDay: 48][rule] ?? 0
            try await expectRejected(dir, at: offset, in: "segments/00000000000000000001.seg", "\(rule)")
        }
    }

    @Test(arguments: ["flags", "reserved", "length", "partition"])
    func aManifestBreakingARuleIsRefused(_ rule: String) async throws {
        try await withTemporaryDirectory { dir in
            try await makeLog(dir)
            try Self.patch(dir + "/auditlog.meta", checksumAt: 56) { m in
                switch rule {
                case "flags": m[13] = 1
                case "reserved": m[50] = 1
                case "length": m[10] = 65
                default: withUnsafeBytes(of: Int64(7).littleEndian) { m.replaceSubrange(32..<40, with: $0) }
                }
            }
            await #expect(throws: AuditLogError.self, "\(rule)") { try await AuditLog.verify(directory: dir) }
            await #expect(throws: AuditLogError.self, "\(rule)") { try await AuditLog.open(directory: dir, options: .readOnly) }
        }
    }

    @Test func aFooterWithAReservedByteSetIsCaught() async throws {
        try await withTemporaryDirectory { dir in
            try await makeLog(dir)
            let segment = try segmentPaths(dir)[0]
            let size = try fileSize(segment)
            try Self.patch(segment, base: size - 128, checksumAt: 120) { f in f[110] = 1 }
            let report = try await AuditLog.verify(directory: dir)
            #expect(report.issues.contains { $0.file == "segments/00000000000000000001.seg" && $0.kind == .structure }, "\(report.issues)")
        }
    }

    @Test(arguments: [6, 7, 20, 23])
    func aFrameWithAReservedByteSetIsDamage(_ byte: Int) async throws {
        try await withTemporaryDirectory { dir in
            try await makeLog(dir)
            let segment = try segmentPaths(dir)[0]
            var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: segment)))
            let frame = SegmentHeader.byteCount
            bytes[frame + byte] = 1
            let stored = Int(UInt32(littleEndian: bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: frame + 8, as: UInt32.self) }))
            let sum = bytes.withUnsafeBytes { raw in
                FrameHeader.checksum(headerPrefix: UnsafeRawBufferPointer(rebasing: raw[frame..<(frame + 80)]), payload: UnsafeRawBufferPointer(rebasing: raw[(frame + 88)..<(frame + 88 + stored)]))
            }
            withUnsafeBytes(of: sum.littleEndian) { bytes.replaceSubrange((frame + 80)..<(frame + 88), with: $0) }
            try Data(bytes).write(to: URL(fileURLWithPath: segment))
            let report = try await AuditLog.verify(directory: dir)
            #expect(report.firstIssue?.offset == Int64(frame + (byte < 8 ? 6 : 20)), "\(report.issues)")
            #expect(report.firstIssue?.seq == SequenceNumber(1))
        }
    }

    /// FORMAT.md: a field value holds at most 62 nested arrays and objects — the same bound
    /// for details, top-level extras and policy or redaction extras, at input and in storage.
    @Test func theNestingLimitIsSixtyTwoForEveryFieldValue() async throws {
        func nested(_ k: Int) -> JSONValue { (0..<k).reduce(JSONValue.null) { v, _ in .array([v]) } }
        try await withTemporaryDirectory { dir in
            let log = try await AuditLog.open(directory: dir, options: testOptions())
            for k in [62, 63] {
                var details = AuditEvent(eventType: "x", timestamp: .now)
                details.details = nested(k)
                var extra = AuditEvent(eventType: "x", timestamp: .now)
                extra.extra = [JSONMember("labels", nested(k))]
                var policy = AuditEvent(eventType: "x", timestamp: .now)
                policy.policies = [PolicyDecision(name: "p", extra: [JSONMember("trace", nested(k))])]
                for (field, event) in [("details", details), ("labels", extra), ("policies[0].trace", policy)] {
                    let parsed = try AuditEvent(json: event.jsonText())  // the parser never refuses what storage holds
                    #expect(parsed == event)
                    let result: Result<Record, AuditLogError>
                    do throws(AuditLogError) { result = .success(try await log.append(event)) } catch { result = .failure(error) }
                    switch result {
                    case .success(let appended):
                        #expect(k == 62, "\(field) with \(k) levels was appended")
                        let stored = try await log.record(at: appended.seq)
                        #expect(stored?.event == appended.event)
                    case .failure(let error):
                        #expect(k == 63 && error.code == .limitExceeded && error.location.field == field, "\(field) \(k): \(error)")
                    }
                }
            }
            try await log.close()
            #expect(try await AuditLog.verify(directory: dir).isIntact)
        }
    }

    // MARK: Records (a one-segment log crafted byte by byte, chain and checksums recomputed)

    /// Writes a log whose only (active) segment holds `records` in one frame, all correctly
    /// chained and checksummed.
    static func craftLog(_ dir: String, records: [[UInt8]]) throws {
        let manifest = LogManifest(logID: .random(), partitionLengthNanos: 86_400_000_000_000, createdAtNanos: 0)
        try FileManager.default.createDirectory(atPath: dir + "/segments", withIntermediateDirectories: true)
        try Data(manifest.encoded()).write(to: URL(fileURLWithPath: dir + "/auditlog.meta"))
        let genesis = ChainHash.genesis(logID: manifest.logID)
        let header = SegmentHeader(logID: manifest.logID, firstSeq: SequenceNumber(1), partitionStartNanos: 0, partitionLengthNanos: manifest.partitionLengthNanos, createdAtNanos: 0, anchor: genesis)
        var builder = FrameBuilder()
        var chain = genesis
        for (i, record) in records.enumerated() {
            let seq = SequenceNumber(UInt64(i + 1))
            record.withUnsafeBytes { raw in
                chain = chain.chained(seq: seq, record: raw)
                builder.append(record: raw, seq: seq, timestampNanos: raw.loadUnaligned(as: Int64.self))
            }
        }
        var out = header.encoded()
        _ = builder.finish(chainAfter: chain, into: &out)
        try Data(out).write(to: URL(fileURLWithPath: dir + "/segments/00000000000000000001.seg"))
    }

    /// A record: timestamp 1, presence, id, event type, then `rest` (fields of `presence`).
    static func record(presence: UInt32 = 0, id: [UInt8]? = nil, rest: [UInt8] = []) -> [UInt8] {
        var w = ByteWriter()
        w.write(Int64(1_000_000_000))
        w.write(presence)
        if let id { w.write(bytes: id) } else { w.writeString("id-1") }
        w.writeString("decision")
        w.write(bytes: rest)
        return w.bytes
    }

    static func string(_ s: String) -> [UInt8] {
        var w = ByteWriter()
        w.writeString(s)
        return w.bytes
    }

    static let nonCanonical: [(String, [UInt8])] = [
        ("an overlong varint (tokens_in 5 as two bytes)", record(presence: EventField.tokensIn.mask, rest: [0x85, 0x00])),
        ("an overlong string length", record(id: [0x84, 0x00] + Array("id-1".utf8))),
        ("an evt_ ULID stored as a string", record(id: string("evt_01HZX3K4Y5M6N7P8Q9R0S1T2V3"))),
        ("an empty extra", record(presence: EventField.extra.mask, rest: [0])),
        ("an extra member named like a typed field", record(presence: EventField.extra.mask, rest: [1] + string("user") + [0])),
        ("a nested object with a repeated name", record(presence: EventField.details.mask, rest: [6, 2] + string("a") + [0] + string("a") + [0])),
        ("a policy with unknown presence bits", record(presence: EventField.policies.mask, rest: [1, 0x40])),
        ("a control character in the id", record(id: string("id\u{1}x"))),
    ]

    @Test(arguments: 0..<nonCanonical.count)
    func aRecordBreakingACanonicalFormRuleFailsVerify(_ index: Int) async throws {
        let (name, bad) = Self.nonCanonical[index]
        try await withTemporaryDirectory { dir in
            try Self.craftLog(dir, records: [Self.record(), bad, Self.record(id: Self.string("id-3"))])
            let report = try await AuditLog.verify(directory: dir)
            #expect(report.issues.count == 1, "\(name): \(report.issues)")
            #expect(report.firstIssue?.seq == SequenceNumber(2), "\(name)")
            #expect(report.firstIssue?.kind == .structure, "\(name)")
        }
    }

    @Test func aCraftedCanonicalLogVerifies() async throws {
        try await withTemporaryDirectory { dir in
            try Self.craftLog(dir, records: [Self.record(), Self.record(id: Self.string("id-2"))])
            let report = try await AuditLog.verify(directory: dir)
            #expect(report.isIntact && report.recordsChecked == 2, "\(report.issues)")
        }
    }
}
