#if canImport(Glibc)
    import Glibc
#endif

/// Buffered writes to a file descriptor. A closed pipe (`| head`) ends the process quietly
/// with status 0, as users of Unix tools expect.
final class OutputStream {
    private let fd: Int32
    private var buffer: [UInt8] = []
    private let capacity = 1 << 16

    init(fd: Int32) {
        self.fd = fd
        buffer.reserveCapacity(capacity)
    }

    static func ignoreSIGPIPE() { signal(SIGPIPE, SIG_IGN) }

    func write(_ string: String) {
        var s = string
        s.withUTF8 { write(UnsafeRawBufferPointer($0)) }
    }

    func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { write($0) }
    }

    func write(_ bytes: UnsafeRawBufferPointer) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= capacity { flush() }
    }

    func flush() {
        var done = 0
        while done < buffer.count {
            let n = buffer.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, buffer.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EPIPE { exit(0) }
                StandardError.print("auditlog: error: writing output failed: \(String(cString: strerror(errno)))")
                exit(74)
            }
            done += n
        }
        buffer.removeAll(keepingCapacity: true)
    }

    deinit { flush() }
}

enum StandardError {
    static func print(_ line: String) {
        var text = line + "\n"
        text.withUTF8 { utf8 in
            var done = 0
            while done < utf8.count {
                let n = Glibc.write(2, utf8.baseAddress! + done, utf8.count - done)
                if n <= 0 { return }
                done += n
            }
        }
    }

    static var isTerminal: Bool { isatty(2) == 1 }
}

extension StandardError {
    /// Writes without a newline (progress lines).
    static func write(_ text: String) {
        var t = text
        t.withUTF8 { utf8 in _ = Glibc.write(2, utf8.baseAddress, utf8.count) }
    }
}
