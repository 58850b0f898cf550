#ifndef CAUDITLOG_SHA256_SHIM_H
#define CAUDITLOG_SHA256_SHIM_H
// SHA-256 straight from the BoringSSL that swift-crypto builds into the program on Linux
// (its symbols carry the prefix CCryptoBoringSSL_). Declared weak: where swift-crypto does not
// build BoringSSL (Apple platforms, where it wraps CryptoKit), they resolve to null and
// auditlog_sha256_linked() says so, and AuditLog hashes through swift-crypto's SHA256 instead.
#include <stddef.h>
#include <stdint.h>

// Room for BoringSSL's SHA256_CTX (112 bytes: h[8], Nl, Nh, data[64], num, md_len).
typedef struct {
    _Alignas(16) uint8_t bytes[128];
} auditlog_sha256_ctx;

extern int CCryptoBoringSSL_SHA256_Init(void *ctx) __attribute__((weak));
extern int CCryptoBoringSSL_SHA256_Update(void *ctx, const void *data, size_t len) __attribute__((weak));
extern int CCryptoBoringSSL_SHA256_Final(uint8_t *out, void *ctx) __attribute__((weak));

static inline int auditlog_sha256_linked(void) {
    return CCryptoBoringSSL_SHA256_Init != NULL && CCryptoBoringSSL_SHA256_Update != NULL
        && CCryptoBoringSSL_SHA256_Final != NULL;
}

// SHA-256 of `prefix` then `body` into `out` (32 bytes). Only when auditlog_sha256_linked().
static inline void auditlog_sha256(const void *prefix, size_t prefix_len, const void *body, size_t body_len,
                                   uint8_t *out) {
    auditlog_sha256_ctx ctx;
    CCryptoBoringSSL_SHA256_Init(&ctx);
    CCryptoBoringSSL_SHA256_Update(&ctx, prefix, prefix_len);
    if (body_len > 0) CCryptoBoringSSL_SHA256_Update(&ctx, body, body_len);
    CCryptoBoringSSL_SHA256_Final(out, &ctx);
}
#endif
