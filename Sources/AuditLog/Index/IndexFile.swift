/// The sidecar index of a sealed segment, `segments/<first seq>.idx` (docs/FORMAT.md, "Index
/// file"): a header binding it to its segment, a section directory, and LZ4-compressed,
/// checksummed sections that load independently (rollups without columns, say).
enum IndexFile {
    static let magic: [UInt8] = Array("AUDITIDX".utf8)
    static let formatVersion: UInt16 = 1
    static let headerBytes = 128
    static let directoryEntryBytes = 32
    static let suffix = ".idx"

    /// Section kinds. Columns are stored one a section so that a query loads only those it
    /// reads; rollups over the whole segment apart from the hourly ones.
    enum Section: UInt32, CaseIterable {
        case frames = 1, dictionaries = 2, timestamps = 3, verdicts = 4, cacheHits = 5, metrics = 6
        case eventType = 10, reasonCode, user, team, model, provider, apiKey, source
        case ids = 30, rollups = 40, hourlyRollups = 41

        static func dimension(_ field: IndexedField) -> Section {
            Section(rawValue: Section.eventType.rawValue + UInt32(field.rawValue)) ?? .eventType
        }

        var field: IndexedField? {
            guard rawValue >= Section.eventType.rawValue, rawValue <= Section.source.rawValue else { return nil }
            return IndexedField(rawValue: Int(rawValue - Section.eventType.rawValue))
        }
    }

    static func fileName(forSegment segment: String) -> String {
        String(segment.dropLast(LogPaths.segmentSuffix.count)) + suffix
    }

    // MARK: Writing

    static func encode(_ data: IndexData, segment: SegmentInfo) -> [UInt8] {
        var payloads: [(Section, [UInt8])] = []
        for section in Section.allCases {
            var w = ByteWriter(capacity: 1 << 16)
            let c = data.columns
            switch section {
            case .frames: encodeFrames(data.frames, to: &w)
            case .dictionaries: encodeDictionaries(data.dictionaries, to: &w)
            case .timestamps:
                w.writeVarint(UInt64(c.count))
                var previous: Int64 = 0
                for ts in c.timestamps {
                    w.writeVarint(zigzag(ts &- previous))
                    previous = ts
                }
            case .verdicts: w.writeVarint(UInt64(c.count)); w.write(bytes: c.verdicts)
            case .cacheHits: w.writeVarint(UInt64(c.count)); w.write(bytes: c.cacheHits)
            case .metrics:
                w.writeVarint(UInt64(c.count))
                for column in [c.tokensIn, c.tokensOut, c.costNanos, c.latencyMicros] {
                    for v in column { w.writeVarint(UInt64(bitPattern: v &+ 1)) }
                }
            case .ids: encodeIDs(data, to: &w)
            case .rollups: encodeRollups(data.rollups.filter { $0.key.hourNanos == RollupKey.allTime }, to: &w)
            case .hourlyRollups: encodeRollups(data.rollups.filter { $0.key.hourNanos != RollupKey.allTime }, to: &w)
            default:
                guard let field = section.field else { break }
                // Fixed width codes (1, 2 or 4 bytes), so loading a column is a copy.
                let column = c.dims[field.rawValue]
                let size = data.dictionaries[field.rawValue].count
                let width = size < 256 ? 1 : size < 65_536 ? 2 : 4
                w.writeVarint(UInt64(column.count))
                w.write(UInt8(width))
                for v in column {
                    switch width {
                    case 1: w.write(UInt8(truncatingIfNeeded: v))
                    case 2: w.write(UInt16(truncatingIfNeeded: v))
                    default: w.write(v)
                    }
                }
            }
            payloads.append((section, w.bytes))
        }
        var header = ByteWriter(capacity: headerBytes)
        header.write(bytes: magic)
        header.write(formatVersion)
        header.write(UInt16(headerBytes))
        header.write(UInt32(payloads.count))
        header.write(segment.firstSeq.rawValue)
        header.write(segment.recordCount)
        header.write(UInt64(segment.bytes))
        segment.chainAfter.write(to: &header)
        header.write(bytes: [UInt8](repeating: 0, count: 48))
        header.write(Checksum.xxh3(header.bytes))

        var directory = ByteWriter(capacity: payloads.count * directoryEntryBytes + 8)
        var body: [UInt8] = []
        var offset = UInt64(headerBytes + payloads.count * directoryEntryBytes + 8)
        var compressed: [UInt8] = []
        for (section, raw) in payloads {
            var stored = raw
            var codec: UInt32 = 0
            if let n = raw.withUnsafeBytes({ Compression.compress($0, into: &compressed) }), n < raw.count {
                stored = Array(compressed[0..<n])
                codec = 1
            }
            directory.write(section.rawValue)
            directory.write(codec)
            directory.write(offset)
            directory.write(UInt32(stored.count))
            directory.write(UInt32(raw.count))
            directory.write(Checksum.xxh3(stored))
            body += stored
            offset += UInt64(stored.count)
        }
        directory.write(Checksum.xxh3(directory.bytes))
        return header.bytes + directory.bytes + body
    }

    private static func encodeFrames(_ frames: [FrameEntry], to w: inout ByteWriter) {
        w.writeVarint(UInt64(frames.count))
        for f in frames {
            w.writeVarint(UInt64(f.offset))
            w.writeVarint(f.firstSeq.rawValue)
            w.writeVarint(UInt64(f.recordCount))
            w.write(f.minTimestampNanos)
            w.write(f.maxTimestampNanos)
        }
    }

    private static func encodeDictionaries(_ dictionaries: [[String]], to w: inout ByteWriter) {
        for values in dictionaries {
            w.writeVarint(UInt64(values.count))
            for v in values { w.writeString(v) }
        }
    }

    private static func zigzag(_ v: Int64) -> UInt64 { UInt64(bitPattern: (v << 1) ^ (v >> 63)) }
    private static func unzigzag(_ v: UInt64) -> Int64 { Int64(bitPattern: v >> 1) ^ -Int64(bitPattern: v & 1) }

    private static func encodeIDs(_ data: IndexData, to w: inout ByteWriter) {
        w.writeVarint(UInt64(data.idHashes.count))
        var previous: UInt32 = 0
        for h in data.idHashes {
            w.writeVarint(UInt64(h &- previous))
            previous = h
        }
        for o in data.idOrdinals { w.writeVarint(UInt64(o)) }
    }

    private static func encodeRollups(_ rollups: [RollupKey: UsageAggregate], to w: inout ByteWriter) {
        w.writeVarint(UInt64(rollups.count))
        let keys = rollups.keys.sorted { ($0.dimension.rawValue, $0.value, $0.hourNanos) < ($1.dimension.rawValue, $1.value, $1.hourNanos) }
        for key in keys {
            w.write(key.dimension.rawValue)
            w.writeVarint(UInt64(key.value))
            w.write(key.hourNanos)
            rollups[key]?.encode(to: &w)
        }
    }

    // MARK: Reading

    /// An open index file whose header matched its segment; sections are read on demand.
    final class Reader {
        let file: SystemFile
        let displayName: String
        private var directory: [Section: (codec: UInt32, offset: Int64, stored: Int, raw: Int, checksum: UInt64)] = [:]

        /// Opens and checks the header and directory. Throws ``FormatError`` (stale or
        /// damaged) or ``AuditLogError`` (I/O, missing file).
        init(paths: LogPaths, segment: SegmentInfo) throws(AuditLogError) {
            let name = IndexFile.fileName(forSegment: segment.fileName)
            displayName = LogPaths.displayName(name)
            file = try SystemFile.openForReading(paths.segmentPath(name), displayName: displayName)
            var buffer: [UInt8] = []
            let n = try file.read(into: &buffer, count: headerBytes, at: 0)
            func bad(_ message: String, _ offset: Int) -> AuditLogError {
                AuditLogError(.corruption, message, location: .init(file: displayName, offset: Int64(offset)))
            }
            guard n == headerBytes, Array(buffer[0..<8]) == magic else { throw bad("not an index file", 0) }
            let checksum = buffer.withUnsafeBytes { Checksum.xxh3(UnsafeRawBufferPointer(rebasing: $0[0..<(headerBytes - 8)])) }
            let fields: (version: UInt16, sections: UInt32, firstSeq: UInt64, records: UInt64, size: UInt64, chain: ChainHash?, stored: UInt64) = buffer.withUnsafeBytes { raw in
                func u16(_ o: Int) -> UInt16 { UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt16.self)) }
                func u32(_ o: Int) -> UInt32 { UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt32.self)) }
                func u64(_ o: Int) -> UInt64 { UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt64.self)) }
                return (u16(8), u32(12), u64(16), u64(24), u64(32), ChainHash(bytes: UnsafeRawBufferPointer(rebasing: raw[40..<72])), u64(120))
            }
            guard fields.stored == checksum else { throw bad("index header checksum mismatch", 120) }
            guard fields.version == formatVersion else { throw bad("index format version \(fields.version)", 8) }
            guard fields.firstSeq == segment.firstSeq.rawValue, fields.records == segment.recordCount,
                  fields.size == UInt64(segment.bytes), fields.chain == segment.chainAfter
            else { throw bad("index is stale: it describes another version of its segment", 16) }
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
                    (UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: base, as: UInt32.self)),
                     UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: base + 4, as: UInt32.self)),
                     UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: base + 8, as: UInt64.self)),
                     UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: base + 16, as: UInt32.self)),
                     UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: base + 20, as: UInt32.self)),
                     UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: base + 24, as: UInt64.self)))
                }
                guard let section = Section(rawValue: entry.0), entry.1 <= 1,
                      entry.2 + UInt64(entry.3) <= UInt64(size), entry.4 <= UInt32(1 << 30)
                else { throw bad("bad index directory entry \(i)", headerBytes + base) }
                directory[section] = (entry.1, Int64(entry.2), Int(entry.3), Int(entry.4), entry.5)
            }
            guard directory.count == Section.allCases.count else { throw bad("index lacks sections", headerBytes) }
        }

        /// The raw (decompressed, checksum-verified) bytes of a section.
        func read(_ section: Section) throws(AuditLogError) -> [UInt8] {
            guard let e = directory[section] else {
                throw AuditLogError(.corruption, "index lacks section \(section)", location: .init(file: displayName))
            }
            var stored: [UInt8] = []
            let n = try file.read(into: &stored, count: e.stored, at: e.offset)
            guard n == e.stored, Checksum.xxh3(Array(stored[0..<n])) == e.checksum else {
                throw AuditLogError(.corruption, "index section \(section) checksum mismatch", location: .init(file: displayName, offset: e.offset))
            }
            if e.codec == 0 { return Array(stored[0..<n]) }
            var raw: [UInt8] = []
            do throws(FormatError) {
                try stored.withRawBytes { (p) throws(FormatError) in
                    try Compression.decompress(UnsafeRawBufferPointer(rebasing: p[0..<n]), rawLength: e.raw, into: &raw)
                }
            } catch {
                throw AuditLogError(.corruption, "index section \(section): \(error.message)", location: .init(file: displayName, offset: e.offset))
            }
            return Array(raw[0..<e.raw])
        }
    }

    // MARK: Section decoders (every count and index is checked against the segment)

    static func decodeFrames(_ bytes: [UInt8], recordCount: UInt64) throws(FormatError) -> [FrameEntry] {
        try bytes.withRawBytes { (raw) throws(FormatError) in
            var r = ByteReader(raw)
            let count = try r.readVarint()
            guard count <= recordCount else { throw FormatError(.malformed, "\(count) frames for \(recordCount) records", offset: 0) }
            var out: [FrameEntry] = []
            for _ in 0..<count {
                let offset = try r.readVarint()
                let first = try r.readVarint()
                let n = try r.readVarint()
                guard offset <= UInt64(Int64.max), n <= UInt64(UInt32.max) else { throw FormatError(.malformed, "frame entry", offset: r.offset) }
                out.append(FrameEntry(offset: Int64(offset), firstSeq: SequenceNumber(first), recordCount: UInt32(n), minTimestampNanos: try r.readInt64(), maxTimestampNanos: try r.readInt64()))
            }
            return out
        }
    }

    static func decodeDictionaries(_ bytes: [UInt8]) throws(FormatError) -> [[String]] {
        try bytes.withRawBytes { (raw) throws(FormatError) in
            var r = ByteReader(raw)
            var out: [[String]] = []
            for _ in IndexedField.allCases {
                let count = try r.readVarint()
                guard count <= UInt64(r.remaining) else { throw FormatError(.truncated, "dictionary size", offset: r.offset) }
                var values: [String] = []
                values.reserveCapacity(Int(count))
                for _ in 0..<count { values.append(try r.readString()) }
                out.append(values)
            }
            return out
        }
    }

    private static func count(_ r: inout ByteReader, _ n: Int) throws(FormatError) {
        let count = try r.readVarint()
        guard count == UInt64(n) else { throw FormatError(.malformed, "column holds \(count) records, segment \(n)", offset: 0) }
    }

    static func decodeTimestamps(_ bytes: [UInt8], recordCount n: Int) throws(FormatError) -> [Int64] {
        try bytes.withRawBytes { (raw) throws(FormatError) in
            var r = ByteReader(raw)
            try count(&r, n)
            var out: [Int64] = []
            out.reserveCapacity(n)
            var previous: Int64 = 0
            for _ in 0..<n {
                previous = previous &+ unzigzag(try r.readVarint())
                out.append(previous)
            }
            return out
        }
    }

    /// Verdict or cache-hit bytes; every byte must be at most `maxValue`.
    static func decodeBytes(_ bytes: [UInt8], recordCount n: Int, maxValue: UInt8) throws(FormatError) -> [UInt8] {
        try bytes.withRawBytes { (raw) throws(FormatError) in
            var r = ByteReader(raw)
            try count(&r, n)
            let out = Array(try r.readBytes(n))
            guard !out.contains(where: { $0 > maxValue }) else { throw FormatError(.malformed, "column value above \(maxValue)", offset: r.offset) }
            return out
        }
    }

    static func decodeMetrics(_ bytes: [UInt8], recordCount n: Int) throws(FormatError) -> [[Int64]] {
        try bytes.withRawBytes { (raw) throws(FormatError) in
            var r = ByteReader(raw)
            try count(&r, n)
            var metrics: [[Int64]] = []
            for _ in 0..<4 {
                var column: [Int64] = []
                column.reserveCapacity(n)
                for _ in 0..<n { column.append(Int64(bitPattern: try r.readVarint()) &- 1) }
                metrics.append(column)
            }
            return metrics
        }
    }

    static func decodeDimension(_ bytes: [UInt8], recordCount n: Int, dictionarySize: Int) throws(FormatError) -> [UInt32] {
        try bytes.withRawBytes { (raw) throws(FormatError) in
            var r = ByteReader(raw)
            try count(&r, n)
            let width = Int(try r.readUInt8())
            guard [1, 2, 4].contains(width) else { throw FormatError(.malformed, "code width \(width)", offset: r.offset) }
            let codes = try r.readBytes(n * width)
            var out = [UInt32](repeating: 0, count: n)
            var maxCode: UInt32 = 0
            for i in 0..<n {
                let v: UInt32
                switch width {
                case 1: v = UInt32(codes[i])
                case 2: v = UInt32(UInt16(littleEndian: codes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                default: v = UInt32(littleEndian: codes.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))
                }
                out[i] = v
                maxCode = max(maxCode, v)
            }
            guard maxCode <= UInt32(dictionarySize) else { throw FormatError(.malformed, "code \(maxCode) beyond its dictionary of \(dictionarySize)", offset: r.offset) }
            return out
        }
    }

    static func decodeIDs(_ bytes: [UInt8], recordCount: Int) throws(FormatError) -> (hashes: [UInt32], ordinals: [UInt32]) {
        try bytes.withRawBytes { (raw) throws(FormatError) in
            var r = ByteReader(raw)
            let count = try r.readVarint()
            guard count == UInt64(recordCount) else { throw FormatError(.malformed, "id table of \(count) for \(recordCount) records", offset: 0) }
            var hashes: [UInt32] = []
            var ordinals: [UInt32] = []
            hashes.reserveCapacity(Int(count))
            ordinals.reserveCapacity(Int(count))
            var previous: UInt32 = 0
            for _ in 0..<count {
                let d = try r.readVarint()
                guard d <= UInt64(UInt32.max) else { throw FormatError(.malformed, "id hash delta", offset: r.offset) }
                previous = previous &+ UInt32(d)
                hashes.append(previous)
            }
            for _ in 0..<count {
                let o = try r.readVarint()
                guard o < count else { throw FormatError(.malformed, "id ordinal \(o) beyond \(count)", offset: r.offset) }
                ordinals.append(UInt32(o))
            }
            return (hashes, ordinals)
        }
    }

    static func decodeRollups(_ bytes: [UInt8]) throws(FormatError) -> [RollupKey: UsageAggregate] {
        try bytes.withRawBytes { (raw) throws(FormatError) in
            var r = ByteReader(raw)
            let count = try r.readVarint()
            guard count <= UInt64(r.remaining) else { throw FormatError(.truncated, "rollup count", offset: 0) }
            var out: [RollupKey: UsageAggregate] = [:]
            out.reserveCapacity(Int(count))
            for _ in 0..<count {
                guard let dimension = RollupDimension(rawValue: try r.readUInt8()) else { throw FormatError(.malformed, "rollup dimension", offset: r.offset) }
                let value = try r.readVarint()
                guard value <= UInt64(UInt32.max) else { throw FormatError(.malformed, "rollup value", offset: r.offset) }
                let hour = try r.readInt64()
                out[RollupKey(dimension: dimension, value: UInt32(value), hourNanos: hour)] = try UsageAggregate.decode(from: &r)
            }
            return out
        }
    }
}
