// Writing an index file (docs/FORMAT.md, "Index file"): every section is encoded, compressed
// and appended to one buffer that then gets the header and directory in front, and a writer
// that encodes one index after another (the seal's background build) hands in the same
// buffers each time.
extension IndexFile {
    /// The memory an encoding writes through, kept by a caller that encodes index after index
    /// so that each reuses the last one's: a seal's temporaries are about three times its index
    /// file, and fresh pages for them cost more than the encoding itself where faulting memory
    /// in is slow (a VM), the more so as the segments' retained rollups fragment the heap.
    struct EncodeBuffers {
        /// The encoded file, after ``IndexFile/encode(_:binding:version:blockRecords:into:)``.
        var file = ByteWriter(capacity: 0)
        /// One section's (or column block's) raw bytes.
        var section = ByteWriter(capacity: 1 << 16)
        fileprivate var compressed: [UInt8] = []
        fileprivate var high: [UInt8] = []
        fileprivate var highState = Compression.HighCompressionState()

        init() {}

        /// Appends `section`'s bytes to the file, LZ4-compressed when that shrinks them by 1/32
        /// (the high-compression encoding when smaller than the fast one), and returns the codec
        /// (0 raw, 1 LZ4). The metrics and the id table (high-entropy numbers) fail the fast
        /// trial and skip the slow encoder, which would spend most of its time there for nothing.
        mutating func appendSection() -> UInt32 {
            let raw = section.bytes
            let size = raw.withUnsafeBytes { bytes -> Int? in
                guard let fast = Compression.compress(bytes, into: &compressed), fast < raw.count - raw.count / 32 else { return nil }
                guard let small = Compression.compress(bytes, into: &high, state: &highState), small < fast else { return fast }
                swap(&compressed, &high)
                return small
            }
            guard let size else {
                file.write(bytes: raw)
                return 0
            }
            file.write(bytes: compressed[0..<size])
            return 1
        }
    }

    // MARK: Writing

    static func encode(_ data: IndexData, segment: SegmentInfo) -> [UInt8] {
        encode(data, binding: Binding(sealed: segment))
    }

    /// `version` 1 or 2 writes what a writer of that version wrote (version 1: rollups of
    /// codes 1–6; both: every hour of every rolled-up dimension, so data lacking some hourly
    /// rows gets no rollup sections at all): for tests of reading old indexes.
    /// `blockRecords` sizes the column blocks of version 4 (smaller ones for tests of block edges).
    static func encode(_ data: IndexData, binding: Binding, version: UInt16 = formatVersion, blockRecords: Int = blockRecords) -> [UInt8] {
        var buffers = EncodeBuffers()
        encode(data, binding: binding, version: version, blockRecords: blockRecords, into: &buffers)
        return buffers.file.bytes
    }

    /// The same into `buffers.file`.
    static func encode(_ data: IndexData, binding: Binding, version: UInt16 = formatVersion, blockRecords: Int = blockRecords, into buffers: inout EncodeBuffers) {
        let oldHourly = version == 1 ? IndexData.version1Hourly : IndexData.everyHourly
        let writesRollups = data.rollups != nil && (version >= 3 || data.hourlyMask & oldHourly == oldHourly)
        // Without rollups (a sum too large for a row) the two rollup sections are left out.
        let sections = Section.allCases.filter { writesRollups || !$0.isRollup }
        let start = headerBytes + sections.count * directoryEntryBytes + 8
        buffers.file.removeAll()
        // Room for the whole file at once: an index is 30–40 bytes a record.
        buffers.file.reserve(start + 48 * data.recordCount + (1 << 16))
        buffers.file.write(bytes: repeatElement(0, count: start))
        // Each section's codec, where its stored bytes begin, and its raw length.
        var entries: [(section: Section, codec: UInt32, offset: Int, raw: Int)] = []
        entries.reserveCapacity(sections.count)
        for section in sections {
            let offset = buffers.file.count
            if version >= 4 && section.isBlocked {
                let raw = encodeBlocked(section, data, blockRecords: blockRecords, bitPacked: version >= 5, into: &buffers)
                entries.append((section, blockedCodec, offset, raw))
            } else if version >= 4 && section == .frames {
                encodeFixedFrames(data.frames, to: &buffers.file)
                entries.append((section, 0, offset, buffers.file.count - offset))
            } else {
                buffers.section.removeAll()
                encode(section, of: data, version: version, to: &buffers.section)
                let codec = buffers.appendSection()
                entries.append((section, codec, offset, buffers.section.count))
            }
        }
        var header = ByteWriter(capacity: start)
        header.write(bytes: magic)
        header.write(version)
        header.write(UInt16(headerBytes))
        header.write(UInt32(entries.count))
        header.write(binding.firstSeq.rawValue)
        header.write(binding.recordCount)
        header.write(binding.bytes)
        binding.chainAfter.write(to: &header)
        header.write(binding.rawPayloadBytes)
        header.write(bytes: repeatElement(0, count: 40))
        header.write(Checksum.xxh3(header.bytes))

        let directoryStart = header.count
        for (i, entry) in entries.enumerated() {
            let end = i + 1 < entries.count ? entries[i + 1].offset : buffers.file.count
            header.write(entry.section.rawValue)
            header.write(entry.codec)
            header.write(UInt64(entry.offset))
            header.write(UInt32(end - entry.offset))
            header.write(UInt32(entry.raw))
            header.write(buffers.file.checksum(entry.offset..<end))
        }
        header.write(header.checksum(directoryStart..<header.count))
        buffers.file.overwrite(at: 0, with: header.bytes)
    }

    /// The raw bytes of a section that is neither in blocks nor the fixed frame directory (all
    /// of them in versions 1–3).
    static func encode(_ section: Section, of data: IndexData, version: UInt16, to w: inout ByteWriter) {
        let v1 = Set(Dimension.rolledUpInVersion1)
        func kept(_ key: RollupKey) -> Bool { version >= 2 || key.dimension.map { v1.contains($0) } ?? true }
        let c = data.columns
        switch section {
        case .frames: encodeFrames(data.frames, to: &w)
        case .dictionaries: encodeDictionaries(data.dictionaries, to: &w)
        case .timestamps:
            w.writeVarint(UInt64(c.count))
            // Version 3: times in units of 10^k ns, the largest k ≤ 9 that divides them all
            // (milliseconds from a gateway: k = 6, deltas a third the bytes).
            var unit: Int64 = 1
            if version >= 3 {
                let k = DeltaCoding.timeUnitExponent(c.timestamps)
                w.write(UInt8(k))
                unit = DeltaCoding.powersOf10[k]
            }
            var previous: Int64 = 0
            for ts in c.timestamps {
                let scaled = ts / unit
                w.writeVarint(DeltaCoding.zigzag(scaled &- previous))
                previous = scaled
            }
        case .verdicts: w.writeVarint(UInt64(c.count)); w.write(bytes: c.verdicts)
        case .cacheHits: w.writeVarint(UInt64(c.count)); w.write(bytes: c.cacheHits)
        case .metrics:
            w.writeVarint(UInt64(c.count))
            for column in [c.tokensIn, c.tokensOut, c.costNanos, c.latencyMicros] {
                for v in column { w.writeVarint(UInt64(bitPattern: v &+ 1)) }
            }
        case .ids: encodeIDs(data, packedOrdinals: version >= 5, to: &w)
        case .rollups: encodeRollups(data.rollups ?? [:], compact: version >= 5, to: &w) { $0.hourNanos == RollupKey.allTime && kept($0) }
        case .hourlyRollups:
            // Version 3 begins with the mask of the dimensions that have hourly rows.
            if version >= 3 { w.writeVarint(UInt64(data.hourlyMask)) }
            encodeRollups(data.rollups ?? [:], compact: version >= 5, to: &w) { $0.hourNanos != RollupKey.allTime && kept($0) }
        default:
            guard let index = section.column else { break }
            // Fixed width codes (1, 2 or 4 bytes), so loading a column is a copy.
            let column = c.dims[index]
            let width = codeWidth(dictionarySize: data.dictionaries[index].count)
            w.writeVarint(UInt64(column.count))
            w.write(UInt8(width))
            writeCodes(column[...], width: width, to: &w)
        }
    }

    /// Bytes a dimension column's code takes for a dictionary of `size` values.
    static func codeWidth(dictionarySize size: Int) -> Int { size < 256 ? 1 : size < 65_536 ? 2 : 4 }

    static func writeCodes(_ codes: ArraySlice<UInt32>, width: Int, to w: inout ByteWriter) {
        for v in codes {
            switch width {
            case 1: w.write(UInt8(truncatingIfNeeded: v))
            case 2: w.write(UInt16(truncatingIfNeeded: v))
            default: w.write(v)
            }
        }
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

    /// The id table: hashes as varint deltas, then the ordinals — in format 5 packed in as few
    /// bits as the largest ordinal needs, before it as varints.
    private static func encodeIDs(_ data: IndexData, packedOrdinals: Bool, to w: inout ByteWriter) {
        let n = data.idHashes.count
        w.writeVarint(UInt64(n))
        var previous: UInt32 = 0
        for h in data.idHashes {
            w.writeVarint(UInt64(h &- previous))
            previous = h
        }
        if packedOrdinals {
            PackedCodes.append(data.idOrdinals[...], bits: PackedCodes.bits(toHold: n - 1), to: &w.bytes)
        } else {
            for o in data.idOrdinals { w.writeVarint(UInt64(o)) }
        }
    }

    /// The rows whose keys `include` takes, in key order. Rows are reached by their index in
    /// the dictionary: no filtered copy of it, no second hash lookup per row. `compact` (format
    /// 5): a whole-segment row has no hour, an hourly row's hour is its distance in hours from
    /// the row before's (the first's from 0), and sketch buckets are gaps.
    private static func encodeRollups(_ rollups: [RollupKey: UsageAggregate], compact: Bool, to w: inout ByteWriter, where include: (RollupKey) -> Bool) {
        var rows = rollups.keys.indices.filter { include(rollups.keys[$0]) }
        rows.sort { a, b in
            let (x, y) = (rollups.keys[a], rollups.keys[b])
            return (x.code, x.value, x.hourNanos) < (y.code, y.value, y.hourNanos)
        }
        w.writeVarint(UInt64(rows.count))
        var previousHour: Int64 = 0
        for row in rows {
            let key = rollups.keys[row]
            w.write(key.code)
            w.writeVarint(UInt64(key.value))
            if !compact {
                w.write(key.hourNanos)
            } else if key.hourNanos != RollupKey.allTime {
                let hour = key.hourNanos / IndexData.hourNanos
                w.writeVarint(DeltaCoding.zigzag(hour - previousHour))
                previousHour = hour
            }
            rollups.values[row].encode(to: &w, gaps: compact)
        }
    }
}
