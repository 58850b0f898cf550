import Foundation
import Testing

@_spi(Testing) @testable import AuditLog

/// One test per error path of the segment walker, on a file in memory (as leveldb's
/// `log_test.cc` does): every field of a frame damaged on its own — checksums recomputed where
/// the rule under test comes after the checksum — and what the walker says of it.
@Suite struct SegmentWalkerTests {
    static let logID = LogID.random()
    static let name = LogDirectory.segmentName(firstSeq: SequenceNumber(1))

    /// A segment of two frames (3 and 2 records; the second raw, the first LZ4) and, when
    /// `sealed`, a footer. Returns its bytes and where each frame starts.
    static func segment(sealed: Bool = false, secondCompressible: Bool = false) -> (bytes: [UInt8], frames: [Int]) {
        let genesis = ChainHash.genesis(logID: logID)
        let header = SegmentHeader(logID: logID, firstSeq: SequenceNumber(1), partitionStartNanos: 0, partitionLengthNanos: 86_400_000_000_000, createdAtNanos: 0, anchor: genesis)
        var out = header.encoded()
        var frames: [Int] = []
        var chain = genesis
        var seq: UInt64 = 1
        var builder = FrameBuilder()
        var minTs = Int64.max
        var maxTs = Int64.min
        var raw: UInt64 = 0
        var rng = SplitMix64(seed: 7)
        for (count, compressible) in [(3, true), (2, secondCompressible)] {
            for _ in 0..<count {
                var e = AuditEvent(eventType: "decision", timestamp: Timestamp(nanosSinceEpoch: Int64(seq) * 1_000_000_000), id: "e\(seq)")
                // Repetitive text compresses (an LZ4 frame); random text does not (a raw one).
                e.user = compressible ? String(repeating: "a", count: 200) : String((0..<2000).map { _ in Character(UnicodeScalar(UInt8(33 + rng.below(90)))) })
                let record = e.recordBytes()
                record.withUnsafeBytes { r in
                    chain = chain.chained(seq: SequenceNumber(seq), record: r)
                    builder.append(record: r, seq: SequenceNumber(seq), timestampNanos: e.timestamp.nanosSinceEpoch)
                }
                minTs = min(minTs, e.timestamp.nanosSinceEpoch)
                maxTs = max(maxTs, e.timestamp.nanosSinceEpoch)
                seq += 1
            }
            frames.append(out.count)
            raw += UInt64(builder.rawBytes)
            _ = builder.finish(chainAfter: chain, into: &out)
        }
        if sealed {
            let footer = SegmentFooter(
                firstSeq: SequenceNumber(1), lastSeq: SequenceNumber(5), recordCount: 5, frameCount: 2, minTimestampNanos: minTs,
                maxTimestampNanos: maxTs, dataEndOffset: UInt64(out.count), chainAfter: chain, rawPayloadBytes: raw)
            out += footer.encoded()
        }
        return (out, frames)
    }

    /// Walks `bytes` to the first step that is not a frame.
    static func walk(_ bytes: [UInt8], mayEndTorn: Bool = true, payload: SegmentWalker.Payload = .decompress) throws -> (frames: Int, last: SegmentWalker.Step) {
        let fs = MemoryFileSystem()
        fs.setContents(of: name, to: bytes)
        let walker = try SegmentWalker(file: try fs.openForReading(name, displayName: "segments/" + name), name: name, mayEndTorn: mayEndTorn)
        var frames = 0
        while true {
            let step = try walker.next(payload)
            guard case .frame = step else { return (frames, step) }
            frames += 1
        }
    }

    /// Rewrites the header field at `field` of the frame at `frame` and, when `rechecksum`,
    /// the frame's checksum so that only the field's own rule can catch it.
    static func patchFrame(_ bytes: inout [UInt8], frame: Int, field: Int, rechecksum: Bool = true, _ edit: (inout [UInt8]) -> Void) {
        var header = Array(bytes[frame..<(frame + 88)])
        edit(&header)
        bytes.replaceSubrange(frame..<(frame + 88), with: header)
        if rechecksum {
            let stored = Int(UInt32(littleEndian: header.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 8, as: UInt32.self) }))
            let end = min(bytes.count, frame + 88 + stored)
            let sum = bytes.withUnsafeBytes { raw in
                FrameHeader.checksum(headerPrefix: UnsafeRawBufferPointer(rebasing: raw[frame..<(frame + 80)]), payload: UnsafeRawBufferPointer(rebasing: raw[(frame + 88)..<end]))
            }
            withUnsafeBytes(of: sum.littleEndian) { bytes.replaceSubrange((frame + 80)..<(frame + 88), with: $0) }
        }
    }

    static func u32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
    static func i64(_ v: Int64) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }

    static func expectDamage(_ step: SegmentWalker.Step, kind: SegmentWalker.Damage.Kind, offset: Int, seq: UInt64, containing text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        guard case .damage(let damage) = step else {
            Issue.record("expected damage, got \(step)", sourceLocation: sourceLocation)
            return
        }
        #expect(damage.kind == kind, sourceLocation: sourceLocation)
        #expect(damage.offset == Int64(offset), sourceLocation: sourceLocation)
        #expect(damage.seq == SequenceNumber(seq), sourceLocation: sourceLocation)
        #expect(damage.message.contains(text), "\(damage.message)", sourceLocation: sourceLocation)
    }

    @Test func anIntactSegmentWalksToItsEndOrFooter() throws {
        let (open, _) = Self.segment()
        let active = try Self.walk(open)
        #expect(active.frames == 2)
        guard case .end = active.last else { Issue.record("\(active.last)"); return }
        let (sealed, _) = Self.segment(sealed: true)
        let closed = try Self.walk(sealed, mayEndTorn: false)
        #expect(closed.frames == 2)
        guard case .footer(let footer, _) = closed.last else { Issue.record("\(closed.last)"); return }
        #expect(footer.recordCount == 5)
    }

    @Test func badMagic() throws {
        var (bytes, frames) = Self.segment()
        Self.patchFrame(&bytes, frame: frames[0], field: 0) { $0[0] = UInt8(ascii: "X") }
        Self.expectDamage(try Self.walk(bytes).last, kind: .structure, offset: frames[0], seq: 1, containing: "magic")
    }

    @Test func unknownCodec() throws {
        var (bytes, frames) = Self.segment()
        Self.patchFrame(&bytes, frame: frames[0], field: 5) { $0[5] = 7 }
        Self.expectDamage(try Self.walk(bytes).last, kind: .structure, offset: frames[0] + 4, seq: 1, containing: "codec 7")
    }

    @Test func unknownKind() throws {
        var (bytes, frames) = Self.segment()
        Self.patchFrame(&bytes, frame: frames[1], field: 4) { $0[4] = 2 }
        let walked = try Self.walk(bytes)
        #expect(walked.frames == 1)
        Self.expectDamage(walked.last, kind: .structure, offset: frames[1] + 4, seq: 4, containing: "kind 2")
    }

    @Test func storedLengthDiffersFromRawLengthInARawFrame() throws {
        var (bytes, frames) = Self.segment()
        // The second frame is raw: its stored and raw lengths must agree.
        #expect(bytes[frames[1] + 5] == 0 && bytes[frames[0] + 5] == 1)
        Self.patchFrame(&bytes, frame: frames[1], field: 12) { h in
            let raw = UInt32(littleEndian: h.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 12, as: UInt32.self) })
            h.replaceSubrange(12..<16, with: Self.u32(raw + 1))
        }
        Self.expectDamage(try Self.walk(bytes).last, kind: .structure, offset: frames[1] + 8, seq: 4, containing: "stored length")
    }

    @Test func minTimeAfterMaxTime() throws {
        var (bytes, frames) = Self.segment()
        Self.patchFrame(&bytes, frame: frames[0], field: 32) { $0.replaceSubrange(32..<40, with: Self.i64(Int64.max)) }
        Self.expectDamage(try Self.walk(bytes).last, kind: .structure, offset: frames[0] + 32, seq: 1, containing: "min time after max time")
    }

    @Test func zeroRecords() throws {
        var (bytes, frames) = Self.segment()
        Self.patchFrame(&bytes, frame: frames[0], field: 16) { $0.replaceSubrange(16..<20, with: Self.u32(0)) }
        Self.expectDamage(try Self.walk(bytes).last, kind: .structure, offset: frames[0] + 16, seq: 1, containing: "0 records")
    }

    @Test func aLengthPastTheEndOfASealedSegment() throws {
        var (bytes, frames) = Self.segment(sealed: true)
        Self.patchFrame(&bytes, frame: frames[1], field: 8) { h in
            h.replaceSubrange(8..<12, with: Self.u32(100_000))
            h.replaceSubrange(12..<16, with: Self.u32(100_000))
        }
        let walked = try Self.walk(bytes, mayEndTorn: false)
        Self.expectDamage(walked.last, kind: .structure, offset: frames[1], seq: 4, containing: "runs past the end")
    }

    @Test func aLengthPastTheEndOfTheActiveSegmentIsATornWrite() throws {
        let (bytes, frames) = Self.segment()
        // The second frame cut half way: a short write, only at the end of the active segment.
        let cut = Array(bytes[0..<(frames[1] + 100)])
        guard case .tornTail(let offset, let reason) = try Self.walk(cut).last else { Issue.record("not torn"); return }
        #expect(offset == Int64(frames[1]) && reason.contains("runs past the end"))
        Self.expectDamage(try Self.walk(cut, mayEndTorn: false).last, kind: .structure, offset: frames[1], seq: 4, containing: "runs past the end")
    }

    @Test func aDamagedLengthFieldOfACompleteFrameIsDamage() throws {
        var (bytes, frames) = Self.segment(secondCompressible: true)
        // Its stored length made longer than the file (a flipped bit), checksum as it was.
        Self.patchFrame(&bytes, frame: frames[1], field: 8, rechecksum: false) { h in
            let stored = UInt32(littleEndian: h.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 8, as: UInt32.self) })
            h.replaceSubrange(8..<12, with: Self.u32(stored | 0x100))
        }
        Self.expectDamage(try Self.walk(bytes).last, kind: .structure, offset: frames[1] + 8, seq: 4, containing: "length field damaged")
    }

    @Test func checksumMismatch() throws {
        var (bytes, frames) = Self.segment(sealed: true)
        bytes[frames[0] + 100] ^= 0x40
        Self.expectDamage(try Self.walk(bytes, mayEndTorn: false).last, kind: .checksum, offset: frames[0] + 80, seq: 1, containing: "checksum")
    }

    @Test func aChecksumMismatchInTheLastFrameIsDamageNotATornWrite() throws {
        var (bytes, frames) = Self.segment()
        bytes[frames[1] + 95] ^= 0x01
        Self.expectDamage(try Self.walk(bytes).last, kind: .checksum, offset: frames[1] + 80, seq: 4, containing: "checksum")
    }

    @Test func aZeroFilledTailIsATornWrite() throws {
        let (bytes, _) = Self.segment()
        var padded = bytes
        padded += [UInt8](repeating: 0, count: 700)
        guard case .tornTail(let offset, let reason) = try Self.walk(padded).last else { Issue.record("not torn"); return }
        #expect(offset == Int64(bytes.count) && reason.contains("zero"))
    }

    @Test func aSeqGap() throws {
        var (bytes, frames) = Self.segment()
        Self.patchFrame(&bytes, frame: frames[1], field: 24) { $0.replaceSubrange(24..<32, with: Self.i64(9)) }
        Self.expectDamage(try Self.walk(bytes).last, kind: .missing, offset: frames[1], seq: 4, containing: "starts at seq 9, expected 4")
    }

    @Test func recordsThatDisagreeWithTheCount() throws {
        var (bytes, frames) = Self.segment()
        Self.patchFrame(&bytes, frame: frames[1], field: 16) { $0.replaceSubrange(16..<20, with: Self.u32(3)) }
        Self.expectDamage(try Self.walk(bytes).last, kind: .summary, offset: frames[1], seq: 4, containing: "holds 2 records, header says 3")
        // Read by headers only, the count is what the header says: the walk goes on.
        #expect(try Self.walk(bytes, payload: .skip).frames == 2)
    }

    @Test func aRewrittenFrameBreaksTheChainNotTheWalk() async throws {
        // The walker checks checksums; the chain is the verifier's: a frame rewritten with a
        // recomputed checksum walks fine and fails verification at its first seq.
        let fs = MemoryFileSystem()
        let log = try await AuditLog.open(directory: "/log", options: testOptions(), fileSystem: fs)
        _ = try await log.append(events(5))
        try await log.close()
        let path = "/log/segments/" + Self.name
        var bytes = try #require(fs.contents(of: path))
        let frame = SegmentHeader.byteCount
        bytes[frame + 48] ^= 0x01  // the chain value after the frame
        Self.patchFrame(&bytes, frame: frame, field: 48) { _ in }
        fs.setContents(of: path, to: bytes)
        #expect(try Self.walk(bytes).frames == 1)
        let report = try await AuditLog.verify(directory: "/log", fileSystem: fs)
        #expect(report.issues.map(\.kind) == [.chain])
        #expect(report.firstIssue?.seq == SequenceNumber(1))
    }

    @Test func junkAfterTheFooter() throws {
        var (bytes, _) = Self.segment(sealed: true)
        let end = bytes.count
        bytes += [1, 2, 3]
        let fs = MemoryFileSystem()
        fs.setContents(of: Self.name, to: bytes)
        let walker = try SegmentWalker(file: try fs.openForReading(Self.name, displayName: Self.name), name: Self.name, limit: Int64(end - 128 + 131))
        while case .frame = try walker.next() {}
        #expect(try walker.sealedFooter() == nil)  // the footer no longer ends the file
    }

    @Test func aHeaderThatDoesNotDecode() throws {
        var (bytes, _) = Self.segment()
        bytes[3] = 0
        #expect(throws: AuditLogError.self) { try Self.walk(bytes) }
    }
}

/// A file that counts its reads (``SegmentWalker/frame(at:firstSeq:count:payload:length:)``
/// reads a frame of known length in one).
private final class ReadCountingFile: SegmentFile {
    let file: any SegmentFile
    private(set) var reads = 0
    init(_ file: any SegmentFile) { self.file = file }
    var displayName: String { file.displayName }
    func size() throws(AuditLogError) -> Int64 { try file.size() }
    func read(into buffer: inout [UInt8], count: Int, at offset: Int64) throws(AuditLogError) -> Int {
        reads += 1
        return try file.read(into: &buffer, count: count, at: offset)
    }
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(AuditLogError) { try file.write(bytes, at: offset) }
    func sync() throws(AuditLogError) { try file.sync() }
    func truncate(to length: Int64) throws(AuditLogError) { try file.truncate(to: length) }
    func close() { file.close() }
}

extension SegmentWalkerTests {
    /// A frame whose length the caller knows (an index's next offset) is read in one call, not
    /// its header and then all of it; a wrong length — short, long, absurd — costs the second
    /// read and changes nothing else: the same header, payload and records.
    @Test func aFrameOfKnownLengthIsReadInOneCall() throws {
        let (bytes, frames) = Self.segment(sealed: true)
        let ends = [frames[1], bytes.count - SegmentFooter.byteCount]
        let fs = MemoryFileSystem()
        fs.setContents(of: Self.name, to: bytes)
        for (i, offset) in frames.enumerated() {
            let (first, count) = i == 0 ? (SequenceNumber(1), UInt32(3)) : (SequenceNumber(4), UInt32(2))
            let exact = Int64(ends[i] - offset)
            var expected: (header: FrameHeader, payload: [UInt8], records: [Range<Int>])?
            let lengths: [(Int64?, Int)] = [(nil, 2), (exact, 1), (exact + 7, 1), (exact - 1, 2), (Int64(FrameHeader.byteCount) - 1, 2), (SegmentWalker.maxFrameBytes + 1, 2)]
            for (length, reads) in lengths {
                let file = ReadCountingFile(try fs.openForReading(Self.name, displayName: "segments/" + Self.name))
                let walker = try SegmentWalker(file: file, name: Self.name)
                let before = file.reads
                let h = try walker.frame(at: Int64(offset), firstSeq: first, count: count, length: length)
                #expect(file.reads - before == reads, "frame \(i), length \(length.map(String.init) ?? "unknown")")
                let got = (h, walker.withPayload { Array($0) }, walker.records)
                if let expected {
                    #expect(got.0 == expected.header && got.1 == expected.payload && got.2 == expected.records)
                } else {
                    expected = got
                }
            }
        }
    }
}
