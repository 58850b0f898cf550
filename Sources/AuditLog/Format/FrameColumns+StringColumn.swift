extension FrameColumns {
    /// One string section of a column frame, read value by value (docs/FORMAT.md, "Column
    /// frames"): plain `str`s, codes into a table of values, or codes into a table of prefixes
    /// each followed by hex digits packed two to a byte.
    struct StringColumn {
        private let mode: Mode
        /// Plain: the values. Otherwise the packed codes, then (hex) the digits.
        private var reader: ByteReader
        /// The table's entries: where each lies in the section — for a dictionary the whole
        /// `str` (length and bytes, copied as it is), for a prefix table the bytes only.
        private var table: [Range<Int>] = []
        private var codes: BitReader
        /// Hex: each value's digit count, read before the digits.
        private var digitCounts = ByteReader(UnsafeRawBufferPointer(start: nil, count: 0))

        init(_ section: ByteReader, count m: Int) throws(FormatError) {
            var r = section
            guard m > 0 else {
                // No values: an empty plain column, which any read finds short.
                mode = .plain
                reader = r
                codes = BitReader()
                return
            }
            guard let mode = Mode(rawValue: try r.readUInt8("string column mode")) else {
                throw FormatError(.malformed, "unknown string column mode", offset: 0)
            }
            self.mode = mode
            codes = BitReader()
            if mode != .plain {
                let d = try r.readVarint("table size")
                guard d >= 1, d <= UInt64(m) else { throw FormatError(.malformed, "table of \(d) values for \(m) records", offset: r.offset) }
                table.reserveCapacity(Int(d))
                for _ in 0..<Int(d) {
                    let (value, start) = try r.readStringBytes("table value")
                    table.append((mode == .dictionary ? start : r.offset - value.count)..<r.offset)
                }
                let width = Int(try r.readUInt8("code width"))
                guard width <= 32 else { throw FormatError(.malformed, "code width \(width)", offset: r.offset - 1) }
                let packed = (m * width + 7) / 8
                codes = BitReader(try r.readBytes(packed, "codes"), width: width, limit: UInt32(d))
            }
            if mode == .hexSuffix {
                // The counts are read as the values are; the digits follow them. (That they
                // fill the rest exactly is checked at the end, with everything read.)
                let start = r.offset
                try r.skipVarints(m, "digit count")
                digitCounts = ByteReader(UnsafeRawBufferPointer(rebasing: r.buffer[start..<r.offset]))
            }
            reader = r
        }

        /// Writes the next value as a `str`: its length, then its bytes.
        @inline(__always)
        mutating func writeNext(to out: inout Output) throws(FormatError) {
            switch mode {
            case .dictionary:
                try out.write(try tableEntry())
            case .plain:
                let start = reader.offset
                let length = try reader.readVarint("string length")
                guard length <= UInt64(reader.remaining) else { throw FormatError(.truncated, "string runs past its column", offset: start) }
                _ = try reader.readBytes(Int(length))
                try out.write(UnsafeRawBufferPointer(rebasing: reader.buffer[start..<reader.offset]))
            case .hexSuffix:
                let prefix = try tableEntry()
                let digits = try nextDigitCount()
                try out.writeVarint(UInt64(prefix.count + digits))
                try out.write(prefix)
                let packed = try reader.readBytes((digits + 1) / 2)
                let room = try out.room(digits)
                for i in 0..<(digits / 2) {
                    room.storeBytes(of: FrameColumns.hexPairs[Int(packed[i])].littleEndian, toByteOffset: 2 * i, as: UInt16.self)
                }
                if digits & 1 == 1 {
                    let last = packed[digits / 2]
                    guard last & 0x0F == 0 else { throw FormatError(.malformed, "odd hex digit count with a nonzero last nibble", offset: reader.offset - 1) }
                    room.storeBytes(of: FrameColumns.hexDigit(last >> 4), toByteOffset: digits - 1, as: UInt8.self)
                }
            }
        }

        /// Moves past the next `n` values without writing them.
        mutating func skip(_ n: Int) throws(FormatError) {
            switch mode {
            case .dictionary:
                try codes.skip(n)
            case .plain:
                for _ in 0..<n {
                    let start = reader.offset
                    let length = try reader.readVarint("string length")
                    guard length <= UInt64(reader.remaining) else { throw FormatError(.truncated, "string runs past its column", offset: start) }
                    _ = try reader.readBytes(Int(length))
                }
            case .hexSuffix:
                try codes.skip(n)
                var bytes = 0
                for _ in 0..<n { bytes += (try nextDigitCount() + 1) / 2 }
                _ = try reader.readBytes(bytes)
            }
        }

        /// A hex value's digit count: at most what the digits left could hold.
        @inline(__always)
        private mutating func nextDigitCount() throws(FormatError) -> Int {
            let c = try digitCounts.readVarint("digit count")
            guard c <= UInt64(reader.remaining) * 2 else { throw FormatError(.truncated, "\(c) hex digits run past the column", offset: reader.offset) }
            return Int(c)
        }

        @inline(__always)
        private mutating func tableEntry() throws(FormatError) -> UnsafeRawBufferPointer {
            let code = Int(try codes.next())
            return UnsafeRawBufferPointer(rebasing: reader.buffer[table[code]])
        }

        /// Every value read: nothing left in the column, no bits set past the last code.
        func checkConsumed() throws(FormatError) {
            guard reader.isAtEnd, digitCounts.isAtEnd, codes.isExhausted else { throw FormatError(.malformed, "string column has bytes no record reads", offset: reader.offset) }
        }
    }

    /// Codes of a fixed width packed least significant bit first.
    struct BitReader {
        private var bytes = UnsafeRawBufferPointer(start: nil, count: 0)
        private var position = 0
        private var buffered: UInt64 = 0
        private var bufferedBits = 0
        private var width = 0
        private var limit: UInt32 = 1

        init() {}

        init(_ bytes: UnsafeRawBufferPointer, width: Int, limit: UInt32) {
            self.bytes = bytes
            self.width = width
            self.limit = limit
        }

        @inline(__always)
        mutating func next() throws(FormatError) -> UInt32 {
            while bufferedBits < width {
                guard position < bytes.count else { throw FormatError(.truncated, "codes run out", offset: position) }
                buffered |= UInt64(bytes[position]) << UInt64(bufferedBits)
                position += 1
                bufferedBits += 8
            }
            let code = UInt32(truncatingIfNeeded: buffered & ((1 << UInt64(width)) - 1))
            buffered >>= UInt64(width)
            bufferedBits -= width
            guard code < limit else { throw FormatError(.malformed, "code \(code) of a table of \(limit)", offset: position) }
            return code
        }

        /// Moves past the next `n` codes without reading them (nor checking them against the
        /// table: a sparse read does not use them).
        mutating func skip(_ n: Int) throws(FormatError) {
            var bits = n * width
            if bits <= bufferedBits {
                buffered >>= UInt64(bits)
                bufferedBits -= bits
                return
            }
            bits -= bufferedBits
            buffered = 0
            bufferedBits = 0
            let whole = bits / 8
            let rest = bits % 8
            guard whole + (rest > 0 ? 1 : 0) <= bytes.count - position else { throw FormatError(.truncated, "codes run out", offset: position) }
            position += whole
            if rest > 0 {
                buffered = UInt64(bytes[position]) >> UInt64(rest)
                bufferedBits = 8 - rest
                position += 1
            }
        }

        /// All bytes read and the bits left after the last code zero.
        var isExhausted: Bool { position == bytes.count && buffered == 0 }
    }
}
