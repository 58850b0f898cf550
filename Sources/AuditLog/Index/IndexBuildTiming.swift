/// The index build a segment's seal runs (decode the records, columns, rollups, the encoded
/// file), over every sealed segment of a log, without writing: for the comparison tool's
/// `--profile index-build`, which times it apart from the appends it competes with for a core.
/// Not API: SPI for the benchmarks.
@_spi(Testing)
public enum IndexBuildTiming {
    /// Builds and encodes the index of every sealed segment of the log at `path`; returns the
    /// records indexed and the bytes the index files would take.
    public static func buildSealed(directory path: String) throws(AuditLogError) -> (records: Int, bytes: Int) {
        let directory = LogDirectory(path: path)
        let catalog = try LogCatalog.load(directory, repair: false)
        var records = 0
        var bytes = 0
        for segment in catalog.segments where segment.isSealed {
            let data = try IndexStore.build(directory, segment: segment, from: nil)
            bytes += IndexFile.encode(data, segment: segment).count
            records += data.recordCount
        }
        return (records, bytes)
    }
}
