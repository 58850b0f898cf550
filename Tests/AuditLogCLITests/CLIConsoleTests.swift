import AuditLog
import Foundation
import Testing

/// The events console in a real browser: Debian's chromium and chromium-driver driven by
/// Selenium (Scripts/console_test.py) against `auditlog serve` on loopback with a generated
/// log. The script checks each view against the API's answers for the same query (filters,
/// Load more, live mode, detail with its inclusion proof, usage chart and CSV, verify) and
/// saves a screenshot of each view under `.build/console-screenshots` (or
/// `AUDITLOG_SCREENSHOTS`).
///
/// Skipped where the browser or Selenium is missing, unless `AUDITLOG_REQUIRE_BROWSER=1` (set
/// by scripts/test, which installs them) makes that a failure.
@Suite(.serialized, .enabled(if: Browser.isAvailable, "chromium, chromium-driver or Python's selenium is missing (scripts/install-deps installs them)"))
struct CLIConsoleTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Scripts/console_test.py").path

    static var screenshots: String {
        if let dir = ProcessInfo.processInfo.environment["AUDITLOG_SCREENSHOTS"] { return dir }
        let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return package.appendingPathComponent(".build/console-screenshots").path
    }

    @Test func theConsoleShowsWhatTheAPIReturnsInABrowser() async throws {
        try await withTemporaryDirectory { root in
            let dir = root + "/log"
            let gen = try CLIRunner.run(["gen", "--count", "4000", "--seed", "11", "--days", "10", "--end", "1h"])
            #expect(try CLIRunner.run(["ingest", "--dir", dir, "-"], stdin: Data(gen.stdout.utf8)).status == 0)
            let readToken = "console-read-token"
            let writeToken = "console-write-token"
            try "read \(CLIServeTests.hex(readToken)) name=viewer\nwrite \(CLIServeTests.hex(writeToken)) name=ops\n".write(toFile: root + "/tokens", atomically: true, encoding: .utf8)
            #expect(try CLIRunner.run(["keygen", "--name", "console.test/log", "--private", root + "/signer.key"]).status == 0)
            let server = try CLIServeTests.Server(
                ["--dir", dir, "--token-file", root + "/tokens", "--no-read-audit", "--signing-key", root + "/signer.key", "--checkpoint-interval", "1s"], directory: root)
            defer { _ = server.stop() }
            try await server.waitUntilListening()
            #expect(server.stderr.contains("events console at http://127.0.0.1:\(server.port)/"))
            let run = try CLIRunner.runTool(
                "/usr/bin/env", ["python3", Self.script, "http://127.0.0.1:\(server.port)", readToken, writeToken, Self.screenshots], timeout: 300)
            // The script's lines say what was checked; the summary feeds docs/PERFORMANCE.md.
            print(run.stdout)
            #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
            #expect(run.stdout.contains("summary {"))
        }
    }
}

/// Whether the browser test can run here.
enum Browser {
    static var isAvailable: Bool {
        if ProcessInfo.processInfo.environment["AUDITLOG_REQUIRE_BROWSER"] == "1" { return true }
        let files = ["/usr/bin/chromium", "/usr/bin/chromedriver"].allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }
        return files && (try? CLIRunner.runTool("/usr/bin/env", ["python3", "-c", "import selenium"]).status) == 0
    }
}
