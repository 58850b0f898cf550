/// Per-record index columns of one segment (index formats 4 and 5), decompressed a block at a time as
/// a scan reaches them: "the newest 50 blocked" of a 333,000-record segment decompresses the
/// verdicts of its last 4,096 records, not 333 KB of them.
///
/// ``columns`` has the segment's full length, but only the records of blocks ``ensure(_:)``
/// has loaded hold values: a caller reads the columns only within ranges it ensured. Loading
/// all of them (``loadAll()``) is how a whole column is read, too.
final class ColumnBlocks {
    /// One part's block table and which of its blocks are in ``columns``.
    struct Source: Sendable {
        var part: IndexStore.Part
        var offset: Int64
        var table: IndexFile.BlockTable
        /// The whole stored section (its directory checksum checked) when it was read at once.
        var stored: [UInt8]?
        var loaded: [Bool]
    }

    /// What a store keeps of blocks between queries: the tables and the blocks loaded.
    struct Kept: Sendable {
        var sources: [Source]
        var columns: IndexColumns

        /// Blocks loaded, over all parts.
        var loadedBlocks: Int { sources.reduce(0) { $0 + $1.loaded.filter { $0 }.count } }
    }

    private var reader: IndexFile.Reader?
    private let open: () throws(AuditLogError) -> IndexFile.Reader
    private let displayName: String
    private let records: Int
    private let dictionarySizes: [Int]
    private var sources: [Source] = []
    /// The columns, full length, valid within the ensured ranges.
    private(set) var columns = IndexColumns()
    private var scratch: [UInt8] = []
    private var raw: [UInt8] = []

    /// The column `parts` of `reader`'s index (its version 4 or later), none loaded yet.
    /// `dictionarySizes` checks the codes of dimension columns. `whole` reads each section at
    /// once (to load all of it); else a block table now and each block when it is needed.
    convenience init(_ reader: IndexFile.Reader, parts: Set<IndexStore.Part>, dictionarySizes: [Int], whole: Bool = false) throws(AuditLogError) {
        try self.init(parts: parts, kept: nil, records: Int(reader.binding.recordCount), displayName: reader.displayName, dictionarySizes: dictionarySizes, whole: whole) {
            () throws(AuditLogError) in reader
        }
        self.reader = reader
    }

    /// The column `parts` of a segment of `records` records, continuing what `kept` holds of
    /// them; `open` opens its index file (checked against the segment) only when a table or a
    /// block is missing.
    init(
        parts: Set<IndexStore.Part>, kept: Kept?, records: Int, displayName: String, dictionarySizes: [Int], whole: Bool = false,
        open: @escaping () throws(AuditLogError) -> IndexFile.Reader
    ) throws(AuditLogError) {
        self.open = open
        self.displayName = displayName
        self.records = records
        self.dictionarySizes = dictionarySizes
        if let kept {
            columns = kept.columns
            sources = kept.sources.filter { parts.contains($0.part) }
        }
        for part in parts where part.isColumn && !sources.contains(where: { $0.part == part }) {
            try add(part, whole: whole)
        }
    }

    /// What a store may keep for the next query.
    var kept: Kept {
        Kept(
            sources: sources.map {
                var s = $0; s.stored = nil; return s
            }, columns: columns)
    }

    private func file() throws(AuditLogError) -> IndexFile.Reader {
        if let reader { return reader }
        let opened = try open()
        reader = opened
        return opened
    }

    private func damage(_ message: String, offset: Int64? = nil) -> AuditLogError {
        AuditLogError(.corruption, message, location: .init(file: displayName, offset: offset))
    }

    private func add(_ part: IndexStore.Part, whole: Bool) throws(AuditLogError) {
        let reader = try file()
        guard let section = IndexFile.Section(part), let entry = reader.entry(section), entry.codec == IndexFile.blockedCodec else {
            throw damage("index part \(part) is not stored in blocks")
        }
        var stored: [UInt8]?
        var bytes: [UInt8]
        if whole {
            bytes = try reader.read(section)
            stored = bytes
        } else {
            // The table's first 8 bytes give its length.
            bytes = []
            let n = try reader.file.read(into: &bytes, count: min(entry.stored, 8), at: entry.offset)
            let count = bytes.withUnsafeBytes { IndexFile.BlockTable.blockCount(header: UnsafeRawBufferPointer(rebasing: $0[0..<n]), records: records) } ?? 0
            let size = min(entry.stored, IndexFile.BlockTable.bytes(blocks: count))
            let m = try reader.file.read(into: &bytes, count: size, at: entry.offset)
            bytes.removeSubrange(m...)
        }
        var table: IndexFile.BlockTable
        do throws(FormatError) {
            table = try bytes.withRawBytes { (b) throws(FormatError) in try IndexFile.BlockTable(b, records: records, storedLength: entry.stored, rawLength: entry.raw) }
        } catch {
            throw damage("index section \(section): \(error.message)", offset: entry.offset)
        }
        table.bitPacked = reader.version >= 5
        sources.append(Source(part: part, offset: entry.offset, table: table, stored: stored, loaded: Array(repeating: false, count: table.blocks.count)))
        allocate(part)
    }

    /// Blocks decompressed so far, over all parts.
    var loadedBlocks: Int { sources.reduce(0) { $0 + $1.loaded.filter { $0 }.count } }

    /// Makes `columns` valid over `range` for every part.
    func ensure(_ range: Range<Int>) throws(AuditLogError) {
        guard !range.isEmpty else { return }
        for s in sources.indices {
            let per = sources[s].table.blockRecords
            for b in (range.lowerBound / per)...((range.upperBound - 1) / per) where !sources[s].loaded[b] {
                try load(s, block: b)
                sources[s].loaded[b] = true
            }
        }
    }

    /// Loads every block and hands over the columns.
    func loadAll() throws(AuditLogError) -> IndexColumns {
        try ensure(0..<records)
        return columns
    }

    private func allocate(_ part: IndexStore.Part) {
        let n = records
        // Not zeroed: only ensured blocks are read, and each is written whole before that.
        func uninitialized<T: FixedWidthInteger>(_: T.Type) -> [T] { [T](unsafeUninitializedCapacity: n) { _, count in count = n } }
        switch part {
        case .timestamps: columns.timestamps = uninitialized(Int64.self)
        case .verdicts: columns.verdicts = uninitialized(UInt8.self)
        case .cacheHits: columns.cacheHits = uninitialized(UInt8.self)
        case .metrics:
            columns.tokensIn = uninitialized(Int64.self)
            columns.tokensOut = uninitialized(Int64.self)
            columns.costNanos = uninitialized(Int64.self)
            columns.latencyMicros = uninitialized(Int64.self)
        case .dimension(let d):
            if let column = d.column { columns.dims[column] = uninitialized(UInt32.self) }
        default: break
        }
    }

    private func load(_ s: Int, block b: Int) throws(AuditLogError) {
        let source = sources[s]
        let e = source.table.blocks[b]
        let at = source.offset + Int64(e.start)
        let range = source.table.range(b, records: records)
        if let stored = source.stored {
            do throws(FormatError) {
                try stored.withRawBytes { (all) throws(FormatError) in try decode(source, UnsafeRawBufferPointer(rebasing: all[e.start..<(e.start + e.stored)]), raw: e.raw, range: range) }
            } catch {
                throw damage("index part \(source.part), block \(b): \(error.message)", offset: at)
            }
            return
        }
        let n = try file().file.read(into: &scratch, count: e.stored, at: at)
        let bytes = scratch
        do throws(FormatError) {
            try bytes.withRawBytes { (p) throws(FormatError) in
                guard n == e.stored else { throw FormatError(.truncated, "cut short", offset: 0) }
                let block = UnsafeRawBufferPointer(rebasing: p[0..<n])
                guard Checksum.xxh3(block) == e.checksum else { throw FormatError(.malformed, "checksum mismatch", offset: 0) }
                try decode(source, block, raw: e.raw, range: range)
            }
        } catch {
            throw damage("index part \(source.part), block \(b): \(error.message)", offset: at)
        }
    }

    private func decode(_ source: Source, _ block: UnsafeRawBufferPointer, raw length: Int, range: Range<Int>) throws(FormatError) {
        func decodeRaw(_ raw: UnsafeRawBufferPointer) throws(FormatError) {
            try IndexFile.decodeBlock(
                source.part, raw, range: range, parameter: source.table.parameter, bitPacked: source.table.bitPacked,
                dictionarySizes: dictionarySizes, into: &columns)
        }
        guard block.count < length else { return try decodeRaw(block) }
        try Compression.decompress(block, rawLength: length, into: &raw)
        let bytes = raw
        try bytes.withRawBytes { (p) throws(FormatError) in try decodeRaw(UnsafeRawBufferPointer(rebasing: p[0..<length])) }
    }
}

extension IndexFile.Section {
    /// The section holding a column part.
    init?(_ part: IndexStore.Part) {
        switch part {
        case .timestamps: self = .timestamps
        case .verdicts: self = .verdicts
        case .cacheHits: self = .cacheHits
        case .metrics: self = .metrics
        case .dimension(let d):
            guard let column = d.column else { return nil }
            self = .column(column)
        default: return nil
        }
    }
}
