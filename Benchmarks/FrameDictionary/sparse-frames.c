// What smaller row frames compressed against a per-segment dictionary would cost and save —
// a measurement for choosing a format, not a format: nothing here is written to a log.
//
// Reads one segment of row frames (docs/FORMAT.md, codecs 0 and 1), re-encodes its records into
// temporary files four ways — frames of 32 KiB with LZ4 fast as the writer stores them today,
// and frames of 16, 8 and 4 KiB each compressed against the segment's first 64 KiB of payload
// (the frames holding those bytes without a dictionary, so any frame decodes with them and
// itself) — and for each prints: bytes an event (88-byte frame headers included; an index's
// frame directory adds 36 bytes a frame), compression speed (the dictionary as the prefix of the
// writer's frame buffer, LZ4's fast path, its loaded state copied for each frame), a sparse
// read's cost as a RecordFetcher cache miss pays it (one pread of header and stored payload,
// XXH3 of both, LZ4 decoded as far as the record's end, or whole), one query's reads of the
// picked records (each frame read once, as far as the last record it holds), and a dense
// decode's speed (decoding next to a copy of the dictionary: the prefix path again). Best of
// five rounds, page cache warm. Records are picked at random, PICKS per thousand (a user's day
// in the comparison's 10M log: 6).
//
//     scripts/sparse-frames SEGMENT_FILE [PICKS]
#define _GNU_SOURCE
#include <fcntl.h>
#include <lz4.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#define HEADER 88
#define DICT (64 << 10)

static uint8_t *raw;          // every record's entry (varint length + bytes), back to back
static size_t rawLength;
static size_t *entryEnd;      // end of each entry in raw
static size_t entries;

typedef struct { uint64_t offset; uint32_t stored, rawStart, rawLength, dict; } Frame;
typedef struct { Frame *frames; size_t count; size_t *frameOf; size_t bytes; } Encoding;

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }

static void load(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(1); }
    fseek(f, 0, SEEK_END); long size = ftell(f); fseek(f, 0, SEEK_SET);
    uint8_t *file = malloc(size);
    if (fread(file, 1, size, f) != (size_t)size) { perror("read"); exit(1); }
    fclose(f);
    size_t capacity = (size_t)size * 8, maxEntries = (size_t)size / 4;
    raw = malloc(capacity); entryEnd = malloc(sizeof(size_t) * maxEntries);
    for (long off = 128; off + HEADER <= size && memcmp(file + off, "AFRM", 4) == 0;) {
        uint32_t stored, rl, count; memcpy(&stored, file + off + 8, 4); memcpy(&rl, file + off + 12, 4); memcpy(&count, file + off + 16, 4);
        if (file[off + 5] != 1 || rawLength + rl > capacity || entries + count > maxEntries) {
            fprintf(stderr, "%s: frame at %ld (codec %d) is not an LZ4 row frame this tool reads\n", path, off, file[off + 5]);
            exit(1);
        }
        if (LZ4_decompress_safe((char *)file + off + HEADER, (char *)raw + rawLength, stored, rl) != (int)rl) {
            fprintf(stderr, "%s: frame at %ld does not decompress\n", path, off);
            exit(1);
        }
        size_t p = rawLength, end = rawLength + rl;
        for (uint32_t i = 0; i < count; i++) {
            uint64_t len = 0; int shift = 0; uint8_t b;
            do {
                if (p >= end || shift > 63) { fprintf(stderr, "%s: frame at %ld: a record runs past its payload\n", path, off); exit(1); }
                b = raw[p++]; len |= (uint64_t)(b & 0x7f) << shift; shift += 7;
            } while (b & 0x80);
            if (len > end - p) { fprintf(stderr, "%s: frame at %ld: a record runs past its payload\n", path, off); exit(1); }
            p += len; entryEnd[entries++] = p;
        }
        rawLength += rl; off += HEADER + stored;
    }
    free(file);
}

// Frames of at most `target` raw bytes (closed at the record that reaches it, as the writer
// does); with `dictionary`, every frame starting at or past DICT is compressed against raw[0, DICT).
static Encoding encode(size_t target, int dictionary, const char *path, double *compressSeconds) {
    Encoding e = { malloc(sizeof(Frame) * (entries + 1)), 0, malloc(sizeof(size_t) * entries), 0 };
    int fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0644);
    uint8_t *out = malloc(LZ4_compressBound(1 << 20) + HEADER);
    LZ4_stream_t *loaded = LZ4_createStream(), *work = LZ4_createStream();
    // the writer's frame buffer: the dictionary, then the frame, so that LZ4 matches into the
    // dictionary as a prefix (its fast path) rather than as a separate buffer
    char *joined = malloc(DICT + (1 << 20)); memcpy(joined, raw, DICT);
    LZ4_loadDict(loaded, joined, DICT);
    static char state[1 << 16];
    double started = now();
    uint64_t offset = 0; size_t start = 0, first = 0;
    for (size_t i = 0; i < entries; i++) {
        if (entryEnd[i] - start < target && i + 1 < entries) continue;
        size_t length = entryEnd[i] - start;
        int useDict = dictionary && start >= DICT;
        int n;
        if (useDict) {
            memcpy(work, loaded, sizeof(LZ4_stream_t));
            const char *input = (const char *)raw + start;
            memcpy(joined + DICT, input, length);
            input = joined + DICT;
            n = LZ4_compress_fast_continue(work, input, (char *)out + HEADER, (int)length, LZ4_compressBound((int)length), 1);
        } else {
            n = LZ4_compress_fast_extState(state, (const char *)raw + start, (char *)out + HEADER, (int)length, LZ4_compressBound((int)length), 1);
        }
        memset(out, 0, HEADER); memcpy(out, "AFRM", 4);
        volatile uint64_t sum = XXH3_64bits(out, HEADER + n); // the writer's checksum
        (void)sum;
        if (pwrite(fd, out, HEADER + n, offset) != HEADER + n) { perror("pwrite"); exit(1); }
        e.frames[e.count] = (Frame){ offset, (uint32_t)n, (uint32_t)start, (uint32_t)length, (uint32_t)useDict };
        for (size_t j = first; j <= i; j++) e.frameOf[j] = e.count;
        e.count++; offset += HEADER + n; e.bytes += HEADER + n;
        start = entryEnd[i]; first = i + 1;
    }
    *compressSeconds = now() - started;
    fsync(fd); close(fd);
    return e;
}

// Each of `picks` records read as a cache miss would read it.
static double sparse(const Encoding *e, const char *path, const size_t *picks, size_t n, int exact, double *decodedBytes) {
    int fd = open(path, O_RDONLY);
    uint8_t *buffer = malloc(LZ4_compressBound(1 << 20) + HEADER);
    char *target = malloc(1 << 20);
    double started = now(), decoded = 0;
    for (size_t k = 0; k < n; k++) {
        const Frame *f = &e->frames[e->frameOf[picks[k]]];
        if (exact == 2) { while (k + 1 < n && e->frameOf[picks[k + 1]] == e->frameOf[picks[k]]) k++; }
        if (pread(fd, buffer, HEADER + f->stored, f->offset) != HEADER + f->stored) { perror("pread"); exit(1); }
        volatile uint64_t sum = XXH3_64bits(buffer, HEADER + f->stored); (void)sum;
        // exact: as far as the record's end; else the whole frame
        int want = exact ? (int)(entryEnd[picks[k]] - f->rawStart) : (int)f->rawLength;
        int got = f->dict
            ? LZ4_decompress_safe_partial_usingDict((const char *)buffer + HEADER, target, f->stored, want, f->rawLength, (const char *)raw, DICT)
            : LZ4_decompress_safe_partial((const char *)buffer + HEADER, target, f->stored, want, f->rawLength);
        if (got < want || memcmp(target + want - 8, raw + f->rawStart + want - 8, 8) != 0) { fprintf(stderr, "decode mismatch\n"); exit(1); }
        decoded += got;
    }
    double seconds = now() - started;
    close(fd); free(buffer); free(target);
    *decodedBytes = decoded;
    return seconds;
}

static double dense(const Encoding *e, const char *path) {
    int fd = open(path, O_RDONLY);
    uint8_t *buffer = malloc(LZ4_compressBound(1 << 20) + HEADER);
    char *front = malloc((1 << 20) + DICT); memcpy(front, raw, DICT); char *target = front + DICT;
    double started = now();
    for (size_t i = 0; i < e->count; i++) {
        const Frame *f = &e->frames[i];
        if (pread(fd, buffer, HEADER + f->stored, f->offset) != HEADER + f->stored) { perror("pread"); exit(1); }
        volatile uint64_t sum = XXH3_64bits(buffer, HEADER + f->stored); (void)sum;
        int got = f->dict
            ? LZ4_decompress_safe_usingDict((const char *)buffer + HEADER, target, f->stored, f->rawLength, front, DICT)
            : LZ4_decompress_safe((const char *)buffer + HEADER, target, f->stored, f->rawLength);
        if (got != (int)f->rawLength) { fprintf(stderr, "dense mismatch\n"); exit(1); }
    }
    double seconds = now() - started;
    close(fd); free(buffer); free(front);
    return seconds;
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) { fprintf(stderr, "usage: sparse-frames SEGMENT_FILE [PICKS_PER_THOUSAND]\n"); return 2; }
    load(argv[1]);
    if (entries < 1000 || rawLength < 4 * DICT) { fprintf(stderr, "%s: too few records to measure\n", argv[1]); return 1; }
    size_t n = entries * (argc == 3 ? atoi(argv[2]) : 6) / 1000;
    if (n == 0) n = 1;
    size_t *picks = malloc(sizeof(size_t) * n);
    srand(7);
    for (size_t k = 0; k < n; k++) picks[k] = ((size_t)rand() * RAND_MAX + rand()) % entries;
    // in seq order, as a query reads them
    for (size_t a = 1; a < n; a++) { size_t v = picks[a], b = a; while (b > 0 && picks[b - 1] > v) { picks[b] = picks[b - 1]; b--; } picks[b] = v; }
    printf("%zu records, %.1f B raw each; %zu reads\n", entries, (double)rawLength / entries, n);
    struct { size_t target; int dict; } ways[] = { {32768, 0}, {16384, 1}, {8192, 1}, {4096, 1} };
    for (int w = 0; w < 4; w++) {
        char path[64]; snprintf(path, sizeof path, "%s/frames-%d", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", w);
        double compress;
        Encoding e = encode(ways[w].target, ways[w].dict, path, &compress);
        double best[4] = { 1e9, 1e9, 1e9, 1e9 }, decoded = 0;
        for (int round = 0; round < 5; round++) {
            double s = sparse(&e, path, picks, n, 1, &decoded); if (s < best[0]) best[0] = s;
            double t = sparse(&e, path, picks, n, 0, &decoded); if (t < best[1]) best[1] = t;
            double d = dense(&e, path); if (d < best[2]) best[2] = d;
            double q = sparse(&e, path, picks, n, 2, &decoded); if (q < best[3]) best[3] = q;
        }
        unlink(path);
        printf("%5zu B frames%s: %.1f B/event, %zu frames (+%.2f B/event of frame directory); compress %.0f MB/s; sparse read %.2f µs (to the record's end) / %.2f µs (whole frame); dense %.0f MB/s; a query's %zu reads %.2f ms\n",
               ways[w].target, ways[w].dict ? ", dictionary" : "", (double)e.bytes / entries, e.count, 36.0 * e.count / entries, rawLength / compress / 1e6,
               best[0] / n * 1e6, best[1] / n * 1e6, rawLength / best[2] / 1e6, n, best[3] * 1e3);
    }
    return 0;
}
