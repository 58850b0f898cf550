/// The sidecar index of a sealed segment, `segments/<first seq>.idx` (docs/FORMAT.md, "Index
/// file"): a header binding it to its segment, a section directory, and LZ4-compressed,
/// checksummed sections that load independently (rollups without columns, say).
enum IndexFile {
    static let magic: [UInt8] = Array("AUDITIDX".utf8)
    /// Version 2 added rollups of reason_code, source and event_type (codes 7–9); version 3
    /// leaves out the hourly rows of sparse dimensions and lists the ones it keeps; version 4
    /// stores the per-record columns in blocks and the frame directory in fixed-width entries
    /// (IndexFile+Blocks.swift); version 5 packs a dimension column's codes in as few bits as
    /// its dictionary needs, the id table's ordinals in as few bits as the segment needs, and
    /// writes rollup rows with hours and sketch buckets as distances from the ones before.
    /// Versions 1–4 are still read (usage by what 1 lacks scans columns).
    static let formatVersion: UInt16 = 5
    static let headerBytes = 128
    static let directoryEntryBytes = 32

    /// Section kinds. Columns are stored one a section so that a query loads only those it
    /// reads; rollups over the whole segment apart from the hourly ones.
    enum Section: UInt32, CaseIterable {
        case frames = 1, dictionaries = 2, timestamps = 3, verdicts = 4, cacheHits = 5, metrics = 6
        case eventType = 10, reasonCode, user, team, model, provider, apiKey, source
        case ids = 30, rollups = 40, hourlyRollups = 41

        /// The section of dictionary column `column` (``Dimension/columns``).
        static func column(_ column: Int) -> Section {
            Section(rawValue: Section.eventType.rawValue + UInt32(column)) ?? .eventType
        }

        /// The dictionary column this section holds, if it holds one.
        var column: Int? {
            guard rawValue >= Section.eventType.rawValue, rawValue <= Section.source.rawValue else { return nil }
            return Int(rawValue - Section.eventType.rawValue)
        }

        /// The two rollup sections, which an index may lack (docs/FORMAT.md).
        var isRollup: Bool { self == .rollups || self == .hourlyRollups }
    }

    /// What the header binds an index to: the segment's first seq, and the record count, byte
    /// size and chain value of the part of it the index covers (all of a sealed segment; for an
    /// active-segment checkpoint, its data up to the end of the last frame covered).
    struct Binding: Equatable {
        var firstSeq: SequenceNumber
        var recordCount: UInt64
        var bytes: UInt64
        var chainAfter: ChainHash
        /// Raw payload bytes of the frames covered (checkpoints only; 0 in an index file).
        var rawPayloadBytes: UInt64 = 0

        init(firstSeq: SequenceNumber, recordCount: UInt64, bytes: UInt64, chainAfter: ChainHash, rawPayloadBytes: UInt64 = 0) {
            self.firstSeq = firstSeq
            self.recordCount = recordCount
            self.bytes = bytes
            self.chainAfter = chainAfter
            self.rawPayloadBytes = rawPayloadBytes
        }

        /// A sealed segment's binding: all of it.
        init(sealed segment: SegmentInfo) {
            self.init(firstSeq: segment.firstSeq, recordCount: segment.recordCount, bytes: UInt64(segment.bytes), chainAfter: segment.chainAfter)
        }
    }

    // MARK: Reading

    /// An open index file whose header matched its segment; sections are read on demand.
    final class Reader {
        let file: any SegmentFile
        var displayName: String { file.displayName }
        /// What the header binds the file to.
        let binding: Binding
        /// The file's format version (1 to 5).
        let version: UInt16
        typealias Entry = (codec: UInt32, offset: Int64, stored: Int, raw: Int, checksum: UInt64)
        private var directory: [Section: Entry] = [:]

        /// The directory entry of `section`, if the file has it.
        func entry(_ section: Section) -> Entry? { directory[section] }

        /// The error of damage found in this file.
        func damage(_ message: String, offset: Int64? = nil) -> AuditLogError {
            AuditLogError(.corruption, message, location: .init(file: displayName, offset: offset))
        }

        /// Opens the index file of a sealed segment and checks its header against the segment.
        /// Nil when the segment has no index file.
        convenience init?(_ directory: LogDirectory, segment: SegmentInfo) throws(AuditLogError) {
            guard let file = try directory.openDerived(.index, of: segment.fileName) else { return nil }
            let expected = Binding(sealed: segment)
            try self.init(file: file) { $0 == expected }
        }

        /// Checks the header and directory of an open index file; `accepts` decides whether the
        /// binding fits (else the file is stale). Throws a corruption error for a stale or
        /// damaged file, an I/O error otherwise.
        init(file: any SegmentFile, accepts: (Binding) -> Bool) throws(AuditLogError) {
            let display = file.displayName
            self.file = file
            var buffer: [UInt8] = []
            let n = try file.read(into: &buffer, count: headerBytes, at: 0)
            func bad(_ message: String, _ offset: Int) -> AuditLogError {
                AuditLogError(.corruption, message, location: .init(file: display, offset: Int64(offset)))
            }
            guard n == headerBytes, Array(buffer[0..<8]) == magic else { throw bad("not an index file", 0) }
            let checksum = buffer.withUnsafeBytes { Checksum.xxh3(UnsafeRawBufferPointer(rebasing: $0[0..<(headerBytes - 8)])) }
            let fields: (version: UInt16, sections: UInt32, firstSeq: UInt64, records: UInt64, size: UInt64, chain: ChainHash?, raw: UInt64, stored: UInt64) = buffer.withUnsafeBytes { raw in
                func u16(_ o: Int) -> UInt16 { UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt16.self)) }
                func u32(_ o: Int) -> UInt32 { UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt32.self)) }
                func u64(_ o: Int) -> UInt64 { UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt64.self)) }
                return (u16(8), u32(12), u64(16), u64(24), u64(32), ChainHash(bytes: UnsafeRawBufferPointer(rebasing: raw[40..<72])), u64(72), u64(120))
            }
            guard fields.stored == checksum else { throw bad("index header checksum mismatch", 120) }
            guard (1...formatVersion).contains(fields.version) else { throw bad("index format version \(fields.version)", 8) }
            version = fields.version
            guard let chain = fields.chain else { throw bad("index chain value", 40) }
            binding = Binding(firstSeq: SequenceNumber(fields.firstSeq), recordCount: fields.records, bytes: fields.size, chainAfter: chain, rawPayloadBytes: fields.raw)
            guard accepts(binding) else { throw bad("index is stale: it describes another version of its segment", 16) }
            let count = Int(fields.sections)
            guard count <= 64 else { throw bad("\(count) sections", 12) }
            let dirBytes = count * directoryEntryBytes + 8
            let m = try file.read(into: &buffer, count: dirBytes, at: Int64(headerBytes))
            guard m == dirBytes else { throw bad("index directory cut short", headerBytes) }
            let dirChecksum = buffer.withUnsafeBytes { Checksum.xxh3(UnsafeRawBufferPointer(rebasing: $0[0..<(dirBytes - 8)])) }
            let storedDir = buffer.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: dirBytes - 8, as: UInt64.self)) }
            guard dirChecksum == storedDir else { throw bad("index directory checksum mismatch", headerBytes) }
            let size = try file.size()
            for i in 0..<count {
                let base = i * directoryEntryBytes
                let entry = buffer.withUnsafeBytes { raw in
                    (
                        UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: base, as: UInt32.self)),
                        UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: base + 4, as: UInt32.self)),
                        UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: base + 8, as: UInt64.self)),
                        UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: base + 16, as: UInt32.self)),
                        UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: base + 20, as: UInt32.self)),
                        UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: base + 24, as: UInt64.self))
                    )
                }
                // Codec 2 (blocks) is versions 4 and 5's, for the per-record columns only.
                let codecs: UInt32 = fields.version >= 4 && Section(rawValue: entry.0)?.isBlocked == true ? IndexFile.blockedCodec : 1
                guard let section = Section(rawValue: entry.0), entry.1 <= codecs, directory[section] == nil,
                    entry.2 <= UInt64(size), UInt64(entry.3) <= UInt64(size) - entry.2, entry.4 <= UInt32(1 << 30)
                else { throw bad("bad index directory entry \(i)", headerBytes + base) }
                directory[section] = (entry.1, Int64(entry.2), Int(entry.3), Int(entry.4), entry.5)
            }
            // Rollups are both present or both absent; every other section is required.
            let rollups = directory.keys.filter(\.isRollup).count
            guard directory.count - rollups == Section.allCases.count - 2, rollups == 0 || rollups == 2 else {
                throw bad("index lacks sections", headerBytes)
            }
        }

        /// The raw (decompressed, checksum-verified) bytes of a section.
        func read(_ section: Section) throws(AuditLogError) -> [UInt8] {
            guard let e = directory[section] else {
                throw AuditLogError(.corruption, "index lacks section \(section)", location: .init(file: displayName))
            }
            var stored: [UInt8] = []
            let n = try file.read(into: &stored, count: e.stored, at: e.offset)
            guard n == e.stored, stored.withUnsafeBytes({ Checksum.xxh3(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }) == e.checksum else {
                throw AuditLogError(.corruption, "index section \(section) checksum mismatch", location: .init(file: displayName, offset: e.offset))
            }
            // A section in blocks is returned as stored (``ColumnBlocks`` reads it).
            if e.codec != 1 { return stored.count == n ? stored : Array(stored[0..<n]) }
            var raw: [UInt8] = []
            do throws(FormatError) {
                try stored.withRawBytes { (p) throws(FormatError) in
                    try Compression.decompress(UnsafeRawBufferPointer(rebasing: p[0..<n]), rawLength: e.raw, into: &raw)
                }
            } catch {
                throw AuditLogError(.corruption, "index section \(section): \(error.message)", location: .init(file: displayName, offset: e.offset))
            }
            return raw.count == e.raw ? raw : Array(raw[0..<e.raw])
        }

        /// Reads every section, checking its checksum (and decompressing the compressed ones):
        /// what the header and directory checks of opening do not cover.
        func checkSections() throws(AuditLogError) {
            for section in directory.keys.sorted(by: { $0.rawValue < $1.rawValue }) { _ = try read(section) }
        }

        /// The index data with its frame directory (what every query needs), checked against
        /// the binding's record count; its other parts load with ``load(_:into:)``.
        func loadDirectory() throws(AuditLogError) -> IndexData {
            var data = IndexData(firstSeq: binding.firstSeq)
            data.frames = try loadFrames()
            return data
        }

        /// The frame directory alone, checked against the binding's record count.
        func loadFrames() throws(AuditLogError) -> [FrameEntry] {
            let records = binding.recordCount
            let fixed = version >= 4
            let frames = try decode(.frames) { (b) throws(FormatError) in
                fixed ? try IndexFile.decodeFixedFrames(b, recordCount: records) : try IndexFile.decodeFrames(b, recordCount: records)
            }
            guard frames.reduce(0, { $0 + UInt64($1.recordCount) }) == records else {
                throw AuditLogError(.corruption, "frame directory does not add up to the segment's records", location: .init(file: displayName))
            }
            return frames
        }

        /// Reads one part into `data`, checking every count and code against the binding (the
        /// codes of a dimension column or a rollup against the dictionaries, which `data` must
        /// hold already: ``IndexStore/Part/loadOrder(_:)``).
        func load(_ part: IndexStore.Part, into data: inout IndexData) throws(AuditLogError) {
            let n = Int(binding.recordCount)
            if version >= 4 && part.isColumn {
                let loaded = try ColumnBlocks(self, parts: [part], dictionarySizes: data.dictionaries.map(\.count), whole: true).loadAll()
                data.columns.take(part, from: loaded)
                return
            }
            switch part {
            case .dictionaries:
                data.dictionaries = try decode(.dictionaries) { (b) throws(FormatError) in try IndexFile.decodeDictionaries(b) }
            case .timestamps:
                let scaled = version >= 3
                data.columns.timestamps = try decode(.timestamps) { (b) throws(FormatError) in try IndexFile.decodeTimestamps(b, recordCount: n, scaled: scaled) }
            case .verdicts:
                data.columns.verdicts = try decodeBytes(.verdicts, recordCount: n, maxValue: 4)
            case .cacheHits:
                data.columns.cacheHits = try decodeBytes(.cacheHits, recordCount: n, maxValue: 2)
            case .metrics:
                let m = try decode(.metrics) { (b) throws(FormatError) in try IndexFile.decodeMetrics(b, recordCount: n) }
                data.columns.tokensIn = m[0]
                data.columns.tokensOut = m[1]
                data.columns.costNanos = m[2]
                data.columns.latencyMicros = m[3]
            case .dimension(let dimension):
                guard let column = dimension.column else { return }
                let size = data.dictionaries[column].count
                data.columns.dims[column] = try decode(Section.column(column)) { (b) throws(FormatError) in try IndexFile.decodeDimension(b, recordCount: n, dictionarySize: size) }
            case .ids:
                let ids = try decode(.ids) { (b) throws(FormatError) in try IndexFile.decodeIDs(b, recordCount: n, packedOrdinals: version >= 5) }
                data.idHashes = ids.hashes
                data.idOrdinals = ids.ordinals
            case .rollups, .hourlyRollups:
                let section: Section = part == .rollups ? .rollups : .hourlyRollups
                // An index without rollup sections answers usage by scanning columns.
                guard directory[section] != nil else { return }
                let sizes = data.dictionaries.map(\.count)
                let dimensions = version == 1 ? Dimension.rolledUpInVersion1 : Dimension.rolledUp
                let hourlyMask = version == 1 ? IndexData.version1Hourly : IndexData.everyHourly
                let rows = try decode(section) { (b) throws(FormatError) in
                    try IndexFile.decodeRollups(
                        b, recordCount: UInt64(n), dictionarySizes: sizes, hourly: section == .hourlyRollups, maxCode: UInt8(dimensions.count),
                        listsHourly: version >= 3, hourlyMask: hourlyMask, compact: version >= 5)
                }
                data.rollups = (data.rollups ?? [:]).merging(rows.rows) { a, _ in a }
                data.rolledUp = Set(dimensions)
                if section == .hourlyRollups { data.hourlyMask = rows.hourlyMask }
            }
        }

        /// A byte column, decoded in the buffer its section was read into.
        private func decodeBytes(_ section: Section, recordCount n: Int, maxValue: UInt8) throws(AuditLogError) -> [UInt8] {
            var bytes = try read(section)
            do throws(FormatError) {
                try IndexFile.decodeBytes(&bytes, recordCount: n, maxValue: maxValue)
                return bytes
            } catch {
                throw AuditLogError(.corruption, "index section \(section): \(error.message)", location: .init(file: displayName))
            }
        }

        private func decode<T>(_ section: Section, _ body: ([UInt8]) throws(FormatError) -> T) throws(AuditLogError) -> T {
            let bytes = try read(section)
            do throws(FormatError) {
                return try body(bytes)
            } catch {
                throw AuditLogError(.corruption, "index section \(section): \(error.message)", location: .init(file: displayName))
            }
        }
    }
}
