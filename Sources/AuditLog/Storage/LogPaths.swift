/// File names inside a log directory (docs/FORMAT.md, "Directory layout").
struct LogPaths: Sendable {
    let directory: String

    init(directory: String) {
        var d = directory
        while d.count > 1 && d.hasSuffix("/") { d.removeLast() }
        self.directory = d
    }

    var manifest: String { directory + "/" + LogManifest.fileName }
    var lock: String { directory + "/LOCK" }
    var segmentsDirectory: String { directory + "/segments" }

    static let segmentSuffix = ".seg"

    /// `segments/00000000000000000001.seg`: the first seq, 20 digits.
    static func segmentFileName(firstSeq: SequenceNumber) -> String {
        let digits = String(firstSeq.rawValue)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + segmentSuffix
    }

    /// The first seq encoded in a segment file name, or nil when the name is not one.
    static func firstSeq(ofSegmentFileName name: String) -> SequenceNumber? {
        guard name.hasSuffix(segmentSuffix), name.utf8.count == 20 + segmentSuffix.utf8.count else { return nil }
        guard let value = UInt64(name.prefix(20)), value >= 1 else { return nil }
        return SequenceNumber(value)
    }

    func segmentPath(_ fileName: String) -> String { segmentsDirectory + "/" + fileName }

    /// The path as shown in errors: relative to the log directory.
    static func displayName(_ fileName: String) -> String { "segments/" + fileName }
}
