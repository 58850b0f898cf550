import Foundation
import Testing

@testable import AuditLog

/// Random damage to sealed segments and index files: `verify` names every damaged segment with
/// the seq where the damage starts, queries on undamaged segments give the same answers as
/// before, and a damaged index file is rebuilt from its segment rather than trusted. Short mode:
/// 12 rounds; `AUDITLOG_RELIABILITY=long`: 200.
@Suite struct CorruptionTests {
    static let rounds = ProcessInfo.processInfo.environment["AUDITLOG_RELIABILITY"] == "long" ? 200 : 12
    static let hour: Int64 = 3_600_000_000_000

    /// A log of 10 sealed hourly segments and an active one; its segment files, oldest first.
    static func makeLog(_ dir: String) async throws -> [String] {
        var options = testOptions()
        options.partition = .hour
        let log = try await AuditLog.open(directory: dir, options: options)
        let end = Timestamp(rfc3339: "2026-03-21T00:00:00Z")!
        var generator = EventGenerator(seed: 21, count: 4_400, days: 11.0 / 24, end: end)
        var batch: [AuditEvent] = []
        while let e = generator.next() {
            batch.append(e)
            if batch.count == 100 { _ = try await log.append(batch); batch.removeAll() }
        }
        if !batch.isEmpty { _ = try await log.append(batch) }
        try await log.close()
        return try segmentPaths(dir)
    }

    /// The first seq of the frame that holds byte `offset` of a sealed segment, read from the
    /// undamaged file. In the footer: its last seq (what the footer sums up) or the one after it
    /// (where a cut leaves the segment ending): both name the damage.
    static func seqs(at offset: Int, in path: String, dir: String) throws -> Set<SequenceNumber> {
        let name = URL(fileURLWithPath: path).lastPathComponent
        var last = try SegmentWalker(LogDirectory(path: dir), name).header.firstSeq
        for (at, h) in try frameHeaders(dir, name) {
            if Int64(offset) < at + Int64(h.frameLengthBytes) { return [h.firstSeq] }
            last = h.lastSeq
        }
        return [last, SequenceNumber(last.rawValue + 1)]
    }

    @Test func randomDamageIsReportedWhereItIsAndNothingElseChanges() async throws {
        try await withTemporaryDirectory { root in
            let pristine = root + "/pristine"
            let segments = try await Self.makeLog(pristine)
            #expect(segments.count == 11)
            let reference = try await AuditLog.open(directory: pristine, options: .readOnly)
            let all = try await readAll(reference)
            var rng = SplitMix64(seed: 31)
            var damagedSegments = 0
            var damagedIndexes = 0
            var indexesChecked = 0
            for round in 0..<Self.rounds {
                let dir = root + "/round-\(round)"
                try FileManager.default.copyItem(atPath: pristine, toPath: dir)
                defer { try? FileManager.default.removeItem(atPath: dir) }
                // One or two sealed segments damaged: a flipped byte past the header, or cut.
                var victims: [Int: Set<SequenceNumber>] = [:]
                for _ in 0..<(1 + rng.below(2)) {
                    let i = rng.below(segments.count - 1)
                    let path = segments[i].replacingOccurrences(of: pristine, with: dir)
                    let size = try fileSize(path)
                    let offset = 128 + rng.below(size - 128)
                    if rng.below(4) == 0 {
                        try truncateFile(path, to: offset)
                    } else {
                        try flipByte(path, at: offset)
                    }
                    let seqs = try Self.seqs(at: offset, in: segments[i], dir: pristine)
                    // Two hits on one segment: the earlier names it.
                    if let known = victims[i], let a = known.min(), let b = seqs.min() { victims[i] = a <= b ? known : seqs } else { victims[i] = seqs }
                }
                // And one index file of an undamaged segment.
                let undamaged = (0..<(segments.count - 1)).filter { victims[$0] == nil }
                let indexVictim = undamaged[rng.below(undamaged.count)]
                let indexPath = segments[indexVictim].replacingOccurrences(of: pristine, with: dir).replacingOccurrences(of: ".seg", with: ".idx")
                try flipByte(indexPath, at: rng.below(try fileSize(indexPath)))
                damagedSegments += victims.count
                damagedIndexes += 1

                let report = try await AuditLog.verify(directory: dir)
                let named = Set(report.issues.map(\.file))
                for (i, seqs) in victims {
                    let file = "segments/" + URL(fileURLWithPath: segments[i]).lastPathComponent
                    #expect(named.contains(file), "round \(round): \(file) not reported: \(report.issues)")
                    let first = report.issues.filter { $0.file == file }.compactMap(\.seq).min()
                    #expect(first.map { seqs.contains($0) } == true, "round \(round): \(file) damaged at seq \(seqs), reported \(String(describing: first))")
                }
                let expectedFiles = Set(victims.keys.map { "segments/" + URL(fileURLWithPath: segments[$0]).lastPathComponent })
                // Other segments may be named for what follows from the damage (a gap after a cut
                // segment), never for damage of their own.
                #expect(!report.issues.contains { $0.kind == .checksum && !expectedFiles.contains($0.file) }, "round \(round): \(report.issues)")

                // Queries over the undamaged segments' hours answer as before; the damaged index
                // is rebuilt and reported.
                let reader = try await AuditLog.open(directory: dir, options: .readOnly)
                for i in undamaged.prefix(4) {
                    let info = reader.segments[i]
                    guard let lo = info.minTimestamp, let hi = info.maxTimestamp else { continue }
                    let window = TimeWindow(since: lo, until: Timestamp(nanosSinceEpoch: hi.nanosSinceEpoch + 1))
                    // Late events can fall in a damaged neighbour's hours: compare only when none do.
                    let overlaps = victims.keys.contains { v in
                        let other = reader.segments[v]
                        return (other.minTimestamp ?? lo) <= hi && (other.maxTimestamp ?? hi) >= lo
                    }
                    guard !overlaps else { continue }
                    let filter = EventFilter(verdicts: [.block, .redact])
                    var got: [Record] = []
                    for try await r in reader.query(Query(window: window, filter: filter, order: .oldestFirst)) { got.append(r) }
                    #expect(got == all.filter { window.contains($0.event.timestamp.nanosSinceEpoch) && filter.matches($0.event) }, "round \(round)")
                }
                // Reading everything reaches the damage: an error naming a damaged segment, never
                // a silently shorter answer.
                do {
                    let everything = try await readAll(reader)
                    Issue.record("round \(round): read \(everything.count) records through damaged segments")
                } catch let error as AuditLogError {
                    #expect(expectedFiles.contains(error.location.file ?? ""), "round \(round): \(error)")
                }
                // The damaged index: a query by user over its segment's hours answers as before,
                // from an index rebuilt from the segment (and reported).
                let target = reader.segments[indexVictim]
                if let lo = target.minTimestamp, let hi = target.maxTimestamp,
                    !victims.keys.contains(where: { v in
                        (reader.segments[v].minTimestamp ?? lo) <= hi && (reader.segments[v].maxTimestamp ?? hi) >= lo
                    })
                {
                    let window = TimeWindow(since: lo, until: Timestamp(nanosSinceEpoch: hi.nanosSinceEpoch + 1))
                    let users: Set<String> = ["alice.0@acme.com", "bob.1@acme.com", "carol.2@acme.com"]
                    var got: [Record] = []
                    for try await r in reader.query(Query(window: window, filter: EventFilter(users: users), order: .oldestFirst)) { got.append(r) }
                    #expect(got == all.filter { window.contains($0.event.timestamp.nanosSinceEpoch) && users.contains($0.event.user ?? "") }, "round \(round)")
                    // The query read only the sections it needs; reading every part reaches the
                    // damage wherever it is (every byte of an index is under a checksum).
                    _ = try reader.indexes.view(target, parts: IndexStore.Part.all)
                    #expect(reader.indexRebuilds.map(\.file) == ["segments/" + URL(fileURLWithPath: indexPath).lastPathComponent], "round \(round): \(reader.indexRebuilds)")
                    indexesChecked += 1
                }
            }
            print(
                "CorruptionTests: \(Self.rounds) rounds, \(damagedSegments) damaged segments and \(damagedIndexes) damaged index files, all reported; \(indexesChecked) damaged indexes checked to be rebuilt"
            )
        }
    }
}
