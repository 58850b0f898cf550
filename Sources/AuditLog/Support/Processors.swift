#if canImport(Glibc)
    import Glibc
#endif

/// The cores this process may run on (at least 1): how many workers a parallel scan or
/// verification uses.
func activeProcessorCount() -> Int {
    #if canImport(Glibc)
        return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    #else
        return 2
    #endif
}
