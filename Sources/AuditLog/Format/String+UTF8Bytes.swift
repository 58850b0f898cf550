extension String {
    /// Calls `body` with the string's UTF-8 bytes: in place for a native string (every string
    /// made in Swift on Linux), with no copy of the string, which `withUTF8` needs (it is
    /// `mutating`: a retain and a release for every call on a per-record path).
    func withUTF8Bytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        if let result = utf8.withContiguousStorageIfAvailable({ body(UnsafeRawBufferPointer($0)) }) { return result }
        var copy = self
        return copy.withUTF8 { body(UnsafeRawBufferPointer($0)) }
    }
}
