#ifndef CAUDITLOG_XXHASH_SHIM_H
#define CAUDITLOG_XXHASH_SHIM_H
#include <xxhash.h>

/// Asks for the cache line at `address` ahead of a read: the writer's id table, keyed by
/// XXH3, looks up a batch's ids at random places of a table far larger than the caches.
static inline void auditlog_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }
#endif
