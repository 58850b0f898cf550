#ifndef CAUDITLOG_XXHASH_SHIM_H
#define CAUDITLOG_XXHASH_SHIM_H
#include <xxhash.h>
#endif
