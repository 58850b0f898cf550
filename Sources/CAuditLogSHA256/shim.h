#ifndef CAUDITLOG_SHA256_SHIM_H
#define CAUDITLOG_SHA256_SHIM_H
// SHA-256 straight from the BoringSSL that swift-crypto builds into the program on Linux
// (its symbols carry the prefix CCryptoBoringSSL_). Declared weak: where swift-crypto does not
// build BoringSSL (Apple platforms, where it wraps CryptoKit), they resolve to null and
// auditlog_sha256_linked() says so, and AuditLog hashes through swift-crypto's SHA256 instead.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

// Room for BoringSSL's SHA256_CTX (112 bytes: h[8], Nl, Nh, data[64], num, md_len).
typedef struct {
    _Alignas(16) uint8_t bytes[128];
} auditlog_sha256_ctx;

extern int CCryptoBoringSSL_SHA256_Init(void *ctx) __attribute__((weak));
extern int CCryptoBoringSSL_SHA256_Update(void *ctx, const void *data, size_t len) __attribute__((weak));
extern int CCryptoBoringSSL_SHA256_Final(uint8_t *out, void *ctx) __attribute__((weak));
// The compression function over whole 64-byte blocks, from state to state (FIPS 180-4 6.2.2).
extern void CCryptoBoringSSL_SHA256_TransformBlocks(uint32_t state[8], const uint8_t *data, size_t num_blocks)
    __attribute__((weak));

// Messages up to this many bytes are padded on the stack and hashed with one call.
#define AUDITLOG_SHA256_ONE_CALL_MAX (512 - 9)

static inline int auditlog_sha256_linked(void) {
    return CCryptoBoringSSL_SHA256_Init != NULL && CCryptoBoringSSL_SHA256_Update != NULL
        && CCryptoBoringSSL_SHA256_Final != NULL;
}

// SHA-256 of `prefix` then `body` into `out` (32 bytes). Only when auditlog_sha256_linked().
//
// A record's hash is a few blocks. BoringSSL looks up the CPU's features at every call of its
// compression function, and SHA256_Update and _Final call it up to twice each, besides their
// own bookkeeping: for a message that fits, the padding of FIPS 180-4 5.1.1 is written here
// and all its blocks go through one call.
static inline void auditlog_sha256(const void *prefix, size_t prefix_len, const void *body, size_t body_len,
                                   uint8_t *out) {
    size_t total = prefix_len + body_len;
    if (CCryptoBoringSSL_SHA256_TransformBlocks != NULL && total <= AUDITLOG_SHA256_ONE_CALL_MAX) {
        _Alignas(16) uint8_t message[512];
        if (prefix_len > 0) memcpy(message, prefix, prefix_len);
        if (body_len > 0) memcpy(message + prefix_len, body, body_len);
        // One 1 bit, zeros, then the length in bits as a big-endian 64-bit integer, ending a block.
        size_t blocks = (total + 9 + 63) / 64;
        size_t end = blocks * 64;
        message[total] = 0x80;
        memset(message + total + 1, 0, end - 8 - (total + 1));
        uint64_t bits = (uint64_t)total * 8;
        for (int i = 0; i < 8; i++) message[end - 1 - i] = (uint8_t)(bits >> (8 * i));
        uint32_t state[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                             0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
        CCryptoBoringSSL_SHA256_TransformBlocks(state, message, blocks);
        for (int i = 0; i < 8; i++) {
            out[4 * i] = (uint8_t)(state[i] >> 24);
            out[4 * i + 1] = (uint8_t)(state[i] >> 16);
            out[4 * i + 2] = (uint8_t)(state[i] >> 8);
            out[4 * i + 3] = (uint8_t)state[i];
        }
        return;
    }
    auditlog_sha256_ctx ctx;
    CCryptoBoringSSL_SHA256_Init(&ctx);
    CCryptoBoringSSL_SHA256_Update(&ctx, prefix, prefix_len);
    if (body_len > 0) CCryptoBoringSSL_SHA256_Update(&ctx, body, body_len);
    CCryptoBoringSSL_SHA256_Final(out, &ctx);
}
#endif
