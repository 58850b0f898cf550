import Foundation
import Testing

/// The README's library example is the code of Examples/ReadmeExample, a package that depends
/// on this one by path and so compiles against the public API only; scripts/test builds and
/// runs it. This test keeps the two texts identical, so the README cannot rot.
@Suite struct ReadmeExampleTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    @Test func readmeShowsExactlyTheCompiledExample() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let main = try String(contentsOf: Self.root.appendingPathComponent("Examples/ReadmeExample/Sources/ReadmeExample/main.swift"), encoding: .utf8)
        let begin = try #require(main.range(of: "// README:begin\n"))
        let end = try #require(main.range(of: "// README:end\n"))
        let compiled = String(main[begin.upperBound..<end.lowerBound])

        let section = try #require(readme.range(of: "## The library\n"))
        let open = try #require(readme.range(of: "```swift\n", range: section.upperBound..<readme.endIndex))
        let close = try #require(readme.range(of: "```\n", range: open.upperBound..<readme.endIndex))
        let shown = String(readme[open.upperBound..<close.lowerBound])
        #expect(shown == compiled, "README.md's library example differs from Examples/ReadmeExample (copy the region between the markers)")
        #expect(compiled.contains("import AuditLog"))
    }
}
