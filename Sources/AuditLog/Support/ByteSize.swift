/// Sizes as people write them: `500MB`, `50GB` (powers of 1000), `1GiB` (powers of 1024), or
/// plain bytes.
package enum ByteSize {
    package static func parse(_ text: String) -> Int64? {
        let units: [(String, Double)] = [
            ("KiB", 1024), ("MiB", 1_048_576), ("GiB", 1_073_741_824), ("TiB", 1_099_511_627_776),
            ("KB", 1e3), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12), ("B", 1),
        ]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            guard let n = Double(text.dropLast(suffix.count)), n >= 0 else { return nil }
            return Int64(n * factor)
        }
        guard let n = Int64(text), n >= 0 else { return nil }
        return n
    }
}
