/// Checks one segment on its own, starting from the anchor in its header: every frame
/// checksum, every record's seq, every chain link, every frame and footer summary. Segments
/// are independent this way, so several can be checked at once; ``Verifier`` then checks how
/// each segment joins its predecessor.
struct SegmentVerification: Sendable {
    var fileName: String
    var header: SegmentHeader?
    var issues: [VerificationIssue] = []
    var records: UInt64 = 0
    var recordBytes: UInt64 = 0
    var fileBytes: Int64 = 0
    /// The seq after the last record checked.
    var nextSeq: SequenceNumber?
    /// The chain value after the last record (from the footer when the scan stopped early).
    var chainAfter: ChainHash?
    var sealed = false
    var tail: TornTail?
    /// The chain value after the record `capture` named, when this segment holds it.
    var captured: ChainHash?

    static func check(paths: LogPaths, fileName: String, isLast: Bool, deep: Bool, capture: SequenceNumber? = nil, progress: (Int64, UInt64) -> Void) -> SegmentVerification {
        var result = SegmentVerification(fileName: fileName)
        let display = LogPaths.displayName(fileName)
        func issue(_ kind: VerificationIssue.Kind, _ message: String, _ offset: Int64, _ seq: SequenceNumber?) {
            result.issues.append(VerificationIssue(kind: kind, message: message, file: display, offset: offset, seq: seq))
        }
        let reader: SegmentReader
        do throws(AuditLogError) {
            reader = try SegmentReader(paths: paths, fileName: fileName)
        } catch {
            issue(error.code == .io ? .missing : .structure, "segment header: \(error.message)", error.location.offset ?? 0, LogPaths.firstSeq(ofSegmentFileName: fileName))
            return result
        }
        let header = reader.header
        result.header = header
        result.fileBytes = reader.limit
        if LogPaths.firstSeq(ofSegmentFileName: fileName) != header.firstSeq {
            issue(.structure, "file name does not match the header's first seq \(header.firstSeq)", 32, header.firstSeq)
        }
        var chain = header.anchor
        var expected = header.firstSeq
        var offset = Int64(SegmentHeader.byteCount)
        var frames: UInt64 = 0
        var rawBytes: UInt64 = 0
        var minTs = Int64.max
        var maxTs = Int64.min
        var stoppedEarly = false
        var lastReport: Int64 = 0

        scan: while true {
            let probe: SegmentReader.Probe
            do throws(AuditLogError) { probe = try reader.probe(at: offset) } catch {
                issue(.structure, error.message, offset, expected); stoppedEarly = true; break scan
            }
            switch probe {
            case .end:
                if !isLast { issue(.structure, "segment has no footer but is not the last segment", offset, expected) }
                break scan
            case .incomplete(let why):
                if isLast {
                    result.tail = TornTail(file: display, offset: offset, bytes: reader.limit - offset, reason: why)
                } else {
                    issue(.structure, "incomplete frame in a sealed segment: \(why)", offset, expected)
                }
                break scan
            case .damaged(let error):
                // Damage where the footer belongs concerns the whole segment: name its last
                // record rather than the (nonexistent) one after it.
                let atFooter = offset + Int64(SegmentFooter.byteCount) == reader.limit && expected > header.firstSeq
                let seq = atFooter ? SequenceNumber(expected.rawValue - 1) : expected
                issue(error.kind == .checksumMismatch ? .checksum : .structure, error.message, offset + Int64(error.offset), seq)
                stoppedEarly = true
                break scan
            case .footer(let footer):
                result.sealed = true
                let firstSeq = header.firstSeq
                let count = expected.rawValue - firstSeq.rawValue
                var mismatches: [String] = []
                if footer.dataEndOffset != UInt64(offset) { mismatches.append("data end \(footer.dataEndOffset) != \(offset)") }
                if footer.recordCount != count { mismatches.append("record count \(footer.recordCount) != \(count)") }
                if footer.frameCount != frames { mismatches.append("frame count \(footer.frameCount) != \(frames)") }
                if count > 0 && (footer.firstSeq != firstSeq || footer.lastSeq.rawValue != expected.rawValue - 1) {
                    mismatches.append("seq range \(footer.firstSeq)–\(footer.lastSeq) != \(firstSeq)–\(expected.rawValue - 1)")
                }
                if count > 0 && (footer.minTimestampNanos != minTs || footer.maxTimestampNanos != maxTs) { mismatches.append("time range") }
                if footer.rawPayloadBytes != rawBytes { mismatches.append("raw bytes \(footer.rawPayloadBytes) != \(rawBytes)") }
                if footer.chainAfter != chain {
                    issue(.chain, "footer chain value does not match the records", offset + 64, count > 0 ? SequenceNumber(expected.rawValue - 1) : firstSeq)
                }
                if !mismatches.isEmpty {
                    issue(.summary, "footer disagrees with the frames: " + mismatches.joined(separator: "; "), offset, firstSeq)
                }
                let end = offset + Int64(SegmentFooter.byteCount)
                if end != reader.limit {
                    issue(.structure, "\(reader.limit - end) bytes after the footer", end, nil)
                }
                break scan
            case .frame(let h):
                if h.firstSeq != expected {
                    issue(.missing, "frame starts at seq \(h.firstSeq), expected \(expected)", offset, expected)
                    stoppedEarly = true
                    break scan
                }
                let loaded: Result<Bool, FormatError>
                do throws(AuditLogError) { loaded = try reader.loadPayload(h, at: offset) } catch {
                    issue(.structure, error.message, offset, expected); stoppedEarly = true; break scan
                }
                switch loaded {
                case .success(false):
                    if isLast, (try? reader.hasDamagedLength(h, at: offset)) != true {
                        let why = "frame of \(h.frameLengthBytes) bytes runs past the end of the file (\(reader.limit - offset) bytes left)"
                        result.tail = TornTail(file: display, offset: offset, bytes: reader.limit - offset, reason: why)
                    } else {
                        issue(.structure, "frame runs past the end of the file", offset, expected)
                        stoppedEarly = true
                    }
                    break scan
                case .failure(let error):
                    // A torn write only at the end of the last segment; a complete frame with
                    // a bad checksum is damage (a flipped bit), never the end of the log.
                    let torn: String? = isLast ? ((try? reader.tornWrite(at: offset)) ?? nil) : nil
                    if let torn {
                        result.tail = TornTail(file: display, offset: offset, bytes: reader.limit - offset, reason: "\(error.message); \(torn)")
                    } else {
                        issue(error.kind == .checksumMismatch ? .checksum : .structure, error.message, offset + Int64(error.offset), expected)
                        stoppedEarly = true
                    }
                    break scan
                case .success(true):
                    break
                }
                var count: UInt32 = 0
                var frameMin = Int64.max
                var frameMax = Int64.min
                var bytes: UInt64 = 0
                var recordIssue: (String, SequenceNumber)?
                do throws(FormatError) {
                    try reader.forEachRecord(firstSeq: expected) { (seq, record) throws(FormatError) in
                        guard recordIssue == nil else { return }
                        // Every rule of FORMAT.md's "Record" (canonical forms included), without
                        // building the event; deep also decodes it as readers do.
                        let ts = try AuditEvent.validateRecord(record)
                        if deep { _ = try AuditEvent.decodeRecord(record) }
                        chain = chain.chained(seq: seq, record: record)
                        if seq == capture { result.captured = chain }
                        frameMin = min(frameMin, ts)
                        frameMax = max(frameMax, ts)
                        bytes += UInt64(record.count)
                        count += 1
                    }
                } catch {
                    recordIssue = ("undecodable record: \(error.message)", SequenceNumber(expected.rawValue + UInt64(count)))
                }
                if let (message, seq) = recordIssue {
                    issue(.structure, message, offset, seq)
                    stoppedEarly = true
                    break scan
                }
                if count != h.recordCount {
                    issue(.summary, "frame holds \(count) records, header says \(h.recordCount)", offset + 16, expected)
                }
                if frameMin != h.minTimestampNanos || frameMax != h.maxTimestampNanos {
                    issue(.summary, "frame time range disagrees with its records", offset + 32, expected)
                }
                if chain != h.chainAfter {
                    issue(.chain, "chain value after seq \(h.lastSeq) does not match the records (records rewritten?)", offset + 48, expected)
                    chain = h.chainAfter  // resynchronise so later frames are judged on their own
                }
                expected = SequenceNumber(expected.rawValue + UInt64(count))
                result.records += UInt64(count)
                result.recordBytes += bytes
                rawBytes += UInt64(h.rawLengthBytes)
                minTs = min(minTs, frameMin)
                maxTs = max(maxTs, frameMax)
                frames += 1
                offset += Int64(h.frameLengthBytes)
                if offset - lastReport >= 8 << 20 {
                    progress(offset - lastReport, result.records)
                    lastReport = offset
                }
            }
        }
        progress(result.fileBytes - lastReport, result.records)
        if stoppedEarly {
            // The rest of the segment cannot be trusted; its footer (if intact) still says where
            // the chain should continue, so the next segment can be judged on its own.
            if let footer = try? reader.readFooter(fileSize: reader.limit) {
                result.nextSeq = SequenceNumber(footer.firstSeq.rawValue + footer.recordCount)
                result.chainAfter = footer.chainAfter
                result.sealed = true
            }
        } else {
            result.nextSeq = expected
            result.chainAfter = chain
        }
        return result
    }
}
