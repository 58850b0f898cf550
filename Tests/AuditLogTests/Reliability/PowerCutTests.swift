import Foundation
import Testing

@testable import AuditLog

/// Power cuts, not just killed processes: the crash writer (four appenders, hourly partitions,
/// small segments, sweeps and checkpoints all the time) runs on a FUSE file system that keeps
/// every write and every name change apart until the matching fsync makes it durable
/// (Tests/AuditLogTests/PowerCut/faultfs.py). At a random moment — or at a chosen system call,
/// as in the crash test — the writer is killed and the file system unmounted: what was not
/// durable is dropped, and about half the files with unsynced writes keep some of them (a
/// prefix torn at a random byte, a reordered subset, or zeros up to the final size). Then the
/// log is opened (recovery) and every check of the crash test applies (CrashTests.problems).
///
/// A canary checks the check: a writer that leaves out its directory fsyncs must lose
/// acknowledged events here.
///
/// Needs /dev/fuse, root, fusermount3 (Debian's fuse3) and PyPI's mfusepy; skipped with a
/// message where /dev/fuse is missing or the user is not root, a failure where the tools are
/// missing (scripts/install-deps installs them). Short mode (CI): 24 cuts; `AUDITLOG_RELIABILITY=long`
/// (make reliability): 220.
@Suite(
    .serialized, .enabled(if: FaultFS.deviceExists, "/dev/fuse is missing: the power-cut test needs FUSE"),
    .enabled(if: getuid() == 0, "the power-cut test mounts a FUSE file system as root; run it as root (CI does)"))
struct PowerCutTests {
    static let cuts = CrashTests.long ? 220 : 24

    struct Figures: CustomStringConvertible {
        var crash = CrashTests.Figures()
        var cuts = 0
        var atCrashPoints = 0
        var lostNames = 0
        var filesWithLostWrites = 0
        var lostWrites = 0
        var torn = 0
        var reordered = 0
        var zeroFilled = 0
        var fsyncs = 0
        var directoryFsyncs = 0

        mutating func add(_ report: [String: Any]) {
            func n(_ key: String) -> Int { report[key] as? Int ?? 0 }
            lostNames += n("lost_names")
            filesWithLostWrites += n("files_with_lost_writes")
            lostWrites += n("lost_writes")
            torn += n("torn")
            reordered += n("reordered")
            zeroFilled += n("zero_filled")
            fsyncs += n("fsyncs")
            directoryFsyncs += n("dir_fsyncs")
        }

        var description: String {
            "\(cuts) power cuts (\(atCrashPoints) at chosen system calls), \(crash.acknowledged) events acknowledged, \(crash.checked) checked byte for byte, \(crash.lost) lost, "
                + "\(crash.swept) removed by a recorded sweep first; dropped at the cuts: \(lostNames) names not yet durable, \(lostWrites) unsynced writes in \(filesWithLostWrites) files; "
                + "kept anyway: \(torn) torn writes, \(reordered) reordered, \(zeroFilled) zero-filled; \(crash.recoveries) torn tails cut at open; "
                + "\(fsyncs) file and \(directoryFsyncs) directory fsyncs seen; \(crash.columnSegments) column-frame segments seen"
        }
    }

    @Test func powerCutsLoseNothingAcknowledged() async throws {
        try FaultFS.requireTools()
        try await withTemporaryDirectory { root in
            let backing = root + "/disk"
            try FileManager.default.createDirectory(atPath: backing, withIntermediateDirectories: true)
            var rng = SplitMix64(seed: UInt64(ProcessInfo.processInfo.environment["AUDITLOG_RELIABILITY_SEED"].flatMap { Int($0) } ?? 20_261_202))
            var figures = Figures()
            let keep = ProcessInfo.processInfo.environment["AUDITLOG_POWERCUT_KEEP"]
            for run in 0..<Self.cuts {
                let targeted = run % 3 == 2
                let point = targeted ? CrashTests.crashPoints[rng.below(CrashTests.crashPoints.count)] : nil
                if keep != nil {
                    // What the run starts from, so that a failing run can be replayed.
                    try? FileManager.default.removeItem(atPath: root + "/before")
                    try? FileManager.default.copyItem(atPath: backing, toPath: root + "/before")
                }
                let (report, reachedPoint) = try await FaultFS.cycle(
                    backing: backing, root: root, run: run, seed: rng.next(), writerArgument: point, runFor: .milliseconds(targeted ? 4000 : 150 + rng.below(1200)))
                figures.cuts += 1
                if reachedPoint { figures.atCrashPoints += 1 }
                figures.add(report)
                let problems = try await CrashTests.problems(dir: backing + "/log", acks: root + "/acks-\(run)", run: run, figures: &figures.crash)
                for problem in problems { Issue.record("\(problem)") }
                if !problems.isEmpty, let keep {
                    // What the cut left, and what the run started from, for whoever debugs it.
                    try? FileManager.default.copyItem(atPath: backing, toPath: keep + "/powercut-run-\(run)")
                    try? FileManager.default.copyItem(atPath: root + "/before", toPath: keep + "/powercut-run-\(run)-before")
                    try? FileManager.default.copyItem(atPath: root + "/cut-\(run).json", toPath: keep + "/powercut-run-\(run).json")
                }
            }
            print("PowerCutTests: \(figures)")
            #expect(figures.crash.checked > 0)
            #expect(figures.crash.columnSegments > 0, "no run stored column frames")
            #expect(figures.lostNames + figures.lostWrites > 0, "the cuts dropped nothing: the file system is not doing its job")
        }
    }

    /// The check of the check: with every directory fsync left out (after a first run that
    /// made the log), power cuts must lose acknowledged events.
    @Test func aMissingDirectoryFsyncIsCaught() async throws {
        try FaultFS.requireTools()
        try await withTemporaryDirectory { root in
            let backing = root + "/disk"
            try FileManager.default.createDirectory(atPath: backing, withIntermediateDirectories: true)
            var figures = CrashTests.Figures()
            _ = try await FaultFS.cycle(backing: backing, root: root, run: 0, seed: 1, writerArgument: nil, runFor: .milliseconds(800))
            #expect(try await CrashTests.problems(dir: backing + "/log", acks: root + "/acks-0", run: 0, figures: &figures).isEmpty)
            var caught: [String] = []
            for run in 1...4 where caught.isEmpty {
                _ = try await FaultFS.cycle(backing: backing, root: root, run: run, seed: UInt64(run), writerArgument: "syncDirectory:segments:0:skip", runFor: .milliseconds(2000))
                caught = try await CrashTests.problems(dir: backing + "/log", acks: root + "/acks-\(run)", run: run, figures: &figures)
            }
            #expect(!caught.isEmpty, "segments created without a directory fsync survived every power cut")
            print("PowerCutTests canary: without directory fsyncs, \(caught.count) problem(s), the first: \(caught.first ?? "-")")
        }
    }
}

/// Mounting the fault file system, running the crash writer on it, and cutting the power.
enum FaultFS {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("PowerCut/faultfs.py").path

    static var deviceExists: Bool { FileManager.default.fileExists(atPath: "/dev/fuse") }

    struct Missing: Error, CustomStringConvertible {
        var description: String
    }

    /// Throws, naming what is missing, unless FUSE can be mounted here.
    static func requireTools() throws {
        guard ["/usr/bin/fusermount3", "/bin/fusermount3"].contains(where: FileManager.default.isExecutableFile(atPath:)) else {
            throw Missing(description: "fusermount3 is missing (Debian's fuse3; scripts/install-deps installs it)")
        }
        let probe = try run("/usr/bin/env", ["python3", "-c", "import mfusepy"])
        guard probe == 0 else { throw Missing(description: "Python's mfusepy is missing (pip install mfusepy; scripts/install-deps installs it)") }
    }

    /// Mounts the fault file system over `backing`, runs the crash writer on it for `runFor`
    /// (or until it reaches its crash point), kills it, and cuts the power (unmounts). Returns
    /// the file system's report and whether the writer died at its crash point.
    static func cycle(
        backing: String, root: String, run: Int, seed: UInt64, writerArgument: String?, runFor: Duration
    ) async throws -> (report: [String: Any], reachedPoint: Bool) {
        let mountpoint = root + "/mnt"
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
        let reportPath = root + "/cut-\(run).json"
        let fs = Process()
        fs.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        fs.arguments = ["python3", script, backing, mountpoint, reportPath, "--seed", String(seed % 1_000_000_007)]
        fs.standardOutput = FileHandle.nullDevice
        let fsErrors = root + "/faultfs-\(run).err"
        _ = FileManager.default.createFile(atPath: fsErrors, contents: nil)
        fs.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: fsErrors))
        try fs.run()
        var mounted = false
        for _ in 0..<200 {
            if isMounted(mountpoint) {
                mounted = true
                break
            }
            guard fs.isRunning else { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        guard mounted else {
            kill(fs.processIdentifier, SIGKILL)
            fs.waitUntilExit()
            throw Missing(description: "faultfs did not mount: \((try? String(contentsOfFile: fsErrors, encoding: .utf8)) ?? "")")
        }

        let writer = Process()
        writer.executableURL = CrashTests.writer
        writer.arguments = [mountpoint + "/log", root + "/acks-\(run)", String(run)] + (writerArgument.map { [$0] } ?? [])
        writer.standardOutput = FileHandle.nullDevice
        let writerErrors = root + "/writer-\(run).err"
        _ = FileManager.default.createFile(atPath: writerErrors, contents: nil)
        writer.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: writerErrors))
        try writer.run()
        let deadline = ContinuousClock.now + runFor
        while writer.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        let reachedPoint = !writer.isRunning
        if writer.isRunning { kill(writer.processIdentifier, SIGKILL) }
        writer.waitUntilExit()
        // Before the cut the file system works: a writer that stopped on its own (not killed,
        // by us or at its crash point) met an error of the log's own — a sweep that failed,
        // say, which would fail at every run after and go unseen.
        if writer.terminationReason == .exit {
            let errors = (try? String(contentsOfFile: writerErrors, encoding: .utf8)) ?? ""
            Issue.record("run \(run): the writer stopped on its own (status \(writer.terminationStatus)): \(errors.suffix(2000))")
        }

        // The power cut: unmount; faultfs then rewrites the backing directory to what was durable.
        var unmounted = false
        for _ in 0..<100 where !unmounted {
            unmounted = try Self.run("/usr/bin/env", ["fusermount3", "-u", mountpoint]) == 0
            if !unmounted { try await Task.sleep(for: .milliseconds(50)) }
        }
        if !unmounted { _ = try Self.run("/usr/bin/env", ["fusermount3", "-u", "-z", mountpoint]) }
        for _ in 0..<600 where fs.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        if fs.isRunning { kill(fs.processIdentifier, SIGKILL) }
        fs.waitUntilExit()
        guard fs.terminationStatus == 0, let data = FileManager.default.contents(atPath: reportPath),
            let report = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        else {
            throw Missing(description: "faultfs failed (status \(fs.terminationStatus)): \((try? String(contentsOfFile: fsErrors, encoding: .utf8)) ?? "")")
        }
        return (report, reachedPoint)
    }

    static func isMounted(_ path: String) -> Bool {
        let mounts = (try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8)) ?? ""
        return mounts.split(separator: "\n").contains { $0.split(separator: " ").dropFirst().first.map(String.init) == path }
    }

    @discardableResult
    static func run(_ path: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}
