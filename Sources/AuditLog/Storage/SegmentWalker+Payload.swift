extension SegmentWalker {
    /// How much of a frame's payload to read.
    enum Payload: Equatable {
        /// Headers only: moving through frames whose checksums are checked elsewhere (a
        /// sealed segment's frames are checked when their records are read).
        case skip
        /// Read it and check its checksum.
        case check
        /// Check it, decompress it and find its records (``records``).
        case decompress
        /// As ``decompress``, but a frame asked for at most a quarter of its records reads less:
        /// a column frame rebuilds only those at these ordinals (ascending, within the frame),
        /// an LZ4 row frame decompresses only as far as the last of them likely ends (when that
        /// is short of its end; the whole when the guess turns out short).
        /// ``records`` then holds an empty range for each record left out, and ``isSparse`` is
        /// true.
        case sparse([Int])
        /// As ``decompress``, but the records of a column frame keep only the fields of this
        /// mask of presence bits 0–25 (what an index reads), the other fields' columns unread.
        case fields(UInt32)

        /// What is done with `h`'s payload: ``sparse(_:)`` only for a quarter of its records at
        /// most, of a column frame or of an LZ4 row frame whose likely prefix is short of its
        /// end; ``fields(_:)`` only for a column frame; else ``decompress``.
        func applied(to h: FrameHeader) -> Payload {
            switch self {
            case .sparse(let ordinals) where ordinals.count > Self.mostReadInPart(of: h.recordCount): .decompress
            case .sparse(let ordinals) where h.codec == .lz4:
                Self.prefixEstimate(through: ordinals.last ?? 0, of: h) < Int(h.rawLengthBytes) ? self : .decompress
            case .sparse where h.codec != .columns: .decompress
            case .fields where h.codec != .columns: .decompress
            default: self
            }
        }

        /// The most records of a frame of `count` a read in part is for: a quarter of them.
        static func mostReadInPart(of count: UInt32) -> Int { Int(count) / 4 }

        /// How many bytes of the payload of row frame `h` likely hold its records up to ordinal
        /// `last`: their share of it, a sixteenth more and two records' worth (records vary in
        /// length; a short guess costs a second, whole decompression, a long one bytes
        /// decompressed for nothing — none of 60,000 guesses in the `users-days` profile at 10M
        /// events fell short).
        static func prefixEstimate(through last: Int, of h: FrameHeader) -> Int {
            let average = Int(h.rawLengthBytes) / max(1, Int(h.recordCount))
            let end = (last + 1) * average
            return end + end / 16 + 2 * average + 64
        }
    }
}
