/* Helpers shared by the multi-format C tests: growable buffers, streaming drivers with chosen
 * chunk sizes, the list of formats, a deterministic RNG, CRC32 and memory figures. */
#ifndef CODEC_TEST_UTIL_H
#define CODEC_TEST_UTIL_H

#include "check.h"

typedef struct {
    unsigned char *p;
    size_t len, cap;
} buf_t;

static inline void buf_put(buf_t *b, const unsigned char *p, size_t n) {
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 64;
        b->p = (unsigned char *)realloc(b->p, b->cap);
        if (!b->p) abort();
    }
    if (n) memcpy(b->p + b->len, p, n);
    b->len += n;
}

/* memcmp that accepts empty (possibly NULL) ranges. */
static inline int mem_eq(const void *a, const void *b, size_t n) { return n == 0 || memcmp(a, b, n) == 0; }

static inline void buf_free(buf_t *b) {
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* Every concrete format, with its name. */
static const codec_format ALL_FORMATS[] = {CODEC_FORMAT_ZSTD, CODEC_FORMAT_LZ4_FRAME, CODEC_FORMAT_LZ4_BLOCKS,
                                           CODEC_FORMAT_XZ,   CODEC_FORMAT_LZMA2_RAW, CODEC_FORMAT_LZMA_ALONE};
#define N_FORMATS 6

static inline const char *format_name(codec_format f) {
    switch (f) {
    case CODEC_FORMAT_ZSTD: return "zstd";
    case CODEC_FORMAT_LZ4_FRAME: return "lz4";
    case CODEC_FORMAT_LZ4_BLOCKS: return "lz4blocks";
    case CODEC_FORMAT_XZ: return "xz";
    case CODEC_FORMAT_LZMA2_RAW: return "lzma2";
    case CODEC_FORMAT_LZMA_ALONE: return "lzma";
    default: return "auto";
    }
}

/* Formats that take a dictionary. */
static inline int takes_dict(codec_format f) {
    return f == CODEC_FORMAT_ZSTD || f == CODEC_FORMAT_LZ4_FRAME || f == CODEC_FORMAT_LZ4_BLOCKS ||
           f == CODEC_FORMAT_LZMA2_RAW;
}

/* Formats that can sync-flush. */
static inline int can_flush(codec_format f) { return f != CODEC_FORMAT_LZMA_ALONE; }

/* Formats whose content is covered by a check, so any corruption that decodes must be caught
 * (with default parameters: xz CRC64). Others may decode corrupted data to other bytes. */
static inline int fast_level(codec_format f) {
    return (f == CODEC_FORMAT_XZ || f == CODEC_FORMAT_LZMA2_RAW || f == CODEC_FORMAT_LZMA_ALONE) ? 0 : 1;
}

/* A fresh encoder for `f` at a fast level. */
static inline codec_encoder *new_encoder(codec_format f, const codec_dict *dict) {
    codec_encoder *e = NULL;
    if (codec_encoder_new(f, &e) != CODEC_OK) return NULL;
    if (codec_encoder_set_param(e, CODEC_PARAM_LEVEL, fast_level(f)) != CODEC_OK) abort();
    if (dict && codec_encoder_set_dict(e, dict) != CODEC_OK) abort();
    return e;
}

/* A fresh decoder for `f` (raw LZMA2 told the dictionary size the encoder at level 0 uses). */
static inline codec_decoder *new_decoder(codec_format f, const codec_dict *dict) {
    codec_decoder *d = NULL;
    if (codec_decoder_new(f, &d) != CODEC_OK) return NULL;
    if (dict && codec_decoder_set_dict(d, dict) != CODEC_OK) abort();
    return d;
}

/* Feed src with `action`, collecting output through a dst of `chunk` bytes. */
static inline codec_status enc_all(codec_encoder *e, const unsigned char *src, size_t n, codec_action action,
                                   size_t chunk, buf_t *out) {
    unsigned char tmp[8192];
    size_t pos = 0;
    if (chunk > sizeof tmp) chunk = sizeof tmp;
    for (;;) {
        size_t r = 0, w = 0;
        codec_status st = codec_encoder_encode(e, src + pos, n - pos, &r, tmp, chunk, &w, action);
        pos += r;
        buf_put(out, tmp, w);
        if (st < 0) return st;
        if (st == CODEC_OK) return pos == n ? CODEC_OK : -100;
    }
}

/* Compress `n` bytes into one frame with a fresh encoder. */
static inline codec_status compress_with(codec_format f, const codec_dict *dict, const unsigned char *src, size_t n,
                                         buf_t *out) {
    codec_encoder *e = new_encoder(f, dict);
    codec_status st;
    if (!e) return CODEC_E_INTERNAL;
    st = enc_all(e, src, n, CODEC_FINISH, 8192, out);
    codec_encoder_free(e);
    return st;
}

/* Decode `src` in `in_chunk` / `out_chunk` pieces (0 = everything); counts frame ends. Stops
 * at the first error (returned). At most `max_calls` calls (0 = unlimited): returns -200 when
 * they run out, so a stuck decoder cannot hang a test. */
static inline codec_status dec_all_ex(codec_decoder *d, const unsigned char *src, size_t n, size_t in_chunk,
                                      size_t out_chunk, buf_t *out, int *frames, size_t *src_pos,
                                      unsigned long max_calls) {
    unsigned char tmp[8192];
    size_t pos = 0;
    unsigned long calls = 0;
    if (out_chunk == 0 || out_chunk > sizeof tmp) out_chunk = sizeof tmp;
    for (;;) {
        size_t r = 0, w = 0, give = n - pos;
        codec_status st;
        if (in_chunk && give > in_chunk) give = in_chunk;
        st = codec_decoder_decode(d, src + pos, give, &r, tmp, out_chunk, &w);
        pos += r;
        if (src_pos) *src_pos = pos;
        buf_put(out, tmp, w);
        if (st < 0) return st;
        if (st == CODEC_FRAME_END && frames) (*frames)++;
        if (st == CODEC_OK && pos == n && w == 0) return CODEC_OK;
        if (max_calls && ++calls > max_calls) return -200;
    }
}

static inline codec_status dec_all(codec_decoder *d, const unsigned char *src, size_t n, size_t in_chunk,
                                   size_t out_chunk, buf_t *out) {
    return dec_all_ex(d, src, n, in_chunk, out_chunk, out, NULL, NULL, 0);
}

/* xorshift32 */
static inline unsigned rng_next(unsigned *s) {
    unsigned x = *s ? *s : 1;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

static inline unsigned long crc32_of(const unsigned char *p, size_t n) {
    unsigned long c = 0xFFFFFFFFul;
    size_t i;
    int k;
    for (i = 0; i < n; i++) {
        c ^= p[i];
        for (k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0xEDB88320ul : c >> 1;
    }
    return c ^ 0xFFFFFFFFul;
}

static inline void put_le32(unsigned char *p, unsigned long v) {
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

/* A figure from /proc/self/status in KiB ("VmPeak", "VmHWM"); 0 when unavailable. */
static inline unsigned long proc_status_kib(const char *key) {
    char line[256];
    unsigned long v = 0;
    size_t k = strlen(key);
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, k) == 0 && line[k] == ':') {
            v = strtoul(line + k + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return v;
}

static inline int quick_mode(void) {
    const char *q = getenv("CODEC_TEST_QUICK");
    return q && *q && strcmp(q, "0") != 0;
}

#endif
