/* Panic and error discipline, for every format:
 * - a panic inside the library (CODEC_PARAM_DEBUG_PANIC) returns CODEC_E_PANIC, poisons that
 *   handle for good, and leaves the process and every other handle working;
 * - after a data error every further call on the decoder returns CODEC_E_SEQUENCE until
 *   codec_decoder_reset, after which it works again;
 * - *src_read / *dst_written on the failing call report the progress made, so the output
 *   delivered before a corruption is exactly the original data and nothing flushed before the
 *   corrupted part is lost. */
#include "util.h"

#define SEG 8000
#define NSEG 8

static unsigned char data[SEG * NSEG];

static void test_panic(codec_format f) {
    codec_encoder *e = NULL, *e2 = NULL;
    codec_decoder *d = NULL, *d2 = NULL, *c = (codec_decoder *)1;
    unsigned char buf[256];
    size_t r = 7, w = 7, n = 0;
    buf_t z = {0}, out = {0};

    CHECK_ST(codec_encoder_new(f, &e), CODEC_OK);
    CHECK_ST(codec_encoder_set_param(e, CODEC_PARAM_DEBUG_PANIC, 1), CODEC_E_PANIC);
    CHECK(strstr(codec_encoder_last_error(e), "panic") != NULL);
    CHECK_ST(codec_encoder_encode(e, data, 10, &r, buf, sizeof buf, &w, CODEC_FINISH), CODEC_E_PANIC);
    CHECK(r == 0 && w == 0);
    CHECK_ST(codec_encoder_set_param(e, CODEC_PARAM_LEVEL, 1), CODEC_E_PANIC);
    CHECK_ST(codec_encoder_reset(e), CODEC_E_PANIC);
    CHECK_ST(codec_encoder_encode(e, data, 10, &r, buf, sizeof buf, &w, CODEC_FINISH), CODEC_E_PANIC);

    CHECK_ST(codec_decoder_new(f, &d), CODEC_OK);
    CHECK_ST(codec_decoder_set_param(d, CODEC_PARAM_DEBUG_PANIC, 1), CODEC_E_PANIC);
    CHECK(strstr(codec_decoder_last_error(d), "panic") != NULL);
    CHECK_ST(codec_decoder_decode(d, buf, 4, &r, buf, sizeof buf, &w), CODEC_E_PANIC);
    CHECK(r == 0 && w == 0);
    CHECK_ST(codec_decoder_reset(d), CODEC_E_PANIC);
    CHECK_ST(codec_decoder_clone(d, &c), CODEC_E_PANIC);
    CHECK(c == NULL);
    CHECK_ST(codec_decoder_marshal(d, buf, sizeof buf, &n), CODEC_E_PANIC);
    CHECK(!codec_decoder_at_frame_edge(d));

    /* every other handle, old or new, works */
    CHECK_ST(codec_encoder_new(f, &e2), CODEC_OK);
    CHECK_ST(codec_decoder_new(f, &d2), CODEC_OK);
    CHECK_ST(enc_all(e2, data, 20000, CODEC_FINISH, 1000, &z), CODEC_OK);
    CHECK_ST(dec_all(d2, z.p, z.len, 333, 777, &out), CODEC_OK);
    CHECK(out.len == 20000 && mem_eq(out.p, data, 20000));
    codec_encoder_free(e);
    codec_decoder_free(d);
    codec_encoder_free(e2);
    codec_decoder_free(d2);
    buf_free(&z);
    buf_free(&out);
}

/* Compress `data` with a FLUSH after every segment (FINISH after the last); `ends[k]` receives
 * the compressed size after segment k. Formats that cannot flush get one FINISH. */
static void compress_segments(codec_format f, buf_t *z, size_t *ends) {
    codec_encoder *e = new_encoder(f, NULL);
    int k;
    CHECK(e != NULL);
    if (f == CODEC_FORMAT_ZSTD || f == CODEC_FORMAT_LZ4_FRAME) {
        /* content checks, so that corruption is always detected */
        CHECK_ST(codec_encoder_set_param(e, CODEC_PARAM_CHECKSUM, 1), CODEC_OK);
    }
    if (f == CODEC_FORMAT_LZ4_FRAME) CHECK_ST(codec_encoder_set_param(e, CODEC_PARAM_LZ4_BLOCK_CHECKSUM, 1), CODEC_OK);
    for (k = 0; k < NSEG; k++) {
        codec_action a = (k == NSEG - 1 || !can_flush(f)) ? CODEC_CONTINUE : CODEC_FLUSH;
        if (k == NSEG - 1) a = CODEC_FINISH;
        CHECK_ST(enc_all(e, data + (size_t)k * SEG, SEG, a, 4096, z), CODEC_OK);
        ends[k] = z->len;
    }
    codec_encoder_free(e);
}

/* Corrupt the stream inside segment `k`'s compressed bytes (the first flip that the decoder
 * reports), decode it in small pieces, and check the error discipline. */
static void test_error_discipline(codec_format f) {
    buf_t z = {0}, bad = {0}, out = {0};
    size_t ends[NSEG], i, pos = 0, lo, hi, sum_r = 0, sum_w = 0, before_bytes;
    codec_decoder *d = new_decoder(f, NULL);
    codec_status st = CODEC_OK;
    int found = 0, k = NSEG / 2;
    unsigned char tmp[777];
    uint64_t consumed, produced;
    size_t r, w;

    compress_segments(f, &z, ends);
    /* the stream is fine */
    CHECK_ST(dec_all(d, z.p, z.len, 1000, 777, &out), CODEC_OK);
    CHECK(out.len == sizeof data && mem_eq(out.p, data, sizeof data));
    codec_decoder_free(d);

    /* corrupt somewhere in segment k's bytes (for .lzma: the middle third of the stream) */
    lo = can_flush(f) ? ends[k - 1] + 1 : z.len / 3;
    hi = can_flush(f) ? ends[k] : 2 * z.len / 3;
    before_bytes = can_flush(f) ? (size_t)k * SEG : 0;
    for (i = lo; i < hi && !found; i += 7) {
        bad.len = 0;
        buf_put(&bad, z.p, z.len);
        bad.p[i] ^= 0x55;
        d = new_decoder(f, NULL);
        out.len = 0;
        sum_r = sum_w = 0;
        pos = 0;
        /* decode by hand to watch every call */
        for (;;) {
            size_t give = bad.len - pos < 501 ? bad.len - pos : 501;
            r = w = 12345;
            st = codec_decoder_decode(d, bad.p + pos, give, &r, tmp, sizeof tmp, &w);
            CHECK(r <= give && w <= sizeof tmp);
            pos += r;
            sum_r += r;
            sum_w += w;
            buf_put(&out, tmp, w);
            if (st < 0) break;
            if (st == CODEC_OK && pos == bad.len && w == 0) break;
        }
        if (st < 0) {
            found = 1;
            CHECK(st != CODEC_E_SEQUENCE && st != CODEC_E_PANIC);
            CHECK(strlen(codec_decoder_last_error(d)) > 0);
            /* progress reported on the failing call is accounted for exactly */
            CHECK_ST(codec_decoder_position(d, &consumed, &produced), CODEC_OK);
            CHECK(consumed == sum_r && produced == sum_w && produced == out.len);
            /* everything delivered is the original data, and nothing flushed before the
             * corrupted part is lost */
            CHECK(out.len <= sizeof data);
            CHECK((out.len <= sizeof data && mem_eq(out.p, data, out.len)) || f == CODEC_FORMAT_LZMA_ALONE ||
                  f == CODEC_FORMAT_LZMA2_RAW || f == CODEC_FORMAT_LZ4_BLOCKS);
            CHECK(out.len >= before_bytes);
            if (out.len < before_bytes)
                fprintf(stderr, "%s: %lu bytes delivered before the error, %lu were flushed before it\n",
                        format_name(f), (unsigned long)out.len, (unsigned long)before_bytes);
            /* every further call is refused until reset */
            r = w = 9;
            CHECK_ST(codec_decoder_decode(d, z.p, z.len, &r, tmp, sizeof tmp, &w), CODEC_E_SEQUENCE);
            CHECK(r == 0 && w == 0);
            CHECK_ST(codec_decoder_decode(d, NULL, 0, &r, tmp, sizeof tmp, &w), CODEC_E_SEQUENCE);
            CHECK(strstr(codec_decoder_last_error(d), "reset") != NULL);
            {
                codec_decoder *c = (codec_decoder *)1;
                size_t n = 0;
                CHECK_ST(codec_decoder_clone(d, &c), CODEC_E_SEQUENCE);
                CHECK(c == NULL);
                CHECK_ST(codec_decoder_marshal(d, NULL, 0, &n), CODEC_E_SEQUENCE);
                CHECK_ST(codec_decoder_set_param(d, CODEC_PARAM_MEMLIMIT, 1 << 20), CODEC_E_SEQUENCE);
                /* a failed decoder never claims that its stream ended cleanly */
                CHECK(!codec_decoder_at_frame_edge(d));
            }
            /* reset: works again from scratch */
            CHECK_ST(codec_decoder_reset(d), CODEC_OK);
            CHECK_ST(codec_decoder_position(d, &consumed, &produced), CODEC_OK);
            CHECK(consumed == 0 && produced == 0);
            out.len = 0;
            CHECK_ST(dec_all(d, z.p, z.len, 999, 555, &out), CODEC_OK);
            CHECK(out.len == sizeof data && mem_eq(out.p, data, sizeof data));
        }
        codec_decoder_free(d);
    }
    CHECK(found);
    if (!found) fprintf(stderr, "%s: no corruption was detected\n", format_name(f));
    buf_free(&z);
    buf_free(&bad);
    buf_free(&out);
}

/* Argument errors change nothing: the handle keeps working. */
static void test_argument_errors_do_not_poison(codec_format f) {
    codec_encoder *e = new_encoder(f, NULL);
    codec_decoder *d = new_decoder(f, NULL);
    buf_t z = {0}, out = {0};
    size_t r, w;
    unsigned char tmp[64];
    CHECK_ST(codec_encoder_set_param(e, CODEC_PARAM_LEVEL, 1000), CODEC_E_INVALID);
    CHECK_ST(codec_encoder_encode(e, NULL, 5, &r, tmp, sizeof tmp, &w, CODEC_CONTINUE), CODEC_E_NULL);
    CHECK_ST(codec_encoder_encode(e, data, 5, &r, tmp, sizeof tmp, &w, 42), CODEC_E_INVALID);
    /* a pledged size the data exceeds is refused before anything is consumed */
    if (f != CODEC_FORMAT_LZMA_ALONE && f != CODEC_FORMAT_LZMA2_RAW && f != CODEC_FORMAT_LZ4_BLOCKS) {
        CHECK_ST(codec_encoder_set_pledged_size(e, 100), CODEC_OK);
        CHECK_ST(codec_encoder_encode(e, data, 101, &r, tmp, sizeof tmp, &w, CODEC_FINISH), CODEC_E_INVALID);
        CHECK(r == 0 && w == 0);
        CHECK_ST(enc_all(e, data, 100, CODEC_FINISH, 64, &z), CODEC_OK);
    } else {
        CHECK_ST(enc_all(e, data, 100, CODEC_FINISH, 64, &z), CODEC_OK);
    }
    CHECK_ST(codec_decoder_set_param(d, CODEC_PARAM_LEVEL, 1), CODEC_E_UNSUPPORTED);
    CHECK_ST(codec_decoder_decode(d, NULL, 3, &r, tmp, sizeof tmp, &w), CODEC_E_NULL);
    CHECK_ST(dec_all(d, z.p, z.len, 7, 64, &out), CODEC_OK);
    CHECK(out.len == 100 && mem_eq(out.p, data, 100));
    codec_encoder_free(e);
    codec_decoder_free(d);
    buf_free(&z);
    buf_free(&out);
}

int main(void) {
    int i;
    fill_data(data, sizeof data, 11);
    fprintf(stderr, "(deliberate panics follow: testing the panic boundary of every format)\n");
    for (i = 0; i < N_FORMATS; i++) {
        test_panic(ALL_FORMATS[i]);
        test_error_discipline(ALL_FORMATS[i]);
        test_argument_errors_do_not_poison(ALL_FORMATS[i]);
    }
    CHECK_DONE();
}
