import Foundation
import Testing

@_spi(Testing) @testable import AuditLog

/// `PosixFileSystem.fileSizes(in:names:)`: what an open asks of every sealed segment, on one
/// thread for a few names and shared among threads for many — the same answer either way.
@Suite struct FileSizesTests {
    /// `count` names in `dir`: regular files of distinct sizes, with a missing name, a directory
    /// and a link to a file among them (none of which has a size to give).
    func makeNames(_ dir: String, count: Int) throws -> (names: [String], expected: [Int64?]) {
        var names: [String] = []
        var expected: [Int64?] = []
        for i in 0..<count {
            let name = String(format: "%020d.seg", i)
            switch i % 17 {
            case 5: expected.append(nil)  // never created
            case 9:
                try FileManager.default.createDirectory(atPath: dir + "/" + name, withIntermediateDirectories: false)
                expected.append(nil)
            case 13:
                try FileManager.default.createSymbolicLink(atPath: dir + "/" + name, withDestinationPath: dir + "/" + names[0])
                expected.append(nil)
            default:
                try Data(repeating: 7, count: i * 3 + 1).write(to: URL(fileURLWithPath: dir + "/" + name))
                expected.append(Int64(i * 3 + 1))
            }
            names.append(name)
        }
        return (names, expected)
    }

    @Test(arguments: [0, 1, 20, PosixFileSystem.namesPerStatWorker * 2 - 1, PosixFileSystem.namesPerStatWorker * 2, 300, 1_001])
    func sizesInTheOrderAsked(count: Int) async throws {
        try await withTemporaryDirectory { dir in
            let (names, expected) = try makeNames(dir, count: count)
            #expect(PosixFileSystem().fileSizes(in: dir, names: names) == expected)
            // Asked in another order, answered in that order.
            let order = Array((0..<count).reversed())
            #expect(PosixFileSystem().fileSizes(in: dir, names: order.map { names[$0] }) == order.map { expected[$0] })
        }
    }

    @Test func aMissingDirectoryHasNoSizes() {
        let names = (0..<300).map { String(format: "%020d.seg", $0) }
        #expect(PosixFileSystem().fileSizes(in: "/nonexistent-auditlog-dir", names: names) == Array(repeating: nil, count: 300))
    }
}
