// Decoders of index file sections (docs/FORMAT.md, "Index file"): every count, code and
// ordinal is checked against the record count the header binds, so a damaged section is an
// error, never an out-of-range read.
extension IndexFile {
    // MARK: Section decoders (every count and index is checked against the segment)

    static func decodeFrames(_ bytes: [UInt8], recordCount: UInt64) throws(FormatError) -> [FrameEntry] {
        try bytes.withRawBytes { (raw) throws(FormatError) in
            var r = ByteReader(raw)
            let count = try r.readVarint()
            guard count <= recordCount else { throw FormatError(.malformed, "\(count) frames for \(recordCount) records", offset: 0) }
            var out: [FrameEntry] = []
            // An entry takes at least 19 bytes (three varints, two times).
            out.reserveCapacity(min(Int(count), raw.count / 19))
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
            for _ in Dimension.columns {
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

    /// Event times; `scaled` (version 3): in units of 10^k ns, k a byte after the count.
    static func decodeTimestamps(_ bytes: [UInt8], recordCount n: Int, scaled: Bool) throws(FormatError) -> [Int64] {
        try bytes.withRawBytes { (raw) throws(FormatError) in
            var r = ByteReader(raw)
            try count(&r, n)
            var unit: Int64 = 1
            if scaled {
                let k = try r.readUInt8("time unit")
                guard k <= 9 else { throw FormatError(.malformed, "time unit 10^\(k) ns", offset: r.offset - 1) }
                unit = DeltaCoding.powersOf10[Int(k)]
            }
            var out: [Int64] = []
            out.reserveCapacity(n)
            var previous: Int64 = 0
            for _ in 0..<n {
                previous = previous &+ DeltaCoding.unzigzag(try r.readVarint())
                let (time, overflow) = previous.multipliedReportingOverflow(by: unit)
                // Event times are never before 1970 (FORMAT.md, "Record").
                guard previous >= 0, !overflow else { throw FormatError(.malformed, "event time out of range", offset: r.offset) }
                out.append(time)
            }
            return out
        }
    }

    /// Verdict or cache-hit bytes, decoded in place: `bytes` (the section) becomes the column.
    /// Every byte must be at most `maxValue`.
    static func decodeBytes(_ bytes: inout [UInt8], recordCount n: Int, maxValue: UInt8) throws(FormatError) {
        let start = try bytes.withRawBytes { (raw) throws(FormatError) -> Int in
            var r = ByteReader(raw)
            try count(&r, n)
            let start = r.offset
            guard largest(try r.readBytes(n)) <= maxValue else { throw FormatError(.malformed, "column value above \(maxValue)", offset: r.offset) }
            return start
        }
        bytes.removeSubrange((start + n)...)
        bytes.removeSubrange(0..<start)
    }

    /// The largest byte of `bytes` (0 when empty), in a loop the compiler vectorizes.
    private static func largest(_ bytes: UnsafeRawBufferPointer) -> UInt8 {
        let values = bytes.bindMemory(to: UInt8.self)
        var result: UInt8 = 0
        for i in values.indices { result = max(result, values[i]) }
        return result
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
            var maxCode: UInt32 = 0
            let out = [UInt32](unsafeUninitializedCapacity: n) { out, initialized in
                for i in 0..<n {
                    let v: UInt32
                    switch width {
                    case 1: v = UInt32(codes[i])
                    case 2: v = UInt32(UInt16(littleEndian: codes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                    default: v = UInt32(littleEndian: codes.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))
                    }
                    out.initializeElement(at: i, to: v)
                    maxCode = max(maxCode, v)
                }
                initialized = n
            }
            guard maxCode <= UInt32(dictionarySize) else { throw FormatError(.malformed, "code \(maxCode) beyond its dictionary of \(dictionarySize)", offset: r.offset) }
            return out
        }
    }

    static func decodeIDs(_ bytes: [UInt8], recordCount: Int, packedOrdinals: Bool) throws(FormatError) -> (hashes: [UInt32], ordinals: [UInt32]) {
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
            if packedOrdinals {
                let n = Int(count)
                let width = PackedCodes.bits(toHold: n - 1)
                let packed = try r.readBytes((n * width + 7) / 8, "id ordinals")
                var largest: UInt32 = 0
                try unpackCodes(packed, count: n, bits: width) { _, o in
                    ordinals.append(o)
                    largest = max(largest, o)
                }
                guard n == 0 || UInt64(largest) < count else { throw FormatError(.malformed, "id ordinal \(largest) beyond \(count)", offset: r.offset) }
                guard r.isAtEnd else { throw FormatError(.malformed, "id table holds \(r.remaining) bytes past its ordinals", offset: r.offset) }
                return (hashes, ordinals)
            }
            for _ in 0..<count {
                let o = try r.readVarint()
                guard o < count else { throw FormatError(.malformed, "id ordinal \(o) beyond \(count)", offset: r.offset) }
                ordinals.append(UInt32(o))
            }
            return (hashes, ordinals)
        }
    }

    /// Rollup rows, each checked against the segment: its dimension value within that
    /// dictionary (or a verdict code), its hour a UTC hour (or the whole-segment marker, per
    /// section), its counts within the record count.
    /// Rollup rows. An hourly section of version 3 (`listsHourly`) begins with the mask of the
    /// dimensions it has rows for (within `hourlyMask`, the version's dimensions); a row of
    /// another is damage. Returns the rows and that mask (`hourlyMask` for older versions).
    static func decodeRollups(
        _ bytes: [UInt8], recordCount: UInt64, dictionarySizes: [Int], hourly: Bool, maxCode: UInt8, listsHourly: Bool, hourlyMask: UInt16,
        compact: Bool
    ) throws(FormatError) -> (rows: [RollupKey: UsageAggregate], hourlyMask: UInt16) {
        try bytes.withRawBytes { (raw) throws(FormatError) in
            var r = ByteReader(raw)
            var mask = hourlyMask
            if hourly && listsHourly {
                let listed = try r.readVarint("hourly dimensions")
                guard listed & ~UInt64(hourlyMask) == 0 else { throw FormatError(.malformed, "hourly dimension mask \(listed)", offset: 0) }
                mask = UInt16(listed)
            }
            let count = try r.readVarint()
            guard count <= UInt64(r.remaining) else { throw FormatError(.truncated, "rollup count", offset: r.offset) }
            var out: [RollupKey: UsageAggregate] = [:]
            out.reserveCapacity(Int(count))
            var previousHour: Int64 = 0
            for _ in 0..<count {
                let start = r.offset
                let code = try r.readUInt8()
                let dimension = Dimension(rollupCode: code)
                guard code == 0 || (dimension != nil && code <= maxCode) else { throw FormatError(.malformed, "rollup dimension \(code)", offset: start) }
                guard !hourly || mask & (1 << code) != 0 else { throw FormatError(.malformed, "hourly row of unlisted dimension \(code)", offset: start) }
                let value = try r.readVarint()
                guard value < UInt64(RollupKey.valueCount(dimension, dictionarySizes: dictionarySizes)) else {
                    throw FormatError(.malformed, "rollup value \(value) beyond its dictionary", offset: start)
                }
                let hour: Int64
                if !compact {
                    hour = try r.readInt64()
                } else if hourly {
                    // Hours since the epoch, as a distance from the row before's: at most 2^63 ns.
                    let (sum, overflow) = previousHour.addingReportingOverflow(DeltaCoding.unzigzag(try r.readVarint("rollup hour")))
                    guard !overflow, sum >= 0, sum <= Int64.max / IndexData.hourNanos else { throw FormatError(.malformed, "rollup hour out of range", offset: start) }
                    previousHour = sum
                    hour = sum * IndexData.hourNanos
                } else {
                    hour = RollupKey.allTime
                }
                let validHour = hourly ? hour >= 0 && hour % IndexData.hourNanos == 0 : hour == RollupKey.allTime
                guard validHour else { throw FormatError(.malformed, "rollup hour \(hour)", offset: start) }
                let key = RollupKey(dimension: dimension, value: UInt32(value), hourNanos: hour)
                guard out[key] == nil else { throw FormatError(.malformed, "rollup row repeated", offset: start) }
                out[key] = try UsageAggregate.decode(from: &r, recordCount: recordCount, gaps: compact)
            }
            return (out, mask)
        }
    }
}
