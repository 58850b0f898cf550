/// The archive location a log remembers (`archive.json` in its directory, written atomically
/// at the first open with an archive): later commands on the directory read through it without
/// a flag; a flag given later replaces it. Credentials are never stored.
///
/// ```json
/// {"url":"s3://audit/gw","endpoint":"http://127.0.0.1:9000","region":"us-east-1","virtual_hosted":false,"object_lock_days":365}
/// ```
enum ArchiveConfig {
    static func read(_ directory: LogDirectory) throws(AuditLogError) -> ArchiveOptions? {
        let fs = directory.fileSystem
        guard fs.fileExists(directory.archiveConfigPath) else { return nil }
        let bytes = try fs.openForReading(directory.archiveConfigPath, displayName: "archive.json").readAll()
        func bad(_ field: String) -> AuditLogError {
            AuditLogError(.corruption, "archive.json field '\(field)' is missing or malformed", location: .init(file: "archive.json", field: field))
        }
        let value: JSONValue
        do { value = try JSONValue.parse(String(decoding: bytes, as: UTF8.self)) } catch { throw bad("(document)") }
        guard let url = value["url"]?.stringValue else { throw bad("url") }
        var virtualHosted: Bool?
        if case .bool(let b)? = value["virtual_hosted"] { virtualHosted = b }
        let location = try ArchiveLocation(
            url: url, endpoint: value["endpoint"]?.stringValue, region: value["region"]?.stringValue ?? "us-east-1", virtualHosted: virtualHosted)
        var options = ArchiveOptions(location: location)
        if case .number(let n)? = value["object_lock_days"] {
            guard let days = Int(n), days > 0 else { throw bad("object_lock_days") }
            options.objectLockDays = days
        }
        return options
    }

    /// Writes the location (and object lock) of `options` unless the file already says so.
    static func remember(_ options: ArchiveOptions, in directory: LogDirectory) throws(AuditLogError) {
        let l = options.location
        var members = [JSONMember("url", .string(l.url))]
        if let endpoint = l.endpoint { members.append(JSONMember("endpoint", .string(endpoint))) }
        members.append(JSONMember("region", .string(l.region)))
        members.append(JSONMember("virtual_hosted", .bool(l.virtualHosted)))
        if let days = options.objectLockDays { members.append(JSONMember("object_lock_days", .integer(days))) }
        let bytes = Array((JSONValue.object(members).jsonText + "\n").utf8)
        let fs = directory.fileSystem
        if fs.fileExists(directory.archiveConfigPath),
            (try? fs.openForReading(directory.archiveConfigPath, displayName: "archive.json").readAll()) == bytes
        {
            return
        }
        try fs.writeAtomically(bytes, to: directory.archiveConfigPath, directory: directory.path, displayName: "archive.json")
    }
}
