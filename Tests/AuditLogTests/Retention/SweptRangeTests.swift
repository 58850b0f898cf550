import Testing

@testable import AuditLog

/// What a sweep carries of a recorded range (``SweptRange/absentRuns(besides:)``), how it asks
/// whether a record already names a range (``SweptRangeCover``) and whether its own ranges do
/// between them (``SweptRange/union(_:covers:)``).
@Suite struct SweptRangeTests {
    /// The chain value after seq `n` in these made-up segments.
    static func h(_ n: UInt64) -> ChainHash { ChainHash(w0: n, w1: 0, w2: 0, w3: 0) }

    /// A sealed segment holding seqs `first`…`last`.
    static func segment(_ first: UInt64, _ last: UInt64) -> SegmentInfo {
        let header = SegmentHeader(
            logID: LogID.random(), firstSeq: SequenceNumber(first), partitionStartNanos: 0, partitionLengthNanos: 1, createdAtNanos: 0, anchor: h(first - 1))
        var scan = ActiveSegmentScan(dataEnd: 4096, chainAfter: h(last))
        scan.recordCount = last - first + 1
        var info = SegmentInfo(fileName: LogDirectory.segmentName(firstSeq: SequenceNumber(first)), header: header, scan: scan)
        info.isSealed = true
        return info
    }

    /// Seqs 1–100 in segments of 1–20, 21–40, 41–60, 61–80, 81–100, as a sweep records them.
    static let range = SweptRange(
        firstSeq: SequenceNumber(1), lastSeq: SequenceNumber(100), chainBefore: h(0), chainAfter: h(100),
        segments: [1, 21, 41, 61, 81].map { "segments/" + LogDirectory.segmentName(firstSeq: SequenceNumber($0)) },
        records: 100, bytes: 5000, minTime: Timestamp(nanosSinceEpoch: 1), maxTime: Timestamp(nanosSinceEpoch: 2))

    /// Seqs `first`…`last`, with no segments, records or chain values that matter.
    func r(_ first: UInt64, _ last: UInt64) -> SweptRange {
        SweptRange(firstSeq: SequenceNumber(first), lastSeq: SequenceNumber(last), chainBefore: Self.h(0), chainAfter: Self.h(0), segments: [], records: 0, bytes: 0)
    }

    func bounds(_ runs: [SweptRange]) -> [[UInt64]] { runs.map { [$0.firstSeq.rawValue, $0.lastSeq.rawValue] } }

    @Test func aRangeWithNothingLeftIsCarriedAsItWas() {
        let runs = Self.range.absentRuns(besides: [Self.segment(101, 120)])
        #expect(runs == [Self.range])
    }

    @Test func aRangeWhollyPresentIsNotCarried() {
        let present = [Self.segment(1, 20), Self.segment(21, 40), Self.segment(41, 60), Self.segment(61, 80), Self.segment(81, 100), Self.segment(101, 120)]
        #expect(Self.range.absentRuns(besides: present).isEmpty)
    }

    @Test func aPartlyDeletedRangeIsCarriedAsTheRunsThatAreGone() {
        // 21–40 and 81–100 still there: 1–20, 41–80 are gone.
        let runs = Self.range.absentRuns(besides: [Self.segment(21, 40), Self.segment(81, 100), Self.segment(101, 120)])
        #expect(bounds(runs) == [[1, 20], [41, 80]])
        // Chain values at the ends: the range's own at its start, the neighbours' inside it.
        #expect(runs.map(\.chainBefore) == [Self.h(0), Self.h(40)])
        #expect(runs.map(\.chainAfter) == [Self.h(20), Self.h(80)])
        #expect(runs.map(\.segments) == [["segments/00000000000000000001.seg"], ["segments/00000000000000000041.seg", "segments/00000000000000000061.seg"]])
        #expect(runs.map(\.records) == [20, 40])
        #expect(runs.allSatisfy { $0.bytes == 0 && $0.minTime == nil && $0.maxTime == nil })
        // The tail of the range gone, its head there.
        let tail = Self.range.absentRuns(besides: [Self.segment(1, 20), Self.segment(21, 40)])
        #expect(bounds(tail) == [[41, 100]])
        #expect(tail.first?.chainBefore == Self.h(40) && tail.first?.chainAfter == Self.h(100))
    }

    @Test func aCoverAnswersWhetherOneRangeHoldsAnother() {
        let cover = SweptRangeCover([r(50, 60), r(1, 30), r(10, 20), r(70, 70)])
        for (range, held) in [(r(1, 30), true), (r(5, 25), true), (r(25, 35), false), (r(31, 49), false), (r(55, 60), true), (r(70, 70), true), (r(60, 70), false), (r(71, 80), false)] {
            #expect(cover.contains(range) == held, "\(range.firstSeq)–\(range.lastSeq)")
        }
        #expect(!SweptRangeCover([]).contains(r(1, 1)))
    }

    @Test func aUnionOfAdjacentRangesCoversWhatNoneHoldsAlone() {
        let own = [r(1, 20), r(21, 40), r(61, 80)]
        for (range, covered) in [(r(1, 40), true), (r(5, 30), true), (r(21, 21), true), (r(30, 61), false), (r(41, 60), false), (r(61, 81), false), (r(70, 80), true)] {
            #expect(SweptRange.union(own, covers: range) == covered, "\(range.firstSeq)–\(range.lastSeq)")
        }
        #expect(!SweptRange.union([], covers: r(1, 1)))
    }
}
