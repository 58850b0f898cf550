/// A log directory (docs/FORMAT.md, "Directory layout"): every file name in it, and the one
/// owner of its files' lifecycle — segments, the files derived from each segment (its index,
/// the active segment's index checkpoint, the bytes a recovery kept), temporary files. Every
/// file operation of the library goes through here, on the log's ``FileSystem``.
///
/// What a derived file holds is the business of the layer that writes it (Index, for indexes
/// and checkpoints); that it exists, is named after its segment, and goes when its segment
/// goes, is this type's.
struct LogDirectory: Sendable {
    /// The directory, without a trailing slash.
    let path: String
    let fileSystem: any FileSystem

    init(path: String, fileSystem: any FileSystem = PosixFileSystem()) {
        var d = path
        while d.count > 1 && d.hasSuffix("/") { d.removeLast() }
        self.path = d
        self.fileSystem = fileSystem
    }

    // MARK: Names

    static let manifestName = LogManifest.fileName
    static let segmentSuffix = ".seg"
    /// In the names of temporary files of atomic writes (`<target>.tmp-<pid>-<random>`).
    static let temporaryInfix = ".tmp-"
    /// In the names of bytes a recovery cut and kept (`<segment>.cut-<offset>`).
    static let keptInfix = ".cut-"

    /// The files derived from a segment, named after it.
    enum Derived: CaseIterable {
        /// The sidecar index of a sealed segment (`.idx`).
        case index
        /// A checkpoint of the active segment's index (`.aidx`).
        case checkpoint

        var suffix: String {
            switch self {
            case .index: ".idx"
            case .checkpoint: ".aidx"
            }
        }
    }

    var manifestPath: String { path + "/" + Self.manifestName }
    var lockPath: String { path + "/LOCK" }
    var segmentsPath: String { path + "/segments" }

    /// `00000000000000000001.seg`: the first seq, 20 digits.
    static func segmentName(firstSeq: SequenceNumber) -> String {
        let digits = String(firstSeq.rawValue)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + segmentSuffix
    }

    /// The first seq a segment file name says, or nil when the name is not a segment's.
    static func firstSeq(ofSegment name: String) -> SequenceNumber? {
        guard name.hasSuffix(segmentSuffix), name.utf8.count == 20 + segmentSuffix.utf8.count,
            name.utf8.prefix(20).allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else { return nil }
        guard let value = UInt64(name.prefix(20)), value >= 1 else { return nil }
        return SequenceNumber(value)
    }

    /// The name of a derived file of `segment` (a segment file name).
    static func name(of derived: Derived, forSegment segment: String) -> String {
        String(segment.dropLast(segmentSuffix.count)) + derived.suffix
    }

    /// The path as errors and reports show it: relative to the log directory.
    static func displayName(_ name: String) -> String { "segments/" + name }

    func segmentPath(_ name: String) -> String { segmentsPath + "/" + name }

    // MARK: Listing and opening

    /// Segment file names, in seq order.
    func segmentNames() throws(AuditLogError) -> [String] {
        guard fileSystem.isDirectory(segmentsPath) else { return [] }
        return try fileSystem.listDirectory(segmentsPath).filter { Self.firstSeq(ofSegment: $0) != nil }.sorted()
    }

    func exists(_ name: String) -> Bool { fileSystem.fileExists(segmentPath(name)) }

    /// Opens a file of `segments/` for reading.
    func open(_ name: String) throws(AuditLogError) -> any SegmentFile {
        try fileSystem.openForReading(segmentPath(name), displayName: Self.displayName(name))
    }

    /// Opens a file of `segments/` for writing; `create` makes a new one, which must not exist.
    func openForWriting(_ name: String, create: Bool = false) throws(AuditLogError) -> any SegmentFile {
        try fileSystem.openForWriting(segmentPath(name), displayName: Self.displayName(name), create: create, exclusive: create)
    }

    /// Opens a derived file of `segment`, or nil when there is none.
    func openDerived(_ derived: Derived, of segment: String) throws(AuditLogError) -> (any SegmentFile)? {
        let name = Self.name(of: derived, forSegment: segment)
        guard exists(name) else { return nil }
        return try open(name)
    }

    /// The size of a derived file of `segment`, 0 when there is none.
    func size(of derived: Derived, of segment: String) -> Int64 {
        guard let file = try? openDerived(derived, of: segment) else { return 0 }
        return (try? file.size()) ?? 0
    }

    // MARK: Creating and removing

    /// Creates the directory and `segments/`.
    func create() throws(AuditLogError) {
        try fileSystem.makeDirectory(path)
        try fileSystem.makeDirectory(segmentsPath)
    }

    /// Writes a derived file of `segment` atomically.
    func writeDerived(_ bytes: [UInt8], _ derived: Derived, of segment: String) throws(AuditLogError) {
        let name = Self.name(of: derived, forSegment: segment)
        try fileSystem.writeAtomically(bytes, to: segmentPath(name), directory: segmentsPath, displayName: Self.displayName(name))
    }

    /// Removes a derived file of `segment`, if there is one.
    func removeDerived(_ derived: Derived, of segment: String) throws(AuditLogError) {
        let name = Self.name(of: derived, forSegment: segment)
        if exists(name) { try fileSystem.remove(segmentPath(name)) }
    }

    /// Removes a segment file and every file derived from it. The caller syncs the directory.
    func removeSegment(_ name: String) throws(AuditLogError) {
        try fileSystem.remove(segmentPath(name))
        for derived in Derived.allCases { try removeDerived(derived, of: name) }
    }

    /// Makes the entries of `segments/` durable.
    func syncSegments() throws(AuditLogError) {
        try fileSystem.syncDirectory(segmentsPath)
    }

    /// Keeps bytes a recovery cut from `segment` at `offset` in a file of their own, durably,
    /// under a name not yet taken (a second cut at the same offset never replaces the first
    /// one's evidence). Returns the name.
    func keep(_ bytes: [UInt8], cutFrom segment: String, at offset: Int64) throws(AuditLogError) -> String {
        let base = segment + Self.keptInfix + String(offset)
        var name = base
        var n = 1
        while exists(name) {
            n += 1
            name = base + "-\(n)"
        }
        try fileSystem.writeAtomically(bytes, to: segmentPath(name), directory: segmentsPath, displayName: Self.displayName(name))
        return name
    }

    /// The kept cut files, in name order.
    func keptFiles() throws(AuditLogError) -> [String] {
        guard fileSystem.isDirectory(segmentsPath) else { return [] }
        return try fileSystem.listDirectory(segmentsPath).filter { name in
            Self.firstSeq(ofSegment: String(name.prefix(24))) != nil && name.dropFirst(24).hasPrefix(Self.keptInfix)
                && !name.contains(Self.temporaryInfix)
        }.sorted()
    }

    /// What a writer clears at open: temporary files a crash left, derived files whose segment
    /// is gone (a sweep deleted it before the crash), and checkpoints of any segment but the
    /// active one (sealed or deleted since they were written).
    func removeLeftovers(activeSegment: String?) throws(AuditLogError) {
        let names = try fileSystem.listDirectory(segmentsPath)
        let segments = Set(names.filter { Self.firstSeq(ofSegment: $0) != nil })
        for name in names where name.contains(Self.temporaryInfix) {
            try fileSystem.remove(segmentPath(name))
        }
        for derived in Derived.allCases {
            for name in names where name.hasSuffix(derived.suffix) && !name.contains(Self.temporaryInfix) {
                let segment = String(name.dropLast(derived.suffix.count)) + Self.segmentSuffix
                let orphan = !segments.contains(segment)
                if orphan || (derived == .checkpoint && segment != activeSegment) { try fileSystem.remove(segmentPath(name)) }
            }
        }
    }
}
