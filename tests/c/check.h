/* Minimal test helpers for libcodec's C tests: CHECK(cond) and CHECK_ST(call, status). */
#ifndef CODEC_TEST_CHECK_H
#define CODEC_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"

static int check_failures;

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            check_failures++;                                                    \
        }                                                                        \
    } while (0)

/* Run `call` and compare its codec_status with `want`, naming both on failure. */
#define CHECK_ST(call, want)                                                     \
    do {                                                                         \
        codec_status st_ = (call);                                               \
        if (st_ != (want)) {                                                     \
            fprintf(stderr, "%s:%d: %s returned %s, expected %s\n", __FILE__,     \
                    __LINE__, #call, codec_status_name(st_), codec_status_name(want)); \
            check_failures++;                                                    \
        }                                                                        \
    } while (0)

#define CHECK_DONE()                                                             \
    do {                                                                         \
        if (check_failures) {                                                    \
            fprintf(stderr, "%d check(s) failed\n", check_failures);             \
            return 1;                                                            \
        }                                                                        \
        printf("all checks passed\n");                                           \
        return 0;                                                                \
    } while (0)

/* Deterministic test data: text-like with some noise. */
static inline void fill_data(unsigned char *p, size_t n, unsigned seed) {
    static const char *words[] = {"alpha ", "beta ", "gamma ", "delta ", "stream ", "frame "};
    unsigned x = seed * 2654435761u + 1;
    size_t i = 0;
    while (i < n) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        if (x % 5 == 0) {
            p[i++] = (unsigned char)x;
        } else {
            const char *w = words[x % 6];
            while (*w && i < n) p[i++] = (unsigned char)*w++;
        }
    }
}

#endif
