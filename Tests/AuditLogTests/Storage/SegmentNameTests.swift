import Foundation
import Testing

@_spi(Testing) @testable import AuditLog

/// Segment file names (`<first seq, 20 digits>.seg`): written and read back at the extremes,
/// everything else refused, and a directory's segments listed once each, in seq order.
@Suite struct SegmentNameTests {
    @Test(arguments: [UInt64(1), 9, 10, 33_334, 966_668, 10_000_000_000, UInt64(Int64.max), UInt64.max])
    func namesRoundTrip(_ seq: UInt64) {
        let name = LogDirectory.segmentName(firstSeq: SequenceNumber(seq))
        #expect(name == String(repeating: "0", count: 20 - String(seq).count) + String(seq) + ".seg")
        #expect(LogDirectory.firstSeq(ofSegment: name) == SequenceNumber(seq))
    }

    @Test(arguments: [
        "00000000000000000000.seg",  // seq 0
        "18446744073709551616.seg",  // UInt64.max + 1
        "99999999999999999999.seg",
        "0000000000000000001.seg",  // 19 digits
        "000000000000000000001.seg",  // 21 digits
        "0000000000000000000a.seg",
        "0000000000000000000/.seg",  // the byte below "0"
        "0000000000000000000:.seg",  // the byte above "9"
        "00000000000000000001.sef",
        "00000000000000000001.idx",
        "00000000000000000001.seg.tmp-1-2",
        "00000000000000000001seg.",
        "0000000000000000000١.seg",  // an Arabic-Indic digit: not ASCII
        "catalog", "", ".seg",
    ])
    func refusesWhatIsNotASegmentName(_ name: String) {
        #expect(LogDirectory.firstSeq(ofSegment: name) == nil)
    }

    @Test func listsEachSegmentOnceInSeqOrder() throws {
        let fs = MemoryFileSystem()
        let directory = LogDirectory(path: "/log", fileSystem: fs)
        try fs.makeDirectory("/log")
        try fs.makeDirectory(directory.segmentsPath)
        // Local segments, an evicted one (only its receipt), one both local and archived, and
        // files that are not segments.
        let files = [
            "00000000000000000100.seg", "00000000000000000002.seg", "00000000000000000100.arc",
            "00000000000000000030.arc", "00000000000000001000.seg", "00000000000000000002.idx",
            "00000000000000000500.arc.tmp-1-2", "catalog", "00000000000000000009.seg.cut-128",
        ]
        for name in files {
            try fs.writeAtomically([0], to: directory.segmentPath(name), directory: directory.segmentsPath, displayName: name, durable: false)
        }
        #expect(
            try directory.segmentNames() == [
                "00000000000000000002.seg", "00000000000000000030.seg", "00000000000000000100.seg", "00000000000000001000.seg",
            ])
    }
}
