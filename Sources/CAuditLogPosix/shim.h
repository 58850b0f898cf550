#ifndef CAUDITLOG_POSIX_SHIM_H
#define CAUDITLOG_POSIX_SHIM_H
// System calls the Swift Glibc module leaves out (declared by glibc only under _GNU_SOURCE).
#include <stdint.h>

#if defined(__linux__)
// glibc's sync_file_range(2), declared here rather than through <fcntl.h> and _GNU_SOURCE.
extern int sync_file_range(int fd, int64_t offset, int64_t nbytes, unsigned int flags);
#endif

// Starts the write-back of the dirty pages of `length` bytes at `offset` and returns without
// waiting (SYNC_FILE_RANGE_WRITE, 2). Only a hint: 0 where the call does not exist. Without
// SYNC_FILE_RANGE_WAIT_AFTER the kernel does not collect a write-back error here, so the
// file's next fdatasync still reports it.
static inline int auditlog_start_writeback(int fd, int64_t offset, int64_t length) {
#if defined(__linux__)
    return sync_file_range(fd, offset, length, 2 /* SYNC_FILE_RANGE_WRITE */);
#else
    (void)fd; (void)offset; (void)length;
    return 0;
#endif
}
#endif
