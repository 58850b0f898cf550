import AuditLog
import Foundation

/// Standard output, or a file that appears only when complete: bytes go to a temporary file
/// beside it, which is synced and renamed over the target by ``finish()``. An interrupted
/// export leaves no partial file (the temporary one is removed on error or signal).
final class OutputFile {
    private let stdout: OutputStream?
    private let fd: Int32
    private let path: String?
    private let temporaryPath: String?

    init(path: String?) throws {
        self.path = path
        guard let path else {
            stdout = OutputStream(fd: 1)
            fd = -1
            temporaryPath = nil
            return
        }
        stdout = nil
        try Self.refuseIfNotRegular(path)
        let url = URL(fileURLWithPath: path)
        let temp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())").path
        let descriptor = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw CLIError(message: "cannot create '\(temp)': \(String(cString: strerror(errno)))", status: ExitStatus.ioError)
        }
        fd = descriptor
        temporaryPath = temp
        InterruptCleanup.register(temp)
    }

    func write(_ bytes: [UInt8]) throws {
        if let stdout {
            stdout.write(bytes)
            return
        }
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress! + done, bytes.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                throw CLIError(message: "writing '\(path ?? "")' failed: \(String(cString: strerror(errno)))", status: ExitStatus.ioError)
            }
            done += n
        }
    }

    func finish() throws {
        if let stdout {
            stdout.flush()
            return
        }
        guard let path, let temporaryPath else { return }
        do { try Self.refuseIfNotRegular(path) } catch {
            abandon()
            throw error
        }
        guard fsync(fd) == 0, close(fd) == 0 else {
            abandon()
            throw CLIError(message: "syncing '\(path)' failed: \(String(cString: strerror(errno)))", status: ExitStatus.ioError)
        }
        guard rename(temporaryPath, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporaryPath)
            throw CLIError(message: "renaming to '\(path)' failed: \(reason)", status: ExitStatus.ioError)
        }
        InterruptCleanup.unregister()
    }

    /// The rename that ends an export replaces what is at `path`: only ever a regular file.
    /// A symlink, a device (`/dev/full`), a directory or a pipe there is refused, not replaced.
    static func refuseIfNotRegular(_ path: String) throws {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }  // nothing there yet
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            let kind: String
            switch st.st_mode & S_IFMT {
            case S_IFLNK: kind = "a symbolic link"
            case S_IFDIR: kind = "a directory"
            case S_IFCHR, S_IFBLK: kind = "a device"
            case S_IFIFO: kind = "a pipe"
            default: kind = "not a regular file"
            }
            throw CLIError(message: "--output '\(path)' is \(kind): an export only ever replaces a regular file (write to standard output to send it elsewhere)", status: ExitStatus.usage)
        }
    }

    func abandon() {
        guard let temporaryPath else { return }
        close(fd)
        unlink(temporaryPath)
        InterruptCleanup.unregister()
    }
}

/// Removes a temporary output file when the process is interrupted (SIGINT, SIGTERM, SIGHUP).
enum InterruptCleanup {
    // Written before the handlers are installed and read only by them; a C string so the
    // handler calls nothing but unlink and _exit, which are async-signal-safe.
    nonisolated(unsafe) private static var pathPointer: UnsafeMutablePointer<CChar>?

    static func register(_ path: String) {
        pathPointer = strdup(path)
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig) { received in
                if let p = InterruptCleanup.pathPointer { unlink(p) }
                _exit(128 + received)
            }
        }
    }

    static func unregister() {
        for sig in [SIGINT, SIGTERM, SIGHUP] { signal(sig, SIG_DFL) }
        if let p = pathPointer { free(p) }
        pathPointer = nil
    }
}
