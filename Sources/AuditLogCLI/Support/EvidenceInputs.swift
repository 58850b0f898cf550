import AuditLog
import Foundation

/// Keys and notes as the evidence commands take them: a verifier key as its text or a file
/// holding it, a signer key and a signed note from files (docs/CLI.md, "Evidence").
enum EvidenceInputs {
    /// Reads a whole file, at most `limit` bytes (keys and notes are a few hundred bytes).
    static func read(_ path: String, what: String, limit: Int = 1 << 20) throws -> String {
        if path == "-" {
            return String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CLIError(message: "\(what) '\(path)' does not exist", status: ExitStatus.noInput)
        }
        guard !isDirectory.boolValue, let handle = FileHandle(forReadingAtPath: path) else {
            throw CLIError(message: "\(what) '\(path)' is not a readable file", status: ExitStatus.noInput)
        }
        defer { try? handle.close() }
        let data: Data?
        do { data = try handle.read(upToCount: limit) } catch {
            throw CLIError(message: "cannot read \(what) '\(path)': \(error.localizedDescription)", status: ExitStatus.ioError)
        }
        return String(decoding: data ?? Data(), as: UTF8.self)
    }

    /// `--key`: the verifier key text itself, or a file holding it.
    static func verifier(_ argument: String) throws -> NoteVerifier {
        let text = argument.contains("+") && !FileManager.default.fileExists(atPath: argument) ? argument : try read(argument, what: "verifier key file")
        do { return try NoteVerifier(text: text) } catch { throw CLIError(error) }
    }

    /// A signer key file (`PRIVATE+KEY+…`).
    static func signer(path: String) throws -> NoteSigner {
        let text = try read(path, what: "signer key file")
        do { return try NoteSigner(text: text) } catch { throw CLIError(error) }
    }

    /// A file holding a signed note.
    static func note(path: String) throws -> SignedNote {
        let text = try read(path, what: "checkpoint file")
        do { return try SignedNote(parsing: text) } catch {
            throw CLIError(message: "'\(path)': \(error.message)", status: ExitStatus.dataError)
        }
    }
}
