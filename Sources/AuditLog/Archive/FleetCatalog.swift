import Dispatch
import Foundation

/// The logs archived under one prefix — a fleet's nodes — each mirrored as a local directory of
/// receipts (`<dir>/nodes/<log id>/`: the manifest and a `.arc` per archived segment) that a
/// read-only ``AuditLog`` opens as a log whose every segment was evicted. Syncing again fetches
/// only what is new: a listing, then a HEAD and two small ranged GETs (header, footer) per new
/// segment; a segment gone from the store (a node's retention sweep) loses its receipt.
enum FleetCatalog {
    /// Lists the store and brings every node's directory up to date; returns the nodes' log ids
    /// (hex), sorted.
    static func sync(store: any ObjectStore, location: ArchiveLocation, directory: String) throws(AuditLogError) -> [String] {
        let fs = PosixFileSystem()
        let root = directory + "/nodes"
        try fs.makeDirectory(directory)
        try fs.makeDirectory(root)
        let base = location.prefix.isEmpty ? "" : location.prefix + "/"
        // moto refuses a signed listing whose prefix holds '/' (docs/ARCHIVE.md): list the
        // prefix itself and keep what is under `PREFIX/`.
        var nodes: [String: (manifest: ListedObject?, segments: [String: ListedObject], indexes: [String: ListedObject])] = [:]
        for object in try store.list(prefix: location.prefix) where object.key.hasPrefix(base) {
            let parts = object.key.dropFirst(base.count).split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, isLogID(parts[0]) else { continue }
            let id = String(parts[0])
            let rest = String(parts[1])
            var node = nodes[id] ?? (nil, [:], [:])
            if rest == LogManifest.fileName {
                node.manifest = object
            } else if rest.hasPrefix("segments/") {
                let name = String(rest.dropFirst("segments/".count))
                if LogDirectory.firstSeq(ofSegment: name) != nil {
                    node.segments[name] = object
                } else if name.hasSuffix(LogDirectory.Derived.index.suffix) {
                    node.indexes[String(name.dropLast(LogDirectory.Derived.index.suffix.count)) + LogDirectory.segmentSuffix] = object
                }
            }
            nodes[id] = node
        }
        var ids: [String] = []
        for (id, node) in nodes.sorted(by: { $0.key < $1.key }) {
            guard let manifest = node.manifest else { continue }  // a node whose first upload is still under way
            let files = LogDirectory(path: root + "/" + id, fileSystem: fs)
            try files.create()
            if !fs.fileExists(files.manifestPath) {
                let bytes = try store.get(manifest.key, range: 0..<manifest.size)
                let decoded: LogManifest
                do throws(FormatError) {
                    decoded = try bytes.withRawBytes { (raw) throws(FormatError) in try LogManifest.decode(raw) }
                } catch {
                    throw AuditLogError(error, file: store.describe(manifest.key), baseOffset: 0)
                }
                guard decoded.logID.description == id else {
                    throw AuditLogError(.corruption, "the manifest is of log \(decoded.logID), not of the prefix it is under", location: .init(file: store.describe(manifest.key)))
                }
                try fs.writeAtomically(bytes, to: files.manifestPath, directory: files.path, displayName: LogManifest.fileName)
            }
            let local = Set(try files.segmentNames())
            for name in local where node.segments[name] == nil {
                try files.removeSegment(name)  // swept by its node
            }
            let missing = node.segments.sorted(by: { $0.key < $1.key }).filter { !local.contains($0.key) }
            try concurrently(missing.count) { (i) throws(AuditLogError) in
                let (name, object) = missing[i]
                try files.writeDerived(try receipt(for: name, object, index: node.indexes[name], store: store).encoded(), .archived, of: name)
            }
            try files.syncSegments()
            ids.append(id)
        }
        return ids
    }

    /// Runs `work(0..<count)` on up to 16 threads at once (each mostly waits for the store);
    /// the first error is thrown once all have stopped.
    static func concurrently(_ count: Int, _ work: @escaping @Sendable (Int) throws(AuditLogError) -> Void) throws(AuditLogError) {
        guard count > 0 else { return }
        let next = Locked((index: 0, error: AuditLogError?.none))
        let done = DispatchGroup()
        for _ in 0..<min(16, count) {
            done.enter()
            Thread.detachNewThread {
                defer { done.leave() }
                while true {
                    let i = next.withLock { s -> Int? in
                        guard s.error == nil, s.index < count else { return nil }
                        s.index += 1
                        return s.index - 1
                    }
                    guard let i else { return }
                    do throws(AuditLogError) { try work(i) } catch { next.withLock { if $0.error == nil { $0.error = error } } }
                }
            }
        }
        done.wait()
        if let error = next.withLock({ $0.error }) { throw error }
    }

    /// The receipt of an archived segment found in a listing: its checksum from a HEAD, its
    /// header and footer from two ranged GETs.
    private static func receipt(for name: String, _ object: ListedObject, index: ListedObject?, store: any ObjectStore) throws(AuditLogError) -> ArchiveReceipt {
        let minimum = Int64(SegmentHeader.byteCount + SegmentFooter.byteCount)
        guard object.size >= minimum else {
            throw AuditLogError(.corruption, "an archived segment of \(object.size) bytes is shorter than a header and footer", location: .init(file: store.describe(object.key)))
        }
        let sha = try checksum(object.key, store: store)
        var receipt = ArchiveReceipt(
            segment: name, key: object.key, size: object.size, sha256: sha,
            header: try store.get(object.key, range: 0..<Int64(SegmentHeader.byteCount)),
            footer: try store.get(object.key, range: (object.size - Int64(SegmentFooter.byteCount))..<object.size), confirmedAt: .now)
        if let index {
            receipt.indexKey = index.key
            receipt.indexSize = index.size
            receipt.indexSHA256 = try checksum(index.key, store: store)
        }
        return receipt
    }

    private static func checksum(_ key: String, store: any ObjectStore) throws(AuditLogError) -> [UInt8] {
        guard let info = try store.head(key) else {
            throw AuditLogError(.archive, "the object was listed but is gone", location: .init(file: store.describe(key)))
        }
        guard let sha = info.sha256 else {
            throw AuditLogError(.archive, "the object has no SHA-256 checksum (it was not archived by AuditLog)", location: .init(file: store.describe(key)))
        }
        return sha
    }

    private static func isLogID(_ s: Substring) -> Bool {
        s.utf8.count == 32 && s.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }
}
