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

// BoringSSL's SHA-NI compression function, which its SHA256_TransformBlocks dispatches to on
// every call after looking the CPU's features up again (x86-64 only; hidden, but linked into
// the same program).
extern void CCryptoBoringSSL_sha256_block_data_order_hw(uint32_t state[8], const uint8_t *data, size_t num_blocks)
    __attribute__((weak));

typedef void (*auditlog_sha256_blocks_fn)(uint32_t state[8], const uint8_t *data, size_t num_blocks);

#if defined(__x86_64__)
// CPUID (leaf, subleaf) into r: eax, ebx, ecx, edx.
static inline void auditlog_cpuid(unsigned leaf, unsigned subleaf, unsigned r[4]) {
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(subleaf));
}
#endif

// The compression function to hash with, looked up once by the caller: the SHA-NI one when it
// is linked in and the CPU has the SHA extensions and SSSE3 (what BoringSSL checks before it
// calls it), else SHA256_TransformBlocks; NULL when neither is linked in.
static inline auditlog_sha256_blocks_fn auditlog_sha256_blocks(void) {
#if defined(__x86_64__)
    unsigned highest[4], features[4], extended[4];
    if (CCryptoBoringSSL_sha256_block_data_order_hw != NULL) {
        auditlog_cpuid(0, 0, highest);
        if (highest[0] >= 7) {
            auditlog_cpuid(1, 0, features);
            auditlog_cpuid(7, 0, extended);
            // SSSE3: leaf 1, ECX bit 9; SHA: leaf 7, EBX bit 29.
            if ((features[2] & (1u << 9)) != 0 && (extended[1] & (1u << 29)) != 0) {
                return CCryptoBoringSSL_sha256_block_data_order_hw;
            }
        }
    }
#endif
    return CCryptoBoringSSL_SHA256_TransformBlocks;
}

// BoringSSL's dispatching compression function (NULL where not linked in), and whether `blocks`
// is its SHA-NI one: for tests to compare the two.
static inline auditlog_sha256_blocks_fn auditlog_sha256_dispatching_blocks(void) {
    return CCryptoBoringSSL_SHA256_TransformBlocks;
}
static inline int auditlog_sha256_blocks_use_sha_extensions(auditlog_sha256_blocks_fn blocks) {
    return blocks != NULL && blocks == CCryptoBoringSSL_sha256_block_data_order_hw;
}

// Messages up to this many bytes are padded on the stack and hashed with one call.
#define AUDITLOG_SHA256_ONE_CALL_MAX (512 - 9)

static inline int auditlog_sha256_linked(void) {
    return CCryptoBoringSSL_SHA256_Init != NULL && CCryptoBoringSSL_SHA256_Update != NULL
        && CCryptoBoringSSL_SHA256_Final != NULL;
}

// SHA-256 of `prefix` then `body` into `out` (32 bytes), `blocks` from auditlog_sha256_blocks().
// Only when auditlog_sha256_linked().
//
// A record's hash is a few blocks. BoringSSL looks up the CPU's features at every call of its
// compression function, and SHA256_Update and _Final call it up to twice each, besides their
// own bookkeeping: for a message that fits, the padding of FIPS 180-4 5.1.1 is written here
// and all its blocks go through one call of `blocks`.
static inline void auditlog_sha256(auditlog_sha256_blocks_fn blocks, const void *prefix, size_t prefix_len,
                                   const void *body, size_t body_len, uint8_t *out) {
    size_t total = prefix_len + body_len;
    if (blocks != NULL && total <= AUDITLOG_SHA256_ONE_CALL_MAX) {
        _Alignas(16) uint8_t message[512];
        if (prefix_len > 0) memcpy(message, prefix, prefix_len);
        if (body_len > 0) memcpy(message + prefix_len, body, body_len);
        // One 1 bit, zeros, then the length in bits as a big-endian 64-bit integer, ending a block.
        size_t end = (total + 9 + 63) / 64 * 64;
        message[total] = 0x80;
        memset(message + total + 1, 0, end - 8 - (total + 1));
        uint64_t bits = (uint64_t)total * 8;
        for (int i = 0; i < 8; i++) message[end - 1 - i] = (uint8_t)(bits >> (8 * i));
        uint32_t state[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                             0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
        blocks(state, message, (total + 9 + 63) / 64);
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
