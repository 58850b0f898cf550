import Foundation
import Testing

/// docs/ARCHITECTURE.md: a layer never reaches up. Each folder of Sources/AuditLog may name the
/// types declared in the folders below it, never those declared above. The type names are read
/// from the sources themselves, so a new type is covered the day it is added.
@Suite struct LayeringTests {
    static let sources: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" && !FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
            url.deleteLastPathComponent()
        }
        return url.appendingPathComponent("Sources/AuditLog")
    }()

    /// Bottom first.
    static let layers = ["Format", "Event", "Storage", "Index", "Archive", "Query", "Evidence", "Retention", "Verification", "Fleet"]

    static func files(in folder: String) throws -> [URL] {
        let dir = sources.appendingPathComponent(folder)
        // Subfolders (Storage/Tree) belong to their folder's layer.
        let all = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: nil)?.allObjects.compactMap { $0 as? URL } ?? []
        return all.filter { $0.pathExtension == "swift" }
    }

    /// The code of a file without its comments and string literals' text.
    static func code(_ url: URL) throws -> String {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map { line -> Substring in
            let trimmed = line.drop { $0 == " " }
            if trimmed.hasPrefix("//") { return "" }
            return line
        }.joined(separator: "\n")
    }

    /// Type names declared at the top level of a folder's files.
    static func declaredTypes(in folder: String) throws -> Set<String> {
        var names = Set<String>()
        let pattern = try NSRegularExpression(
            pattern: #"^(?:public |package |private |fileprivate |internal |final |indirect )*(?:struct|enum|class|protocol|actor|typealias) ([A-Z][A-Za-z0-9]*)"#, options: [.anchorsMatchLines])
        for file in try files(in: folder) {
            let text = try code(file)
            for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                if let range = Range(match.range(at: 1), in: text) { names.insert(String(text[range])) }
            }
        }
        return names
    }

    @Test(arguments: 0..<layers.count)
    func noLayerNamesATypeOfALayerAboveIt(_ index: Int) throws {
        let layer = Self.layers[index]
        var above: [String: String] = [:]
        for upper in Self.layers[(index + 1)...] {
            for name in try Self.declaredTypes(in: upper) { above[name] = upper }
        }
        for file in try Self.files(in: layer) {
            let text = try Self.code(file)
            for (name, upper) in above where text.range(of: #"\b\#(name)\b"#, options: .regularExpression) != nil {
                Issue.record("\(layer)/\(file.lastPathComponent) names \(name), a type of \(upper), a layer above it")
            }
        }
    }
}
