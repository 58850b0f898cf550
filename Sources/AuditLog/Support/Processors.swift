#if canImport(Glibc)
    import Glibc
#endif

/// The cores this process may run on (at least 1): how many workers a parallel scan,
/// export or verification uses. Asked once a process: glibc's `sysconf` opens and reads
/// `/sys/devices/system/cpu/online` each time (three system calls a usage query paid).
func activeProcessorCount() -> Int { processorsOnline }

private let processorsOnline: Int = {
    #if canImport(Glibc)
        return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    #else
        return 2
    #endif
}()

/// The machine's physical memory in bytes (0 when unknown).
func physicalMemoryBytes() -> Int {
    #if canImport(Glibc)
        let pages = sysconf(Int32(_SC_PHYS_PAGES))
        let size = sysconf(Int32(_SC_PAGESIZE))
        guard pages > 0, size > 0, pages <= Int.max / size else { return 0 }
        return pages * size
    #else
        return 0
    #endif
}
