import CAuditLogLZ4

/// The LZ4 block codec used inside frames. The frame header carries both lengths, so only the
/// raw block API is needed.
enum Compression {
    /// Compresses `source` into `destination` (resized as needed) with LZ4's fast encoder.
    /// Returns the compressed size, or `nil` when LZ4 cannot compress (the caller then stores
    /// the payload raw).
    static func compress(_ source: UnsafeRawBufferPointer, into destination: inout [UInt8]) -> Int? {
        compress(source, into: &destination) { LZ4_compress_default($0, $1, $2, $3) }
    }

    /// The same with LZ4's high-compression encoder (same block format, same decoder; several
    /// times slower to write, for data written once off the append path: index files) on
    /// `state`, which a caller compressing one block after another keeps: `LZ4_compress_HC` would
    /// allocate and initialise a new one (~256 KiB) for every block.
    static func compress(_ source: UnsafeRawBufferPointer, into destination: inout [UInt8], state: inout HighCompressionState) -> Int? {
        state.bytes.withUnsafeMutableBytes { statePointer in
            compress(source, into: &destination) { LZ4_compress_HC_extStateHC(statePointer.baseAddress, $0, $1, $2, $3, Self.highLevel) }
        }
    }

    /// The state of LZ4's high-compression encoder, reused from one call to the next.
    struct HighCompressionState {
        fileprivate var bytes = [UInt8](repeating: 0, count: Int(LZ4_sizeofStateHC()))
    }

    private static func compress(
        _ source: UnsafeRawBufferPointer, into destination: inout [UInt8],
        _ encoder: (UnsafePointer<CChar>, UnsafeMutablePointer<CChar>, Int32, Int32) -> Int32
    ) -> Int? {
        guard source.count > 0, source.count <= Int(LZ4_MAX_INPUT_SIZE), let base = source.baseAddress else { return nil }
        let bound = Int(LZ4_compressBound(Int32(source.count)))
        if destination.count < bound {
            destination = [UInt8](repeating: 0, count: bound)
        }
        let written = destination.withUnsafeMutableBytes { dst -> Int32 in
            guard let out = dst.baseAddress else { return 0 }
            return encoder(base.assumingMemoryBound(to: CChar.self), out.assumingMemoryBound(to: CChar.self), Int32(source.count), Int32(dst.count))
        }
        return written > 0 ? Int(written) : nil
    }

    /// LZ4HC level for index files. Measured on index sections of 33,000 generated events: level
    /// 4 writes them 2.6 times faster than level 9 (LZ4's default) for 2 % more bytes.
    static let highLevel: Int32 = 4

    /// Decompresses the first `prefix` bytes (fewer than `rawLength`) of a block that
    /// decompresses to `rawLength` into `destination`, sized for the whole: LZ4 stops there (a
    /// sparse read of a row frame's first records). Returns the bytes written, fewer than
    /// `prefix` only when the block holds less (damage a whole decode then names).
    static func decompressPrefix(
        _ source: UnsafeRawBufferPointer, prefix: Int, rawLength: Int, into destination: inout [UInt8]
    ) throws(FormatError) -> Int {
        guard source.count > 0, let src = source.baseAddress else {
            throw FormatError(.malformed, "empty LZ4 block", offset: 0)
        }
        if destination.count < rawLength {
            destination = [UInt8](unsafeUninitializedCapacity: rawLength) { _, initialized in initialized = rawLength }
        }
        let produced = destination.withUnsafeMutableBufferPointer { dst in
            LZ4_decompress_safe_partial(
                src.assumingMemoryBound(to: CChar.self), UnsafeMutableRawPointer(dst.baseAddress)?.assumingMemoryBound(to: CChar.self),
                Int32(source.count), Int32(min(prefix, rawLength)), Int32(rawLength))
        }
        guard produced >= 0 else { throw FormatError(.malformed, "LZ4 block does not decode", offset: 0) }
        return Int(produced)
    }

    /// Decompresses exactly `rawLength` bytes or throws; never writes past `rawLength`.
    static func decompress(
        _ source: UnsafeRawBufferPointer, rawLength: Int, into destination: inout [UInt8]
    ) throws(FormatError) {
        guard source.count > 0, let src = source.baseAddress else {
            throw FormatError(.malformed, "empty LZ4 block", offset: 0)
        }
        func decode(into dst: UnsafeMutablePointer<UInt8>?) -> Int32 {
            LZ4_decompress_safe(
                src.assumingMemoryBound(to: CChar.self), UnsafeMutableRawPointer(dst)?.assumingMemoryBound(to: CChar.self),
                Int32(source.count), Int32(rawLength))
        }
        let produced: Int32
        if destination.count < rawLength {
            // A new buffer of exactly `rawLength` bytes, written once by the decoder (not
            // zeroed first: index sections and cold frames are megabytes).
            var n: Int32 = 0
            destination = [UInt8](unsafeUninitializedCapacity: rawLength) { dst, initialized in
                n = decode(into: dst.baseAddress)
                initialized = n == Int32(rawLength) ? rawLength : 0
            }
            produced = n
        } else {
            produced = destination.withUnsafeMutableBufferPointer { decode(into: $0.baseAddress) }
        }
        guard produced == Int32(rawLength) else {
            throw FormatError(.malformed, "LZ4 block decodes to \(produced) bytes, header says \(rawLength)", offset: 0)
        }
    }
}
