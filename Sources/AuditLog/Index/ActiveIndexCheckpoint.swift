/// A checkpoint of the active segment's in-memory index, `segments/<first seq>.aidx`
/// (docs/FORMAT.md, "Active index checkpoint"). The writer leaves one when it closes, so the next
/// open — a reader's or a writer's — indexes only what was appended since, instead of decoding
/// every record of the active segment.
///
/// It has the index file's layout; its header binds it to the segment's first seq and to the
/// record count, byte offset and chain value where it stops. Like an index it is derived data:
/// it is used only when the frame that ends where it stops carries the same chain value (so it
/// describes these very records), ignored otherwise, and deleted once the segment is sealed.
enum ActiveIndexCheckpoint {
    static let suffix = ".aidx"

    static func fileName(forSegment segment: String) -> String {
        String(segment.dropLast(LogPaths.segmentSuffix.count)) + suffix
    }

    /// Writes the checkpoint of `builder`, which covers all of `segment` (an active segment).
    static func write(_ builder: IndexBuilder, segment: SegmentInfo, paths: LogPaths) throws(AuditLogError) {
        guard !segment.isSealed, builder.recordCount == Int(segment.recordCount), segment.recordCount > 0 else { return }
        let binding = IndexFile.Binding(
            firstSeq: segment.firstSeq, recordCount: segment.recordCount, bytes: UInt64(segment.dataEnd),
            chainAfter: segment.chainAfter, rawPayloadBytes: segment.rawPayloadBytes)
        let name = fileName(forSegment: segment.fileName)
        let bytes = IndexFile.encode(builder.finish(withRollups: false), binding: binding)
        try SystemFile.writeAtomically(bytes, to: paths.segmentPath(name), directory: paths.segmentsDirectory, displayName: LogPaths.displayName(name))
    }

    /// The checkpointed index of `segment` and the byte offset it covers up to, or nil when
    /// there is none or it does not describe this segment's records (a stale or damaged
    /// checkpoint is only a lost shortcut: the caller indexes the segment by scanning).
    static func load(_ segment: SegmentInfo, paths: LogPaths) -> (builder: IndexBuilder, coveredTo: Int64)? {
        let name = fileName(forSegment: segment.fileName)
        guard SystemFile.fileExists(paths.segmentPath(name)) else { return nil }
        do throws(AuditLogError) {
            let reader = try IndexFile.Reader(paths: paths, fileName: name) { b in
                b.firstSeq == segment.firstSeq && b.recordCount > 0 && b.recordCount <= segment.recordCount
                    && b.bytes <= UInt64(segment.dataEnd)
            }
            var data = try reader.loadDirectory()
            let segmentReader = try SegmentReader(paths: paths, fileName: segment.fileName, limit: segment.dataEnd)
            guard try describes(segmentReader, data.frames, reader.binding) else { return nil }
            for part in IndexStore.Part.all where part.isColumn || part == .ids {
                try reader.load(part, into: &data)
            }
            return (IndexBuilder(resuming: data), Int64(reader.binding.bytes))
        } catch {
            return nil
        }
    }

    /// Whether the frame listed last ends where the checkpoint stops, in the segment read by
    /// `segment`, and carries its chain value (so the checkpoint describes these very records).
    private static func describes(_ segment: SegmentReader, _ frames: [FrameEntry], _ binding: IndexFile.Binding) throws(AuditLogError) -> Bool {
        guard let last = frames.last, binding.firstSeq == segment.header.firstSeq else { return false }
        guard case .frame(let h) = try segment.probe(at: last.offset) else { return false }
        return h.firstSeq == last.firstSeq && h.recordCount == last.recordCount
            && last.offset + Int64(h.frameLengthBytes) == Int64(binding.bytes) && h.chainAfter == binding.chainAfter
    }

    /// Where a scan of the active segment read by `segment` can resume: the state after the
    /// checkpoint's last frame, from its header and frame directory alone (so an open reads and
    /// checks only the frames appended since). Nil when there is no usable checkpoint.
    static func resumePoint(_ segment: SegmentReader, fileName: String, paths: LogPaths) -> ActiveSegmentScan? {
        let name = self.fileName(forSegment: fileName)
        guard SystemFile.fileExists(paths.segmentPath(name)) else { return nil }
        let limit = UInt64(segment.limit)
        do throws(AuditLogError) {
            let reader = try IndexFile.Reader(paths: paths, fileName: name) { b in
                b.recordCount > 0 && b.bytes <= limit && b.rawPayloadBytes > 0
            }
            let frames = try reader.loadDirectory().frames
            guard try describes(segment, frames, reader.binding) else { return nil }
            var scan = ActiveSegmentScan(dataEnd: Int64(reader.binding.bytes), chainAfter: reader.binding.chainAfter)
            scan.frameCount = UInt64(frames.count)
            scan.recordCount = reader.binding.recordCount
            scan.rawPayloadBytes = reader.binding.rawPayloadBytes
            scan.minTimestampNanos = frames.map(\.minTimestampNanos).min() ?? .max
            scan.maxTimestampNanos = frames.map(\.maxTimestampNanos).max() ?? .min
            return scan
        } catch {
            return nil
        }
    }

    /// The byte offset up to which the checkpoint of segment `name` says records were
    /// committed (from its checked header alone), or nil when there is no readable one.
    static func coveredEnd(ofSegment name: String, paths: LogPaths) -> Int64? {
        let file = fileName(forSegment: name)
        guard SystemFile.fileExists(paths.segmentPath(file)), let first = LogPaths.firstSeq(ofSegmentFileName: name) else { return nil }
        guard let reader = try? IndexFile.Reader(paths: paths, fileName: file, accepts: { $0.firstSeq == first && $0.recordCount > 0 }) else { return nil }
        return Int64(clamping: reader.binding.bytes)
    }

    /// Removes the checkpoint of `segment` (sealed, or deleted by a sweep), if any.
    static func remove(forSegment segment: String, paths: LogPaths) {
        let path = paths.segmentPath(fileName(forSegment: segment))
        if SystemFile.fileExists(path) { try? SystemFile.remove(path) }
    }
}
