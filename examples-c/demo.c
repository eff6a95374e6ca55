/* libcodec end-to-end demo (`make demo`): it makes its own data, streams it through each
 * available format with a flush after every "message", shows that a reader decodes each
 * message as soon as its flush arrives, then decodes the whole stream with format detection
 * and checks every byte. Only codec.h is used. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "example_formats.h"

#define MESSAGES 200

/* One log line per message, like a service writing records. */
static size_t make_message(char *p, size_t cap, int i) {
    return (size_t)snprintf(p, cap, "%06d INFO request id=%d path=/api/v1/items/%d status=%d bytes=%d\n", i, i * 7919 % 100000,
                            i % 37, i % 11 ? 200 : 404, (i * 131) % 9000);
}

static int fail(const char *what, codec_status st, const char *msg) {
    fprintf(stderr, "demo: %s: %s (%s)\n", what, codec_status_name(st), msg);
    return 1;
}

/* Returns 0 on success, 1 on failure. */
static int run(codec_format fmt) {
    codec_encoder *enc = NULL;
    codec_decoder *reader = NULL, *check = NULL;
    size_t cap = 1 << 20, plain_len = 0, comp_len = 0, decoded_len = 0, i;
    unsigned char *plain = malloc(cap), *comp = malloc(cap), *out = malloc(cap);
    int live_ok = 1, rc = 1;
    codec_status st = codec_encoder_new(fmt, &enc);
    if (st) { fail("codec_encoder_new", st, codec_last_error()); goto done; }
    if ((st = codec_decoder_new(fmt, &reader))) { fail("codec_decoder_new", st, codec_last_error()); goto done; }

    for (i = 0; i < MESSAGES; i++) {
        char msg[200];
        size_t n = make_message(msg, sizeof msg, (int)i), r, w, got = 0, start = comp_len;
        memcpy(plain + plain_len, msg, n);
        plain_len += n;
        /* compress the message and flush: everything so far becomes decodable */
        st = codec_encoder_encode(enc, (const uint8_t *)msg, n, &r, comp + comp_len, cap - comp_len, &w, CODEC_FLUSH);
        if (st == CODEC_E_UNSUPPORTED) /* e.g. .lzma cannot flush: just continue */
            st = codec_encoder_encode(enc, (const uint8_t *)msg, n, &r, comp + comp_len, cap - comp_len, &w, CODEC_CONTINUE);
        if (st != CODEC_OK) { fail("encode", st, codec_encoder_last_error(enc)); goto done; }
        comp_len += w;
        /* the reader decodes what just arrived */
        st = codec_decoder_decode(reader, comp + start, comp_len - start, &r, out, cap, &got);
        if (st < 0) { fail("live decode", st, codec_decoder_last_error(reader)); goto done; }
        decoded_len += got;
        if (decoded_len != plain_len) live_ok = 0;
    }
    {
        size_t r, w;
        st = codec_encoder_encode(enc, NULL, 0, &r, comp + comp_len, cap - comp_len, &w, CODEC_FINISH);
        if (st != CODEC_OK) { fail("finish", st, codec_encoder_last_error(enc)); goto done; }
        comp_len += w;
    }
    /* decode the whole stream with format detection */
    {
        size_t r, w;
        if ((st = codec_decoder_new(fmt == CODEC_FORMAT_LZMA2_RAW || fmt == CODEC_FORMAT_LZ4_BLOCKS ? fmt : CODEC_FORMAT_AUTO, &check)))
            { fail("codec_decoder_new", st, codec_last_error()); goto done; }
        st = codec_decoder_decode(check, comp, comp_len, &r, out, cap, &w);
        if (st < 0) { fail("decode", st, codec_decoder_last_error(check)); goto done; }
        if (w != plain_len || memcmp(out, plain, w) != 0) {
            fprintf(stderr, "demo: %s: decoded data differs\n", example_format_name(fmt));
            goto done;
        }
    }
    printf("%-10s %6zu bytes -> %6zu bytes (%5.2fx); %s\n", example_format_name(fmt), plain_len, comp_len,
           (double)plain_len / (double)comp_len,
           live_ok ? "every message was readable as soon as its flush arrived" : "messages became readable at the end");
    rc = 0;
done:
    codec_encoder_free(enc);
    codec_decoder_free(reader);
    codec_decoder_free(check);
    free(plain);
    free(comp);
    free(out);
    return rc;
}

int main(void) {
    codec_format formats[] = {CODEC_FORMAT_ZSTD, CODEC_FORMAT_LZ4_FRAME, CODEC_FORMAT_LZ4_BLOCKS,
                              CODEC_FORMAT_XZ, CODEC_FORMAT_LZMA2_RAW, CODEC_FORMAT_LZMA_ALONE};
    size_t i;
    int failures = 0;
    printf("%s\n\n", codec_version_string());
    printf("%d log messages, compressed with a flush after each one:\n", MESSAGES);
    for (i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        failures += run(formats[i]) != 0;
    }
    printf("\n%s\n", failures ? "DEMO FAILED" : "all round trips byte-identical");
    return failures ? 1 : 0;
}
