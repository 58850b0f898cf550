import Foundation
import Testing

/// `auditlog ingest --frame-encoding columns` against a reader of docs/FORMAT.md written in
/// Python from the spec alone (Scripts/segment_reader.py, python3-lz4): the column frames it
/// finds must rebuild exactly the payloads the row frames of the same events hold.
@Suite struct CLIFrameEncodingTests {
    static let reader = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Scripts/segment_reader.py").path
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fixtures").path

    /// Per segment of each directory, as the reader prints it: name, version, frames
    /// (`codec:count:sha256` of the payload).
    func read(_ directories: String...) throws -> [[String]] {
        let r = try CLIRunner.shell("python3 \(Self.reader) \(directories.joined(separator: " "))")
        #expect(r.status == 0, "segment_reader.py: \(r.stdout)\(r.stderr)")
        return r.stdout.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
    }

    @Test func aReaderOfTheSpecRebuildsColumnFramesToTheRowPayloads() async throws {
        try await withTemporaryDirectory { tmp in
            let gen = try CLIRunner.run(["gen", "--count", "20000", "--seed", "7", "--days", "2", "--end", "2026-03-21T00:00:00Z"])
            #expect(gen.status == 0)
            for (name, encoding) in [("rows", "rows"), ("columns", "columns")] {
                let ingest = try CLIRunner.run(["ingest", "--dir", tmp + "/" + name, "--frame-encoding", encoding, "--batch-size", "700", "-"], stdin: Data(gen.stdout.utf8))
                #expect(ingest.status == 0, "\(ingest.stderr)")
            }
            // Without the flag, each log goes on as it was written (here into new segments).
            let later = try CLIRunner.run(["gen", "--count", "3000", "--seed", "8", "--days", "1", "--end", "2026-03-23T00:00:00Z"])
            for name in ["rows", "columns"] {
                let ingest = try CLIRunner.run(["ingest", "--dir", tmp + "/" + name, "-"], stdin: Data(later.stdout.utf8))
                #expect(ingest.status == 0, "\(ingest.stderr)")
            }
            let rows = try read(tmp + "/rows")
            let columns = try read(tmp + "/columns")
            #expect(rows.count >= 3 && columns.map { $0[0] } == rows.map { $0[0] })
            #expect(rows.allSatisfy { $0[1] == "1" } && columns.allSatisfy { $0[1] == "2" })
            let rowFrames = rows.flatMap { $0.dropFirst(2) }
            let columnFrames = columns.flatMap { $0.dropFirst(2) }
            #expect(rowFrames.count > 100 && rowFrames.allSatisfy { $0.hasPrefix("1:") })
            #expect(columnFrames.allSatisfy { $0.hasPrefix("2:") })
            // Same records per frame, same payload digests: only the codec differs.
            #expect(columnFrames.map { $0.dropFirst(2) } == rowFrames.map { $0.dropFirst(2) })

            // `segments --json` says which format each segment is in.
            for (name, version) in [("rows", 1), ("columns", 2)] {
                let r = try CLIRunner.run(["segments", "--dir", tmp + "/" + name, "--json"])
                let list = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
                #expect(list.count == rows.count && list.allSatisfy { $0["format_version"] as? Int == version }, "\(r.stdout)")
            }

            let verify = try CLIRunner.run(["verify", "--dir", tmp + "/columns"])
            #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
            let exports = try ["rows", "columns"].map { try CLIRunner.run(["export", "--dir", tmp + "/" + $0, "--format", "csv"]).stdout }
            #expect(exports[0] == exports[1] && exports[0].count > 1_000_000)
            // Reads of a few events — rebuilt alone from a column frame — print what rows do.
            for args in [["tail", "--verdict", "block", "--limit", "7", "--json"], ["tail", "--user", "alice.0@acme.com", "--limit", "3", "--json"]] {
                let out = try ["rows", "columns"].map { try CLIRunner.run(args + ["--dir", tmp + "/" + $0]).stdout }
                #expect(out[0] == out[1] && out[0].contains("\"seq\""), "\(args)")
            }
            let page = try CLIRunner.run(["tail", "--until", "2026-03-20T12:00:00Z", "--limit", "1", "--json", "--dir", tmp + "/rows"]).stdout
            let events = try JSONSerialization.jsonObject(with: Data(page.utf8)) as? [[String: Any]]
            let id = try #require(events?.first?["id"] as? String)
            let shown = try ["rows", "columns"].map { try CLIRunner.run(["show", id, "--json", "--dir", tmp + "/" + $0]) }
            #expect(shown.allSatisfy { $0.status == 0 && $0.stdout.contains(id) }, "\(shown.map(\.stderr))")
        }
    }

    @Test func theGoldenColumnsLogReadsAsTheGoldenRowsLog() throws {
        let segments = try read(Self.fixtures + "/golden-v1", Self.fixtures + "/golden-v2")
        #expect(segments.count == 6)
        let (rows, columns) = (segments.prefix(3), segments.suffix(3))
        // The first two segments hold the same bytes; the last differs in the id the log assigned.
        for (r, c) in zip(rows.prefix(2), columns.prefix(2)) {
            #expect(r[0] == c[0] && r[1] == "1" && c[1] == "2")
            #expect(r[2].dropFirst(2) == c[2].dropFirst(2) && c[2].hasPrefix("2:"))
        }
    }

    @Test func anUnknownEncodingIsAUsageError() async throws {
        try await withTemporaryDirectory { tmp in
            let r = try CLIRunner.run(["ingest", "--dir", tmp + "/log", "--frame-encoding", "zstd", "-"], stdin: Data())
            #expect(r.status == 64)
            #expect(r.stderr.contains("frame-encoding"), "\(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: tmp + "/log"))
        }
    }
}
