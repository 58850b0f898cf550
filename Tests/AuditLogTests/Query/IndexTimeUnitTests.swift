import Foundation
import Testing

@testable import AuditLog

/// Index format 3 stores event times in units of 10^k ns, k the largest that divides them all:
/// windows and hourly series over sealed segments of times at every precision answer as a scan
/// of the records does, and a unit exponent above 9 is damage (the index is rebuilt).
@Suite struct IndexTimeUnitTests {
    /// 300 events 1 s + `jitter` ns apart, in groups of 30 sealed into several segments.
    func writeLog(_ dir: String, jitter: Int64) async throws -> AuditLog {
        var options = testOptions()
        options.segmentSizeLimitBytes = 4 << 10
        let log = try await AuditLog.open(directory: dir, options: options)
        let start = Timestamp(rfc3339: "2026-03-20T00:00:00Z")!.nanosSinceEpoch
        var batch = events(300)
        for i in batch.indices { batch[i].timestamp = Timestamp(nanosSinceEpoch: start + Int64(i) * (1_000_000_000 + jitter)) }
        for chunk in stride(from: 0, to: batch.count, by: 30) { _ = try await log.append(Array(batch[chunk..<(chunk + 30)])) }
        try await log.close()
        return log
    }

    @Test(arguments: [Int64(0), 1, 1_000, 1_000_000, 20_000_000])
    func timesAtEveryPrecisionAnswerAsAScan(jitter: Int64) async throws {
        try await withTemporaryDirectory { dir in
            let log = try await writeLog(dir, jitter: jitter)
            let sealed = log.segments.filter(\.isSealed)
            #expect(sealed.count >= 2)
            let expectedK = jitter == 0 ? 9 : jitter == 1 ? 0 : jitter == 1_000 ? 3 : jitter == 1_000_000 ? 6 : 7
            for segment in sealed {
                let data = try IndexStore.build(log.files, segment: segment, from: nil)
                // Whole seconds from 00:00 divide by 10^9 only if every time does.
                #expect(DeltaCoding.timeUnitExponent(data.columns.timestamps) == expectedK || segment.firstSeq.rawValue > 1, "\(jitter)")
            }
            let reader = try await AuditLog.open(directory: dir, options: .readOnly)
            let all = try await readAll(reader)
            let start = all[0].event.timestamp.nanosSinceEpoch
            for (from, to) in [(17, 90), (100, 101), (0, 300), (250, 299)] {
                let since = Timestamp(nanosSinceEpoch: start + Int64(from) * 1_000_000_000 + 3)
                let until = Timestamp(nanosSinceEpoch: start + Int64(to) * 1_000_000_000)
                var got: [UInt64] = []
                for try await r in reader.query(Query(window: TimeWindow(since: since, until: until), filter: EventFilter(verdicts: [.block]))) { got.append(r.seq.rawValue) }
                let expected = all.filter { $0.event.verdict == .block && $0.event.timestamp >= since && $0.event.timestamp < until }.map(\.seq.rawValue)
                #expect(got.sorted() == expected.sorted(), "\(jitter) \(from)–\(to)")
            }
            let hourly = try await reader.usage(groupBy: [.hour])
            #expect(hourly.totals.requests == 300)
            #expect(reader.indexRebuilds.isEmpty, "\(reader.indexRebuilds)")
            try await reader.close()
        }
    }

    @Test func aUnitAboveNineIsDamage() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await writeLog(dir, jitter: 1_000_000)
            let segment = try #require(log.segments.first { $0.isSealed })
            let data = try IndexStore.build(log.files, segment: segment, from: nil)
            var bytes = IndexFile.encode(data, segment: segment)
            // The timestamps section (kind 3), stored raw so that its unit byte can be set.
            var raw = ByteWriter()
            raw.writeVarint(UInt64(data.columns.count))
            raw.write(UInt8(10))
            for _ in 0..<data.columns.count { raw.writeVarint(0) }
            bytes = Self.replacingSection(3, in: bytes, with: raw.bytes)
            let path = log.files.segmentPath(LogDirectory.name(of: .index, forSegment: segment.fileName))
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let reader = try await AuditLog.open(directory: dir, options: .readOnly)
            var n = 0
            let window = TimeWindow(since: Timestamp(nanosSinceEpoch: data.columns.timestamps[5]))
            for try await _ in reader.query(Query(window: window)) { n += 1 }
            #expect(n == 295)
            #expect(reader.indexRebuilds.count == 1, "\(reader.indexRebuilds)")
            try await reader.close()
        }
    }

    /// An index file with section `kind` replaced by `raw` (codec 0), offsets and checksums
    /// recomputed.
    static func replacingSection(_ kind: UInt32, in file: [UInt8], with raw: [UInt8]) -> [UInt8] {
        let count = Int(file.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 12, as: UInt32.self) })
        var sections: [(kind: UInt32, codec: UInt32, payload: [UInt8], rawLength: UInt32)] = []
        for i in 0..<count {
            let e = 128 + 32 * i
            let (k, codec, offset, stored, rawLength) = file.withUnsafeBytes {
                (
                    $0.loadUnaligned(fromByteOffset: e, as: UInt32.self), $0.loadUnaligned(fromByteOffset: e + 4, as: UInt32.self),
                    Int($0.loadUnaligned(fromByteOffset: e + 8, as: UInt64.self)), Int($0.loadUnaligned(fromByteOffset: e + 16, as: UInt32.self)),
                    $0.loadUnaligned(fromByteOffset: e + 20, as: UInt32.self)
                )
            }
            sections.append(k == kind ? (k, 0, raw, UInt32(raw.count)) : (k, codec, Array(file[offset..<(offset + stored)]), rawLength))
        }
        var directory = ByteWriter()
        var body: [UInt8] = []
        var offset = UInt64(128 + 32 * count + 8)
        for s in sections {
            directory.write(s.kind)
            directory.write(s.codec)
            directory.write(offset)
            directory.write(UInt32(s.payload.count))
            directory.write(s.rawLength)
            directory.write(Checksum.xxh3(s.payload))
            body += s.payload
            offset += UInt64(s.payload.count)
        }
        directory.write(Checksum.xxh3(directory.bytes))
        return Array(file[0..<128]) + directory.bytes + body
    }
}
