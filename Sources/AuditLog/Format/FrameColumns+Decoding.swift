import CAuditLogLZ4

// Reading a codec-2 frame (docs/FORMAT.md, "Column frames") back into its raw payload. The
// stored bytes are hostile until decoded: every length, count, code and digit is checked
// against what holds it, the output never grows past the header's raw length, and a body that
// does not decode to exactly `record count` records of exactly `raw length` bytes is damage.
extension FrameColumns {
    /// Decodes `stored` (a codec-2 payload) into the first `rawLength` bytes of `raw` (resized
    /// as needed): `recordCount` entries, each a record's length as a varint and its bytes.
    static func decode(_ stored: UnsafeRawBufferPointer, rawLength: Int, recordCount: Int, into raw: inout [UInt8]) throws(FormatError) {
        try withColumns(stored, rawLength: rawLength, recordCount: recordCount, into: &raw) { (columns, output) throws(FormatError) in
            try columns.writeRecords(recordCount, to: &output)
            try columns.checkConsumed()
            guard output.position == rawLength else {
                throw FormatError(.malformed, "column frame decodes to \(output.position) bytes, header says \(rawLength)", offset: 0)
            }
        }
    }

    /// Decodes every record keeping only the fields of `fields` (a mask of presence bits 0–25;
    /// each record's presence says which it kept), without reading the other fields' sections:
    /// what an index reads of a frame (``SegmentWalker/Payload/fields(_:)``). Returns the bytes
    /// written. The sections not read are not checked (a full decode, as `verify` does, is).
    static func decode(_ stored: UnsafeRawBufferPointer, rawLength: Int, recordCount: Int, fields mask: UInt32, into raw: inout [UInt8]) throws(FormatError) -> Int {
        try withColumns(stored, rawLength: rawLength, recordCount: recordCount, into: &raw) { (columns, output) throws(FormatError) in
            try columns.writeRecords(recordCount, fields: mask, to: &output)
            return output.position
        }
    }

    /// Decodes only the records at `ordinals` (ascending, each below `recordCount`) into the
    /// start of `raw`, one entry each as ``decode(_:rawLength:recordCount:into:)`` writes them,
    /// stepping over the others column by column: a sparse read (the newest few of a kind, one
    /// event by id) rebuilds a few records of a frame instead of all of them. Returns the
    /// bytes written. The sections past the last of them are not read, so damage there goes
    /// unseen (the stored bytes passed their checksum; a full decode, as `verify` does, finds it).
    static func decode(
        _ stored: UnsafeRawBufferPointer, rawLength: Int, recordCount: Int, only ordinals: some Sequence<Int>, into raw: inout [UInt8]
    ) throws(FormatError) -> Int {
        try withColumns(stored, rawLength: rawLength, recordCount: recordCount, into: &raw) { (columns, output) throws(FormatError) in
            var next = 0
            for ordinal in ordinals {
                guard ordinal >= next, ordinal < recordCount else {
                    throw FormatError(.malformed, "record \(ordinal) of a frame of \(recordCount) asked out of order", offset: 0)
                }
                try columns.skipRecords(ordinal - next)
                try columns.writeRecords(1, to: &output)
                next = ordinal + 1
            }
            return output.position
        }
    }

    /// Decompresses the body of `stored` and calls `body` with its sections as cursors and the
    /// room for `rawLength` bytes in `raw`.
    private static func withColumns<T>(
        _ stored: UnsafeRawBufferPointer, rawLength: Int, recordCount: Int, into raw: inout [UInt8], _ body: (inout Columns, inout Output) throws(FormatError) -> T
    ) throws(FormatError) -> T {
        var r = ByteReader(stored)
        let bodyLength = Int(try r.readUInt32("column body length"))
        guard bodyLength >= Section.count, bodyLength <= maxBodyBytes else {
            throw FormatError(.malformed, "column body of \(bodyLength) bytes", offset: 0)
        }
        // Both buffers have `slack` bytes past their end, so that a value of up to 16 bytes is
        // copied as two words, past its end, with no branch on its length.
        var decompressed = [UInt8](unsafeUninitializedCapacity: bodyLength + Output.slack) { _, initialized in initialized = bodyLength + Output.slack }
        try Compression.decompress(UnsafeRawBufferPointer(rebasing: stored[4...]), rawLength: bodyLength, into: &decompressed)
        let capacity = rawLength + Output.slack
        if raw.count < capacity + Output.slack {
            raw = [UInt8](unsafeUninitializedCapacity: capacity + Output.slack) { _, initialized in initialized = capacity + Output.slack }
        }
        return try decompressed.withRawBytes { (padded) throws(FormatError) in
            let sections = UnsafeRawBufferPointer(rebasing: padded[0..<bodyLength])
            return try raw.withMutableElements { (out) throws(FormatError) in
                guard let base = UnsafeMutableRawPointer(out.baseAddress) else { throw FormatError(.malformed, "no room for the frame", offset: 0) }
                var output = Output(base: base, capacity: capacity)
                var columns = try Columns(sections, recordCount: recordCount)
                return try body(&columns, &output)
            }
        }
    }

    /// Where decoded records go: room of a fixed size, every write checked against it. The
    /// memory behind it runs ``slack`` bytes past `capacity`, and every value copied comes from
    /// a buffer that does too.
    struct Output {
        static let slack = 16

        let base: UnsafeMutableRawPointer
        let capacity: Int
        var position = 0

        init(base: UnsafeMutableRawPointer, capacity: Int) {
            self.base = base
            self.capacity = capacity
        }

        @inline(__always)
        mutating func room(_ n: Int) throws(FormatError) -> UnsafeMutableRawPointer {
            guard n <= capacity &- position else { throw FormatError(.malformed, "column frame decodes to more than its raw length", offset: 0) }
            defer { position &+= n }
            return base + position
        }

        /// Copies `bytes`, which must lie in a buffer with ``slack`` readable bytes past them: a
        /// value of up to 16 bytes (most are) as two words, whatever its length, not a call.
        @inline(__always)
        mutating func write(_ bytes: UnsafeRawBufferPointer) throws(FormatError) {
            let n = bytes.count
            let to = try room(n)
            guard let from = bytes.baseAddress else { return }
            if n <= 16 {
                to.storeBytes(of: from.loadUnaligned(as: UInt64.self), as: UInt64.self)
                to.storeBytes(of: from.loadUnaligned(fromByteOffset: 8, as: UInt64.self), toByteOffset: 8, as: UInt64.self)
            } else {
                to.copyMemory(from: from, byteCount: n)
            }
        }

        mutating func write(_ byte: UInt8) throws(FormatError) { try room(1).storeBytes(of: byte, as: UInt8.self) }

        mutating func write(_ value: UInt64) throws(FormatError) { try room(8).storeBytes(of: value.littleEndian, toByteOffset: 0, as: UInt64.self) }

        @inline(__always)
        mutating func writeVarint(_ value: UInt64) throws(FormatError) {
            if value < 0x80 { return try room(1).storeBytes(of: UInt8(value), as: UInt8.self) }
            if value < 0x4000 {
                return try room(2).storeBytes(of: (UInt16(value & 0x7F | 0x80) | UInt16(value >> 7) << 8).littleEndian, as: UInt16.self)
            }
            var v = value
            while v >= 0x80 {
                try write(UInt8(truncatingIfNeeded: v) | 0x80)
                v >>= 7
            }
            try write(UInt8(v))
        }
    }

    /// The body's sections as cursors, read record by record.
    struct Columns {
        private var times: ByteReader
        private var unit: Int64
        private var previous: Int64 = 0
        private var presences: ByteReader
        private var idTimes: ByteReader
        private var idRandom: ByteReader
        private var fields: [ByteReader]
        /// Per section; a section with no string values has an empty column (reading it is damage).
        private var strings: [StringColumn]
        private var tail: ByteReader

        init(_ body: UnsafeRawBufferPointer, recordCount n: Int) throws(FormatError) {
            var r = ByteReader(body)
            var lengths: [Int] = []
            lengths.reserveCapacity(Section.count)
            for _ in 0..<Section.count {
                let start = r.offset
                let length = try r.readVarint("section length")
                guard length <= UInt64(r.remaining) else { throw FormatError(.truncated, "section of \(length) bytes runs past the body", offset: start) }
                lengths.append(Int(length))
            }
            var sections: [ByteReader] = []
            sections.reserveCapacity(Section.count)
            for length in lengths {
                guard length <= r.remaining else { throw FormatError(.truncated, "section of \(length) bytes runs past the body", offset: r.offset) }
                sections.append(ByteReader(try r.readBytes(length)))
            }
            guard r.isAtEnd else { throw FormatError(.malformed, "\(r.remaining) bytes after the last section", offset: r.offset) }
            // How many values each section holds follows from the presences.
            var present = PresenceCounts()
            var p = sections[Section.presences]
            for _ in 0..<n {
                let presence = try p.readVarint("presence")
                guard presence & ~UInt64(knownMask) == 0 else { throw FormatError(.malformed, "unknown presence bits", offset: p.offset) }
                present.add(UInt32(presence))
            }
            guard p.isAtEnd else { throw FormatError(.malformed, "presences run past \(n) records", offset: p.offset) }
            var counts = [Int](repeating: 0, count: Section.count)
            counts[Section.idTimes] = present.compactIDs
            counts[Section.textIDs] = present.textIDs
            counts[Section.tail] = present.tails
            for bit in 0..<21 { counts[Section.field(bit)] = present.records(withBit: bit) }
            counts[Section.eventTypes] = n
            times = sections[Section.times]
            let k = Int(try times.readUInt8("time unit"))
            guard k <= 9 else { throw FormatError(.malformed, "time unit exponent \(k)", offset: 0) }
            unit = DeltaCoding.powersOf10[k]
            presences = sections[Section.presences]
            idTimes = sections[Section.idTimes]
            idRandom = sections[Section.idRandom]
            tail = sections[Section.tail]
            fields = sections
            strings = []
            strings.reserveCapacity(Section.count)
            for _ in 0..<Section.count { strings.append(try StringColumn(ByteReader(UnsafeRawBufferPointer(start: nil, count: 0)), count: 0)) }
            for section in stringSections {
                if counts[section] > 0 {
                    strings[section] = try StringColumn(sections[section], count: counts[section])
                } else if !sections[section].isAtEnd {
                    throw FormatError(.malformed, "section \(section) holds bytes but no values", offset: 0)
                }
            }
        }

        /// Writes the next `n` records, each as an entry: its length as a varint, then its bytes.
        /// With `fields` (a mask of presence bits 0–25), each record keeps only those of its
        /// fields — its presence says so — and the sections of the others are not read.
        mutating func writeRecords(_ n: Int, fields mask: UInt32 = allFields, to out: inout Output) throws(FormatError) {
            var fields: [ByteReader] = []
            var strings: [StringColumn] = []
            swap(&fields, &self.fields)
            swap(&strings, &self.strings)
            defer {
                swap(&fields, &self.fields)
                swap(&strings, &self.strings)
            }
            try fields.withMutableElements { (fields) throws(FormatError) in
                try strings.withMutableElements { (strings) throws(FormatError) in
                    for _ in 0..<n { try writeRecord(to: &out, fields, strings, mask: mask) }
                }
            }
        }

        /// Steps over the next `n` records without writing them: the records' presences say how
        /// many values each section gives up, and each section moves past that many at once.
        /// The times are summed (a later record's time is a delta from them).
        mutating func skipRecords(_ n: Int) throws(FormatError) {
            guard n > 0 else { return }
            var present = PresenceCounts()
            for _ in 0..<n {
                previous = try Self.checked(previous.addingReportingOverflow(DeltaCoding.unzigzag(try times.readVarint("time"))), "time")
                present.add(UInt32(truncatingIfNeeded: try presences.readVarint("presence")))
            }
            try idTimes.skipVarints(present.compactIDs, "id time")
            _ = try idRandom.readBytes(10 * present.compactIDs, "id")
            try strings[Section.textIDs].skip(present.textIDs)
            try strings[Section.eventTypes].skip(n)
            for bit in 0..<21 {
                let count = present.records(withBit: bit)
                guard count > 0 else { continue }
                let section = Section.field(bit)
                switch fieldKinds[bit] {
                case .byte: _ = try fields[section].readBytes(count, "field")
                case .string: try strings[section].skip(count)
                case .varint: try fields[section].skipVarints(count, "field")
                }
            }
            for _ in 0..<present.tails {
                let length = try tail.readVarint("tail length")
                guard length <= UInt64(tail.remaining) else { throw FormatError(.truncated, "tail runs past its section", offset: tail.offset) }
                _ = try tail.readBytes(Int(length))
            }
        }

        /// Writes the next record as an entry: its length as a varint, then its bytes.
        private mutating func writeRecord(
            to out: inout Output, _ fields: UnsafeMutableBufferPointer<ByteReader>, _ strings: UnsafeMutableBufferPointer<StringColumn>, mask: UInt32
        ) throws(FormatError) {
            // Room for a two-byte length (a record of 128 to 16,383 bytes); moved if it differs.
            let entry = out.position
            _ = try out.room(2)
            let start = out.position
            previous = try Self.checked(previous.addingReportingOverflow(DeltaCoding.unzigzag(try times.readVarint("time"))), "time")
            let time = try Self.checked(previous.multipliedReportingOverflow(by: unit), "time")
            guard time >= 0 else { throw FormatError(.malformed, "time before 1970", offset: times.offset) }
            let presence = UInt32(truncatingIfNeeded: try presences.readVarint("presence")) & (mask | compactIDMask)
            try out.write(UInt64(bitPattern: time))
            try out.room(4).storeBytes(of: presence.littleEndian, toByteOffset: 0, as: UInt32.self)
            if presence & compactIDMask != 0 {
                let high48 = try Self.checked((time / 1_000_000).addingReportingOverflow(DeltaCoding.unzigzag(try idTimes.readVarint("id time"))), "id time")
                guard high48 >= 0, high48 < 1 << 48 else { throw FormatError(.malformed, "id time out of range", offset: idTimes.offset) }
                let random = try idRandom.readBytes(10, "id")
                try out.write(UInt64(high48) << 16 | UInt64(random[0]) | UInt64(random[1]) << 8)
                try out.write(UInt64(littleEndian: random.loadUnaligned(fromByteOffset: 2, as: UInt64.self)))
            } else {
                try strings[Section.textIDs].writeNext(to: &out)
            }
            try strings[Section.eventTypes].writeNext(to: &out)
            var bits = presence & ((1 << 21) - 1)
            while bits != 0 {
                let bit = bits.trailingZeroBitCount
                bits &= bits - 1
                let section = Section.field(bit)
                switch fieldKinds[bit] {
                case .byte: try out.write(try fields[section].readUInt8("field"))
                case .string: try strings[section].writeNext(to: &out)
                case .varint: try out.write(try fields[section].readVarintBytes())
                }
            }
            if presence & tailMask != 0 {
                let length = try tail.readVarint("tail length")
                guard length <= UInt64(tail.remaining) else { throw FormatError(.truncated, "tail runs past its section", offset: tail.offset) }
                try out.write(try tail.readBytes(Int(length)))
            }
            let length = out.position - start
            let lengthBytes = length < 0x80 ? 1 : length < 0x4000 ? 2 : length < 0x20_0000 ? 3 : 4
            if lengthBytes != 2 {
                out.position = entry
                _ = try out.room(lengthBytes + length)
                (out.base + entry + lengthBytes).copyMemory(from: out.base + start, byteCount: length)
            }
            var v = UInt64(length)
            for i in 0..<lengthBytes {
                out.base.storeBytes(of: UInt8(truncatingIfNeeded: v) | (i + 1 < lengthBytes ? 0x80 : 0), toByteOffset: entry + i, as: UInt8.self)
                v >>= 7
            }
        }

        /// Every section read to its end: a body with bytes left over is damage.
        func checkConsumed() throws(FormatError) {
            guard times.isAtEnd, presences.isAtEnd, idTimes.isAtEnd, idRandom.isAtEnd, tail.isAtEnd else {
                throw FormatError(.malformed, "column frame has bytes no record reads", offset: 0)
            }
            for bit in 0..<21 where fieldKinds[bit] != .string {
                guard fields[Section.field(bit)].isAtEnd else { throw FormatError(.malformed, "column of field bit \(bit) has bytes no record reads", offset: 0) }
            }
            for column in strings { try column.checkConsumed() }
        }

        /// Static: called as an instance method inside a mutating one, it made Swift copy the
        /// whole cursor set (its arrays retained and released) for every record.
        private static func checked(_ result: (partialValue: Int64, overflow: Bool), _ what: StaticString) throws(FormatError) -> Int64 {
            guard !result.overflow else { throw FormatError(.malformed, "\(what) overflows", offset: 0) }
            return result.partialValue
        }
    }
}
