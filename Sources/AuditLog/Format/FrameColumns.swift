/// Frame codec 2, *columns* (docs/FORMAT.md, "Column frames"): a frame's records split by
/// field into one column each — the times as deltas, a compact id's time as its distance from
/// the record's, every string field dictionary-coded or hex-packed — and the columns compressed
/// as one LZ4 block. It decodes to exactly the payload codecs 0 and 1 hold (each record's
/// length and bytes), so everything above the frame reads, hashes and indexes the same bytes.
///
/// LZ4 finds repeats but does not entropy-code: in a row payload every repeated user, model or
/// key costs a match of two or three bytes and every hex digit of a request id a whole byte.
/// Split into columns, a repeated value is a code of a few bits and a hex digit half a byte.
enum FrameColumns {
    /// How the codec splits field bits 0–20 of a record (docs/FORMAT.md, "Record"): bits 21–25
    /// (policies, redactions, resource, details, extra) go whole into the tail.
    enum Kind: Sendable {
        case byte, string, varint
    }

    static let fieldKinds: [Kind] =
        [.byte] + Array(repeating: .string, count: 8) + Array(repeating: .varint, count: 6) + [.byte] + Array(repeating: .string, count: 5)

    /// The body's sections, in order: times, presences, compact ids' times, compact ids'
    /// random bits, text ids, event types, one per field bit 0–20, the tail.
    enum Section {
        static let times = 0
        static let presences = 1
        static let idTimes = 2
        static let idRandom = 3
        static let textIDs = 4
        static let eventTypes = 5
        static func field(_ bit: Int) -> Int { 6 + bit }
        static let tail = 27
        static let count = 28
    }

    /// The sections that hold string columns: text ids, event types, the string fields.
    static let stringSections = [Section.textIDs, Section.eventTypes] + (0..<21).filter { fieldKinds[$0] == .string }.map(Section.field)

    static let tailMask: UInt32 = 0b11111 << 21
    static let compactIDMask: UInt32 = 1 << 26
    static let knownMask: UInt32 = (1 << 27) - 1
    /// Every field (presence bits 0–25).
    static let allFields: UInt32 = (1 << 26) - 1

    /// String column modes.
    enum Mode: UInt8 {
        case plain = 0, dictionary = 1, hexSuffix = 2
    }

    /// The largest body a reader accepts: a column body is never much larger than the records
    /// it holds (a varint of a time is at most two bytes longer than the time).
    static let maxBodyBytes = FrameHeader.maxRawPayloadBytes + (1 << 20)

    /// Whether `byte` is a lowercase hex digit.
    @inline(__always)
    static func isHexDigit(_ byte: UInt8) -> Bool { (byte &- 0x30) < 10 || (byte &- 0x61) < 6 }

    @inline(__always)
    static func hexValue(_ byte: UInt8) -> UInt8 { byte < 0x61 ? byte &- 0x30 : byte &- 0x61 &+ 10 }

    @inline(__always)
    static func hexDigit(_ nibble: UInt8) -> UInt8 { nibble < 10 ? 0x30 &+ nibble : 0x61 &+ nibble &- 10 }

    /// Each byte's two hex digits, as they lie in memory (the high nibble's first).
    static let hexPairs: [UInt16] = (0..<256).map { byte in
        UInt16(hexDigit(UInt8(byte >> 4))) | UInt16(hexDigit(UInt8(byte & 0x0F))) << 8
    }
}
