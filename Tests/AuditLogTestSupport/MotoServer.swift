import AuditLog
import Foundation

/// A real S3 API on loopback: `moto_server` (PyPI moto[server]) on a free port, with an IAM
/// user and the buckets a test asks for, and signature checking switched on afterwards
/// (scripts/moto-setup.py). Stopped by ``stop()``.
///
/// Where moto is not installed the archive tests are skipped with a message, unless
/// `AUDITLOG_REQUIRE_MOTO=1` (set by scripts/test, which installs it) makes that a failure.
public final class MotoServer: @unchecked Sendable {
    public let port: Int
    public let endpoint: String
    public let accessKey: String
    public let secretKey: String
    private var process: Process?

    public static var isAvailable: Bool {
        if executable() != nil { return true }
        return ProcessInfo.processInfo.environment["AUDITLOG_REQUIRE_MOTO"] == "1"
    }

    private static func executable() -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let path = String(dir) + "/moto_server"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    /// Starts a server with `buckets` (`NAME`, or `NAME:lock` for object lock).
    public init(buckets: [String]) throws {
        guard let executable = Self.executable() else { throw MotoError("moto_server is not on PATH (pip install 'moto[server]')") }
        var lastError: (any Error)?
        for _ in 0..<5 {
            let port = Self.freePort()
            let p = Process()
            p.executableURL = URL(fileURLWithPath: executable)
            p.arguments = ["-H", "127.0.0.1", "-p", String(port)]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            let endpoint = "http://127.0.0.1:\(port)"
            if Self.waitUntilListening(port: port) {
                do {
                    let (key, secret) = try Self.setUp(endpoint: endpoint, buckets: buckets)
                    self.port = port
                    self.endpoint = endpoint
                    self.accessKey = key
                    self.secretKey = secret
                    self.process = p
                    return
                } catch { lastError = error }
            }
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
        }
        throw lastError ?? MotoError("moto_server did not start")
    }

    deinit { stop() }

    /// Kills the server (the tests of an unreachable archive call it mid-way).
    public func stop() {
        guard let p = process else { return }
        process = nil
        // moto's server does not stop on SIGTERM.
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
    }

    /// The environment the CLI reads credentials from.
    public var environment: [String: String] { ["AWS_ACCESS_KEY_ID": accessKey, "AWS_SECRET_ACCESS_KEY": secretKey] }

    /// Credentials of the IAM user.
    public var credentials: ArchiveCredentials { ArchiveCredentials(accessKeyID: accessKey, secretAccessKey: secretKey) }

    /// Archive options for `s3://bucket/prefix` on this server.
    public func archive(_ bucket: String, prefix: String = "audit") throws -> ArchiveOptions {
        var o = ArchiveOptions(location: try ArchiveLocation(url: "s3://\(bucket)/\(prefix)", endpoint: endpoint))
        o.credentials = credentials
        return o
    }

    private static func setUp(endpoint: String, buckets: [String]) throws -> (String, String) {
        // Tests/AuditLogTestSupport/MotoServer.swift → the repository.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", root.appendingPathComponent("scripts/moto-setup.py").path, endpoint] + buckets
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0, let json = try JSONSerialization.jsonObject(with: data) as? [String: String],
            let key = json["access_key"], let secret = json["secret_key"]
        else { throw MotoError("scripts/moto-setup.py failed") }
        return (key, secret)
    }

    private static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    private static func waitUntilListening(port: Int) -> Bool {
        for _ in 0..<150 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            addr.sin_port = UInt16(port).bigEndian
            let ok = withUnsafeMutablePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            close(fd)
            if ok == 0 { return true }
            usleep(100_000)
        }
        return false
    }
}

/// Why the server could not be started.
public struct MotoError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// scripts/flaky-s3-proxy.py in front of a store: every `every`-th request answered 500,
/// alternately before the store sees it and after it did it — or, `dropping`, answered by
/// closing the connection.
public final class FlakyProxy: @unchecked Sendable {
    public let endpoint: String
    private let process: Process

    public init(upstream: String, every: Int, dropping: Bool = false) throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", root.appendingPathComponent("scripts/flaky-s3-proxy.py").path, upstream, String(every)] + (dropping ? ["0", "drop"] : [])
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        var line = Data()
        while let byte = try out.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) { line.append(byte) }
        guard let port = Int(String(decoding: line, as: UTF8.self)) else {
            kill(p.processIdentifier, SIGKILL)
            throw MotoError("scripts/flaky-s3-proxy.py did not start")
        }
        endpoint = "http://127.0.0.1:\(port)"
        process = p
    }

    deinit { stop() }

    public func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
