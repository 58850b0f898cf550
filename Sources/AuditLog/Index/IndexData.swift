/// One frame of a segment, as the index's frame directory records it.
struct FrameEntry: Hashable, Sendable {
    var offset: Int64
    var firstSeq: SequenceNumber
    var recordCount: UInt32
    var minTimestampNanos: Int64
    var maxTimestampNanos: Int64
}

/// Per-record columns of a segment; ordinal `i` is seq `firstSeq + i`.
struct IndexColumns: Sendable {
    var timestamps: [Int64] = []
    /// 0 none, else ``Verdict/code``.
    var verdicts: [UInt8] = []
    /// 0 none, 1 false, 2 true.
    var cacheHits: [UInt8] = []
    /// Per ``Dimension/columns``: 0 none, else dictionary index + 1.
    var dims: [[UInt32]] = Array(repeating: [], count: Dimension.columns.count)
    /// -1 when absent.
    var tokensIn: [Int64] = []
    var tokensOut: [Int64] = []
    var costNanos: [Int64] = []
    var latencyMicros: [Int64] = []

    var count: Int { timestamps.count }

    /// About the memory the loaded columns take.
    var memoryBytes: Int {
        timestamps.count * 8 + verdicts.count + cacheHits.count + dims.reduce(0) { $0 + $1.count * 4 }
            + (tokensIn.count + tokensOut.count + costNanos.count + latencyMicros.count) * 8
    }

    /// Takes the arrays of column `part` from `other`.
    mutating func take(_ part: IndexStore.Part, from other: IndexColumns) {
        switch part {
        case .timestamps: timestamps = other.timestamps
        case .verdicts: verdicts = other.verdicts
        case .cacheHits: cacheHits = other.cacheHits
        case .metrics:
            tokensIn = other.tokensIn
            tokensOut = other.tokensOut
            costNanos = other.costNanos
            latencyMicros = other.latencyMicros
        case .dimension(let d):
            if let column = d.column { dims[column] = other.dims[column] }
        default: break
        }
    }

    /// The code of record `i` in `dimension`: the verdict code, or the dictionary code.
    func code(_ dimension: Dimension, _ i: Int) -> UInt32 {
        guard let column = dimension.column else { return UInt32(verdicts[i]) }
        return dims[column][i]
    }
}

/// A rollup row: one value of one dimension, over the whole segment or one hour of it.
struct RollupKey: Hashable, Sendable {
    /// Nil for the segment's total row.
    var dimension: Dimension?
    /// Dictionary index + 1 (0 none) for string dimensions, the verdict code for verdicts.
    var value: UInt32
    /// Start of the UTC hour, or ``allTime``.
    var hourNanos: Int64

    static let allTime = Int64.min

    /// The dimension byte on disk: 0 for the total, else ``Dimension/rollupCode``.
    var code: UInt8 { dimension?.rollupCode ?? 0 }

    /// How many values a row of `dimension` may have: codes 0 (none) to the dictionary size,
    /// verdict codes 0 to 4, the total's single 0.
    static func valueCount(_ dimension: Dimension?, dictionarySizes: [Int]) -> Int {
        guard let dimension else { return 1 }
        guard let column = dimension.column else { return 5 }
        return dictionarySizes[column] + 1
    }
}

/// Everything an index knows about one segment.
struct IndexData: Sendable {
    var firstSeq: SequenceNumber
    var frames: [FrameEntry] = []
    /// Per ``Dimension/columns``: the distinct values, in first-seen order.
    var dictionaries: [[String]] = Array(repeating: [], count: Dimension.columns.count)
    var columns = IndexColumns()
    /// Id hashes sorted ascending, with the ordinal of each.
    var idHashes: [UInt32] = []
    var idOrdinals: [UInt32] = []
    /// Rollups by dimension value, per hour and over the segment. Nil when not available:
    /// an active segment's index, or a segment with a sum a rollup row cannot hold (usage
    /// then scans the segment's columns instead).
    var rollups: [RollupKey: UsageAggregate]?
    /// The dimensions `rollups` has rows for: all of ``Dimension/rolledUp``, or the first six
    /// for an index file of format version 1.
    var rolledUp: Set<Dimension> = Set(Dimension.rolledUp)

    var recordCount: Int { columns.count }

    static let hourNanos: Int64 = 3_600_000_000_000

    /// Bit `c` set: the hourly rows of rollup dimension byte `c` (0 the total) are kept. An
    /// index of format version 3 lists them (a dimension whose hours hold few records each has
    /// none); older versions keep every hour of every dimension they roll up.
    var hourlyMask: UInt16 = IndexData.everyHourly

    /// Hourly rows of every rolled-up dimension and the total.
    static let everyHourly: UInt16 = (1 << (Dimension.rolledUp.count + 1)) - 1

    /// The hourly mask of a version-1 index: the total and the six dimensions it rolls up.
    static let version1Hourly: UInt16 = (1 << (Dimension.rolledUpInVersion1.count + 1)) - 1

    /// A dimension's hourly rows are kept when they average at least this many records a row:
    /// sparser ones (a user's hour at a few thousand events a day) are nearly as large as the
    /// columns they summarize, and usage by that dimension and time scans the columns instead.
    static let recordsPerHourlyRow = 16
}

/// Builds an ``IndexData`` from frames and record facts, in seq order.
struct IndexBuilder: Sendable {
    private(set) var data: IndexData
    private var lookup: [ValueCodes] = Array(repeating: ValueCodes(), count: Dimension.columns.count)
    private var hashes: [UInt32] = []

    init(firstSeq: SequenceNumber) { data = IndexData(firstSeq: firstSeq) }

    /// Continues an index as ``finish(withRollups:)`` left it (a checkpoint read back): the
    /// value lookups and the per-record id hashes are rebuilt from it.
    init(resuming finished: IndexData) {
        var d = finished
        var inOrder = [UInt32](repeating: 0, count: finished.idHashes.count)
        for (hash, ordinal) in zip(finished.idHashes, finished.idOrdinals) where Int(ordinal) < inOrder.count {
            inOrder[Int(ordinal)] = hash
        }
        d.idHashes = []
        d.idOrdinals = []
        d.rollups = nil
        data = d
        hashes = inOrder
        lookup = finished.dictionaries.map(ValueCodes.init)
    }

    var recordCount: Int { data.columns.count }

    /// Makes room in every column for `count` more records (a sealed segment's are known before
    /// its build: no column grows and moves on the way).
    mutating func reserve(_ count: Int) {
        data.columns.reserveCapacity(recordCount + count)
        hashes.reserveCapacity(recordCount + count)
    }

    /// One id hash per record, in seq order.
    var idHashesInOrder: [UInt32] { hashes }

    mutating func addFrame(_ entry: FrameEntry) { data.frames.append(entry) }

    /// Adds the record `record` (the next seq): its facts, and its values' codes, a value met
    /// for the first time checked as UTF-8 and added to its dictionary.
    mutating func add(record: UnsafeRawBufferPointer) throws(FormatError) {
        let f = try RecordFacts(record: record)
        for column in Dimension.columns.indices {
            var code: UInt32 = 0
            if let value = f.value(column, in: record) {
                let hash = ValueCodes.hash(value)
                if let known = lookup[column].code(of: value, hash: hash) {
                    code = known
                } else {
                    guard let string = makeString(value) else {
                        throw FormatError(.malformed, "\(Dimension.columns[column].name) is not valid UTF-8", offset: Int(f.valueOffsets[column]))
                    }
                    data.dictionaries[column].append(string)
                    code = lookup[column].insert(value, hash: hash)
                }
            }
            data.columns.dims[column].append(code)
        }
        data.columns.timestamps.append(f.timestampNanos)
        data.columns.verdicts.append(f.verdict)
        data.columns.cacheHits.append(f.cacheHit)
        data.columns.tokensIn.append(f.tokensIn)
        data.columns.tokensOut.append(f.tokensOut)
        data.columns.costNanos.append(f.costNanos)
        data.columns.latencyMicros.append(f.latencyMicros)
        hashes.append(f.idHash)
    }

    /// The finished index: id table sorted, rollups computed when `withRollups`
    /// (`minRecordsPerHourlyRow` as ``IndexData/rollups(_:dictionarySizes:minRecordsPerHourlyRow:)``
    /// takes it).
    func finish(withRollups: Bool, minRecordsPerHourlyRow: Int = IndexData.recordsPerHourlyRow) -> IndexData {
        var out = data
        (out.idHashes, out.idOrdinals) = IDTableSort.sorted(hashes)
        // A checkpoint (no rollups) still has both rollup sections, with no rows.
        if withRollups {
            let computed = IndexData.rollups(out.columns, dictionarySizes: out.dictionaries.map(\.count), minRecordsPerHourlyRow: minRecordsPerHourlyRow)
            out.rollups = computed?.rows
            out.hourlyMask = computed?.hourlyMask ?? IndexData.everyHourly
        } else {
            out.rollups = [:]
        }
        return out
    }

    /// Indexes the frames `walker` finds from `offset` up to its limit; returns where it
    /// stopped (the end of the last complete frame). After an error the builder holds part of a
    /// frame: its callers drop it.
    mutating func scan(_ walker: SegmentWalker, from offset: Int64) throws(AuditLogError) -> Int64 {
        walker.resume(at: offset, nextSeq: SequenceNumber(data.firstSeq.rawValue + UInt64(recordCount)))
        while true {
            switch try walker.next(.fields(RecordFacts.fieldsRead)) {
            case .frame(let h, let at):
                addFrame(FrameEntry(offset: at, firstSeq: h.firstSeq, recordCount: h.recordCount, minTimestampNanos: h.minTimestampNanos, maxTimestampNanos: h.maxTimestampNanos))
                var seq = h.firstSeq
                do throws(FormatError) {
                    try walker.forEachRecord { (s, record) throws(FormatError) in
                        seq = s
                        try add(record: record)
                    }
                } catch {
                    throw AuditLogError(.corruption, "undecodable record: \(error.message)", location: .init(file: walker.displayName, offset: at, seq: seq))
                }
            case .damage(let damage):
                throw damage.error(in: walker.displayName)
            case .end, .footer, .tornTail:
                return walker.offset
            }
        }
    }
}

extension IndexColumns {
    /// Room in every column for `n` records.
    mutating func reserveCapacity(_ n: Int) {
        timestamps.reserveCapacity(n)
        verdicts.reserveCapacity(n)
        cacheHits.reserveCapacity(n)
        for column in dims.indices { dims[column].reserveCapacity(n) }
        tokensIn.reserveCapacity(n)
        tokensOut.reserveCapacity(n)
        costNanos.reserveCapacity(n)
        latencyMicros.reserveCapacity(n)
    }

    /// The first `n` records of every column (the active segment's columns as far as a snapshot goes).
    func prefix(_ n: Int) -> IndexColumns {
        var out = IndexColumns()
        out.timestamps = Array(timestamps.prefix(n))
        out.verdicts = Array(verdicts.prefix(n))
        out.cacheHits = Array(cacheHits.prefix(n))
        out.dims = dims.map { Array($0.prefix(n)) }
        out.tokensIn = Array(tokensIn.prefix(n))
        out.tokensOut = Array(tokensOut.prefix(n))
        out.costNanos = Array(costNanos.prefix(n))
        out.latencyMicros = Array(latencyMicros.prefix(n))
        return out
    }
}
