import Foundation
import Testing

@testable import AuditLog

/// `fixtures/golden-v1/` pins format version 1: written once by `auditlog ingest` from
/// `fixtures/golden-v1.ndjson` (see fixtures/README.md). If a change to the codecs makes these
/// tests fail, the format changed: bump the version, update docs/FORMAT.md and the fixture.
@Suite struct GoldenFixtureTests {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fixtures")

    /// The chain value after the last record, as written when the fixture was made.
    static let chainHead = "09c5df9eb107274cb31aa1336a006b6be2a2a3dad84eb8ac559dd4d84c25cc31"

    /// A copy of the fixture (opening for reading creates nothing, but tests stay hermetic).
    func withFixture<T>(_ body: (String) async throws -> T) async throws -> T {
        try await withTemporaryDirectory { dir in
            let copy = dir + "/golden-v1"
            try FileManager.default.copyItem(atPath: Self.root.appendingPathComponent("golden-v1").path, toPath: copy)
            return try await body(copy)
        }
    }

    @Test func theGoldenLogVerifies() async throws {
        try await withFixture { dir in
            let report = try await AuditLog.verify(directory: dir, options: VerificationOptions(deep: true))
            #expect(report.isIntact, "\(report.issues)")
            #expect(report.recordsChecked == 43)
            #expect(report.segmentsChecked == 3)
            #expect(report.chainHead?.hex == Self.chainHead)
        }
    }

    @Test func theGoldenLogHoldsItsSourceEvents() async throws {
        try await withFixture { dir in
            let source = try String(contentsOf: Self.root.appendingPathComponent("golden-v1.ndjson"), encoding: .utf8)
                .split(separator: "\n").map { try AuditEvent(json: String($0)) }
            let log = try await AuditLog.open(directory: dir, options: .readOnly)
            let records = try await readAll(log)
            #expect(records.count == source.count)
            for (i, (record, original)) in zip(records, source).enumerated() {
                #expect(record.seq == SequenceNumber(UInt64(i + 1)))
                var expected = original
                if expected.id == nil { expected.id = record.event.id }
                #expect(record.event == expected, "seq \(i + 1)")
            }
            #expect(records[41].event.extra.map(\.key) == ["tenant", "labels"])
            #expect(records[42].event.timestamp.rfc3339 == "2026-03-20T21:59:59.500Z")
        }
    }

    /// Re-encoding every decoded record gives back exactly the stored bytes.
    @Test func everyStoredLeafReencodesToTheSameBytes() async throws {
        try await withFixture { dir in
            for name in try LogDirectory(path: dir).segmentNames() {
                let walker = try SegmentWalker(LogDirectory(path: dir), name)
                while case .frame = try walker.next(.decompress) {
                    try walker.forEachRecord { (seq, record) throws(FormatError) in
                        let event = try AuditEvent.decodeRecord(record)
                        #expect(event.recordBytes() == Array(record), "seq \(seq)")
                    }
                }
            }
        }
    }

    @Test func headersFootersAndManifestAreAsSpecified() throws {
        let dir = Self.root.appendingPathComponent("golden-v1")
        let manifest = try [UInt8](Data(contentsOf: dir.appendingPathComponent("auditlog.meta")))
        #expect(manifest.count == 64)
        #expect(Array(manifest[0..<8]) == Array("AUDITLOG".utf8))
        #expect(manifest[8] == 1 && manifest[9] == 0)
        let segment = try [UInt8](Data(contentsOf: dir.appendingPathComponent("segments/00000000000000000001.seg")))
        #expect(Array(segment[0..<8]) == Array("AUDITSEG".utf8))
        #expect(Array(segment[16..<32]) == Array(manifest[16..<32]))  // log id
        #expect(Array(segment[128..<132]) == Array("AFRM".utf8))
        let footer = Array(segment[(segment.count - 128)...])
        #expect(Array(footer[0..<4]) == Array("AFTR".utf8))
        #expect(footer[16] == 14)  // last seq of the first segment
    }

    /// `segments/catalog` (added with the segment catalog, a derived file): its two entries are
    /// the two sealed segments' header and footer facts, its bytes what a writer writes for
    /// them, and a reader using it finds what one reading every segment finds.
    @Test func theCatalogDescribesTheSealedSegments() async throws {
        try await withFixture { dir in
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/segments/catalog")))
            let expectedLength = 64 + 2 * 128 + 8
            #expect(bytes.count == expectedLength)
            let catalog = try #require(bytes.withUnsafeBytes { try? SegmentCatalogFile.decode($0) })
            let files = try LogCatalog.load(LogDirectory(path: dir), repair: true)
            let firstSeqs: [UInt64] = catalog.entries.map(\.firstSeq.rawValue)
            #expect(firstSeqs == [1, 15])
            let written: [UInt8] = LogCatalog.catalogFile(files.manifest, files.segments).encoded()
            #expect(bytes == written)
            let reader = try await AuditLog.open(directory: dir, options: .readOnly)
            #expect(reader.segments == files.segments)
        }
    }
}
