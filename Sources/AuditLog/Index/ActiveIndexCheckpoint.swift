/// A checkpoint of the active segment's in-memory index, `segments/<first seq>.aidx`
/// (docs/FORMAT.md, "Active index checkpoint"). The writer leaves one when it closes, so the next
/// open — a reader's or a writer's — indexes only what was appended since, instead of decoding
/// every record of the active segment.
///
/// It has the index file's layout; its header binds it to the segment's first seq and to the
/// record count, byte offset and chain value where it stops. Like an index it is derived data:
/// it is used only when the frame that ends where it stops carries the same chain value (so it
/// describes these very records), ignored otherwise, and deleted once the segment is sealed
/// (``LogDirectory`` removes it with its segment, and clears strays at open).
enum ActiveIndexCheckpoint {
    /// Writes the checkpoint of `builder`, which covers all of `segment` (an active segment).
    static func write(_ builder: IndexBuilder, segment: SegmentInfo, directory: LogDirectory) throws(AuditLogError) {
        guard !segment.isSealed, builder.recordCount == Int(segment.recordCount), segment.recordCount > 0 else { return }
        let binding = IndexFile.Binding(
            firstSeq: segment.firstSeq, recordCount: segment.recordCount, bytes: UInt64(segment.dataEnd),
            chainAfter: segment.chainAfter, rawPayloadBytes: segment.rawPayloadBytes)
        let bytes = IndexFile.encode(builder.finish(withRollups: false), binding: binding)
        try directory.writeDerived(bytes, .checkpoint, of: segment.fileName)
    }

    /// The checkpoint's reader, when segment `name` has one whose header names it.
    private static func reader(_ directory: LogDirectory, segment name: String, accepts: (IndexFile.Binding) -> Bool) -> IndexFile.Reader? {
        guard let first = LogDirectory.firstSeq(ofSegment: name),
            let file = try? directory.openDerived(.checkpoint, of: name)
        else { return nil }
        return try? IndexFile.Reader(file: file) { $0.firstSeq == first && $0.recordCount > 0 && accepts($0) }
    }

    /// The checkpointed index of `segment` and the byte offset it covers up to, or nil when
    /// there is none or it does not describe this segment's records (a stale or damaged
    /// checkpoint is only a lost shortcut: the caller indexes the segment by scanning).
    static func load(_ segment: SegmentInfo, directory: LogDirectory) -> (builder: IndexBuilder, coveredTo: Int64)? {
        guard let reader = reader(directory, segment: segment.fileName, accepts: { $0.recordCount <= segment.recordCount && $0.bytes <= UInt64(segment.dataEnd) }) else { return nil }
        do throws(AuditLogError) {
            var data = try reader.loadDirectory()
            guard try endsAtItsFrame(reader, frames: data.frames, segment: segment, directory: directory) else { return nil }
            for part in IndexStore.Part.loadOrder(IndexStore.Part.all.filter { !$0.isRollup }) {
                try reader.load(part, into: &data)
            }
            return (IndexBuilder(resuming: data), Int64(reader.binding.bytes))
        } catch {
            return nil
        }
    }

    /// Whether the frame the checkpoint's directory lists last is, in the segment, a frame with
    /// the same first seq and record count that ends where the checkpoint says and carries its
    /// chain value: the checkpoint describes these very records.
    private static func endsAtItsFrame(_ reader: IndexFile.Reader, frames: [FrameEntry], segment: SegmentInfo, directory: LogDirectory) throws(AuditLogError) -> Bool {
        guard let last = frames.last else { return false }
        let walker = try SegmentWalker(directory, segment.fileName, limit: segment.dataEnd)
        let h = try walker.frame(at: last.offset, firstSeq: last.firstSeq, count: last.recordCount, payload: .skip)
        return last.offset + Int64(h.frameLengthBytes) == Int64(reader.binding.bytes) && h.chainAfter == reader.binding.chainAfter
    }

    /// The checkpoint's reader and frame directory when it covers exactly all of `segment`
    /// (every record, up to its data end) and describes its records (as ``load`` checks): then
    /// its parts can be read one at a time with ``exactReader(_:directory:)``, as a sealed
    /// segment's index is, without building an index to extend.
    static func exact(_ segment: SegmentInfo, directory: LogDirectory) -> (reader: IndexFile.Reader, data: IndexData)? {
        guard let reader = exactReader(segment, directory: directory) else { return nil }
        do throws(AuditLogError) {
            let data = try reader.loadDirectory()
            return try endsAtItsFrame(reader, frames: data.frames, segment: segment, directory: directory) ? (reader, data) : nil
        } catch {
            return nil
        }
    }

    /// The reader of a checkpoint covering exactly all of `segment`, for loading more parts of
    /// one ``exact(_:directory:)`` vouched for.
    static func exactReader(_ segment: SegmentInfo, directory: LogDirectory) -> IndexFile.Reader? {
        reader(directory, segment: segment.fileName, accepts: { $0.recordCount == segment.recordCount && $0.bytes == UInt64(segment.dataEnd) })
    }

    /// Where a scan of the active segment `name` (of `limit` bytes) can resume: the state after
    /// the checkpoint's last frame, from its header and frame directory alone (so an open reads
    /// and checks only the frames appended since), with the directory read. Storage confirms
    /// the frame it names before using it; once it has, the directory is what ``exact(_:directory:)``
    /// would return for a segment that ends there.
    static func resumePoint(_ directory: LogDirectory, segment name: String, limit: Int64) -> (point: ResumePoint, directory: IndexData)? {
        guard let reader = reader(directory, segment: name, accepts: { $0.bytes <= UInt64(limit) && $0.rawPayloadBytes > 0 }),
            let data = try? reader.loadDirectory(), let last = data.frames.last
        else { return nil }
        let frames = data.frames
        var scan = ActiveSegmentScan(dataEnd: Int64(reader.binding.bytes), chainAfter: reader.binding.chainAfter)
        scan.frameCount = UInt64(frames.count)
        scan.recordCount = reader.binding.recordCount
        scan.rawPayloadBytes = reader.binding.rawPayloadBytes
        scan.minTimestampNanos = frames.map(\.minTimestampNanos).min() ?? .max
        scan.maxTimestampNanos = frames.map(\.maxTimestampNanos).max() ?? .min
        return (ResumePoint(scan: scan, lastFrameOffset: last.offset, lastFrameFirstSeq: last.firstSeq, lastFrameRecords: last.recordCount), data)
    }

    /// The byte offset up to which the checkpoint of segment `name` says records were committed
    /// (from its checked header alone), or nil when there is no readable one. A writer leaves a
    /// checkpoint only at close, after syncing: durable evidence.
    static func coveredEnd(_ directory: LogDirectory, segment name: String) -> Int64? {
        reader(directory, segment: name, accepts: { _ in true }).map { Int64(clamping: $0.binding.bytes) }
    }
}
