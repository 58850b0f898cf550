import Foundation
import Testing

@testable import AuditLog

/// Index format 4 stores each per-record column in independently compressed blocks
/// (docs/FORMAT.md, "Column blocks"): a page of a sealed segment decompresses the blocks it
/// reaches, and every answer is still the one a full scan gives — across block edges, in both
/// orders, in pages, with damaged blocks, and from index files of version 3.
@Suite struct ColumnBlockTests {
    /// A closed log of sealed segments of ~1,000 records each, every index rewritten with
    /// `blockRecords`-record blocks (odd, so that blocks, runs and frames cut everywhere).
    func writeLog(_ dir: String, blockRecords: Int = 7, version: UInt16 = IndexFile.formatVersion, segmentBytes: Int64 = 48 << 10) async throws -> AuditLog {
        let log = try await writeGeneratedLog(dir, seed: 41, count: 3_000, days: 2, segmentBytes: segmentBytes)
        let sealed = log.segments.filter(\.isSealed)
        #expect(sealed.filter { $0.recordCount > 200 }.count >= (segmentBytes < 100 << 10 ? 2 : 1))
        for segment in sealed {
            let data = try IndexStore.build(log.files, segment: segment, from: nil)
            let path = log.files.segmentPath(LogDirectory.name(of: .index, forSegment: segment.fileName))
            let bytes = IndexFile.encode(data, binding: IndexFile.Binding(sealed: segment), version: version, blockRecords: blockRecords)
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        }
        return log
    }

    @Test func pagesOverSmallBlocksEqualAFullScan() async throws {
        try await withTemporaryDirectory { dir in
            _ = try await writeLog(dir)
            let reader = try await AuditLog.open(directory: dir, options: .readOnly)
            try await QueryPropertyTests.checkQueries(reader, seed: 42, rounds: 40)
            #expect(reader.indexRebuilds.isEmpty, "\(reader.indexRebuilds)")
            try await reader.close()
        }
    }

    @Test func aPageDecompressesOnlyTheBlocksItReaches() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await writeLog(dir, blockRecords: 100, segmentBytes: 400 << 10)
            let reader = try await AuditLog.open(directory: dir, options: .readOnly)
            let segment = try #require(reader.segments.filter(\.isSealed).max { $0.recordCount < $1.recordCount })
            let n = Int(segment.recordCount)
            #expect(n >= 1_000)
            let parts: Set<IndexStore.Part> = [.verdicts, .dimension(.user), .timestamps, .metrics]
            let (view, loader) = try reader.indexes.scanView(segment, parts: parts)
            let blocks = try #require(loader)
            #expect(view.columns == nil && view.frames.count > 1)
            // The last three records: one block of each of the four parts.
            try blocks.ensure((n - 3)..<n)
            #expect(blocks.loadedBlocks == 4)
            let whole = try IndexStore.build(log.files, segment: segment, from: nil).columns
            let c = blocks.columns
            for i in (n - 3)..<n {
                #expect(c.verdicts[i] == whole.verdicts[i] && c.timestamps[i] == whole.timestamps[i] && c.costNanos[i] == whole.costNanos[i])
                #expect(c.dims[Dimension.user.column ?? 0][i] == whole.dims[Dimension.user.column ?? 0][i])
            }
            // Across a block edge, then everything: the whole columns.
            try blocks.ensure(150..<250)
            #expect(blocks.loadedBlocks == 4 + 4 * 2)
            let all = try blocks.loadAll()
            #expect(all.verdicts == whole.verdicts && all.timestamps == whole.timestamps && all.dims[Dimension.user.column ?? 0] == whole.dims[Dimension.user.column ?? 0])
            #expect(all.tokensIn == whole.tokensIn && all.tokensOut == whole.tokensOut && all.latencyMicros == whole.latencyMicros)

            // Newest 5 blocked of this segment through the public API: right, and the blocks
            // the page loaded are kept for the next page (not whole columns).
            let window = TimeWindow(since: segment.minTimestamp, until: segment.maxTimestamp.map { Timestamp(nanosSinceEpoch: $0.nanosSinceEpoch + 1) })
            let query = Query(window: window, filter: EventFilter(verdicts: [.block]), limit: 5)
            let expected = try await readAll(reader, order: .newestFirst).filter { query.matches($0.event) }.prefix(5)
            let page = try await reader.page(query)
            #expect(page.records == Array(expected))
            let next = try reader.indexes.scanView(segment, parts: [.verdicts])
            let kept = try #require(next.blocks)
            #expect(kept.loadedBlocks >= 1 && kept.loadedBlocks < (Int(segment.recordCount) + 99) / 100)
            #expect(try await reader.page(query) == page)
            try await reader.close()
        }
    }

    /// The seal's build encodes index after index through the same buffers: each encoding is
    /// byte for byte the one fresh buffers give, after a larger index or a smaller one, in
    /// blocks or whole sections, with and without rollups.
    @Test(arguments: [(IndexFile.formatVersion, 7), (IndexFile.formatVersion, IndexFile.blockRecords), (UInt16(4), 7), (UInt16(3), IndexFile.blockRecords)] as [(UInt16, Int)])
    func encodingsThroughReusedBuffersEqualFreshOnes(version: UInt16, blockRecords: Int) async throws {
        try await withTemporaryDirectory { dir in
            let log = try await writeGeneratedLog(dir, seed: 43, count: 3_000, days: 2, segmentBytes: 64 << 10)
            var indexes: [(IndexData, IndexFile.Binding)] = []
            for segment in log.segments.filter(\.isSealed) {
                indexes.append((try IndexStore.build(log.files, segment: segment, from: nil), IndexFile.Binding(sealed: segment)))
            }
            try #require(Set(indexes.map(\.0.recordCount)).count >= 2)
            // An index without rollups (a sum too large for a row) leaves two sections out.
            if var noRollups = indexes.first {
                noRollups.0.rollups = nil
                indexes.append(noRollups)
            }
            var buffers = IndexFile.EncodeBuffers()
            for order in [indexes.sorted { $0.0.recordCount > $1.0.recordCount }, indexes.sorted { $0.0.recordCount < $1.0.recordCount }] {
                for (data, binding) in order {
                    IndexFile.encode(data, binding: binding, version: version, blockRecords: blockRecords, into: &buffers)
                    #expect(buffers.file.bytes == IndexFile.encode(data, binding: binding, version: version, blockRecords: blockRecords))
                }
            }
        }
    }

    @Test func aDamagedBlockIsRebuiltFromItsSegment() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await writeLog(dir, blockRecords: 64)
            let segment = try #require(log.segments.last { $0.isSealed })
            // The last verdicts block of the newest sealed segment, where a newest-first page begins.
            let opened = try IndexFile.Reader(log.files, segment: segment)
            let index = try #require(opened)
            let entry = try #require(index.entry(.verdicts))
            #expect(entry.codec == IndexFile.blockedCodec)
            let table = try index.read(.verdicts).withUnsafeBytes { try IndexFile.BlockTable($0, records: Int(segment.recordCount), storedLength: entry.stored, rawLength: entry.raw) }
            let last = try #require(table.blocks.last)
            let path = log.files.segmentPath(LogDirectory.name(of: .index, forSegment: segment.fileName))
            try flipByte(path, at: Int(entry.offset) + last.start + last.stored / 2)

            let reader = try await AuditLog.open(directory: dir, options: .readOnly)
            let expected = try await readAll(reader, order: .newestFirst).filter { $0.event.verdict == .block }
            let paged = try await readPages(reader, Query(filter: EventFilter(verdicts: [.block])), pageSize: 7)
            #expect(paged == expected)
            #expect(reader.indexRebuilds.count == 1, "\(reader.indexRebuilds)")
            try await reader.close()
        }
    }

    /// Indexes of versions 3 (whole sections) and 4 (codes in bytes) answer as the current one.
    @Test(arguments: [UInt16(3), 4])
    func olderIndexVersionsAreStillRead(version: UInt16) async throws {
        try await withTemporaryDirectory { dir in
            let log = try await writeLog(dir, version: version)
            let segment = try #require(log.segments.first { $0.isSealed })
            let opened = try IndexFile.Reader(log.files, segment: segment)
            let index = try #require(opened)
            #expect(index.version == version && (index.entry(.verdicts)?.codec == IndexFile.blockedCodec) == (version >= 4))
            let reader = try await AuditLog.open(directory: dir, options: .readOnly)
            try await QueryPropertyTests.checkQueries(reader, seed: 43, rounds: 15)
            let usage = try await reader.usage(groupBy: [.user])
            #expect(usage.totals.requests == 3_000)
            #expect(reader.indexRebuilds.isEmpty, "\(reader.indexRebuilds)")
            try await reader.close()
        }
    }

    /// Format 5 packs a dimension's codes in as few bits as its dictionary needs: every width
    /// reads back what was written, and a code past the dictionary or a bit set after the last
    /// code is damage.
    @Test func packedCodesRoundTripAndRefuseWhatDoesNotFit() throws {
        let column = try #require(Dimension.user.column)
        func decode(_ bytes: [UInt8], count: Int, bits: Int, dictionary: Int) throws(FormatError) -> [UInt32] {
            var c = IndexColumns()
            c.dims[column] = [UInt32](repeating: 0, count: count)
            var sizes = [Int](repeating: 0, count: Dimension.columns.count)
            sizes[column] = dictionary
            try bytes.withRawBytes { (raw) throws(FormatError) in
                try IndexFile.decodeBlock(.dimension(.user), raw, range: 0..<count, parameter: UInt8(bits), bitPacked: true, dictionarySizes: sizes, into: &c)
            }
            return c.dims[column]
        }
        var rng = SplitMix64(seed: 9)
        for dictionary in [0, 1, 2, 3, 7, 255, 256, 1_000, 70_000, Int(UInt32.max) - 1] {
            let bits = PackedCodes.bits(toHold: dictionary)
            #expect(dictionary == 0 ? bits == 0 : (1 << UInt64(bits)) > dictionary && (1 << UInt64(bits - 1)) <= dictionary)
            for count in [1, 5, 64, 101] {
                let codes = (0..<count).map { _ in UInt32(rng.next() % UInt64(dictionary + 1)) }
                var w = ByteWriter()
                PackedCodes.append(codes[...], bits: bits, to: &w.bytes)
                #expect(w.count == (count * bits + 7) / 8)
                #expect(try decode(w.bytes, count: count, bits: bits, dictionary: dictionary) == codes)
            }
        }
        // Codes 1, 3, 0 in two bits: 0b00_11_01.
        #expect(try decode([0x0D], count: 3, bits: 2, dictionary: 3) == [1, 3, 0])
        #expect(throws: FormatError.self) { try decode([0x0D], count: 3, bits: 2, dictionary: 2) }
        #expect(throws: FormatError.self) { try decode([0x4D], count: 3, bits: 2, dictionary: 3) }
        #expect(throws: FormatError.self) { try decode([0x0D, 0x00], count: 3, bits: 2, dictionary: 3) }
        #expect(throws: FormatError.self) { try decode([], count: 3, bits: 2, dictionary: 3) }
        #expect(throws: FormatError.self) { try decode([0, 0, 0, 0, 0], count: 1, bits: 33, dictionary: 3) }
    }
}
