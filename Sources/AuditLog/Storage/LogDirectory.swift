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
    /// How archived segments are read (nil: the log has no archive, or it is not reachable
    /// from here; opening an evicted segment then fails naming its object).
    var remote: RemoteReads?

    init(path: String, fileSystem: any FileSystem = PosixFileSystem()) {
        var d = path
        while d.count > 1 && d.hasSuffix("/") { d.removeLast() }
        self.path = d
        self.fileSystem = fileSystem
    }

    // MARK: Names

    static let manifestName = LogManifest.fileName
    static let segmentSuffix = ".seg"
    /// Digits of the first seq in a segment's name (zero-padded: UInt64.max has 20).
    static let segmentDigits = 20
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
        /// The receipt of the segment's upload to the archive (`.arc`, ``ArchiveReceipt``);
        /// once the local copy is evicted, it stands in for the segment.
        case archived

        /// Whether a file of this kind is synced when written (the file, then the directory):
        /// a receipt stands in for an evicted segment and a checkpoint is what a clean close
        /// leaves, but a sealed segment's index is not. It is derived data that a power cut
        /// costs only a rebuild (FORMAT.md, "Index file"), and its syncs — the file's and the
        /// directory's, one pair per seal — held up the writer's next seal or roll in
        /// `segments/` behind them.
        var isSynced: Bool { self != .index }

        var suffix: String {
            switch self {
            case .index: ".idx"
            case .checkpoint: ".aidx"
            case .archived: ".arc"
            }
        }
    }

    var manifestPath: String { path + "/" + Self.manifestName }
    var lockPath: String { path + "/LOCK" }
    var segmentsPath: String { path + "/segments" }
    /// Where the archive's location is remembered (docs/ARCHIVE.md).
    var archiveConfigPath: String { path + "/archive.json" }
    /// The local cache of archived bytes read back.
    var archiveCachePath: String { path + "/archive-cache" }
    /// The tree size of the newest checkpoint archived with its tiles (decimal text).
    var archivedTreePath: String { path + "/archive-tree" }

    /// The tree size ``archivedTreePath`` records, 0 when none (or unreadable: the tiles are
    /// then uploaded again, write-once, which is harmless).
    func archivedTreeSize() -> UInt64 {
        guard fileSystem.fileExists(archivedTreePath), let bytes = try? fileSystem.openForReading(archivedTreePath, displayName: "archive-tree").readAll() else { return 0 }
        return UInt64(String(decoding: bytes.filter { $0 != 0x0A }, as: UTF8.self)) ?? 0
    }

    func setArchivedTreeSize(_ size: UInt64) throws(AuditLogError) {
        try fileSystem.writeAtomically(Array("\(size)\n".utf8), to: archivedTreePath, directory: path, displayName: "archive-tree")
    }

    /// `00000000000000000001.seg`: the first seq, 20 digits.
    static func segmentName(firstSeq: SequenceNumber) -> String {
        // Written digit by digit: every open names each catalogued segment.
        let length = segmentDigits + segmentSuffix.utf8.count
        return String(unsafeUninitializedCapacity: length) { out in
            var value = firstSeq.rawValue
            for i in stride(from: segmentDigits - 1, through: 0, by: -1) {
                out[i] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value % 10)
                value /= 10
            }
            for (i, byte) in segmentSuffix.utf8.enumerated() { out[segmentDigits + i] = byte }
            return length
        }
    }

    /// The first seq a segment file name says, or nil when the name is not a segment's: 20
    /// digits (a seq of at least 1) and `.seg`.
    static func firstSeq(ofSegment name: String) -> SequenceNumber? {
        var name = name
        return name.withUTF8 { bytes -> SequenceNumber? in
            guard bytes.count == segmentDigits + segmentSuffix.utf8.count, bytes[segmentDigits...].elementsEqual(segmentSuffix.utf8) else { return nil }
            var value: UInt64 = 0
            for byte in bytes[..<segmentDigits] {
                let digit = byte &- UInt8(ascii: "0")
                guard digit < 10 else { return nil }
                let (times10, overflow) = value.multipliedReportingOverflow(by: 10)
                let (sum, carry) = times10.addingReportingOverflow(UInt64(digit))
                guard !overflow, !carry else { return nil }
                value = sum
            }
            return value >= 1 ? SequenceNumber(value) : nil
        }
    }

    /// The name of a derived file of `segment` (a segment file name).
    static func name(of derived: Derived, forSegment segment: String) -> String {
        String(segment.dropLast(segmentSuffix.count)) + derived.suffix
    }

    /// The path as errors and reports show it: relative to the log directory.
    static func displayName(_ name: String) -> String { "segments/" + name }

    func segmentPath(_ name: String) -> String { segmentsPath + "/" + name }

    // MARK: Listing and opening

    /// Segment file names, in seq order: local segments and archived ones whose local copy was
    /// evicted (only their receipt is here).
    func segmentNames() throws(AuditLogError) -> [String] {
        // Listed without a look first: only a listing that fails costs one (no `segments/` yet
        // is an empty log).
        let listed: [String]
        do throws(AuditLogError) {
            listed = try fileSystem.listDirectory(segmentsPath)
        } catch {
            guard fileSystem.isDirectory(segmentsPath) else { return [] }
            throw error
        }
        // By first seq, which orders the zero-padded names as text would, without comparing
        // strings; a segment both here and archived is named once.
        var found: [(seq: SequenceNumber, name: String)] = []
        let archived = Derived.archived.suffix
        for name in listed {
            if let seq = Self.firstSeq(ofSegment: name) {
                found.append((seq, name))
            } else if name.hasSuffix(archived), !name.contains(Self.temporaryInfix) {
                let segment = String(name.dropLast(archived.count)) + Self.segmentSuffix
                if let seq = Self.firstSeq(ofSegment: segment) { found.append((seq, segment)) }
            }
        }
        found.sort { $0.seq < $1.seq }
        var names: [String] = []
        names.reserveCapacity(found.count)
        var previous: SequenceNumber?
        for entry in found where entry.seq != previous {
            names.append(entry.name)
            previous = entry.seq
        }
        return names
    }

    func exists(_ name: String) -> Bool { fileSystem.fileExists(segmentPath(name)) }

    /// The sizes of segments `names`' local files, in order, in one call.
    func segmentFileSizes(_ names: [String]) -> [Int64?] { fileSystem.fileSizes(in: segmentsPath, names: names) }

    // MARK: The segment catalog

    /// `segments/catalog` (``SegmentCatalogFile``).
    static let catalogName = "catalog"
    var catalogPath: String { segmentPath(Self.catalogName) }

    /// The segment catalog, or nil when there is none or it does not decode: it is only a
    /// shortcut, and the segments themselves say the same.
    func readCatalog() -> SegmentCatalogFile? {
        guard let file = try? fileSystem.openForReading(catalogPath, displayName: Self.displayName(Self.catalogName)) else { return nil }
        defer { file.close() }
        guard let bytes = try? file.readAll() else { return nil }
        return bytes.withUnsafeBytes { try? SegmentCatalogFile.decode($0) }
    }

    /// Rewrites the segment catalog in place, without syncing it (derived data). Not through a
    /// temporary file and a rename: at every seal those changed `segments/` — a new file, a
    /// rename, the old file's removal — on the writer's path. A reader that reads it while it is
    /// rewritten, or after a crash tore it, finds a length or checksum that does not hold and
    /// reads the segments instead (FORMAT.md, "Segment catalog").
    func writeCatalog(_ catalog: SegmentCatalogFile) throws(AuditLogError) {
        let bytes = catalog.encoded()
        let file = try fileSystem.openForWriting(catalogPath, displayName: Self.displayName(Self.catalogName), create: true, exclusive: false)
        defer { file.close() }
        try file.write(bytes, at: 0)
        try file.truncate(to: Int64(bytes.count))
    }

    /// Removes the segment catalog, if there is one.
    func removeCatalog() throws(AuditLogError) {
        try fileSystem.remove(catalogPath)
    }

    /// Whether segment `name`'s local copy was evicted (its receipt is here, it is not).
    func isEvicted(_ name: String) -> Bool {
        !exists(name) && exists(Self.name(of: .archived, forSegment: name))
    }

    /// Opens a file of `segments/` for reading; an evicted segment is read from the archive.
    func open(_ name: String) throws(AuditLogError) -> any SegmentFile {
        do throws(AuditLogError) {
            return try fileSystem.openForReading(segmentPath(name), displayName: Self.displayName(name))
        } catch {
            // Only a file that is not here costs the look for a receipt.
            guard Self.firstSeq(ofSegment: name) != nil, isEvicted(name) else { throw error }
            let receipt = try archiveReceipt(of: name)
            let known = [(Int64(0), receipt.header), (receipt.size - Int64(receipt.footer.count), receipt.footer)]
            return try remoteFile(key: receipt.key, size: receipt.size, sha256: receipt.sha256, known: known, segment: name)
        }
    }

    /// The receipt of segment `name`'s upload, or nil when it was not confirmed.
    func archiveReceiptIfAny(of segment: String) throws(AuditLogError) -> ArchiveReceipt? {
        guard exists(Self.name(of: .archived, forSegment: segment)) else { return nil }
        return try archiveReceipt(of: segment)
    }

    private func archiveReceipt(of segment: String) throws(AuditLogError) -> ArchiveReceipt {
        let name = Self.name(of: .archived, forSegment: segment)
        let bytes = try fileSystem.openForReading(segmentPath(name), displayName: Self.displayName(name)).readAll()
        return try ArchiveReceipt.decode(bytes, file: Self.displayName(name))
    }

    private func remoteFile(key: String, size: Int64, sha256: [UInt8], known: [(offset: Int64, bytes: [UInt8])], segment: String) throws(AuditLogError) -> any SegmentFile {
        // Without the archive, the receipt still answers for the header and footer (the catalog
        // opens); any other read fails naming the object.
        RemoteSegmentFile(
            reads: remote, key: key, size: size, sha256: sha256, known: known,
            unreachable: "segment '\(segment)' was evicted to the archive (object '\(key)') and this log is opened without its archive (archive.json, or --archive, and AWS credentials)"
        )
    }

    /// Opens a file of `segments/` for writing; `create` makes a new one, which must not exist.
    func openForWriting(_ name: String, create: Bool = false) throws(AuditLogError) -> any SegmentFile {
        try fileSystem.openForWriting(segmentPath(name), displayName: Self.displayName(name), create: create, exclusive: create)
    }

    /// Opens a derived file of `segment`, or nil when there is none. An index evicted with its
    /// segment is read from the archive.
    func openDerived(_ derived: Derived, of segment: String) throws(AuditLogError) -> (any SegmentFile)? {
        let name = Self.name(of: derived, forSegment: segment)
        // Usually there: a query opens one per segment it reads.
        if let file = try fileSystem.openForReadingIfPresent(segmentPath(name), displayName: Self.displayName(name)) { return file }
        guard derived == .index, let receipt = try archiveReceiptIfAny(of: segment), let key = receipt.indexKey, let size = receipt.indexSize,
            let sha256 = receipt.indexSHA256
        else { return nil }
        return try remoteFile(key: key, size: size, sha256: sha256, known: [], segment: segment)
    }

    /// The size of a derived file of `segment`, 0 when there is none.
    func size(of derived: Derived, of segment: String) -> Int64 {
        guard let file = try? openDerived(derived, of: segment) else { return 0 }
        return (try? file.size()) ?? 0
    }

    // MARK: Creating and removing

    /// Creates the directory and `segments/`, durably (each new directory's parent synced).
    func create() throws(AuditLogError) {
        try fileSystem.makeDirectoryDurably(path)
        try fileSystem.makeDirectoryDurably(segmentsPath)
    }

    /// Writes a derived file of `segment` atomically, synced as its kind says (``Derived/isSynced``).
    func writeDerived(_ bytes: [UInt8], _ derived: Derived, of segment: String) throws(AuditLogError) {
        let name = Self.name(of: derived, forSegment: segment)
        try fileSystem.writeAtomically(bytes, to: segmentPath(name), directory: segmentsPath, displayName: Self.displayName(name), durable: derived.isSynced)
    }

    /// Removes a derived file of `segment`, if there is one.
    func removeDerived(_ derived: Derived, of segment: String) throws(AuditLogError) {
        let name = Self.name(of: derived, forSegment: segment)
        if exists(name) { try fileSystem.remove(segmentPath(name)) }
    }

    /// Removes a segment file and every file derived from it. The caller syncs the directory.
    /// The archive receipt goes first: without the segment it would stand for it.
    func removeSegment(_ name: String) throws(AuditLogError) {
        try removeDerived(.archived, of: name)
        try fileSystem.remove(segmentPath(name))
        for derived in Derived.allCases where derived != .archived { try removeDerived(derived, of: name) }
    }

    /// Removes the local copy of an archived segment (and, when `index`, of its index), keeping
    /// its receipt. The caller checked the receipt.
    func evict(_ name: String, index: Bool) throws(AuditLogError) {
        try fileSystem.remove(segmentPath(name))
        if index { try removeDerived(.index, of: name) }
        try syncSegments()
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
        // An evicted segment is present through its receipt.
        let segments = Set(try segmentNames())
        for name in names where name.contains(Self.temporaryInfix) {
            try fileSystem.remove(segmentPath(name))
        }
        // The tree's and the checkpoints' atomic replacements leave theirs in their folders.
        for folder in [treePath, checkpointsPath] where fileSystem.isDirectory(folder) {
            for name in try fileSystem.listDirectory(folder) where name.contains(Self.temporaryInfix) {
                try fileSystem.remove(folder + "/" + name)
            }
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
