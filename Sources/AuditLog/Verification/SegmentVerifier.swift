/// Checks one segment on its own, starting from the anchor in its header: every frame (its
/// checksum and seqs, through the ``SegmentWalker``), every record's rules and chain link,
/// every frame and footer summary. Segments are independent this way, so several can be checked
/// at once; ``Verifier`` then checks how each segment joins its predecessor.
struct SegmentVerification: Sendable {
    var fileName: String
    /// How issues name it: `segments/<name>`, or the archived object it is read from.
    var display: String
    var header: SegmentHeader?
    var issues: [VerificationIssue] = []
    var records: UInt64 = 0
    var recordBytes: UInt64 = 0
    var fileBytes: Int64 = 0
    /// The seq after the last record checked.
    var nextSeq: SequenceNumber?
    /// The chain value after the last record (from the footer when the walk stopped early).
    var chainAfter: ChainHash?
    var sealed = false
    var tail: TornTail?
    /// The chain value after the record `capture` named, when this segment holds it.
    var captured: ChainHash?

    /// Where the segment ends, for ``SegmentChain``, when known.
    var end: SegmentChain.End? {
        guard let nextSeq, let chainAfter else { return nil }
        return SegmentChain.End(nextSeq: nextSeq, chainAfter: chainAfter)
    }

    static func check(_ directory: LogDirectory, fileName: String, isLast: Bool, deep: Bool, capture: SequenceNumber? = nil, progress: (Int64, UInt64) -> Void) -> SegmentVerification {
        var result = SegmentVerification(fileName: fileName, display: LogDirectory.displayName(fileName))
        var display = result.display
        func issue(_ kind: VerificationIssue.Kind, _ message: String, _ offset: Int64, _ seq: SequenceNumber?) {
            result.issues.append(VerificationIssue(kind: kind, message: message, file: display, offset: offset, seq: seq))
        }
        let walker: SegmentWalker
        do throws(AuditLogError) {
            walker = try SegmentWalker(directory, fileName, mayEndTorn: isLast)
        } catch {
            issue(error.code == .io ? .missing : .structure, "segment header: \(error.message)", error.location.offset ?? 0, LogDirectory.firstSeq(ofSegment: fileName))
            return result
        }
        display = walker.displayName
        result.display = display
        let header = walker.header
        result.header = header
        result.fileBytes = walker.limit
        if LogDirectory.firstSeq(ofSegment: fileName) != header.firstSeq {
            issue(.structure, "file name does not match the header's first seq \(header.firstSeq)", 32, header.firstSeq)
        }
        var chain = header.anchor
        var frames: UInt64 = 0
        var rawBytes: UInt64 = 0
        var minTs = Int64.max
        var maxTs = Int64.min
        var stoppedEarly = false
        var lastReport: Int64 = 0

        walk: while true {
            let step: SegmentWalker.Step
            do throws(AuditLogError) { step = try walker.next(.decompress) } catch {
                issue(.structure, error.message, walker.offset, walker.nextSeq)
                stoppedEarly = true
                break walk
            }
            switch step {
            case .end:
                if !isLast { issue(.structure, "segment has no footer but is not the last segment", walker.offset, walker.nextSeq) }
                break walk
            case .tornTail(let offset, let reason):
                result.tail = TornTail(file: display, offset: offset, bytes: walker.limit - offset, reason: reason)
                break walk
            case .damage(let damage):
                issue(Self.kind(of: damage), damage.message, damage.offset, damage.seq)
                stoppedEarly = true
                break walk
            case .footer(let footer, let offset):
                result.sealed = true
                let firstSeq = header.firstSeq
                let count = walker.nextSeq.rawValue - firstSeq.rawValue
                var mismatches: [String] = []
                if footer.dataEndOffset != UInt64(offset) { mismatches.append("data end \(footer.dataEndOffset) != \(offset)") }
                if footer.recordCount != count { mismatches.append("record count \(footer.recordCount) != \(count)") }
                if footer.frameCount != frames { mismatches.append("frame count \(footer.frameCount) != \(frames)") }
                if footer.firstSeq != firstSeq || footer.lastSeq.rawValue &+ 1 != walker.nextSeq.rawValue {
                    mismatches.append("seq range \(footer.firstSeq)–\(footer.lastSeq) != \(firstSeq)–\(walker.nextSeq.rawValue &- 1)")
                }
                if count > 0 && (footer.minTimestampNanos != minTs || footer.maxTimestampNanos != maxTs) { mismatches.append("time range") }
                if footer.rawPayloadBytes != rawBytes { mismatches.append("raw bytes \(footer.rawPayloadBytes) != \(rawBytes)") }
                if footer.chainAfter != chain {
                    issue(.chain, "footer chain value does not match the records", offset + 64, count > 0 ? SequenceNumber(walker.nextSeq.rawValue - 1) : firstSeq)
                }
                if !mismatches.isEmpty {
                    issue(.summary, "footer disagrees with the frames: " + mismatches.joined(separator: "; "), offset, firstSeq)
                }
                break walk
            case .frame(let h, let offset):
                var frameMin = Int64.max
                var frameMax = Int64.min
                var bytes: UInt64 = 0
                var failed: (String, SequenceNumber)?
                walker.forEachRecord { seq, record in
                    guard failed == nil else { return }
                    do throws(FormatError) {
                        // Every rule of FORMAT.md's "Record" (canonical forms included), without
                        // building the event; deep also decodes it as readers do.
                        let ts = try AuditEvent.validateRecord(record)
                        if deep { _ = try AuditEvent.decodeRecord(record) }
                        chain = chain.chained(seq: seq, record: record)
                        if seq == capture { result.captured = chain }
                        frameMin = min(frameMin, ts)
                        frameMax = max(frameMax, ts)
                        bytes += UInt64(record.count)
                    } catch {
                        failed = ("undecodable record: \(error.message)", seq)
                    }
                }
                if let (message, seq) = failed {
                    issue(.structure, message, offset, seq)
                    stoppedEarly = true
                    break walk
                }
                if frameMin != h.minTimestampNanos || frameMax != h.maxTimestampNanos {
                    issue(.summary, "frame time range disagrees with its records", offset + 32, h.firstSeq)
                }
                if chain != h.chainAfter {
                    issue(.chain, "chain value after seq \(h.lastSeq) does not match the records (records rewritten?)", offset + 48, h.firstSeq)
                    chain = h.chainAfter  // resynchronise so later frames are judged on their own
                }
                result.records += UInt64(h.recordCount)
                result.recordBytes += bytes
                rawBytes += UInt64(h.rawLengthBytes)
                minTs = min(minTs, frameMin)
                maxTs = max(maxTs, frameMax)
                frames += 1
                if walker.offset - lastReport >= 8 << 20 {
                    progress(walker.offset - lastReport, result.records)
                    lastReport = walker.offset
                }
            }
        }
        progress(result.fileBytes - lastReport, result.records)
        if stoppedEarly {
            // The rest of the segment cannot be trusted; its footer (if intact) still says where
            // the chain should continue, so the next segment can be judged on its own.
            if let footer = try? walker.sealedFooter() {
                result.nextSeq = SequenceNumber(footer.firstSeq.rawValue + footer.recordCount)
                result.chainAfter = footer.chainAfter
                result.sealed = true
            }
        } else {
            result.nextSeq = walker.nextSeq
            result.chainAfter = chain
        }
        return result
    }

    /// The issue kind of damage the walker found.
    private static func kind(of damage: SegmentWalker.Damage) -> VerificationIssue.Kind {
        switch damage.kind {
        case .checksum: .checksum
        case .structure: .structure
        case .missing: .missing
        case .summary: .summary
        }
    }
}
