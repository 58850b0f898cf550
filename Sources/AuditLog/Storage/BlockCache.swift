import Foundation

/// The local disk cache of archived bytes read back (`<log>/archive-cache/`): one file per
/// block of an object, named by the object's SHA-256 and the block's number, so an entry is
/// never stale; least recently used blocks go when the budget is exceeded. A cache file is
/// only ever a copy: a short or missing one is fetched again, and what a block holds is checked
/// by the format (frame checksums, the chain) like any other read.
final class BlockCache: Sendable {
    let path: String
    let budgetBytes: Int64

    private struct Entry { var size: Int64; var lastUse: UInt64 }
    private struct State {
        var loaded = false
        var entries: [String: Entry] = [:]
        var total: Int64 = 0
        var clock: UInt64 = 0
    }
    private let state = Locked(State())

    init(path: String, budgetBytes: Int64) {
        self.path = path
        self.budgetBytes = budgetBytes
    }

    /// The block's bytes when cached at the expected length.
    func read(_ object: String, block: Int64, length: Int) -> [UInt8]? {
        let name = Self.name(object, block)
        let present = state.withLock { s -> Bool in
            load(&s)
            guard s.entries[name] != nil else { return false }
            s.clock += 1
            s.entries[name]?.lastUse = s.clock
            return true
        }
        guard present else { return nil }
        guard let data = FileManager.default.contents(atPath: path + "/" + name), data.count == length else {
            state.withLock { s in
                if let e = s.entries.removeValue(forKey: name) { s.total -= e.size }
            }
            try? FileManager.default.removeItem(atPath: path + "/" + name)
            return nil
        }
        return Array(data)
    }

    /// Keeps a block (best effort: a cache that cannot write just does not cache).
    func store(_ object: String, block: Int64, _ bytes: [UInt8]) {
        guard Int64(bytes.count) <= budgetBytes else { return }
        let name = Self.name(object, block)
        let temp = path + "/.tmp-" + name + "-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: temp, contents: Data(bytes)) else { return }
        guard rename(temp, path + "/" + name) == 0 else {
            try? FileManager.default.removeItem(atPath: temp)
            return
        }
        let victims = state.withLock { s -> [String] in
            load(&s)
            s.clock += 1
            if let old = s.entries[name] { s.total -= old.size }
            s.entries[name] = Entry(size: Int64(bytes.count), lastUse: s.clock)
            s.total += Int64(bytes.count)
            var victims: [String] = []
            if s.total > budgetBytes {
                for (victim, entry) in s.entries.sorted(by: { $0.value.lastUse < $1.value.lastUse }) where victim != name {
                    victims.append(victim)
                    s.entries[victim] = nil
                    s.total -= entry.size
                    if s.total <= budgetBytes { break }
                }
            }
            return victims
        }
        for victim in victims { try? FileManager.default.removeItem(atPath: path + "/" + victim) }
    }

    /// Bytes cached now.
    var totalBytes: Int64 {
        state.withLock { s in
            load(&s); return s.total
        }
    }

    /// What another process (or an earlier run) cached, oldest first by modification time.
    private func load(_ s: inout State) {
        guard !s.loaded else { return }
        s.loaded = true
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { return }
        var found: [(String, Int64, Date)] = []
        for name in names where !name.hasPrefix(".") {
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path + "/" + name) else { continue }
            let size = (attributes[.size] as? NSNumber)?.int64Value ?? 0
            found.append((name, size, (attributes[.modificationDate] as? Date) ?? .distantPast))
        }
        for (name, size, _) in found.sorted(by: { $0.2 < $1.2 }) {
            s.clock += 1
            s.entries[name] = Entry(size: size, lastUse: s.clock)
            s.total += size
        }
    }

    private static func name(_ object: String, _ block: Int64) -> String { object + "-" + String(block) }
}
