import Foundation
import Testing

@testable import AuditLog

/// The chain computed by the log equals one computed by hand from docs/FORMAT.md with an
/// independent SHA-256 (coreutils' sha256sum in a child process).
@Suite struct ChainTests {
    func sha256sum(_ bytes: [UInt8]) throws -> String {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("chain-\(UUID().uuidString)")
        try Data(bytes).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [file.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let out = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: out.prefix(64), as: UTF8.self)
    }

    func hexBytes(_ hex: String) -> [UInt8] {
        let chars = Array(hex.utf8)
        return stride(from: 0, to: chars.count, by: 2).map { UInt8(String(decoding: chars[$0..<($0 + 2)], as: UTF8.self), radix: 16) ?? 0 }
    }

    func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }

    /// A minimal leaf written by hand: seq, timestamp, presence 0, id, event_type.
    func handLeaf(seq: UInt64, nanos: Int64, id: String, type: String) -> [UInt8] {
        le(seq) + le(nanos) + le(UInt32(0)) + [UInt8(id.utf8.count)] + Array(id.utf8) + [UInt8(type.utf8.count)] + Array(type.utf8)
    }

    @Test func chainValuesMatchAHandComputedSHA256() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await AuditLog.open(directory: dir, options: testOptions())
            let t1 = Timestamp(rfc3339: "2026-03-20T10:30:00.123Z")!
            let t2 = Timestamp(rfc3339: "2026-03-20T10:30:01Z")!
            let r1 = try await log.append([AuditEvent(eventType: "decision", timestamp: t1, id: "evt_1")])
            let r2 = try await log.append([AuditEvent(eventType: "model.enabled", timestamp: t2, id: "evt_2")])
            try await log.close()

            let manifest = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/auditlog.meta")))
            let logID = Array(manifest[16..<32])
            let genesis = try sha256sum(Array("auditlog/v1/genesis".utf8) + logID)
            let h1 = try sha256sum(hexBytes(genesis) + handLeaf(seq: 1, nanos: t1.nanosSinceEpoch, id: "evt_1", type: "decision"))
            let h2 = try sha256sum(hexBytes(h1) + handLeaf(seq: 2, nanos: t2.nanosSinceEpoch, id: "evt_2", type: "model.enabled"))
            #expect(r1.chainHead.hex == h1)
            #expect(r2.chainHead.hex == h2)

            // The segment header's anchor is the genesis value.
            let segment = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/segments/00000000000000000001.seg")))
            #expect(segment[64..<96].map { String(format: "%02x", $0) }.joined() == genesis)
            #expect(ChainHash.genesis(logID: try #require(LogID(bytes: logID))).hex == genesis)
        }
    }
}
