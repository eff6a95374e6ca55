/* Small messages with a trained dictionary.
 *
 * Small records (a few dozen bytes of JSON) barely compress on their own: there is no
 * history to find matches in. A dictionary trained on typical records gives every message
 * that history. This program trains one (codec_dict_train: zstd's trainer), compresses each
 * message of a fresh set separately with and without it, in every format that takes a
 * dictionary, checks that each decodes back, and prints the sizes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "example_formats.h"

#define MAX_RECORD 256

/* Record i of a family of similar records; `seed` picks a different set. */
static size_t make_record(char *p, size_t cap, unsigned i, unsigned seed) {
    static const char *actions[] = {"view", "edit", "share", "delete", "comment"};
    static const char *devices[] = {"android", "ios", "web", "desktop"};
    uint32_t x = (i + 1) * 2654435761u ^ seed * 40503u;
    x ^= x << 13; x ^= x >> 17; x ^= x << 5;
    return (size_t)snprintf(p, cap,
                            "{\"event_id\":%u,\"user\":\"user-%04u\",\"action\":\"%s\",\"device\":\"%s\","
                            "\"item\":\"/library/items/%u\",\"duration_ms\":%u,\"ok\":%s}",
                            100000u + i, x % 5000, actions[x % 5], devices[(x >> 8) % 4], (x >> 4) % 100000,
                            (x >> 12) % 3000, (x >> 20) % 7 ? "true" : "false");
}

/* Compress one message as one frame; returns its compressed size, or 0 on error. */
static size_t compress_one(codec_encoder *enc, const char *msg, size_t len, uint8_t *out, size_t cap) {
    size_t r = 0, w = 0;
    codec_status st = codec_encoder_encode(enc, (const uint8_t *)msg, len, &r, out, cap, &w, CODEC_FINISH);
    if (st != CODEC_OK || r != len) {
        fprintf(stderr, "encode: %s: %s\n", codec_status_name(st), codec_encoder_last_error(enc));
        return 0;
    }
    codec_encoder_reset(enc); /* every message stands alone (LZ4 blocks keep history otherwise) */
    return w;
}

/* Decode one message and compare it with the original; 0 when identical. */
static int check_one(codec_decoder *dec, const uint8_t *comp, size_t len, const char *want, size_t want_len) {
    uint8_t back[MAX_RECORD];
    size_t r = 0, w = 0;
    codec_status st = codec_decoder_decode(dec, comp, len, &r, back, sizeof back, &w);
    codec_decoder_reset(dec);
    if (st < 0) {
        fprintf(stderr, "decode: %s: %s\n", codec_status_name(st), codec_decoder_last_error(dec));
        return 1;
    }
    return w != want_len || memcmp(back, want, w) != 0;
}

/* 0 ok, 1 failure, 2 skipped */
static int run(codec_format fmt, const codec_dict *dict, int n_messages) {
    codec_encoder *plain = NULL, *with = NULL;
    codec_decoder *dec_plain = NULL, *dec_with = NULL;
    size_t raw = 0, size_plain = 0, size_with = 0;
    int i, rc = 1;
    codec_status st = codec_encoder_new(fmt, &plain);
    if (st != CODEC_OK || codec_encoder_new(fmt, &with) != CODEC_OK || codec_encoder_set_dict(with, dict) != CODEC_OK ||
        codec_decoder_new(fmt, &dec_plain) != CODEC_OK || codec_decoder_new(fmt, &dec_with) != CODEC_OK ||
        codec_decoder_set_dict(dec_with, dict) != CODEC_OK) {
        fprintf(stderr, "%s: setting up failed\n", example_format_name(fmt));
        goto done;
    }
    for (i = 0; i < n_messages; i++) {
        char msg[MAX_RECORD];
        uint8_t a[2 * MAX_RECORD], b[2 * MAX_RECORD];
        size_t len = make_record(msg, sizeof msg, (unsigned)i, 2); /* not the training set */
        size_t na = compress_one(plain, msg, len, a, sizeof a), nb = compress_one(with, msg, len, b, sizeof b);
        if (!na || !nb || check_one(dec_plain, a, na, msg, len) || check_one(dec_with, b, nb, msg, len)) {
            fprintf(stderr, "%s: message %d did not round-trip\n", example_format_name(fmt), i);
            goto done;
        }
        if (i == 0)
            printf("%-10s first message: %zu bytes -> %zu without, %zu with the dictionary\n", example_format_name(fmt),
                   len, na, nb);
        raw += len;
        size_plain += na;
        size_with += nb;
    }
    printf("%-10s %d messages, %zu bytes: %zu compressed alone (%.2fx), %zu with the dictionary (%.2fx)\n",
           example_format_name(fmt), n_messages, raw, size_plain, (double)raw / (double)size_plain, size_with,
           (double)raw / (double)size_with);
    rc = size_with < size_plain ? 0 : 1; /* the whole point */
    if (rc) fprintf(stderr, "%s: the dictionary did not help\n", example_format_name(fmt));
done:
    codec_encoder_free(plain);
    codec_encoder_free(with);
    codec_decoder_free(dec_plain);
    codec_decoder_free(dec_with);
    return rc;
}

int main(void) {
    /* xz and .lzma cannot carry a dictionary; raw LZMA2 takes one as a preset dictionary */
    static const codec_format formats[] = {CODEC_FORMAT_ZSTD, CODEC_FORMAT_LZ4_FRAME, CODEC_FORMAT_LZ4_BLOCKS,
                                           CODEC_FORMAT_LZMA2_RAW};
    int quick = getenv("CODEC_TEST_QUICK") != NULL, failed = 0;
    unsigned n_train = quick ? 1000 : 4000, i;
    size_t *sizes = malloc(n_train * sizeof *sizes), used = 0, f;
    char *samples = malloc((size_t)n_train * MAX_RECORD);
    codec_dict *dict = NULL;
    codec_train_params tp;
    codec_status st;
    if (!sizes || !samples) return 1;

    /* 1. train: samples stored one after another, with their sizes */
    for (i = 0; i < n_train; i++) {
        sizes[i] = make_record(samples + used, MAX_RECORD, i, 1);
        used += sizes[i];
    }
    memset(&tp, 0, sizeof tp);
    tp.k = 200; /* fixed fastCover settings: quick to train, good for records like these */
    tp.d = 8;
    st = codec_dict_train_ex((const uint8_t *)samples, sizes, n_train, 4096, &tp, &dict);
    free(samples);
    free(sizes);
    if (st != CODEC_OK) {
        fprintf(stderr, "codec_dict_train_ex: %s: %s\n", codec_status_name(st), codec_last_error());
        return 1;
    }
    {
        size_t len = 0;
        codec_dict_content(dict, &len);
        printf("dictionary: %zu bytes, id %u, trained on %u records (%zu bytes)\n\n", len, codec_dict_id(dict), n_train,
               used);
    }

    /* 2. compress fresh messages one by one, with and without it */
    for (f = 0; f < sizeof formats / sizeof formats[0]; f++) failed |= run(formats[f], dict, quick ? 200 : 1000) == 1;
    codec_dict_free(dict);
    return failed;
}
