/// Where the record encoder (``AuditEvent/encodeRecord(id:to:)``) and the transcoders
/// (``RecordJSON``, ``RecordCSV``, the timestamp and id writers) put their bytes: an array, or
/// room reserved at an array's end (``ReservedRoom``), which takes a write with one bounds check
/// and a store or a copy instead of an array append's uniqueness and capacity checks and calls
/// (a fifth of an export's time when the export wrote to arrays).
protocol ByteSink {
    /// Bytes written.
    var count: Int { get }
    /// Calls `body` with the bytes written.
    func withWritten<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R
    /// Appends one byte.
    mutating func append(_ byte: UInt8)
    /// Appends a copy of `bytes`.
    mutating func append(raw bytes: UnsafeRawBufferPointer)
    /// Appends `count` bytes that `write` fills in; it is given exactly `count` bytes.
    mutating func append(count: Int, _ write: (UnsafeMutableRawBufferPointer) -> Void)
}

extension ByteSink {
    /// Appends the UTF-8 of a static string.
    @inline(__always)
    mutating func append(_ text: StaticString) {
        append(raw: UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }
}

/// The record encoding's pieces (docs/FORMAT.md, "Record"), on any sink.
extension ByteSink {
    @inline(__always)
    mutating func appendLittleEndian(_ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { append(raw: $0) }
    }

    @inline(__always)
    mutating func appendLittleEndian(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { append(raw: $0) }
    }

    /// Unsigned LEB128, in one append.
    @inline(__always)
    mutating func appendVarint(_ value: UInt64) {
        guard value >= 0x80 else { return append(UInt8(value)) }
        var encoded: (UInt64, UInt64) = (0, 0)  // at most 10 bytes
        let count = withUnsafeMutableBytes(of: &encoded) { out in
            var v = value
            var n = 0
            while v >= 0x80 {
                out[n] = UInt8(truncatingIfNeeded: v) | 0x80
                v >>= 7
                n += 1
            }
            out[n] = UInt8(v)
            return n + 1
        }
        withUnsafeBytes(of: &encoded) { append(raw: UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
    }

    /// A `str`: the varint byte count, then the UTF-8.
    @inline(__always)
    mutating func appendString(_ string: String) {
        string.withUTF8Bytes { utf8 in
            appendVarint(UInt64(utf8.count))
            append(raw: utf8)
        }
    }
}

extension Array: ByteSink where Element == UInt8 {
    func withWritten<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R { withUnsafeBytes(body) }

    mutating func append(raw bytes: UnsafeRawBufferPointer) { append(contentsOf: bytes) }

    mutating func append(count: Int, _ write: (UnsafeMutableRawBufferPointer) -> Void) {
        append(addingCapacity: count) { span in
            span.withUnsafeMutableBufferPointer { buffer, initialized in
                let room = UnsafeMutableRawBufferPointer(start: buffer.baseAddress, count: count)
                room.initializeMemory(as: UInt8.self, repeating: 0)
                write(room)
                initialized = count
            }
        }
    }

    /// Appends what `write` puts in at most `bound` bytes of room reserved at the end (grown
    /// as `append` grows it) and returns true; when the writes outgrow `bound` appends nothing
    /// and returns false, and the caller writes again through the array. An error from `write`
    /// appends nothing.
    mutating func append<E: Error>(within bound: Int, _ write: (inout ReservedRoom) throws(E) -> Void) throws(E) -> Bool {
        var fitted = false
        try append(addingCapacity: bound) { (span: inout OutputSpan<UInt8>) throws(E) in
            try span.withUnsafeMutableBufferPointer { (buffer, initialized) throws(E) in
                guard let base = buffer.baseAddress else { return }
                var room = ReservedRoom(start: base, capacity: bound)
                try write(&room)
                guard !room.overflowed else { return }
                initialized = room.count
                fitted = true
            }
        }
        return fitted
    }
}

/// Room reserved at the end of an array and written through a pointer: a write that does not
/// fit is dropped and marks the room ``overflowed`` (``Array/append(within:_:)`` then appends
/// nothing), so no input can write past the room, whatever bound its caller guessed.
struct ReservedRoom: ByteSink {
    private let start: UnsafeMutablePointer<UInt8>
    private let capacity: Int
    /// Bytes written.
    private(set) var count = 0
    /// Whether a write did not fit.
    private(set) var overflowed = false

    fileprivate init(start: UnsafeMutablePointer<UInt8>, capacity: Int) {
        self.start = start
        self.capacity = capacity
    }

    func withWritten<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        body(UnsafeRawBufferPointer(start: start, count: count))
    }

    /// Makes the append that reserved this room add nothing, as if a write had not fitted.
    mutating func abandon() { overflowed = true }

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        guard count < capacity else {
            overflowed = true
            return
        }
        (start + count).initialize(to: byte)
        count &+= 1
    }

    @inline(__always)
    mutating func append(raw bytes: UnsafeRawBufferPointer) {
        guard bytes.count <= capacity &- count else {
            overflowed = true
            return
        }
        if let source = bytes.baseAddress {
            Self.copy(source, to: UnsafeMutableRawPointer(start + count), bytes.count)
        }
        count &+= bytes.count
    }

    /// Copies `n` bytes; up to 32 (most strings and every varint the encoders write) as two
    /// overlapping loads and stores of the first and last words, reading nothing outside
    /// either range, instead of a call to `memmove` per value.
    @inline(__always)
    private static func copy(_ from: UnsafeRawPointer, to: UnsafeMutableRawPointer, _ n: Int) {
        switch n {
        case 8...16:
            let head = from.loadUnaligned(as: UInt64.self)
            let tail = from.loadUnaligned(fromByteOffset: n &- 8, as: UInt64.self)
            to.storeBytes(of: head, as: UInt64.self)
            to.storeBytes(of: tail, toByteOffset: n &- 8, as: UInt64.self)
        case 17...32:
            let head = from.loadUnaligned(as: SIMD16<UInt8>.self)
            let tail = from.loadUnaligned(fromByteOffset: n &- 16, as: SIMD16<UInt8>.self)
            to.storeBytes(of: head, as: SIMD16<UInt8>.self)
            to.storeBytes(of: tail, toByteOffset: n &- 16, as: SIMD16<UInt8>.self)
        case 4..<8:
            let head = from.loadUnaligned(as: UInt32.self)
            let tail = from.loadUnaligned(fromByteOffset: n &- 4, as: UInt32.self)
            to.storeBytes(of: head, as: UInt32.self)
            to.storeBytes(of: tail, toByteOffset: n &- 4, as: UInt32.self)
        case 1..<4:
            // One to three bytes: the first, the middle, the last (some the same).
            to.storeBytes(of: from.load(as: UInt8.self), as: UInt8.self)
            to.storeBytes(of: from.load(fromByteOffset: n >> 1, as: UInt8.self), toByteOffset: n >> 1, as: UInt8.self)
            to.storeBytes(of: from.load(fromByteOffset: n &- 1, as: UInt8.self), toByteOffset: n &- 1, as: UInt8.self)
        case 0:
            break
        default:
            to.copyMemory(from: from, byteCount: n)
        }
    }

    @inline(__always)
    mutating func append(count n: Int, _ write: (UnsafeMutableRawBufferPointer) -> Void) {
        guard n <= capacity &- count else {
            overflowed = true
            return
        }
        write(UnsafeMutableRawBufferPointer(start: start + count, count: n))
        count &+= n
    }
}
