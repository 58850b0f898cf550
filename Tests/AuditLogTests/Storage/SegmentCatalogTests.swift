import Foundation
import Testing

@_spi(Testing) @testable import AuditLog

/// `segments/catalog`: the writer keeps it for its sealed segments; an open takes each sealed
/// segment but the newest from it when the file has the size the catalog says, and reads the
/// segment itself otherwise. A missing, damaged, foreign or stale catalog changes nothing but
/// the number of files opened.
@Suite struct SegmentCatalogTests {
    /// A log of many small sealed segments and an active one.
    func makeLog(_ dir: String, count: Int = 1_500) async throws {
        let log = try await AuditLog.open(directory: dir, options: testOptions(segmentBytes: 4096))
        let all = events(count, prefix: "evt_cat")
        for start in stride(from: 0, to: all.count, by: 25) {
            _ = try await log.append(Array(all[start..<min(start + 25, all.count)]))
        }
        try await log.close()
    }

    /// What an open finds, read from every segment file (no catalog).
    func segmentsFromFiles(_ dir: String) throws -> [SegmentInfo] {
        let copy = dir + "-nocatalog"
        try? FileManager.default.removeItem(atPath: copy)
        try FileManager.default.copyItem(atPath: dir, toPath: copy)
        defer { try? FileManager.default.removeItem(atPath: copy) }
        try? FileManager.default.removeItem(atPath: copy + "/segments/catalog")
        return try LogCatalog.load(LogDirectory(path: copy), repair: false).segments
    }

    func decode(_ bytes: [UInt8]) -> SegmentCatalogFile? {
        bytes.withUnsafeBytes { try? SegmentCatalogFile.decode($0) }
    }

    func catalogFile(_ dir: String) throws -> SegmentCatalogFile {
        try #require(decode([UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/segments/catalog")))))
    }

    @Test func anOpenReadsOnlyTheNewestSegmentFile() async throws {
        try await withTemporaryDirectory { dir in
            try await makeLog(dir)
            let names = try segmentPaths(dir).map { String($0.split(separator: "/").last ?? "") }
            #expect(names.count > 10)
            // The catalog lists every sealed segment: all but the active one.
            let file = try catalogFile(dir)
            #expect(file.entries.map { LogDirectory.segmentName(firstSeq: $0.firstSeq) } == Array(names.dropLast()))

            let counting = CountingFileSystem()
            let reader = try await AuditLog.open(directory: dir, options: .readOnly, fileSystem: counting)
            #expect(Set(counting.segmentsOpened) == [names.last ?? ""])
            #expect(reader.segments == (try segmentsFromFiles(dir)))
            // And it reads the same records.
            #expect(try await readAll(reader).count == 1_500)
        }
    }

    /// An open and its first query open files without asking first whether they are there (a
    /// system call each, on the path of every cold open): no file of `segments/` they open is
    /// looked at, nor the directory; the manifest once at most (whether there is a log to
    /// resolve an archive for), not again before it is read. A log without indexes asks about
    /// them only after the open fails, and still answers.
    @Test func anOpenAndAQueryOpenFilesWithoutLookingFirst() async throws {
        try await withTemporaryDirectory { dir in
            try await makeLog(dir)
            let counting = CountingFileSystem()
            let reader = try await AuditLog.open(directory: dir, options: .readOnly, fileSystem: counting)
            let page = try await reader.page(Query(filter: EventFilter(verdicts: [.block]), order: .newestFirst, limit: 5))
            #expect(!page.records.isEmpty)
            let segments = dir + "/segments"
            let opened = Set(counting.opens.filter { $0.hasPrefix(segments + "/") })
            #expect(opened.contains { $0.hasSuffix(".idx") }, "the query read a sealed segment's index")
            #expect(opened.contains { $0.hasSuffix(".aidx") }, "the open read the active segment's checkpoint")
            #expect(Set(counting.looks).intersection(opened).isEmpty)
            #expect(!counting.looks.contains(segments))
            #expect(counting.looks.filter { $0.hasSuffix("/" + LogManifest.fileName) }.count <= 1)

            // Without its index files the log answers the same, the missing ones asked about.
            for name in try FileManager.default.contentsOfDirectory(atPath: segments) where name.hasSuffix(".idx") || name.hasSuffix(".aidx") {
                try FileManager.default.removeItem(atPath: segments + "/" + name)
            }
            let bare = CountingFileSystem()
            let again = try await AuditLog.open(directory: dir, options: .readOnly, fileSystem: bare)
            let second = try await again.page(Query(filter: EventFilter(verdicts: [.block]), order: .newestFirst, limit: 5))
            #expect(second.records.map(\.seq) == page.records.map(\.seq))
            #expect(bare.looks.contains { $0.hasSuffix(".idx") })
        }
    }

    @Test func aDamagedForeignOrStaleCatalogIsReadAround() async throws {
        try await withTemporaryDirectory { dir in
            try await makeLog(dir)
            let expected = try segmentsFromFiles(dir)
            let path = dir + "/segments/catalog"
            let good = try Data(contentsOf: URL(fileURLWithPath: path))
            let names = try segmentPaths(dir).map { String($0.split(separator: "/").last ?? "") }

            func openedAndSegments() async throws -> (Int, [SegmentInfo]) {
                let counting = CountingFileSystem()
                let reader = try await AuditLog.open(directory: dir, options: .readOnly, fileSystem: counting)
                return (Set(counting.segmentsOpened).count, reader.segments)
            }

            // A flipped byte anywhere: the checksum fails, every segment is read.
            for offset in [3, 9, 20, 64 + 8, good.count / 2, good.count - 1] {
                try good.write(to: URL(fileURLWithPath: path))
                try flipByte(path, at: offset)
                let (opened, segments) = try await openedAndSegments()
                #expect(opened == names.count, "flipped byte at \(offset)")
                #expect(segments == expected)
            }
            // Cut short, or empty.
            for length in [0, 10, good.count - 8] {
                try good.prefix(length).write(to: URL(fileURLWithPath: path))
                let (opened, segments) = try await openedAndSegments()
                #expect(opened == names.count)
                #expect(segments == expected)
            }
            // Another log's catalog (valid in itself).
            var foreign = try #require(decode([UInt8](good)))
            foreign.logID = .random()
            try Data(foreign.encoded()).write(to: URL(fileURLWithPath: path))
            #expect(try await openedAndSegments() == (names.count, expected))

            // An entry whose size is not its file's (a segment cut or replaced since): that one
            // segment is read from its file, the others from the catalog.
            var stale = try #require(decode([UInt8](good)))
            stale.entries[3].fileSize += 128
            stale.entries[3].chainAfter = ChainHash.zero
            try Data(stale.encoded()).write(to: URL(fileURLWithPath: path))
            let (opened, segments) = try await openedAndSegments()
            #expect(opened == 2)
            #expect(segments == expected)
        }
    }

    @Test func theWriterKeepsItAcrossSealsSweepsAndALostFile() async throws {
        try await withTemporaryDirectory { dir in
            try await makeLog(dir)
            try FileManager.default.removeItem(atPath: dir + "/segments/catalog")
            // A writer's open writes it anew when it had to read sealed segments.
            var log = try await AuditLog.open(directory: dir, options: testOptions(segmentBytes: 4096))
            #expect(try catalogFile(dir).entries.count == log.segments.filter(\.isSealed).count)
            // Every seal adds its segment.
            _ = try await log.append(events(300, from: Timestamp(rfc3339: "2026-03-20T05:00:00Z")!, prefix: "evt_more"))
            #expect(try catalogFile(dir).entries.map(\.firstSeq) == log.segments.filter(\.isSealed).map(\.firstSeq))
            // A sweep's deleted segments leave it.
            let gone = Array(log.segments.prefix(5))
            try await log.removeSegments(gone)
            #expect(try catalogFile(dir).entries.map(\.firstSeq) == log.segments.filter(\.isSealed).map(\.firstSeq))
            try await log.close()
            log = try await AuditLog.open(directory: dir, options: .readOnly)
            #expect(log.segments == (try segmentsFromFiles(dir)))
        }
    }

    /// A seal rewrites the catalog in place: no temporary file, no rename in `segments/`.
    @Test func aSealRewritesItInPlace() async throws {
        try await withTemporaryDirectory { dir in
            try await makeLog(dir)
            let files = FaultInjectingFileSystem()
            files.inject(.init(operation: .rename, matching: "catalog", times: nil, fault: .skip))
            files.inject(.init(operation: .remove, matching: "catalog", times: nil, fault: .skip))
            let log = try await AuditLog.open(directory: dir, options: testOptions(segmentBytes: 4096), fileSystem: files)
            let before = try catalogFile(dir).entries.count
            _ = try await log.append(events(300, from: Timestamp(rfc3339: "2026-03-20T05:00:00Z")!, prefix: "evt_more"))
            #expect(try catalogFile(dir).entries.count > before)
            #expect(try catalogFile(dir).entries.map(\.firstSeq) == log.segments.filter(\.isSealed).map(\.firstSeq))
            #expect(files.injectedCount == 0, "the catalog went through a rename or a removal")
            // No temporary of the catalog now; none of anything once closed (until then the
            // seal's index build, on a thread of its own, may be writing an index file through one).
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/segments").filter { $0.hasPrefix("catalog") } == ["catalog"])
            try await log.close()
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/segments").allSatisfy { !$0.contains(".tmp") })
        }
    }

    /// A catalog that is a symbolic link is not written through: the file it names stays as it
    /// was, and the writer puts a catalog of its own in the link's place.
    @Test func aCatalogThatIsALinkIsNotWrittenThrough() async throws {
        try await withTemporaryDirectory { dir in
            try await makeLog(dir)
            let outside = dir + "/outside.txt"
            try Data("not a catalog\n".utf8).write(to: URL(fileURLWithPath: outside))
            try FileManager.default.removeItem(atPath: dir + "/segments/catalog")
            try FileManager.default.createSymbolicLink(atPath: dir + "/segments/catalog", withDestinationPath: outside)
            let log = try await AuditLog.open(directory: dir, options: testOptions(segmentBytes: 4096))
            _ = try await log.append(events(300, from: Timestamp(rfc3339: "2026-03-20T05:00:00Z")!, prefix: "evt_more"))
            try await log.close()
            #expect(try String(contentsOfFile: outside, encoding: .utf8) == "not a catalog\n")
            #expect(try catalogFile(dir).entries.map(\.firstSeq) == log.segments.filter(\.isSealed).map(\.firstSeq))
        }
    }

    /// The layout docs/FORMAT.md gives ("Segment catalog").
    @Test func layoutAsSpecified() throws {
        let logID = try #require(LogID(bytes: Array(1...16)))
        let entry = SegmentCatalogFile.Entry(
            firstSeq: SequenceNumber(15), recordCount: 13, frameCount: 2, minTimestampNanos: -5, maxTimestampNanos: 7, partitionStartNanos: 86_400_000_000_000,
            fileSize: 4242, rawPayloadBytes: 999, anchor: try #require(ChainHash(hex: String(repeating: "ab", count: 32))),
            chainAfter: try #require(ChainHash(hex: String(repeating: "cd", count: 32))))
        let file = SegmentCatalogFile(logID: logID, partitionLengthNanos: 86_400_000_000_000, entries: [entry])
        let bytes = file.encoded()
        #expect(bytes.count == 64 + 128 + 8)
        func u64(_ at: Int) -> UInt64 { bytes[at..<(at + 8)].reversed().reduce(0) { $0 << 8 | UInt64($1) } }
        #expect(Array(bytes[0..<8]) == Array("AUDITCAT".utf8))
        #expect(bytes[8] == 1 && bytes[9] == 0)  // version
        #expect(bytes[10] == 128 && bytes[11] == 0)  // entry length
        #expect(bytes[12] == 1 && bytes[13] == 0 && bytes[14] == 0 && bytes[15] == 0)  // entry count
        #expect(Array(bytes[16..<32]) == Array(1...16))
        #expect(u64(32) == 86_400_000_000_000)
        #expect(bytes[40..<64].allSatisfy { $0 == 0 })
        #expect([u64(64), u64(72), u64(80), u64(88), u64(96), u64(104), u64(112), u64(120)] == [15, 13, 2, UInt64(bitPattern: -5), 7, 86_400_000_000_000, 4242, 999])
        #expect(bytes[128..<160].allSatisfy { $0 == 0xab })
        #expect(bytes[160..<192].allSatisfy { $0 == 0xcd })
        #expect(u64(192) == Checksum.xxh3(Array(bytes[0..<192])))
        #expect(decode(bytes) == file)
        // Entries out of order, or sizes too small for a sealed segment, do not decode.
        var overlapping = file
        overlapping.entries.append(entry)
        #expect(decode(overlapping.encoded()) == nil)
        var small = file
        small.entries[0].fileSize = 100
        #expect(decode(small.encoded()) == nil)
    }

    /// Hostile bytes with a valid checksum: any field changed to anything decodes to a catalog
    /// whose entries keep the rules, or to nothing; never a trap.
    @Test func mutatedCatalogsWithValidChecksumsNeverTrap() throws {
        var generator = SystemRandomNumberGenerator()
        var entries: [SegmentCatalogFile.Entry] = []
        var seq: UInt64 = 1
        for i in 0..<8 {
            entries.append(
                SegmentCatalogFile.Entry(
                    firstSeq: SequenceNumber(seq), recordCount: UInt64(10 + i), frameCount: 2, minTimestampNanos: Int64(i), maxTimestampNanos: Int64(i + 5),
                    partitionStartNanos: 0, fileSize: 4096, rawPayloadBytes: 1000, anchor: .zero, chainAfter: .zero))
            seq += UInt64(10 + i)
        }
        let good = SegmentCatalogFile(logID: .random(), partitionLengthNanos: 86_400_000_000_000, entries: entries).encoded()
        for _ in 0..<3_000 {
            var bytes = good
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                bytes[Int.random(in: 8..<(bytes.count - 8), using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            let sum = Checksum.xxh3(Array(bytes[0..<(bytes.count - 8)]))
            withUnsafeBytes(of: sum.littleEndian) { bytes.replaceSubrange((bytes.count - 8)..<bytes.count, with: $0) }
            guard let decoded = decode(bytes) else { continue }
            var next: UInt64 = 1
            for e in decoded.entries {
                #expect(e.firstSeq.rawValue >= next && e.frameCount <= e.recordCount && e.minTimestampNanos <= e.maxTimestampNanos && e.fileSize >= 256)
                next = max(e.firstSeq.rawValue + e.recordCount, e.firstSeq.rawValue + 1)
            }
        }
    }
}
