import CAuditLogXXHash

/// XXH3-64 with seed 0, the corruption check on frames, headers and footers.
enum Checksum {
    static func xxh3(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        XXH3_64bits(bytes.baseAddress, bytes.count)
    }

    static func xxh3(_ bytes: [UInt8]) -> UInt64 {
        bytes.withUnsafeBytes { xxh3($0) }
    }

    /// The checksum of two adjacent regions as if they were one (frame header, then payload).
    static func xxh3(_ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer) -> UInt64 {
        guard let state = XXH3_createState() else {
            // Allocation failure: fall back to a contiguous copy.
            return xxh3(Array(first) + Array(second))
        }
        defer { XXH3_freeState(state) }
        XXH3_64bits_reset(state)
        XXH3_64bits_update(state, first.baseAddress, first.count)
        XXH3_64bits_update(state, second.baseAddress, second.count)
        return XXH3_64bits_digest(state)
    }
}
